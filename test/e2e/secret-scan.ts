import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { readResources } from '../../src/engine/resource-ledger.js';

/**
 * The forms in which a secret can be written down without being recognisable as itself at a glance:
 * as typed, percent-encoded (URLs), base64 (Kubernetes Secret data) and JSON-escaped.
 */
export function secretForms(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64'), JSON.stringify(secret).slice(1, -1)])];
}

export interface FileHit {
  file: string;
  secret: string;
}

/** Every file under `dir` (recursively), as bytes, searched for every form of every secret. */
export function scanFiles(dir: string, secrets: readonly string[]): { files: string[]; hits: FileHit[] } {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.push(full);
    }
  };
  walk(dir);
  const hits: FileHit[] = [];
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const secret of secrets) {
      if (secretForms(secret).some((form) => bytes.includes(form))) hits.push({ file: path.relative(dir, file), secret: label(secret) });
    }
  }
  return { files: files.map((f) => path.relative(dir, f)), hits };
}

/** The first characters only: a failing assertion must not print the whole secret either. */
export const label = (secret: string) => `${secret.slice(0, 12)}…`;

export interface SeenProcess {
  pid: number;
  ppid: number;
  command: string;
  /** Its environment as first seen (NUL-separated), kept to be searched once every secret is known. */
  environ: Buffer;
}

/** The secrets (labelled) found in a process's environment. */
export function heldBy(p: SeenProcess, secrets: readonly string[]): string[] {
  return secrets.filter((s) => secretForms(s).some((form) => p.environ.includes(form))).map(label);
}

function procStat(pid: number): { ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return { ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) };
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number);
}

/**
 * Watches, while a drill runs, every process it started: the descendants of the CLI, and the
 * processes of every PostgreSQL data directory and component in its run's resource ledger (pg_ctl
 * daemonises the postmaster, so it is not a descendant of the CLI). Each is looked at once, its
 * environment read from /proc/<pid>/environ and kept.
 */
export class ProcessEnvironmentWatcher {
  readonly seen = new Map<number, SeenProcess>();
  /**
   * Seen with its parent's command line: possibly forked and not yet exec'd, so its environment
   * may still be the parent's. Looked at again until it differs (a fork that never execs keeps
   * the parent's command line and, truly, its environment).
   */
  private readonly provisional = new Set<number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly rootPid: () => number | undefined,
    private readonly resourcesFile: () => string | undefined,
  ) {}

  start(intervalMs = 100): void {
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  sample(): void {
    const root = this.rootPid();
    if (root === undefined) return;
    const parents = new Map<number, number>();
    for (const pid of allPids()) {
      const stat = procStat(pid);
      if (stat) parents.set(pid, stat.ppid);
    }
    const candidates = new Set<number>([root]);
    for (const pid of parents.keys()) if (this.descends(pid, root, parents)) candidates.add(pid);
    for (const pid of this.ledgerProcesses(parents)) candidates.add(pid);
    for (const pid of candidates) if (!this.seen.has(pid) || this.provisional.has(pid)) this.look(pid, parents.get(pid) ?? 0);
  }

  private descends(pid: number, root: number, parents: Map<number, number>): boolean {
    for (let p = parents.get(pid), hops = 0; p !== undefined && p > 1 && hops < 64; p = parents.get(p), hops++) {
      if (p === root) return true;
    }
    return false;
  }

  /** Postmasters and backends of recorded data directories (by working directory), recorded components. */
  private ledgerProcesses(parents: Map<number, number>): number[] {
    const file = this.resourcesFile();
    if (!file || !existsSync(file)) return [];
    const found: number[] = [];
    const dataDirs: string[] = [];
    for (const r of readResources(file)) {
      if (r.kind === 'pg-data-dir' && existsSync(r.path)) dataDirs.push(realpathSync(r.path));
      if (r.kind === 'process') found.push(r.pid);
    }
    if (dataDirs.length === 0) return found;
    for (const pid of parents.keys()) {
      try {
        if (dataDirs.includes(readlinkSync(`/proc/${pid}/cwd`))) found.push(pid);
      } catch {
        /* gone, or not ours to read */
      }
    }
    return found;
  }

  private look(pid: number, ppid: number): void {
    let environ: Buffer;
    let command: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`);
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    } catch {
      return;
    }
    // An exiting process has an empty cmdline; look again next time.
    if (!command) return;
    if (command === commandOf(ppid)) this.provisional.add(pid);
    else this.provisional.delete(pid);
    this.seen.set(pid, { pid, ppid, command, environ });
  }
}

function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return undefined;
  }
}

/** Whether /proc/<pid>/environ can be read for other users' processes here (root, or same user). */
export function canReadEnvironOf(pid: number): boolean {
  try {
    statSync(`/proc/${pid}/environ`);
    readFileSync(`/proc/${pid}/environ`);
    return true;
  } catch {
    return false;
  }
}
