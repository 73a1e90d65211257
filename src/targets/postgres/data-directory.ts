/**
 * A server's data directory, reached where its files are: on this machine (native instances, and
 * local copies of an external server) or inside a container through the engine (testcontainers).
 * On-disk faults, fencing and offline checks (pg_checksums, pg_controldata, pg_waldump) work on
 * this interface, so they run on every provider that has one; a server the harness reaches only
 * over SQL has none.
 *
 * Paths given to it are relative to the data directory; `path` is the directory as the tools that
 * run where the files are see it (for their -D arguments and for messages).
 */
export interface DataDirectory {
  readonly path: string;
  /** For messages: the path, and where it is (this machine, or which container). */
  readonly location: string;
  /** One 8 KiB block of a file, or undefined when the file or that block is not there. */
  readBlock(file: string, block: number): Promise<Buffer | undefined>;
  /** Overwrites one 8 KiB block of an existing file, in place, and flushes it. */
  writeBlock(file: string, block: number, page: Buffer): Promise<void>;
  exists(file: string): Promise<boolean>;
  /** The names in a directory of the data directory. */
  list(dir: string): Promise<string[]>;
  /**
   * Moves a file out of the data directory into a directory beside it (removed with the
   * instance), as if it had been deleted; returns where it went, for `putBack`.
   */
  moveAside(file: string): Promise<string>;
  /** Puts a moved-aside file back, when it is still aside and nothing took its place; whether it did. */
  putBack(file: string, aside: string): Promise<boolean>;
  /** An empty file (a signal file such as standby.signal), owned like the data directory. */
  touch(file: string): Promise<void>;
  /** Appends settings to postgresql.conf (later lines win). */
  appendSettings(settings: Record<string, string | number>, comment: string): Promise<void>;
  /** Whether a PostgreSQL tool is there to run against it. */
  hasTool(tool: OfflineTool): Promise<boolean>;
  /** Runs a PostgreSQL tool where the files are, as the server's user; `okCodes` default [0]. */
  runTool(tool: OfflineTool, args: string[], okCodes?: number[]): Promise<ToolResult>;
}

export type OfflineTool = 'pg_checksums' | 'pg_controldata' | 'pg_waldump';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** postgresql.conf lines, quoted as the server reads them. */
export function formatSettings(settings: Record<string, string | number>, comment: string): string {
  const lines = Object.entries(settings).map(([k, v]) => `${k} = ${typeof v === 'number' ? v : `'${v.replaceAll("'", "''")}'`}`);
  return `\n# drill (${comment})\n${lines.join('\n')}\n`;
}
