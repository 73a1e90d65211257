import net from 'node:net';
import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError, InputError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import { awaitExit } from '../targets/postgres/native-process.js';
import type { PgInstance } from '../targets/postgres/types.js';
import type { Region } from '../targets/regions/types.js';
import { RegionNetworkDrop } from './region-network-drop.js';
import { databaseProcesses, journalled, recordProcess, signalRecorded, type RegionProcess } from './region-processes.js';

const debug = createDebug('drill:inject');

type RegionOutage = Extract<Fault, { type: 'region-outage' }>;

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
 * With `network: drop`, first a drill-owned nftables table drops the loopback TCP to and from each
 * address:port the region listens on (RegionNetworkDrop): its clients' connections then time out as
 * towards a dead network, neither refused nor accepted by a frozen process, and no RST or FIN of a
 * dying process reaches them. The listeners are read and nft is required before anything is done
 * (exit 3 without it: the region is left untouched); the table goes in before the signal, and a
 * connect to each listener must time out before the fault counts as injected.
 *
 * Then the check that none of the region's API addresses answers an HTTP request within a second.
 * T_fault is the first action as observed: the table loaded (nft returned), or the signal sent;
 * the region stops answering from then on, the checks only confirm it (their instant is in the details).
 */
export async function injectRegionOutage(ctx: DrillContext, fault: RegionOutage): Promise<FaultHandle> {
  const regions = ctx.regions;
  const region = regions.find(fault.region);
  if (!region) throw new InputError('REGION_UNKNOWN', `region-outage names region ${fault.region}, which is none of primary, dr, ${regions.primary.name}, ${regions.dr.name}; name one of them`);
  const service = region.processes.liveInstances().map(({ name, pid }) => recordProcess(name, pid, false));
  const database = databaseProcesses(region.database);
  const drop = fault.network === 'drop' ? RegionNetworkDrop.plan(ctx, region, [...service, ...database]) : undefined;
  const table = await drop?.apply();
  // The table is in effect once nft has loaded it, observed when apply returns (DESIGN 4): a write
  // the region acknowledged while nft was still running was acknowledged before the fault.
  const at = ctx.clock.now();
  let hit: RegionProcess[] = [];
  let heldPairs: string[] = [];
  // Whatever fails from here undoes what was done: the frozen processes killed, the table deleted.
  const undo = async () => {
    try {
      if (fault.mode === 'blackhole') await thawDead(hit);
    } finally {
      await drop?.remove();
    }
  };
  let proof: Awaited<ReturnType<RegionNetworkDrop['prove']>> | undefined;
  try {
    hit = fault.mode === 'kill' ? await killRegion(region, service, database) : freeze([...service, ...database], region.database);
    // Killed, the region's pairs are free: held until the table goes, so no other drill binds one.
    if (fault.mode === 'kill') heldPairs = (await drop?.hold()) ?? [];
    debug('region %s: %s of %d processes', region.name, fault.mode === 'kill' ? 'SIGKILL' : 'SIGSTOP', hit.length);
    const [answering, proven] = await Promise.all([
      Promise.all(region.apiAddresses.map(async (host) => ((await answersHttp(host, regions.port)) ? host : undefined))).then((hosts) => hosts.filter(Boolean)),
      drop?.prove(),
    ]);
    proof = proven;
    if (answering.length > 0) {
      throw new EnvironmentError('REGION_STILL_ANSWERING', `region ${region.name} was ${fault.mode === 'kill' ? 'killed' : 'frozen'} but ${answering.join(', ')} still answer on port ${regions.port}; check what else listens there`);
    }
  } catch (error) {
    await undo().catch((e: unknown) => debug('undoing the outage of %s: %s', region.name, e instanceof Error ? e.message : String(e)));
    throw error;
  }
  const what = fault.mode === 'kill' ? 'SIGKILLed' : drop ? 'SIGSTOPped' : 'SIGSTOPped (connections hang)';
  const dropped = drop && table ? `; its ${drop.listeners.length} listeners' loopback packets dropped by nftables table inet ${table.table} (connects time out)` : '';
  return {
    description: `region outage (${fault.mode}) of ${region.name}: ${hit.length} processes ${what}, its PostgreSQL (${region.database.name}) included${dropped}`,
    details: {
      region: region.name,
      role: region.role,
      mode: fault.mode,
      processes: journalled(hit),
      serviceProcesses: service.length,
      database: region.database.name,
      unansweredConfirmedAt: ctx.clock.now(),
      ...(drop && table
        ? {
            network: {
              drop: true,
              nftTable: `inet ${table.table}`,
              nftHandle: table.handle,
              listeners: drop.listeners,
              ...(drop.outside.length > 0 ? { notDropped: drop.outside } : {}),
              ...(fault.mode === 'kill' ? { heldUntilTeardown: heldPairs } : {}),
              ruleset: table.ruleset,
              // Each listener's connect while the table was in: only `timed out` proves the drop.
              connects: proof,
            },
          }
        : {}),
    },
    inEffectAt: at,
    // A lost region stays lost for the drill; teardown stops what is left of it. Frozen
    // processes handle no signal but SIGKILL, so they are killed here, before the teardown's
    // graceful stops would wait on them.
    // The table goes last: until the frozen processes are dead, nothing of them reaches a client.
    async [Symbol.asyncDispose]() {
      await undo();
    },
  };
}

async function killRegion(region: Region, service: RegionProcess[], database: RegionProcess[]): Promise<RegionProcess[]> {
  const killed = signalRecorded(database, 'SIGKILL');
  // The service's own child processes: it kills those it has not seen exit (the ones listed).
  const serviceKilled = new Set((await region.processes.kill()).map((p) => p.pid));
  // A backend whose postmaster died exits on its own; SIGKILL already made sure, this waits for it.
  await awaitExit(killed.map((p) => p.pid), 10_000);
  killed.push(...late(region.database, killed, 'SIGKILL'));
  return [...service.filter((p) => serviceKilled.has(p.pid)), ...killed];
}

function freeze(processes: RegionProcess[], database: PgInstance): RegionProcess[] {
  const frozen = signalRecorded(processes, 'SIGSTOP');
  return [...frozen, ...late(database, frozen, 'SIGSTOP')];
}

/** A backend forked between the listing and the signal: found by its working directory, signalled too. */
function late(database: PgInstance, signalled: RegionProcess[], signal: NodeJS.Signals): RegionProcess[] {
  return signalRecorded(
    databaseProcesses(database).filter((p) => !signalled.some((s) => s.pid === p.pid)),
    signal,
  );
}

/**
 * SIGKILL, then SIGCONT (a stopped process dies of SIGKILL, the SIGCONT only makes sure nothing
 * stays stopped), each only to a pid that is still the process frozen at the outage: by teardown
 * a frozen process may have died (another drill's cleanup, an operator) and its pid be reused.
 */
async function thawDead(processes: RegionProcess[]): Promise<void> {
  const killed = signalRecorded(processes, 'SIGKILL');
  signalRecorded(killed, 'SIGCONT');
  await awaitExit(killed.filter((p) => p.postgres).map((p) => p.pid), 10_000);
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
