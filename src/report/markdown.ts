/** Small Markdown and number formatting helpers shared by the reporters. */
import { formatDuration } from '../scenario/duration.js';

export const NOT_REACHED = 'not reached';

/** Text safe inside a Markdown table cell: pipes would split the cell, newlines end the row. */
export function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/** Inline code that survives backticks in the text (scenario names, probe names, SQL). */
export function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  return `${fence}${text}${fence}`;
}

/** A duration, or "not reached" when the run never got that far (it errored or was interrupted). */
export function duration(ms: number | undefined): string {
  return ms === undefined ? NOT_REACHED : formatDuration(ms);
}

/** `T+1m2s` / `T-3s`: a monotonic time relative to a reference (T_fault, or drill start). */
export function offset(t: number, reference: number, label = 'T'): string {
  const delta = t - reference;
  return `${label}${delta < 0 ? '-' : '+'}${formatDuration(Math.abs(delta))}`;
}

/**
 * Wall time of a point `ms` after a stamp. Derived from the monotonic offset, so it is what a
 * wall clock would have shown had it not been stepped (NTP) during the run.
 */
export function wallAfter(wall: string, ms: number): string {
  const base = Date.parse(wall);
  return Number.isNaN(base) ? `${wall} + ${formatDuration(ms)}` : new Date(base + ms).toISOString();
}

/** `101–140, 200` from inclusive id ranges. */
export function ranges(list: Array<[number, number]> | undefined): string {
  if (!list?.length) return 'none';
  return list.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(', ');
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `40%` of an objective, for the margin a drill left (informational, not a verdict). */
export function percentOf(measured: number, limit: number): string {
  return limit > 0 ? `${Math.round((measured / limit) * 100)}%` : 'n/a';
}
