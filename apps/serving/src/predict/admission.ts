/** Counts requests in flight and refuses one over the limit (the caller answers 503 instead of queueing). */
export class Admission {
  private inFlight = 0;

  constructor(readonly limit: number) {}

  get active(): number {
    return this.inFlight;
  }

  /** Takes a slot, or returns null when all are taken. The returned release is safe to call twice. */
  tryEnter(): (() => void) | null {
    if (this.inFlight >= this.limit) return null;
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
    };
  }
}
