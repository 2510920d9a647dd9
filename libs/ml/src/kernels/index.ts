export { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './register';
