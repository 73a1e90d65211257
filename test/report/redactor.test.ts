import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import createDebug from 'debug';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { StepFailedError } from '../../src/engine/errors.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { writeEvidence } from '../../src/report/evidence.js';
import { REDACTED } from '../../src/report/redact.js';
import { redactDebugOutput } from '../../src/report/redact-debug-output.js';
import { Redactor, scenarioRedactor } from '../../src/report/redactor.js';
import { writeRunArtifacts } from '../../src/report/write-run-artifacts.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { fixture } from '../scenario/helpers.js';
import { tempDir } from './fixtures.js';

const TOKEN = 'tok-8f3a/9+Qz=="quoted"';

afterEach(() => vi.unstubAllEnvs());

describe('Redactor', () => {
  it('replaces a registered value as written, percent-encoded, base64 and JSON-escaped', () => {
    const r = new Redactor();
    r.register(TOKEN, 'test token');
    const forms = [TOKEN, encodeURIComponent(TOKEN), Buffer.from(TOKEN).toString('base64'), JSON.stringify(TOKEN).slice(1, -1)];
    for (const form of forms) expect(r.redact(`before ${form} after`)).toBe(`before ${REDACTED} after`);
    // Negative control: an unregistered redactor leaves the token (it matches no pattern rule).
    expect(new Redactor().redact(`x ${TOKEN} y`)).toContain(TOKEN);
  });

  it('replaces a value that contains another whole, and is idempotent', () => {
    const r = new Redactor();
    r.register('abcd', 'short');
    r.register('abcd-efgh-ijkl', 'long');
    const once = r.redact('k=abcd-efgh-ijkl; j=abcd; postgres://u:pw@h/db');
    expect(once).toBe(`k=${REDACTED}; j=${REDACTED}; postgres://u:${REDACTED}@h/db`);
    expect(r.redact(once)).toBe(once);
  });

  it('does not search for values shorter than 4 characters, nor for parts of its own marker', () => {
    const r = new Redactor();
    r.register('42', 'tiny');
    r.register(undefined, 'absent');
    expect(r.size).toBe(0);
    // Its raw form would make redaction undo itself; its other forms are still searched for.
    r.register('REDA', 'marker part');
    expect(r.redact('port 5432, 42 rows [REDACTED]')).toBe('port 5432, 42 rows [REDACTED]');
  });

  it('redacts data by its strings: numbers stay numbers, keys are redacted too', () => {
    const r = new Redactor();
    r.register('48213', 'numeric secret');
    const data = { t: 482131, note: 'pin 48213', nested: [{ '48213': true }], at: 1.5 };
    expect(r.redactData(data)).toEqual({ t: 482131, note: `pin ${REDACTED}`, nested: [{ [REDACTED]: true }], at: 1.5 });
    // json() adds the pattern rules that know secrets by their key.
    expect(JSON.parse(r.json({ password: 'hunter2', user: 'a' }))).toEqual({ password: REDACTED, user: 'a' });
  });

  it('redacts a file\'s text, returning unchanged text byte for byte', () => {
    const r = new Redactor();
    r.register(TOKEN, 'token');
    const clean = '{\n  "a": 1,\n  "b": "x"\n}\n';
    expect(r.redactFileText(clean, true)).toBe(clean);
    const dirty = JSON.stringify({ n: 12, url: `http://h/?t=${encodeURIComponent(TOKEN)}` });
    const out = r.redactFileText(dirty, true);
    expect(JSON.parse(out)).toEqual({ n: 12, url: `http://h/?t=${REDACTED}` });
    expect(r.redactFileText(`line ${TOKEN}`, false)).toBe(`line ${REDACTED}`);
  });

  it('a scenario Redactor knows every ${VAR} value the scenario used', async () => {
    vi.stubEnv('DRILL_TEST_PG_URL', 'postgres://drill:Zx9-not-a-pattern@db.example:5432/app');
    vi.stubEnv('DRILL_TEST_RTO', '10m');
    const loaded = await loadScenarioFile(fixture('env.yaml'));
    expect(loaded.environment).toEqual({ DRILL_TEST_PG_URL: 'postgres://drill:Zx9-not-a-pattern@db.example:5432/app', DRILL_TEST_RTO: '10m' });
    const r = scenarioRedactor(loaded.environment);
    expect(r.redact('connecting to db.example as drill with Zx9-not-a-pattern')).toContain('Zx9-not-a-pattern');
    expect(r.redact('url postgres://drill:Zx9-not-a-pattern@db.example:5432/app')).toBe(`url ${REDACTED}`);
  });
});

