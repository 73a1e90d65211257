import { InputError } from '../../engine/errors.js';

/**
 * POSIX ustar headers (the format `docker save` and image layers use), written by hand so every
 * byte is under our control: no user or group names, no host timestamps, no PAX extensions, which
 * is what makes a layer's digest depend on its content only.
 */

export const BLOCK = 512;

export type TarEntryType = 'file' | 'directory' | 'symlink';

export interface TarHeaderFields {
  /** Relative path without a leading slash; a directory's without a trailing one. */
  name: string;
  type: TarEntryType;
  /** Permission bits including setuid/setgid/sticky (e.g. 0o1777 for /tmp). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of content; 0 for directories and symlinks. */
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Symlink target. */
  linkname?: string;
}

const TYPEFLAG: Record<TarEntryType, string> = { file: '0', directory: '5', symlink: '2' };
// ustar's 12-byte size field holds 11 octal digits.
const MAX_SIZE = 0o77777777777;

export function tarHeader(fields: TarHeaderFields): Buffer {
  const header = Buffer.alloc(BLOCK);
  const fullName = fields.type === 'directory' ? `${fields.name}/` : fields.name;
  const { prefix, name } = splitName(fullName);
  if (fields.size > MAX_SIZE) {
    throw new InputError('TAR_ENTRY_TOO_LARGE', `${fields.name} is ${fields.size} bytes; a ustar entry holds at most 8 GiB: leave the file out of the image`);
  }
  if (fields.linkname !== undefined && Buffer.byteLength(fields.linkname) > 100) {
    throw new InputError('TAR_LINK_TOO_LONG', `symlink ${fields.name} -> ${fields.linkname}: ustar holds link targets up to 100 bytes; use a shorter (relative) target`);
  }
  writeString(header, 0, 100, name);
  writeOctal(header, 100, 8, fields.mode & 0o7777);
  writeOctal(header, 108, 8, fields.uid);
  writeOctal(header, 116, 8, fields.gid);
  writeOctal(header, 124, 12, fields.type === 'file' ? fields.size : 0);
  writeOctal(header, 136, 12, fields.mtime);
  header.write(TYPEFLAG[fields.type], 156, 'ascii');
  writeString(header, 157, 100, fields.linkname ?? '');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  // Device numbers are zero for these entry types, written as octal like GNU tar does.
  writeOctal(header, 329, 8, 0);
  writeOctal(header, 337, 8, 0);
  writeString(header, 345, 155, prefix);
  // The checksum is computed with its own field taken as eight spaces.
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  writeOctal(header, 148, 7, sum);
  header[155] = 0x20;
  return header;
}

/** Zero bytes that fill content up to the next 512-byte block. */
export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** Two zero blocks end an archive. */
export function endOfArchive(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}

/** ustar keeps up to 100 bytes in `name` and the directory part in the 155-byte `prefix`. */
function splitName(path: string): { prefix: string; name: string } {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let i = path.lastIndexOf('/', path.length - 2); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { prefix, name };
    if (Buffer.byteLength(name) > 100) break;
  }
  throw new InputError('TAR_PATH_TOO_LONG', `${path}: ustar holds paths up to 255 bytes (file names up to 100); shorten the path in the image`);
}

function writeString(buffer: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new InputError('TAR_FIELD_TOO_LONG', `"${value}" does not fit a ${length}-byte tar header field`);
  bytes.copy(buffer, offset);
}

/** Zero-padded octal digits followed by a NUL, filling `length` bytes. */
function writeOctal(buffer: Buffer, offset: number, length: number, value: number): void {
  buffer.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'ascii');
}
