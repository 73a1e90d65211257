import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exitCodeForError } from '../../src/cli/output.js';
import { startClock } from '../../src/engine/clock.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { provisionKubernetes } from '../../src/targets/kubernetes/provision-kubernetes.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { TeardownStack } from '../../src/engine/teardown-stack.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { scenarioSchema } from '../../src/scenario/schema.js';

// The built-in TrustStram passes readiness only with its database. A drill that would start real
// nodes for it without targets.postgres is refused before any cluster starts. (On a running
// cluster the same refusal is asked of its nodes: test/kubernetes/k8s-drills.test.ts.)
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-provision-db-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('provisionKubernetes: the built-in system needs its database on real nodes', () => {
  it('provider local with real nodes and no database: DATABASE_REQUIRED (exit 2), no cluster started, nothing recorded', async () => {
    // Not a cluster DRILL_KUBECONFIG names: the drill would start its own.
    const saved = process.env.DRILL_KUBECONFIG;
    delete process.env.DRILL_KUBECONFIG;
    try {
      const loaded = await loadScenarioFile('drills/scenarios/k8s-pod-kill-self-heal.yaml');
      const clock = startClock();
      const ledgerFile = path.join(tmp, 'resources.jsonl');
      const teardown = new TeardownStack();
      const spec = scenarioSchema.shape.targets.parse({ kubernetes: { provider: 'local', nodes: { real: 2 } } }).kubernetes!;
      const error = await provisionKubernetes(spec, {
        runId: 'no-database',
        clock,
        ledger: new ResourceLedger(ledgerFile),
        teardown,
        recorder: new JournalRecorder(clock, 'no-database', loaded),
        signal: new AbortController().signal,
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'DATABASE_REQUIRED', message: expect.stringMatching(/2 real node\(s\).*add targets\.postgres.*nodes: \{fake: 3\}.*Nothing was deployed\.$/) });
      expect(exitCodeForError(error)).toBe(2);
      // A control plane records its directory before anything else: none was made.
      expect(readResources(ledgerFile)).toEqual([]);
      expect(await teardown.runAll()).toEqual([]);
    } finally {
      if (saved !== undefined) process.env.DRILL_KUBECONFIG = saved;
    }
  });
});
