import { chownSync, existsSync, statSync } from 'node:fs';
import { appendFile, mkdir, open, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCommand, type RunAs } from '../process/run-command.js';
import type { PostgresBinaries } from './binaries.js';
import { formatSettings, type DataDirectory, type OfflineTool, type ToolResult } from './data-directory.js';
import { PAGE_SIZE } from './page-checksum.js';

/** A data directory on this machine's file system (native instances, local copies of an external server). */
export class LocalDataDirectory implements DataDirectory {
  constructor(
    readonly path: string,
    private readonly binaries: PostgresBinaries,
    private readonly runAs: RunAs | undefined,
  ) {}

  get location(): string {
    return this.path;
  }

  async readBlock(file: string, block: number): Promise<Buffer | undefined> {
    const full = this.resolve(file);
    if (!existsSync(full)) return undefined;
    const handle = await open(full, 'r');
    try {
      const page = Buffer.alloc(PAGE_SIZE);
      const { bytesRead } = await handle.read(page, 0, PAGE_SIZE, block * PAGE_SIZE);
      return bytesRead === PAGE_SIZE ? page : undefined;
    } finally {
      await handle.close();
    }
  }

  async writeBlock(file: string, block: number, page: Buffer): Promise<void> {
    const handle = await open(this.resolve(file), 'r+');
    try {
      await handle.write(page, 0, PAGE_SIZE, block * PAGE_SIZE);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async exists(file: string): Promise<boolean> {
    return existsSync(this.resolve(file));
  }

  list(dir: string): Promise<string[]> {
    return readdir(this.resolve(dir));
  }

  async moveAside(file: string): Promise<string> {
    const stash = path.join(path.dirname(this.path), 'drill-removed-files');
    await mkdir(stash, { recursive: true });
    const aside = path.join(stash, file.replaceAll('/', '_'));
    await rename(this.resolve(file), aside);
    return aside;
  }

  async putBack(file: string, aside: string): Promise<boolean> {
    const full = this.resolve(file);
    if (!existsSync(aside) || existsSync(full) || !existsSync(path.dirname(full))) return false;
    await rename(aside, full);
    return true;
  }

  async touch(file: string): Promise<void> {
    const full = this.resolve(file);
    await writeFile(full, '');
    // Owned like the data directory itself (the postgres user when the harness is root).
    const owner = statSync(this.path);
    chownSync(full, owner.uid, owner.gid);
  }

  async appendSettings(settings: Record<string, string | number>, comment: string): Promise<void> {
    await appendFile(path.join(this.path, 'postgresql.conf'), formatSettings(settings, comment));
  }

  async hasTool(tool: OfflineTool): Promise<boolean> {
    return this.binaries.has(tool);
  }

  runTool(tool: OfflineTool, args: string[], okCodes = [0]): Promise<ToolResult> {
    return runCommand(this.binaries.path(tool), args, { runAs: this.runAs, okCodes, env: { LC_ALL: 'C' } });
  }

  private resolve(file: string): string {
    return path.join(this.path, file);
  }
}
