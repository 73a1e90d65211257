import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { DrillError, EnvironmentError } from '../engine/errors.js';
import { formatClockOffset } from '../scenario/clock-offset.js';
import type { Fault } from '../scenario/schema.js';
import { requireLibfaketime } from '../targets/process/libfaketime.js';
import { allowsOffset } from '../workload/clock-reading.js';
import { readServiceClocks } from '../workload/service-clock.js';

const debug = createDebug('drill:inject');

type ClockSkew = Extract<Fault, { type: 'clock-skew' }>;

/** The clock read back may differ from the offset asked by this much beyond the header's bounds (libfaketime rounds to the second). */
const OFFSET_SLACK_MS = 1000;
const READ_TIMEOUT_MS = 5000;

/**
 * The service's host clock goes wrong: every process of every mode is restarted (blue/green, as
 * after a host reboot with broken NTP) with libfaketime preloaded and FAKETIME set to the offset;
 * monotonic clocks stay true. Then each process is asked for its time (its Date header) and must
 * show the offset: a fault that did not take is an environment failure, never a drill that judges
 * nothing. T_fault is the instant the restart began: the skewed processes take traffic from some
 * instant inside it, never before. The handle reverts nothing itself: the skew lives only in the
 * environment of the processes, which stop at teardown (or are replaced by clock-sync).
 */
export async function injectClockSkew(ctx: DrillContext, fault: ClockSkew): Promise<FaultHandle> {
  const service = ctx.service;
  if (!service.restart) {
    throw new EnvironmentError('CLOCK_SKEW_UNSUPPORTED', `clock-skew restarts the service's plain processes; ${service.description} is not restarted by the drill (targets.service runs it that way)`);
  }
  const library = requireLibfaketime();
  const actedAt = ctx.clock.now();
  let restarted: Record<string, unknown>;
  try {
    restarted = await service.restart({ clock: { offsetMs: fault.offset, library }, signal: ctx.signal });
  } catch (error) {
    if (error instanceof DrillError) throw error;
    ctx.signal.throwIfAborted();
    throw new EnvironmentError('CLOCK_SKEW_NOT_STARTED', `the service did not come up with its clock at ${formatClockOffset(fault.offset)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  // Every mode: a worker or scheduler with a wrong clock is as much the fault as an API process.
  const endpoints = await service.metricsEndpoints();
  const readings = await readServiceClocks(endpoints, READ_TIMEOUT_MS, ctx.signal);
  const verifiedAt = ctx.clock.now();
  const wrong = readings.filter((r) => !r.bounds || !allowsOffset(r.bounds, fault.offset, OFFSET_SLACK_MS));
  if (readings.length === 0 || wrong.length > 0) {
    const seen = wrong.map((r) => `${r.endpoint} answered Date: ${r.date ?? '(none)'}`).join('; ');
    throw new EnvironmentError(
      'CLOCK_SKEW_NOT_IN_EFFECT',
      `the service's processes were restarted with libfaketime at ${formatClockOffset(fault.offset)} but do not show it (${seen || 'no process to ask'}); check that ${library} loads into node (LD_PRELOAD)`,
    );
  }
  debug('clock-skew %s seen on %s', formatClockOffset(fault.offset), readings.map((r) => r.endpoint).join(', '));
  return {
    description: `the service's clock is ${formatClockOffset(fault.offset)} off (libfaketime; ${readings.length} process(es) answered with the skewed time)`,
    details: {
      offset: formatClockOffset(fault.offset),
      offsetMs: fault.offset,
      library,
      restart: restarted,
      // What each process answered: the proof, on the drill's clock.
      readings: readings.map((r) => ({ endpoint: r.endpoint, date: r.date, offsetLowMs: r.bounds!.lowMs, offsetHighMs: r.bounds!.highMs })),
      verifiedAt,
    },
    inEffectAt: actedAt,
    async [Symbol.asyncDispose]() {},
  };
}
