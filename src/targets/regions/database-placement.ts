import { regionDatabaseAddress } from './region-layout.js';

/**
 * Where the drill's PostgreSQL instances live when the scenario has regions: the primary in the
 * primary region, every streaming replica (`replica-<n>`) in the DR region, each on its region's
 * database address. Anything else the deployment creates later (a point-in-time restore) belongs
 * to no region and stays on 127.0.0.1.
 */
export function databasePlacement(regions: { primary: { range: string }; dr: { range: string } }): (instance: string) => string | undefined {
  return (instance) => {
    if (instance === 'primary') return regionDatabaseAddress(regions.primary.range);
    if (/^replica-\d+$/.test(instance)) return regionDatabaseAddress(regions.dr.range);
    return undefined;
  };
}
