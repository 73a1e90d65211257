import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import type { Fault } from '../scenario/schema.js';
import { injectPageCorruption } from './pg-page-corruption.js';

/** One entry per fault type of the scenario schema; the compiler checks none is missing. */
const injectors: { [T in Fault['type']]: (ctx: DrillContext, fault: Extract<Fault, { type: T }>) => Promise<FaultHandle> } = {
  'pg-page-corruption': injectPageCorruption,
};

export function inject(ctx: DrillContext, fault: Fault): Promise<FaultHandle> {
  const injector = injectors[fault.type] as (ctx: DrillContext, fault: Fault) => Promise<FaultHandle>;
  return injector(ctx, fault);
}
