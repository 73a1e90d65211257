import net from 'node:net';
import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError, InputError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import { awaitExit } from '../targets/postgres/native-process.js';
import { serverPids } from '../targets/postgres/server-signals.js';
import type { Region } from '../targets/regions/types.js';

const debug = createDebug('drill:inject');

type RegionOutage = Extract<Fault, { type: 'region-outage' }>;

interface RegionProcess {
  name: string;
  pid: number;
}

/**
 * Runbook "Scenario 1: Complete Data Center Outage": the region is lost, its PostgreSQL with it.
 *
 * - `kill`: SIGKILL of every process of the region at once (service processes, the postmaster and
 *   every backend: no shutdown checkpoint, no backend finishing a reply), as a machine losing power.
 * - `blackhole`: SIGSTOP of the same processes: nothing answers, but the kernel still completes
 *   TCP handshakes on their listening sockets, so clients hang until their own timeouts, as behind
 *   a dead network, instead of being refused. The handle SIGKILLs (then SIGCONTs) them at
 *   teardown; after a kill -9 of the drill the reapers SIGCONT before they signal.
 *
 * Then the check that none of the region's API addresses answers an HTTP request within a second.
 * T_fault is the signal: the region stops answering the moment it lands; the check only confirms
 * it (its instant is in the details).
 */
export async function injectRegionOutage(ctx: DrillContext, fault: RegionOutage): Promise<FaultHandle> {
  const regions = ctx.regions;
  const region = regions.find(fault.region);
  if (!region) throw new InputError('REGION_UNKNOWN', `region-outage names region ${fault.region}, which is none of primary, dr, ${regions.primary.name}, ${regions.dr.name}; name one of them`);
  const running = region.processes.instances().length;
  const database = serverPids(region.database).map((pid, i) => ({ name: i === 0 ? `${region.database.name} postmaster` : `${region.database.name} backend`, pid }));
  const at = ctx.clock.now();
  const hit = fault.mode === 'kill' ? await killRegion(region, database) : freeze(region, database);
  // A backend forked between the listing and the signal: found by its working directory, signalled too.
  const late = serverPids(region.database).filter((pid) => !hit.some((p) => p.pid === pid)).map((pid) => ({ name: `${region.database.name} backend`, pid }));
  signalAll(late, fault.mode === 'kill' ? 'SIGKILL' : 'SIGSTOP');
  hit.push(...late);
  debug('region %s: %s of %d processes', region.name, fault.mode === 'kill' ? 'SIGKILL' : 'SIGSTOP', hit.length);
  const answering = (await Promise.all(region.apiAddresses.map(async (host) => ((await answersHttp(host, regions.port)) ? host : undefined)))).filter(Boolean);
  if (answering.length > 0) {
    if (fault.mode === 'blackhole') await thawDead(hit);
    throw new EnvironmentError('REGION_STILL_ANSWERING', `region ${region.name} was ${fault.mode === 'kill' ? 'killed' : 'frozen'} but ${answering.join(', ')} still answer on port ${regions.port}; check what else listens there`);
  }
  const what = fault.mode === 'kill' ? 'SIGKILLed' : 'SIGSTOPped (connections hang)';
  return {
    description: `region outage (${fault.mode}) of ${region.name}: ${hit.length} processes ${what}, its PostgreSQL (${region.database.name}) included`,
    details: { region: region.name, role: region.role, mode: fault.mode, processes: hit, serviceProcesses: running, database: region.database.name, unansweredConfirmedAt: ctx.clock.now() },
    inEffectAt: at,
    // A lost region stays lost for the drill; teardown stops what is left of it. Frozen
    // processes handle no signal but SIGKILL, so they are killed here, before the teardown's
    // graceful stops would wait on them.
    async [Symbol.asyncDispose]() {
      if (fault.mode === 'blackhole') await thawDead(hit);
    },
  };
}

async function killRegion(region: Region, database: RegionProcess[]): Promise<RegionProcess[]> {
  signalAll(database, 'SIGKILL');
  const service = await region.processes.kill();
  // A backend whose postmaster died exits on its own; SIGKILL already made sure, this waits for it.
  await awaitExit(database.map((p) => p.pid), 10_000);
  return [...service, ...database];
}

function freeze(region: Region, database: RegionProcess[]): RegionProcess[] {
  const service = region.processes.instances().map(({ name, pid }) => ({ name, pid }));
  const all = [...service, ...database];
  signalAll(all, 'SIGSTOP');
  return all;
}

/** SIGKILL, then SIGCONT (a stopped process dies of SIGKILL, the SIGCONT only makes sure nothing stays stopped). */
async function thawDead(processes: RegionProcess[]): Promise<void> {
  signalAll(processes, 'SIGKILL');
  signalAll(processes, 'SIGCONT');
  await awaitExit(processes.map((p) => p.pid), 10_000);
}

function signalAll(processes: RegionProcess[], signal: NodeJS.Signals): void {
  for (const { pid } of processes) {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Whether `host:port` answers an HTTP request within a second. A refused connection (killed) and
 * an accepted one that never gets a byte back (frozen: the kernel completes the handshake) are
 * both a region that does not answer.
 */
function answersHttp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => socket.write(`GET /livez HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    socket.once('data', () => done(true));
    socket.once('error', () => done(false));
  });
}
