import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError } from '../../engine/errors.js';
import { findPostgresBinaries } from '../postgres/binaries.js';
import { runCommand } from '../process/run-command.js';
import { hostProgramEntries, sharedLibraryEntries } from './host-program.js';
import { hostTreeEntries } from './host-tree.js';
import { layerSpec, type LayerSpec } from './layer-spec.js';

/**
 * Host programs the native PostgreSQL provider runs besides PostgreSQL's own: pg_ctl starts the
 * server through /bin/sh, a restore copies with cp (and restore_command is `cp ...`), process
 * identity is read with ps, forensics unpack base backups with tar, initdb lists the locales it can
 * import as collations with `locale -a`; `drill run` hands a scenario's ${VAR} values to the drill
 * process through a pipe it makes with mkfifo (src/engine/variables-handoff.ts); tini is PID 1 (it reaps the
 * servers pg_ctl leaves to it, so a killed postmaster does not stay a zombie that looks alive).
 */
export const DRILL_IMAGE_PROGRAMS = ['/bin/sh', '/usr/bin/cp', '/usr/bin/rm', '/usr/bin/ps', '/usr/bin/id', '/usr/bin/tar', '/usr/bin/env', '/usr/bin/locale', '/usr/bin/mkfifo', '/usr/bin/tini'];
/** The Debian package of each program above, for the message when this machine lacks one. */
const PACKAGE_OF: Record<string, string> = { sh: 'dash', ps: 'procps', tar: 'tar', locale: 'libc-bin', tini: 'tini' };
/** glibc's C.UTF-8, the one locale a Debian slim image has besides C and POSIX. */
const LOCALES = '/usr/lib/locale/C.utf8';

/**
 * The PostgreSQL server of this machine as a layer: its bin directory, its module directory
 * without the JIT (llvmjit.so would bring LLVM's 100 MB; without it PostgreSQL runs without JIT),
 * its share directory (initdb reads postgres.bki and the samples there) without man pages, the
 * time zone database it was built to use (/usr/share/zoneinfo), C.UTF-8, the libraries all of them load,
 * and the programs above. The server is this machine's, whatever its major (findPostgresBinaries):
 * the Dockerfile installs postgresql-15, so the two images hold the same major only on a machine
 * with PostgreSQL 15.
 */
export async function postgresLayer(programs: string[] = DRILL_IMAGE_PROGRAMS): Promise<LayerSpec> {
  const missing = programs.filter((p) => !existsSync(p));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((p) => PACKAGE_OF[path.basename(p)] ?? 'coreutils'))];
    throw new EnvironmentError('IMAGE_PROGRAM_MISSING', `${missing.join(', ')} not found on this machine, and the drill image copies them from here; install ${packages.join(' ')} (apt-get install ${packages.join(' ')})`);
  }
  const binaries = findPostgresBinaries();
  const pgConfig = async (flag: string) => (await runCommand(binaries.path('pg_config'), [flag], { timeoutMs: 30_000 })).stdout.trim();
  if (!binaries.has('pg_config')) {
    throw new EnvironmentError('PG_CONFIG_MISSING', `pg_config is not in ${binaries.bindir}; install the PostgreSQL ${binaries.major} server package (postgresql-${binaries.major}) whose files go into the drill image`);
  }
  const [pkglibdir, sharedir] = [await pgConfig('--pkglibdir'), await pgConfig('--sharedir')];
  const entries = [
    ...(await hostTreeEntries(binaries.bindir)),
    ...(await hostTreeEntries(pkglibdir, { exclude: (p) => p === 'bitcode' || p.startsWith('llvmjit') })),
    ...(await hostTreeEntries(sharedir, { exclude: (p) => p === 'man' })),
    ...(await hostTreeEntries('/usr/share/zoneinfo')),
    ...(existsSync(LOCALES) ? await hostTreeEntries(LOCALES) : []),
  ];
  const loaded = [
    ...(await readdir(binaries.bindir)).map((f) => path.join(binaries.bindir, f)),
    ...(await readdir(pkglibdir)).filter((f) => f.endsWith('.so') && !f.startsWith('llvmjit')).map((f) => path.join(pkglibdir, f)),
  ];
  entries.push(...(await sharedLibraryEntries(loaded)), ...(await hostProgramEntries(programs)));
  const version = (await runCommand(binaries.path('postgres'), ['--version'], { timeoutMs: 30_000 })).stdout.trim();
  return layerSpec(`${version} server (${binaries.bindir}) and ${programs.map((p) => path.basename(p)).join(', ')}`, entries);
}
