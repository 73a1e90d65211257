import path from 'node:path';
import { EnvironmentError } from '../../engine/errors.js';
import { formatSettings, type DataDirectory, type OfflineTool, type ToolResult } from './data-directory.js';
import { PAGE_SIZE } from './page-checksum.js';
import { execAsPostgres, type ContainerExec } from './container-exec.js';

/**
 * A data directory inside a container, reached through the engine (`docker exec`, as the
 * postgres user): blocks travel base64-encoded through dd, tools run in the container with the
 * image's own binaries. Only POSIX tools every postgres image has (sh, dd, base64, mv, ls) are used,
 * so it works on the official Alpine image and on drill's local Debian one.
 */
export class ContainerDataDirectory implements DataDirectory {
  constructor(
    private readonly container: ContainerExec,
    readonly path: string,
    private readonly containerName: string,
  ) {}

  get location(): string {
    return `${this.path} in container ${this.containerName}`;
  }

  async readBlock(file: string, block: number): Promise<Buffer | undefined> {
    const result = await execAsPostgres(
      this.container,
      ['sh', '-c', '[ -f "$1" ] || exit 3; dd if="$1" bs=$3 skip="$2" count=1 2>/dev/null | base64 | tr -d "\\n"', 'drill-read', this.resolve(file), String(block), String(PAGE_SIZE)],
      [0, 3],
    );
    if (result.exitCode === 3) return undefined;
    const page = Buffer.from(result.stdout.trim(), 'base64');
    return page.length === PAGE_SIZE ? page : undefined;
  }

  async writeBlock(file: string, block: number, page: Buffer): Promise<void> {
    if (page.length !== PAGE_SIZE) throw new EnvironmentError('BAD_PAGE', `a block is ${PAGE_SIZE} bytes, not ${page.length}`);
    // An 8 KiB page is about 11 KB of base64: well within one argument's limit.
    await execAsPostgres(this.container, [
      'sh', '-c',
      // Decoded to a file first, so a page that did not arrive whole is never written.
      'set -e; [ -f "$1" ]; t="$(mktemp)"; trap \'rm -f "$t"\' EXIT; printf %s "$3" | base64 -d > "$t"; [ "$(wc -c < "$t")" -eq "$4" ]; ' +
        'dd if="$t" of="$1" bs="$4" seek="$2" count=1 conv=notrunc,fsync 2>/dev/null',
      'drill-write', this.resolve(file), String(block), page.toString('base64'), String(PAGE_SIZE),
    ]);
  }

  async exists(file: string): Promise<boolean> {
    return (await execAsPostgres(this.container, ['test', '-e', this.resolve(file)], [0, 1])).exitCode === 0;
  }

  async list(dir: string): Promise<string[]> {
    const result = await execAsPostgres(this.container, ['ls', '-1A', this.resolve(dir)]);
    return result.stdout.split('\n').filter(Boolean);
  }

  async moveAside(file: string): Promise<string> {
    const stash = path.posix.join(path.posix.dirname(this.path), 'drill-removed-files');
    const aside = path.posix.join(stash, file.replaceAll('/', '_'));
    await execAsPostgres(this.container, ['sh', '-c', 'mkdir -p "$1" && mv "$2" "$3"', 'drill-move', stash, this.resolve(file), aside]);
    return aside;
  }

  async putBack(file: string, aside: string): Promise<boolean> {
    const full = this.resolve(file);
    const result = await execAsPostgres(
      this.container,
      ['sh', '-c', '[ -e "$1" ] && [ ! -e "$2" ] && [ -d "$3" ] || exit 3; mv "$1" "$2"', 'drill-put-back', aside, full, path.posix.dirname(full)],
      [0, 3],
    );
    return result.exitCode === 0;
  }

  async touch(file: string): Promise<void> {
    await execAsPostgres(this.container, ['touch', this.resolve(file)]);
  }

  async appendSettings(settings: Record<string, string | number>, comment: string): Promise<void> {
    await execAsPostgres(this.container, [
      'sh', '-c', 'printf "%s" "$1" >> "$2/postgresql.conf"', 'drill-settings', formatSettings(settings, comment), this.path,
    ]);
  }

  async hasTool(tool: OfflineTool): Promise<boolean> {
    return (await execAsPostgres(this.container, ['sh', '-c', 'command -v "$1" >/dev/null', 'drill-which', tool], [0, 1, 127])).exitCode === 0;
  }

  async runTool(tool: OfflineTool, args: string[], okCodes = [0]): Promise<ToolResult> {
    const result = await execAsPostgres(this.container, ['env', 'LC_ALL=C', tool, ...args], okCodes);
    return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  }

  private resolve(file: string): string {
    return path.posix.join(this.path, file);
  }
}
