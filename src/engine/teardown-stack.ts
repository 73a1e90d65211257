import createDebug from 'debug';

const debug = createDebug('drill:engine');

export interface TeardownFailure {
  title: string;
  message: string;
}

/**
 * Teardowns are pushed *before* the setup they undo runs, so a setup that half-succeeds is still
 * undone; they run in reverse order, every one of them even when an earlier one throws.
 */
export class TeardownStack {
  private readonly entries: Array<{ title: string; fn: () => Promise<void> | void }> = [];

  /** A hung teardown (a client waiting on a dead server) must not keep the others from running. */
  constructor(private readonly entryTimeoutMs = 60_000) {}

  push(title: string, fn: () => Promise<void> | void): void {
    this.entries.push({ title, fn });
  }

  get size(): number {
    return this.entries.length;
  }

  async runAll(): Promise<TeardownFailure[]> {
    const failures: TeardownFailure[] = [];
    while (this.entries.length > 0) {
      const { title, fn } = this.entries.pop()!;
      try {
        debug('teardown: %s', title);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.resolve().then(fn),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`did not finish within ${this.entryTimeoutMs} ms`)), this.entryTimeoutMs);
          }),
        ]).finally(() => clearTimeout(timer));
      } catch (error) {
        failures.push({ title, message: error instanceof Error ? error.message : String(error) });
      }
    }
    return failures;
  }
}
