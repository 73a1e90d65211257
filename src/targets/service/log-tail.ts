import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** The service's JSON log lines carry the level as an upper-case word (sut/truststream/src/logger.ts). */
const ERROR_LEVEL = /"level":"(ERROR|FATAL)"/;
const CHUNK = 64 * 1024;

/**
 * Counts the error-level lines of a set of growing log files, as `kubectl logs -f ... | grep
 * ERROR` would show them, reading only what was appended since the last look. Files can be added (a restart writes new
 * ones); a partial last line waits for its newline.
 */
export class ErrorLineCounter {
  private readonly offsets = new Map<string, number>();
  private readonly partial = new Map<string, string>();
  private total = 0;

  watch(file: string): void {
    if (!this.offsets.has(file)) this.offsets.set(file, 0);
  }

  /** Error-level lines written so far, over every watched file (a counter that only grows). */
  count(): number {
    let count = 0;
    for (const [file, offset] of this.offsets) {
      const text = this.readFrom(file, offset);
      if (text === undefined) continue;
      const lines = ((this.partial.get(file) ?? '') + text).split('\n');
      this.partial.set(file, lines.pop() ?? '');
      count += lines.filter((line) => ERROR_LEVEL.test(line)).length;
    }
    this.total += count;
    return this.total;
  }

  private readFrom(file: string, offset: number): string | undefined {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return undefined; // not written yet, or removed with its launch
    }
    if (size <= offset) return undefined;
    const fd = openSync(file, 'r');
    try {
      const chunks: Buffer[] = [];
      let at = offset;
      while (at < size) {
        const buffer = Buffer.alloc(Math.min(CHUNK, size - at));
        const read = readSync(fd, buffer, 0, buffer.length, at);
        if (read === 0) break;
        chunks.push(buffer.subarray(0, read));
        at += read;
      }
      this.offsets.set(file, at);
      return Buffer.concat(chunks).toString('utf8');
    } finally {
      closeSync(fd);
    }
  }
}
