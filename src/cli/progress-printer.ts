import { existsSync, readFileSync } from 'node:fs';
import { formatDuration } from '../scenario/duration.js';
import type { ProgressListener } from '../engine/journal-recorder.js';

type ProgressEvent = Parameters<ProgressListener>[0];

/**
 * Follows a run's progress.jsonl and prints a line per phase and step: with a spinner-free
 * "… running" line rewritten in place on a terminal, plain lines otherwise (CI logs).
 */
export class ProgressPrinter {
  private offset = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tty: boolean;
  private pendingLine = false;

  constructor(
    private readonly file: string,
    private readonly prefix: string,
    /** Applied to every title printed: the CLI's Redactor. */
    private readonly redact: (text: string) => string = (text) => text,
    /** False when several drills print at once (--parallel): one line rewritten by each would garble. */
    inPlace = true,
    /** Called once, when the drill's first phase (provision) has ended: its targets are up. */
    private onProvisioned?: () => void,
  ) {
    this.tty = inPlace && Boolean(process.stdout.isTTY);
  }

  start(): void {
    this.timer = setInterval(() => this.drain(), 200);
  }

  stop(): void {
    clearInterval(this.timer);
    this.drain();
    if (this.pendingLine) process.stdout.write('\n');
    this.pendingLine = false;
  }

  private drain(): void {
    if (!existsSync(this.file)) return;
    const text = readFileSync(this.file, 'utf8');
    const complete = text.slice(this.offset, text.lastIndexOf('\n') + 1);
    this.offset += complete.length;
    for (const line of complete.split('\n').filter(Boolean)) this.print(JSON.parse(line) as ProgressEvent);
  }

  private print(e: ProgressEvent): void {
    if (e.kind === 'end' && e.activity === 'phase' && this.onProvisioned) {
      const call = this.onProvisioned;
      this.onProvisioned = undefined;
      call();
    }
    const at = `+${formatDuration(e.t).padEnd(7)}`;
    const indent = e.activity === 'phase' || e.activity === undefined ? '  ' : '    ';
    if (e.kind === 'event') return;
    const title = this.redact(e.title);
    if (e.kind === 'notice') {
      // Printed whole, on lines of their own: a person has to read and act on it (a game day's wait).
      if (this.pendingLine) process.stdout.write('\n');
      this.pendingLine = false;
      for (const text of title.split('\n')) console.log(`${this.prefix} ${at}${indent}${text}`);
      return;
    }
    if (e.kind === 'start') {
      const line = `${this.prefix} ${at}${indent}${title} …`;
      if (this.tty) {
        process.stdout.write(`\r\x1b[2K${line}`);
        this.pendingLine = true;
      } else {
        console.log(line);
      }
      return;
    }
    const mark = e.status === 'passed' ? 'ok' : (e.status ?? '');
    const line = `${this.prefix} ${at}${indent}${title}: ${mark}`;
    if (this.tty) process.stdout.write(`\r\x1b[2K${line}\n`);
    else console.log(line);
    this.pendingLine = false;
  }
}
