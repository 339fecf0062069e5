// A sleep that close() can cut short: background loops (GPU, containers) wait between
// tries with it, and stop at once when their collector closes.
export class Pause {
  private wake: (() => void) | null = null;
  private closed = false;

  /** Waits `ms`, or less when closed (at once once closed). */
  for(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** Ends the current wait and every later one. */
  close() {
    this.closed = true;
    this.wake?.();
  }
}
