import type { DrillContext } from '../../engine/drill-context.js';
import type { Stamp } from '../../engine/journal-types.js';
import type { ForensicArtifactKind } from '../../scenario/incident-schema.js';

/** A piece of evidence as collected, before it is redacted, written and hashed. */
export interface CollectedFile {
  /** Its path under forensics/ (may contain a subdirectory: service-logs/launch-1/...). */
  name: string;
  text: string;
  /** JSON: redacted string by string, so the file stays valid JSON. */
  json: boolean;
  /** Tool and source, for the chain of custody ("pg_dump 15.4 --schema=public of drill on 127.0.0.1:5433"). */
  how: string;
}

/**
 * A piece of evidence that is secret by nature and binary (process memory, a physical copy of the
 * database): never redacted or written in clear, streamed sealed into the run directory
 * (sealed-file.ts). `details()` (pid, truncation, verification), asked once it is written, go into
 * the journal beside its hashes.
 */
export interface SealedCollectedFile {
  name: string;
  sealed: true;
  read(): AsyncIterable<Buffer>;
  how: string;
  details?(): Record<string, unknown>;
  /** Called once the collection's files are written (or failed): removes what `read()` streamed from. */
  cleanup?(): Promise<void>;
}

/** The window a collection covers on the run clock (the runbook's --time-range, bounded by the run). */
export interface ForensicWindow {
  from: Stamp;
  to: Stamp;
}

/** One artifact kind of preserve-forensics: whether it can be collected here, and how. */
export interface ForensicCollector {
  kind: ForensicArtifactKind;
  /** Why it cannot be collected with these targets (undefined: it can). */
  unavailable(ctx: DrillContext): string | undefined;
  collect(ctx: DrillContext, window: ForensicWindow): Promise<Array<CollectedFile | SealedCollectedFile>>;
}
