import type { DegradationKind, LinkDegradation } from '../../workload/database-link.js';
import type { ToxiproxyToxic } from './toxiproxy-api.js';

/** The degradations Toxiproxy applies (loss and partition are packet faults: nftables). */
export type ToxicDegradation = Exclude<LinkDegradation, { kind: 'loss' | 'partition' }>;

/**
 * The Toxiproxy toxic that emulates each link degradation (pure). Directions are chosen for a
 * database link, where the client speaks first and waits for the answer:
 * - latency and bandwidth on downstream (server → client): every answer, so every round trip,
 *   arrives `latency` (± jitter) later, or at most `rate` KB/s;
 * - reset and timeout on upstream (client → server): the client's first bytes (a query, or a new
 *   connection's startup message) meet a TCP RST, or vanish while the connection stays open.
 * On a replication link the replica is the client and what matters flows the other way (the
 * primary's WAL): reset and timeout go downstream, so the WAL meets the RST or vanishes (a reset
 * upstream would only catch the replica's status messages, once a second, and let WAL through).
 */
export function toxicFor(name: string, degradation: ToxicDegradation, link: 'application' | 'replication' = 'application'): ToxiproxyToxic {
  const base = { name, toxicity: 1 };
  switch (degradation.kind) {
    case 'latency':
      return { ...base, type: 'latency', stream: 'downstream', attributes: { latency: degradation.latencyMs, jitter: degradation.jitterMs } };
    case 'bandwidth':
      return { ...base, type: 'bandwidth', stream: 'downstream', attributes: { rate: degradation.kilobytesPerSecond } };
    case 'reset':
      // timeout 0: reset as soon as data arrives, for as long as the toxic is there.
      return { ...base, type: 'reset_peer', stream: breakStream(link), attributes: { timeout: 0 } };
    case 'timeout':
      // timeout 0: the connection is never closed; data is dropped until the toxic is removed,
      // and the removal closes the connections it held (Toxiproxy 2.12's cleanup of the toxic;
      // test/targets/inter-region-link.test.ts).
      return { ...base, type: 'timeout', stream: degradation.stream ?? breakStream(link), attributes: { timeout: 0 } };
  }
}

/** Where a broken link cuts: what the side that waits for answers sends (see toxicFor). */
function breakStream(link: 'application' | 'replication'): ToxiproxyToxic['stream'] {
  return link === 'replication' ? 'downstream' : 'upstream';
}

/** Which degradation a toxic of the proxy emulates; undefined for a toxic the drill does not make. */
export function kindOfToxic(toxic: Pick<ToxiproxyToxic, 'type'>): DegradationKind | undefined {
  const kinds: Partial<Record<ToxiproxyToxic['type'], DegradationKind>> = { latency: 'latency', bandwidth: 'bandwidth', reset_peer: 'reset', timeout: 'timeout' };
  return kinds[toxic.type];
}
