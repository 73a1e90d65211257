import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { EnvironmentError } from '../../engine/errors.js';
import { endOfArchive, padding, tarHeader, type TarHeaderFields } from './tar-header.js';

/** Where a file entry's bytes come from. */
export type TarContent =
  | { kind: 'bytes'; data: Buffer }
  /** A file on disk, read while the archive is written; `sha256` (hex) is checked as it is read. */
  | { kind: 'file'; path: string; size: number; sha256?: string };

export interface TarWritten {
  /** sha256 (hex) of every byte written: a layer's diff id, a blob's digest. */
  sha256: string;
  size: number;
}

const CHUNK = 1 << 20;

/**
 * Writes a tar archive to a file, hashing what it writes, so a layer's digest is known without
 * reading the file again. Entries are written in the order they are added: callers sort them.
 */
export class TarWriter {
  private readonly hash: Hash = createHash('sha256');
  private written = 0;

  private constructor(private readonly fd: FileHandle) {}

  static async create(path: string): Promise<TarWriter> {
    return new TarWriter(await open(path, 'wx'));
  }

  async directory(fields: Omit<TarHeaderFields, 'type' | 'size'>): Promise<void> {
    await this.write(tarHeader({ ...fields, type: 'directory', size: 0 }));
  }

  async symlink(fields: Omit<TarHeaderFields, 'type' | 'size'> & { linkname: string }): Promise<void> {
    await this.write(tarHeader({ ...fields, type: 'symlink', size: 0 }));
  }

  async file(fields: Omit<TarHeaderFields, 'type' | 'size'>, content: TarContent): Promise<void> {
    const size = content.kind === 'bytes' ? content.data.length : content.size;
    await this.write(tarHeader({ ...fields, type: 'file', size }));
    if (content.kind === 'bytes') await this.write(content.data);
    else await this.copyFile(fields.name, content);
    await this.write(padding(size));
  }

  /** Ends the archive and closes the file. */
  async finish(): Promise<TarWritten> {
    await this.write(endOfArchive());
    await this.fd.close();
    return { sha256: this.hash.digest('hex'), size: this.written };
  }

  /** Closes the file without ending the archive (after a failure; the caller removes it). */
  async abandon(): Promise<void> {
    await this.fd.close().catch(() => undefined);
  }

  private async copyFile(name: string, content: Extract<TarContent, { kind: 'file' }>): Promise<void> {
    const source = await open(content.path, 'r');
    const check = createHash('sha256');
    let copied = 0;
    try {
      const buffer = Buffer.alloc(CHUNK);
      for (;;) {
        const { bytesRead } = await source.read(buffer, 0, CHUNK, null);
        if (bytesRead === 0) break;
        copied += bytesRead;
        // A file that grew would overrun the header's size and corrupt every entry after it.
        if (copied > content.size) break;
        const chunk = buffer.subarray(0, bytesRead);
        check.update(chunk);
        await this.write(chunk);
      }
    } finally {
      await source.close();
    }
    if (copied !== content.size || (content.sha256 !== undefined && check.digest('hex') !== content.sha256)) {
      throw new EnvironmentError(
        'IMAGE_SOURCE_CHANGED',
        `${content.path} changed while the image was built (put in as ${name}); build again once it is no longer being written`,
      );
    }
  }

  private async write(data: Buffer): Promise<void> {
    if (data.length === 0) return;
    this.hash.update(data);
    this.written += data.length;
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await this.fd.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
  }
}
