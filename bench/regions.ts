/**
 * `npm run bench:regions [-- --runs 3 --queries 2000 --concurrency 16 --drills 1 --out bench/results/regions.json]`
 *
 * Region loss, measured (issue 9):
 * - **The drill's DNS server under a probe load**: the real server in front of a real moto Route 53
 *   API, `queries` A queries over UDP from `concurrency` clients at once; latency per answer (p50,
 *   p99, max) per run, and the median over runs. Every answer reads the record set through the
 *   Route 53 API, as a drill's does, so this is the latency clients see.
 * - **Region loss to the first successful request in the DR region**, split as the journal of a real
 *   `drill run` records it, for the UPSERT path (`region-outage-dns-failover`) and the
 *   health-check path (`region-automatic-failover`): detection, fence, promotion, DR service ready,
 *   the DNS change (UPSERT acknowledged to the DR answer served, or the health checks' flip), the
 *   TTL window after it, and the RTO (upper bound, never better than observed) against the
 *   scenario's objective.
 * Every sample is kept beside its median; compare within one run, machines here are noisy.
 */
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import dnsPacket from 'dns-packet';
import { reapResources } from '../src/engine/reaper.js';
import { ResourceLedger } from '../src/engine/resource-ledger.js';
import type { Journal } from '../src/engine/journal-types.js';
import { childEnvironment } from '../src/targets/process/child-environment.js';
import { DnsServer } from '../src/targets/regions/dns-server.js';
import { MotoServer } from '../src/targets/regions/moto-server.js';
import { Route53Zone } from '../src/targets/regions/route53-zone.js';
import { percentile, splitOfRegionDrill, type RegionDrillSplit } from './region-split.js';

