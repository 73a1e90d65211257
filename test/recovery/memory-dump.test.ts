import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DrillContext } from '../../src/engine/drill-context.js';
import type { SealedCollectedFile } from '../../src/recovery/forensics/collected-file.js';
import { dumpedRegion, memoryDump, parseMaps } from '../../src/recovery/forensics/memory-dump.js';
import { openSealed, sealInto, sealingKeyFile } from '../../src/recovery/forensics/sealed-file.js';
import { processStartTime } from '../../src/targets/process/process-identity.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'drill-test-memdump-'));
const children: Array<ReturnType<typeof spawn>> = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** A real process that keeps what it is sent on stdin in its memory (a Buffer: off the V8 heap, flat bytes). */
async function processHolding(marker: string): Promise<{ pid: number; startTime: string }> {
  const child = spawn(process.execPath, ['-e', "process.stdin.on('data', (d) => { globalThis.kept = Buffer.concat([d, Buffer.from('-kept')]); process.stdout.write('ok\\n'); })"], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  await new Promise<void>((resolve) => {
    child.stdout.once('data', () => resolve());
    child.stdin.write(marker);
  });
  return { pid: child.pid!, startTime: processStartTime(child.pid!)! };
}

/** The collector over a service whose only process is `p`. */
function collect(p: { pid: number; startTime: string | undefined }): Promise<SealedCollectedFile[]> {
  const ctx = {
    has: () => true,
    service: { description: 'test', localProcesses: () => [{ name: 'truststream-api-1', mode: 'api', ...p }] },
  } as unknown as DrillContext;
  return memoryDump.collect(ctx, {} as never) as Promise<SealedCollectedFile[]>;
}

async function bytesOf(file: SealedCollectedFile): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of file.read()) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('memory dump of a process the drill started (real process, /proc/<pid>/mem)', () => {
  it('holds what the process holds, under a header naming its pid and start time, within the cap', async () => {
    const marker = `MARKER-${randomBytes(8).toString('hex')}`;
    const p = await processHolding(marker);
    const [file] = await collect(p);
    const dump = await bytesOf(file!);
    expect(dump.subarray(0, 200).toString('latin1')).toMatch(new RegExp(`^drill-memory-dump v1 pid=${p.pid} start=${p.startTime} cap=268435456\\nregion [0-9a-f]+-[0-9a-f]+ r`));
    expect(dump.includes(`${marker}-kept`)).toBe(true);
    const details = file!.details!() as { pid: number; regions: number; dumpedBytes: number; truncated: boolean };
    expect(details).toMatchObject({ pid: p.pid, truncated: false });
    expect(details.regions).toBeGreaterThan(0);
    // Headers and bytes add up to the file: every region line is followed by exactly its bytes.
    expect(dump.length).toBeGreaterThan(details.dumpedBytes);
    // Negative control: another process, same code, never sent the marker.
    const other = await processHolding('something-else');
    expect((await bytesOf((await collect(other))[0]!)).includes(`${marker}-kept`)).toBe(false);
  });

  it('refuses a process whose start time is not the recorded one (a reused pid), or that has none recorded', async () => {
    const p = await processHolding('x');
    await expect(collect({ pid: p.pid, startTime: `${p.startTime}0` })).rejects.toThrow(/is not the process the drill started: not dumped/);
    await expect(collect({ pid: p.pid, startTime: undefined })).rejects.toThrow(/has no recorded identity/);
  });

  it('picks readable private memory that is the process\'s own or written, not code or the kernel\'s pages', () => {
    const regions = parseMaps(
      [
        '55d0c0000000-55d0c0100000 r-xp 00000000 08:01 1234 /usr/bin/node',
        '55d0c0200000-55d0c0300000 rw-p 00200000 08:01 1234 /usr/bin/node',
        '55d0c1000000-55d0c2000000 rw-p 00000000 00:00 0 [heap]',
        '7f0000000000-7f0000100000 ---p 00000000 00:00 0',
        '7f0000100000-7f0000200000 rw-s 00000000 00:05 77 /dev/shm/x',
        '7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]',
        '7ffd00100000-7ffd00104000 r--p 00000000 00:00 0 [vvar]',
        '7ffd00104000-7ffd00106000 r-xp 00000000 00:00 0 [vdso]',
        '7f0000300000-7f0000400000 r--p 00000000 08:01 99 /usr/lib/locale/C.utf8/LC_CTYPE',
      ].join('\n'),
    );
    expect(regions.filter(dumpedRegion).map((r) => r.path || '[anon]')).toEqual(['/usr/bin/node', '[heap]', '[stack]', '[vdso]']);
  });
});

describe('sealed files', () => {
  it('open to what was sealed with the run key; a changed byte or another key does not open', async () => {
    const keys = path.join(work, 'keys');
    const { file: keyFile, key } = sealingKeyFile('run-1', keys);
    expect(readFileSync(keyFile, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    const target = path.join(work, 'evidence.sealed');
    const secret = Buffer.from(`postgres://svc:${randomBytes(12).toString('hex')}@127.0.0.1/db`);
    const result = await sealInto(target, key, (async function* () {
      yield secret;
      yield secret;
    })());
    const sealed = readFileSync(target);
    expect(sealed.includes(secret)).toBe(false);
    expect(result).toMatchObject({ bytes: sealed.length, plaintextBytes: secret.length * 2 });
    expect(openSealed(target, keyFile)).toEqual(Buffer.concat([secret, secret]));
    const changed = Buffer.from(sealed);
    changed[sealed.length - 20]! ^= 1;
    writeFileSync(target, changed);
    expect(() => openSealed(target, keyFile)).toThrow();
    writeFileSync(target, sealed);
    expect(() => openSealed(target, sealingKeyFile('run-2', keys).file)).toThrow();
    // The same run gets the same key back (several files of one run, one key).
    expect(sealingKeyFile('run-1', keys).key).toEqual(key);
    // A key directory others can enter is refused, not chmod-ed (it could be /tmp).
    const open = path.join(work, 'open');
    mkdirSync(open, { mode: 0o755 });
    chmodSync(open, 0o755);
    expect(() => sealingKeyFile('run-1', open)).toThrow(/is open to other users \(mode 755\): chmod 700 it/);
  });
});
