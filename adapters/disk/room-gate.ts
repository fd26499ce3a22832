/**
 * Where `whenFull: 'block'` appends wait for room: woken when records are
 * acknowledged (room freed under `maxBytes`), or after a poll interval (a
 * full filesystem sends no event when space comes back), and failed at once
 * when the spool closes.
 */

/** A waiting room for appends; see the module comment. */
export class RoomGate {
  private readonly waiters = new Set<{ wake(): void; fail(error: unknown): void }>();
  private closed: unknown;

  /** Resolves on the next {@link wake} or after `ms`; rejects with the close reason once closed. */
  wait(ms: number): Promise<void> {
    if (this.closed !== undefined) return Promise.reject(this.closed);
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
        fail: (error: unknown) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          reject(error);
        },
      };
      const timer = setTimeout(waiter.wake, Math.max(0, ms));
      this.waiters.add(waiter);
    });
  }

  /** How many appends are waiting. */
  get waiting(): number {
    return this.waiters.size;
  }

  /** Wake every waiter (they check for room again, in the order they came). */
  wake(): void {
    for (const waiter of [...this.waiters]) waiter.wake();
  }

  /** Fail every waiter, and every later wait, with `error`. */
  close(error: unknown): void {
    this.closed = error;
    for (const waiter of [...this.waiters]) waiter.fail(error);
  }
}
