/** The time budget of one check, and the failure a check reports to the applicant. */

/** A check that did not validate; the message says what was seen, and where. */
export class CheckFailed extends Error {
  override readonly name = 'CheckFailed';
}

/** Aborts everything of one check (DNS queries, connections, body reads) once `ms` have passed. */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private timedOut = false;

  constructor(readonly ms: number) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, ms);
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The budget ran out (not merely disposed). */
  get expired(): boolean {
    return this.timedOut;
  }

  /** Ends the budget early; also stops the timer so a finished check leaves nothing behind. */
  dispose(): void {
    clearTimeout(this.timer);
    this.controller.abort();
  }
}
