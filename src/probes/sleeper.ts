/**
 * The probe loops' wait: sleep until the next probe is due or the deadline, unless an answer
 * makes waiting pointless, in which case wake() ends the current sleep at once.
 */
export class Sleeper {
  private wakeUp: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      // setTimeout takes at most 2^31-1 ms (an infinite wait ends only by signal or deadline).
      const timer = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, Math.min(Math.max(0, ms), 0x7fffffff));
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
    });
  }

  /** Ends the sleep in progress, if any. */
  wake(): void {
    this.wakeUp?.();
  }
}
