/** What a fake server received, in order, with a way to wait for a message that may not have arrived yet. */
export class Recorder<T> {
  readonly items: T[] = [];
  private readonly waiters = new Set<{ match: (item: T) => boolean; resolve: (item: T) => void }>();

  push(item: T): void {
    this.items.push(item);
    for (const w of this.waiters) {
      if (w.match(item)) {
        this.waiters.delete(w);
        w.resolve(item);
      }
    }
  }

  /** The first item (already received or still to come) that matches; rejects after `timeoutMs`. */
  waitFor(match: (item: T) => boolean = () => true, timeoutMs = 5_000): Promise<T> {
    const found = this.items.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        match,
        resolve: (item: T) => {
          clearTimeout(timer);
          resolve(item);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`nothing matching arrived within ${timeoutMs} ms (${this.items.length} received)`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}

/**
 * What a fake refuses, and with which code (an SMTP reply code, an HTTP status): the next `count` messages after
 * `failNext`, every one during an outage. The outage comes first; `failNext` still counts down once it ends.
 */
export class Refusals<C> {
  /** Refused so far. */
  count = 0;
  private pending = 0;
  private pendingCode: C;
  private outage: C | null = null;

  constructor(private readonly defaultCode: C) {
    this.pendingCode = defaultCode;
  }

  failNext(count: number, code: C = this.defaultCode): void {
    this.pending = count;
    this.pendingCode = code;
  }

  startOutage(code: C = this.defaultCode): void {
    this.outage = code;
  }

  endOutage(): void {
    this.outage = null;
  }

  /** The code to refuse this message with (it is counted), or undefined when it is to be taken. */
  next(): C | undefined {
    if (this.outage !== null) {
      this.count++;
      return this.outage;
    }
    if (this.pending > 0) {
      this.pending--;
      this.count++;
      return this.pendingCode;
    }
    return undefined;
  }
}
