/**
 * PostgreSQL WAL positions ("16/B374D848": high and low 32 bits in hex) as numbers, so that
 * positions on different servers can be compared and subtracted without asking a server.
 */

const LSN_PATTERN = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i;

export function parseLsn(text: string): bigint {
  const match = LSN_PATTERN.exec(text.trim());
  if (!match) throw new Error(`not a WAL position: "${text}"`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

export function formatLsn(value: bigint): string {
  return `${(value >> 32n).toString(16).toUpperCase()}/${(value & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Bytes of WAL from `from` to `to`; negative when `to` lies before `from`. */
export function lsnDiff(to: string, from: string): number {
  return Number(parseLsn(to) - parseLsn(from));
}

/** The furthest of some positions (undefined ones ignored). */
export function maxLsn(...positions: Array<string | null | undefined>): string | undefined {
  let best: string | undefined;
  for (const p of positions) if (p && (best === undefined || parseLsn(p) > parseLsn(best))) best = p;
  return best;
}
