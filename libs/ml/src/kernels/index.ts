export { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './register';
export { chooseBlasCore } from './native-blas';