const USAGE = 'usage: npm run bench:regions -- [--runs 3] [--queries 2000] [--concurrency 16] [--drills 1] [--out bench/results/regions.json]';
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    queries: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    drills: { type: 'string', default: '1' },
    out: { type: 'string', default: 'bench/results/regions.json' },
  },
});
const positive = (name: string, max: number) => {
  const n = Number(values[name as keyof typeof values]);
  if (!Number.isInteger(n) || n < (name === 'drills' ? 0 : 1) || n > max) {
    console.error(`--${name} must be a whole number up to ${max}\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const runs = positive('runs', 20);
const queries = positive('queries', 100_000);
const concurrency = positive('concurrency', 256);
const drills = positive('drills', 10);

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const NAME = 'api.truststream.drill.test.';
// The upper median: with an even count the worse of the two middle values (latencies: never the better figure).
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One UDP query and its answer's latency (ms); a lost or wrong answer is an error, not a sample. */
function query(socket: dgram.Socket, port: number, id: number, pending: Map<number, (ms: number | Error) => void>): Promise<number> {
  return new Promise((resolve, reject) => {
    const sent = performance.now();
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error(`query ${id} got no answer within 5 s`));
    }, 5000);
    pending.set(id, (answer) => {
      clearTimeout(timer);
      if (answer instanceof Error) reject(answer);
      else resolve(answer - sent);
    });
    socket.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: NAME.slice(0, -1) }] }), port, '127.0.0.1');
  });
}

async function dnsRun(work: string, run: number): Promise<{ p50Ms: number; p99Ms: number; maxMs: number; answersPerS: number }> {
  const ledgerFile = path.join(work, `dns-${run}.jsonl`);
  const ledger = new ResourceLedger(ledgerFile);
  let moto: MotoServer | undefined;
  let dns: DnsServer | undefined;
  let client: ReturnType<typeof Route53Zone.client> | undefined;
  const socket = dgram.createSocket('udp4');
  try {
    moto = await MotoServer.start({ ledger, runId: `bench-regions-${run}`, register: (m) => (moto = m) });
    client = Route53Zone.client(moto.endpoint);
    const zone = await Route53Zone.create(client, 'truststream.drill.test', `bench-regions-${run}`);
    await zone.waitInsync(await zone.upsertA({ name: NAME, values: ['127.0.1.1', '127.0.1.2'], ttl: 5 }, 'bench'), 10_000);
    dns = await DnsServer.start(zone);
    const port = Number(dns.address.split(':').pop());
    const pending = new Map<number, (ms: number | Error) => void>();
    socket.on('message', (message) => {
      const answer = dnsPacket.decode(message);
      const done = pending.get(answer.id!);
      if (!done) return;
      pending.delete(answer.id!);
      // RCODE is the low 4 bits of the flags: 0 is NOERROR.
      const rcode = (answer.flags ?? 0) & 0xf;
      const ok = rcode === 0 && (answer.answers ?? []).some((a) => a.type === 'A' && a.data === '127.0.1.1');
      done(ok ? performance.now() : new Error(`query ${answer.id} answered rcode ${rcode} without the record`));
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    // `concurrency` clients, each asking again as soon as it has its answer (bounded: `queries` in all).
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < queries) {
          const id = next++ % 65_536;
          latencies.push(await query(socket, port, id, pending));
        }
      }),
    );
    const elapsedS = (performance.now() - started) / 1000;
    const sorted = latencies.sort((a, b) => a - b);
    return { p50Ms: round(percentile(sorted, 50)), p99Ms: round(percentile(sorted, 99)), maxMs: round(sorted.at(-1)!), answersPerS: Math.round(sorted.length / elapsedS) };
  } finally {
    socket.close();
    await dns?.stop();
    client?.destroy();
    await moto?.stop();
    await reapResources(ledgerFile);
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;

function drillRun(work: string, scenario: string): RegionDrillSplit {
  const reports = mkdtempSync(path.join(work, 'reports-'));
  const file = path.join(ROOT, 'drills/scenarios', `${scenario}.yaml`);
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'bin/drill.mjs'), 'run', file, '--reports-dir', reports], { cwd: ROOT, env: childEnvironment(), stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
  } catch (error) {
    // A failed verdict is exit 1 and still a measurement; 2, 3 or a timeout measured nothing.
    if ((error as { status?: number }).status !== 1) throw error;
  }
  const runDir = readdirSync(reports).map((d) => path.join(reports, d)).find((d) => readdirSync(d).includes('journal.json'));
  if (!runDir) throw new Error(`drill run of ${scenario} left no journal in ${reports}`);
  return splitOfRegionDrill(JSON.parse(readFileSync(path.join(runDir, 'journal.json'), 'utf8')) as Journal);
}

const work = mkdtempSync(path.join(os.tmpdir(), 'drill-bench-regions-'));
try {
  const dnsRuns = [];
  for (let run = 0; run < runs; run++) {
    console.error(`bench: DNS server, run ${run + 1}/${runs} (${queries} queries, ${concurrency} at once)…`);
    dnsRuns.push(await dnsRun(work, run));
  }
  const split: Record<string, RegionDrillSplit[]> = {};
  for (const scenario of ['region-outage-dns-failover', 'region-automatic-failover']) {
    for (let i = 0; i < drills; i++) {
      console.error(`bench: drill run ${scenario} (${i + 1}/${drills})…`);
      (split[scenario] ??= []).push(drillRun(work, scenario));
    }
  }
  const result = {
    machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release() },
    dnsServer: {
      queries,
      concurrency,
      runs,
      medianP99Ms: median(dnsRuns.map((r) => r.p99Ms)),
      medianP50Ms: median(dnsRuns.map((r) => r.p50Ms)),
      samples: dnsRuns,
    },
    regionLoss: Object.fromEntries(
      Object.entries(split).map(([scenario, samples]) => {
        const keys = [...new Set(samples.flatMap((s) => Object.keys(s.phasesMs)))];
        return [
          scenario,
          {
            drills: samples.length,
            medianPhasesMs: Object.fromEntries(keys.map((k) => [k, median(samples.map((s) => s.phasesMs[k]).filter((v): v is number => v !== undefined))])),
            medianRtoMs: median(samples.map((s) => s.rtoMs)),
            rtoObjectiveMs: samples[0]!.rtoObjectiveMs,
            samples,
          },
        ];
      }),
    ),
  };
  writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify({ dnsMedianP99Ms: result.dnsServer.medianP99Ms, regionLoss: Object.fromEntries(Object.entries(result.regionLoss).map(([k, v]) => [k, { rtoMs: v.medianRtoMs, ...v.medianPhasesMs }])) }, null, 2));
  console.error(`bench: written ${values.out}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
