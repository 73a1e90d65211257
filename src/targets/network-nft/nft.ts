import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import { childEnvironment } from '../process/child-environment.js';
import { TABLE_FAMILY } from './nft-ruleset.js';

const debug = createDebug('drill:nft');

/** Where Debian's nftables package puts nft, when it is not on PATH (sbin is not on a user's PATH). */
const CANDIDATES = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'];

/** The nft program, or undefined. `$DRILL_NFT` first (tests point it at a missing file). */
export function nftProgram(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const wanted = env.DRILL_NFT ? [env.DRILL_NFT] : [...(env.PATH ?? '').split(':').filter(Boolean).map((d) => path.join(d, 'nft')), ...CANDIDATES];
  return wanted.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** nft and the right to use it, or the do-this error (exit 3). */
export function requireNft(what: string, env: NodeJS.ProcessEnv = process.env): string {
  const program = nftProgram(env);
  if (!program) {
    throw new EnvironmentError(
      'NFTABLES_MISSING',
      `${what} drops packets with nftables, and nft is not installed${env.DRILL_NFT ? ` (DRILL_NFT=${env.DRILL_NFT})` : ''}: install the nftables package (Debian: sudo apt-get install nftables; npm run setup does it as root)`,
    );
  }
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError('NFTABLES_NOT_ROOT', `${what} adds an nftables table, which needs root (CAP_NET_ADMIN): run drill as root`);
  }
  return program;
}

/** Runs nft with `args`, `input` on its stdin; its output, or an EnvironmentError with its stderr. */
export function runNft(program: string, args: string[], input?: string): Promise<string> {
  debug('nft %s', args.join(' '));
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: childEnvironment({}), stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error) => reject(new EnvironmentError('NFT_FAILED', `could not run ${program}: ${error.message}`, { cause: error })));
    child.on('close', (code) => {
      if (code === 0) return resolve(stdout);
      reject(new EnvironmentError('NFT_FAILED', `nft ${args.join(' ')} failed (exit code ${code}): ${stderr.trim() || stdout.trim()}; check that the kernel has nf_tables (modprobe nf_tables)`));
    });
    if (child.stdin) {
      // nft exiting early (a syntax error) closes its stdin: its exit code says what went wrong.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

/** The handle of the `inet` table called `name`, or undefined when there is none. */
export async function tableHandle(program: string, name: string): Promise<number | undefined> {
  const out = await runNft(program, ['-j', 'list', 'tables', TABLE_FAMILY]);
  const parsed = JSON.parse(out || '{"nftables":[]}') as { nftables?: Array<{ table?: { family: string; name: string; handle: number } }> };
  return parsed.nftables?.find((e) => e.table?.family === TABLE_FAMILY && e.table.name === name)?.table?.handle;
}

/** What one listing of a table says of it: its handle and its comment (absent: none). */
export interface ListedTable {
  handle: number;
  comment: string | undefined;
}

/**
 * The handle and the comment of `nft -a list table` output for the table `name`. Its text, since
 * nft 1.0.6's JSON leaves table comments out. The comment is the line right after the header
 * (one tab in: a chain's would be two).
 */
export function parseTableListing(text: string, name: string): ListedTable | undefined {
  const lines = text.split('\n');
  const header = lines.findIndex((l) => l.startsWith(`table ${TABLE_FAMILY} ${name} {`));
  if (header < 0) return undefined;
  const handle = /# handle (\d+)\s*$/.exec(lines[header] ?? '')?.[1];
  if (handle === undefined) return undefined;
  const comment = /^\tcomment "(.*)"$/.exec(lines[header + 1] ?? '')?.[1];
  return { handle: Number(handle), comment };
}

/** The handle and comment of the `inet` table `name`, from one listing; undefined when there is none. */
export async function listedTable(program: string, name: string): Promise<ListedTable | undefined> {
  if ((await tableHandle(program, name)) === undefined) return undefined;
  try {
    return parseTableListing(await runNft(program, ['-a', 'list', 'table', TABLE_FAMILY, name]), name);
  } catch (error) {
    // Gone between the two listings: no table, not an error.
    if ((await tableHandle(program, name)) === undefined) return undefined;
    throw error;
  }
}

/** What deleteMarkedTable did: deleted, nothing there, or a table of that name without the marker (left). */
export type MarkedDelete = { state: 'deleted'; handle: number } | { state: 'absent' } | { state: 'unmarked'; comment: string | undefined };

/**
 * Deletes the `inet` table `name` only while it carries `comment` (the marker the drill gave it,
 * tableComment), by the handle the same listing gave: a table of that name the drill did not
 * create (another tool's, or one made by hand) is left. Handles are never reused, so the handle
 * cannot have come to mean another table in between.
 */
export async function deleteMarkedTable(program: string, name: string, comment: string): Promise<MarkedDelete> {
  const listed = await listedTable(program, name);
  if (!listed) return { state: 'absent' };
  if (listed.comment !== comment) return { state: 'unmarked', comment: listed.comment };
  await runNft(program, ['delete', 'table', TABLE_FAMILY, 'handle', String(listed.handle)]);
  debug('deleted table %s %s (handle %d, %s)', TABLE_FAMILY, name, listed.handle, comment);
  return { state: 'deleted', handle: listed.handle };
}

/** The packets the table's counters counted (its rules count what they drop), or undefined when it is gone. */
export async function droppedPackets(program: string, name: string): Promise<number | undefined> {
  if ((await tableHandle(program, name)) === undefined) return undefined;
  const out = await runNft(program, ['-j', 'list', 'table', TABLE_FAMILY, name]);
  const parsed = JSON.parse(out) as { nftables?: Array<{ rule?: { expr?: Array<{ counter?: { packets: number } }> } }> };
  return (parsed.nftables ?? []).flatMap((e) => e.rule?.expr ?? []).reduce((n, x) => n + (x.counter?.packets ?? 0), 0);
}
