import type { DrillContext } from './drill-context.js';
import { InputError } from './errors.js';

/** DESIGN.md section 6: nothing destructive runs against a database not marked as a drill target. */
export function requireDrillTarget(ctx: DrillContext, what: string): void {
  if (ctx.pg.drillTarget) return;
  throw new InputError(
    'NOT_A_DRILL_TARGET',
    `${what} is destructive and the ${ctx.pg.provider} PostgreSQL is not marked as a drill target; ` +
      'set targets.postgres.drillTarget: true only for a database you are prepared to lose. Nothing was touched.',
  );
}
