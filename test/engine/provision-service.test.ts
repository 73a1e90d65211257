import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDatabase, type TestDatabase } from '../../sut/truststream/test/support/test-database.js';
import { startClock } from '../../src/engine/clock.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { provisionService } from '../../src/targets/service/provision-service.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { TeardownStack } from '../../src/engine/teardown-stack.js';
import { Redactor } from '../../src/report/redactor.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import type { PlainService } from '../../src/targets/service/plain-service.js';
import { serviceKind } from '../../src/targets/service/service-kind.js';

let db: TestDatabase;
let work: string;

beforeAll(async () => {
  db = await startTestDatabase('test-provision-service');
  work = mkdtempSync(path.join(os.tmpdir(), 'drill-provision-service-'));
});
afterAll(async () => {
  await db?.dispose();
  rmSync(work, { recursive: true, force: true });
});

/** A variable of a running process's environment (/proc/<pid>/environ). */
function variableOf(pid: number, name: string): string | undefined {
  return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((v) => v.startsWith(`${name}=`))?.slice(name.length + 1);
}

describe('provisionService: the secrets it creates belong to the run', () => {
  it('registers the API token and the reader password with the run\'s Redactor, revokes the token and redacts the logs at teardown', async () => {
    const loaded = await loadScenarioFile('drills/scenarios/db-corruption-pitr-service.yaml');
    const recorder = new JournalRecorder(startClock(), 'test-provision-service', loaded);
    const teardown = new TeardownStack();
    const ledgerFile = path.join(work, 'resources.jsonl');
    const logDir = path.join(work, 'service-logs');
    let service: PlainService | undefined;
    try {
      service = await provisionService(
        { version: '4.4.0', replicas: { api: 1, worker: 0, scheduler: 0, reader: 1 }, readyTimeout: 30_000 },
        { runId: 'test-provision-service', ledger: new ResourceLedger(ledgerFile), teardown, recorder, signal: new AbortController().signal, database: () => db.connection, logDir },
      );
      const token = service.token;
      const reader = service.instances().find((i) => i.mode === 'reader')!;
      const readerPassword = decodeURIComponent(new URL(variableOf(reader.pid, 'READER_DATABASE_URL')!).password);
      expect(token).toMatch(/^tst_/);
      expect(readerPassword).toMatch(/^[0-9a-f]{48}$/);

      // Registered: the run's Redactor replaces them; a Redactor that was not told does not (the pattern rules do not know them).
      expect(recorder.secrets.redact(`token ${token} password ${readerPassword}`)).toBe('token [REDACTED] password [REDACTED]');
      expect(new Redactor().redact(`token ${token} password ${readerPassword}`)).toBe(`token ${token} password ${readerPassword}`);
      expect(JSON.stringify(recorder.journal)).not.toContain(token);
      expect(JSON.stringify(recorder.journal)).not.toContain(readerPassword);
      // Only the reader connects as the reader role; no process gets the token.
      for (const i of service.instances()) {
        const environ = readFileSync(`/proc/${i.pid}/environ`, 'utf8');
        expect(environ).not.toContain(token);
        expect(environ.includes(readerPassword), i.name).toBe(i.mode === 'reader');
      }

      // A slip in a log file (the service never writes one: the teardown is the safety net).
      const launch = path.join(logDir, 'launch-1');
      const apiLog = path.join(launch, readdirSync(launch).find((f) => f.startsWith('truststream-api'))!);
      appendFileSync(apiLog, `{"level":"INFO","msg":"oops","token":"${token}","url":"${variableOf(reader.pid, 'READER_DATABASE_URL')}"}\n`);
      expect(await teardown.runAll()).toEqual([]);

      const logs = readdirSync(launch).map((f) => readFileSync(path.join(launch, f), 'utf8')).join('\n');
      expect(logs).toContain('"msg":"oops"');
      expect(logs).not.toContain(token);
      expect(logs).not.toContain(readerPassword);
      const [revoked] = await db.sql<{ revoked_at: Date | null }>("select revoked_at from api_tokens where name = 'drill-test-provision-service'");
      expect(revoked?.revoked_at).toBeInstanceOf(Date);
      expect(readResources(ledgerFile).filter((r) => r.kind === 'process' && recordedProcessAlive(r.pid, r.match))).toEqual([]);
      // The service kind's registry entry lists every kind of ledger entry its targets record.
      expect(readResources(ledgerFile).filter((r) => !serviceKind.records.includes(r.kind))).toEqual([]);
    } finally {
      await teardown.runAll();
    }
  });
});

describe('PlainService.liveInstances: the processes a signal may still reach (region-outage)', () => {
  it('leaves out a process that exited, whose pid the kernel may hand to another process; instances() still lists it', async () => {
    const loaded = await loadScenarioFile('drills/scenarios/db-corruption-pitr-service.yaml');
    const recorder = new JournalRecorder(startClock(), 'test-live-instances', loaded);
    const teardown = new TeardownStack();
    try {
      const service = await provisionService(
        { version: '4.4.0', replicas: { api: 2, worker: 0, scheduler: 0, reader: 0 }, readyTimeout: 30_000 },
        { runId: 'test-live-instances', ledger: new ResourceLedger(undefined), teardown, recorder, signal: new AbortController().signal, database: () => db.connection },
      );
      const [dead, other] = service.instances();
      expect(service.liveInstances().map((i) => i.pid)).toEqual([dead!.pid, other!.pid]);
      process.kill(dead!.pid, 'SIGKILL');
      const deadline = Date.now() + 10_000;
      while (service.liveInstances().some((i) => i.pid === dead!.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(service.liveInstances()).toEqual([{ name: other!.name, pid: other!.pid }]);
      expect(service.instances().map((i) => i.pid)).toContain(dead!.pid);
    } finally {
      await teardown.runAll();
    }
  });
});
