import { setTimeout as sleep } from 'node:timers/promises';

export interface JobLoop {
  /** Lets the run in progress finish, then stops; resolves when nothing runs any more. */
  stop(): Promise<void>;
}

/**
 * Runs `tick` again and again: at once when it reports it did work (a queue with more items),
 * otherwise after `idleMs`. A tick that throws is reported to `onError` and retried after `idleMs`.
 */
export function startJobLoop(idleMs: number, tick: () => Promise<boolean>, onError: (error: unknown) => void): JobLoop {
  const abort = new AbortController();
  const done = (async () => {
    while (!abort.signal.aborted) {
      let busy = false;
      try {
        busy = await tick();
      } catch (error) {
        onError(error);
      }
      if (!busy) await sleep(idleMs, undefined, { signal: abort.signal }).catch(() => undefined);
    }
  })();
  return {
    async stop() {
      abort.abort();
      await done;
    },
  };
}
