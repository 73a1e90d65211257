import net from 'node:net';
import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError, InputError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';

const debug = createDebug('drill:inject');

type RegionOutage = Extract<Fault, { type: 'region-outage' }>;

/**
 * Runbook "Scenario 1: Complete Data Center Outage": the region is lost. mode kill: SIGKILL of
 * every service process of the region at once (no drain), then the check that none of its API
 * addresses accepts a connection any more. T_fault is the kill: the region stops answering the
 * moment the signals land; the check only confirms it (its instant is in the details).
 */
export async function injectRegionOutage(ctx: DrillContext, fault: RegionOutage): Promise<FaultHandle> {
  const regions = ctx.regions;
  const region = regions.find(fault.region);
  if (!region) throw new InputError('REGION_UNKNOWN', `region-outage names region ${fault.region}, which is none of primary, dr, ${regions.primary.name}, ${regions.dr.name}; name one of them`);
  const before = region.processes.instances();
  const killedAt = ctx.clock.now();
  const killed = await region.processes.kill();
  debug('region %s: SIGKILL of %d processes', region.name, killed.length);
  const answering = (await Promise.all(region.apiAddresses.map(async (host) => ((await acceptsConnections(host, regions.port)) ? host : undefined)))).filter(Boolean);
  if (answering.length > 0) {
    throw new EnvironmentError('REGION_STILL_ANSWERING', `region ${region.name} was killed but ${answering.join(', ')} still accept connections on port ${regions.port}; check what else listens there`);
  }
  return {
    description: `region outage (${fault.mode}) of ${region.name}: ${killed.length} service processes SIGKILLed`,
    details: { region: region.name, role: region.role, mode: fault.mode, killed, running: before.length, unansweredConfirmedAt: ctx.clock.now() },
    inEffectAt: killedAt,
    // A lost region stays lost for the drill; teardown stops what is left of it.
    async [Symbol.asyncDispose]() {},
  };
}

/** Whether `host:port` accepts a TCP connection now (refused, reset or silent for a second: no). */
function acceptsConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (accepted: boolean) => {
      socket.destroy();
      resolve(accepted);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