describe('the recorder and the artifact writers go through the run\'s Redactor', () => {
  async function recorderWithSecret() {
    // A value no pattern rule recognises: only its registration can hide it.
    const secret = 'postgres://db.example:5432/app_e2e_31415926';
    vi.stubEnv('DRILL_TEST_PG_URL', secret);
    vi.stubEnv('DRILL_TEST_RTO', '10m');
    const loaded = await loadScenarioFile(fixture('env.yaml'));
    const progress: string[] = [];
    const recorder = new JournalRecorder(startClock(), 'run-1', loaded, undefined, (e) => progress.push(JSON.stringify(e)));
    return { secret, recorder, progress, minted: 'minted-at-runtime-271828' };
  }

  it('records events, probe errors, step titles, outputs and errors redacted, including secrets registered later', async () => {
    const { secret, recorder, progress, minted } = await recorderWithSecret();
    recorder.event('probe', `GET http://h/health?token=${secret}`, { url: `http://h/?token=${encodeURIComponent(secret)}` });
    recorder.probe({ probe: 'p', service: true, t: 1, ok: false, latencyMs: 1, error: `invalid input syntax for type integer: "${secret}"` });
    // A token the drill mints while it runs is registered when it is made.
    recorder.secrets.register(minted, 'a minted token');
    await recorder.activity('step', 'k8s-secret-patch', `Patch (ticket ${secret})`, async () => ({ value: minted }));
    await recorder
      .activity('step', 'stop-writes', 'Stop', async () => {
        throw new StepFailedError('X', `refused for ${minted}`);
      })
      .catch(() => undefined);
    recorder.skipped('step', 'switch-workload', `Switch ${secret}`, `because ${minted}`);
    recorder.journal.error = { code: 'E', message: `recorded by hand: ${secret}` };

    const inMemory = JSON.stringify(recorder.journal.events) + JSON.stringify(recorder.journal.probes) + JSON.stringify(recorder.journal.steps);
    const written = JSON.stringify(recorder.redactedJournal());
    for (const text of [inMemory, written, progress.join('\n')]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(minted);
      expect(text).toContain(REDACTED);
    }
    // Negative control: the hand-written error is unredacted in memory, so the final pass matters.
    expect(JSON.stringify(recorder.journal.error)).toContain(secret);
  });

  it('journal.json, incident-report.md and the evidence bundle carry neither the ${VAR} value nor a runtime secret', async () => {
    const { secret, recorder, minted } = await recorderWithSecret();
    recorder.secrets.register(minted, 'a minted token');
    recorder.probe({ probe: 'p', service: true, t: 1, ok: false, latencyMs: 1, error: `HTTP 503 from http://h/?token=${secret}` });
    recorder.journal.error = { code: 'E', message: `stopped: ${minted}` };
    recorder.journal.status = 'environment-error';
    const runDir = await tempDir('drill-redactor-');
    onTestFinished(() => rm(runDir, { recursive: true, force: true }));
    const written = await writeRunArtifacts(runDir, recorder.journal, recorder.secrets);
    expect(written.error?.message).toBe(`stopped: ${REDACTED}`);
    await writeEvidence(runDir, { redactor: recorder.secrets });
    const files = ['journal.json', 'incident-report.md', ...readdirSync(join(runDir, 'evidence')).map((f) => `evidence/${f}`)];
    expect(files).toContain('evidence/scenario.json');
    for (const file of files) {
      const text = readFileSync(join(runDir, file), 'utf8');
      expect(text, file).not.toContain(secret);
      expect(text, file).not.toContain(minted);
    }
    // Copies of redacted sources are byte-identical to them.
    expect(readFileSync(join(runDir, 'evidence/journal.json'), 'utf8')).toBe(readFileSync(join(runDir, 'journal.json'), 'utf8'));
  });

  it('an evidence copy of a journal that a writer let a secret into is redacted, and stays valid JSON', async () => {
    const runDir = await tempDir('drill-redactor-');
    onTestFinished(() => rm(runDir, { recursive: true, force: true }));
    const journal = { journalVersion: 1, runId: 'r', harness: { name: 'drill', version: '0' }, scenario: { definition: { name: 'x' } }, events: [{ t: 1, message: `leak ${TOKEN}` }] };
    await writeFile(join(runDir, 'journal.json'), JSON.stringify(journal, null, 2));
    const redactor = new Redactor();
    redactor.register(TOKEN, 'token');
    await writeEvidence(runDir, { redactor });
    const copy = readFileSync(join(runDir, 'evidence/journal.json'), 'utf8');
    expect(copy).not.toContain(TOKEN);
    expect((JSON.parse(copy) as typeof journal).events[0]!.message).toBe(`leak ${REDACTED}`);
    expect(existsSync(join(runDir, 'evidence/manifest.json'))).toBe(true);
  });

  it('debug output (runner.log) is redacted', () => {
    const redactor = new Redactor();
    redactor.register(TOKEN, 'token');
    const written: string[] = [];
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const originalLog = createDebug.log;
    const log = createDebug('drill:test-redaction');
    log.enabled = true;
    try {
      redactDebugOutput(redactor);
      log('connecting with %s and %o', TOKEN, { token: TOKEN });
    } finally {
      createDebug.log = originalLog;
      write.mockRestore();
    }
    expect(written.join('')).toContain(REDACTED);
    expect(written.join('')).not.toContain(TOKEN);
  });
});
