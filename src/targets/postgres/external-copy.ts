import { chownSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunAs } from '../process/run-command.js';
import type { NativeInstance } from './native-instance.js';
import { withClient } from './with-client.js';

/**
 * Settings a local copy of an external server needs on top of the workspace's own, so that it
 * starts on this machine and never acts on the source's resources.
 */
export function externalCopySettings(dataDir: string, major: number): Record<string, string> {
  return {
    // A config kept outside the data directory (Debian: /etc/postgresql) may have pointed elsewhere.
    data_directory: dataDir,
    hba_file: path.join(dataDir, 'pg_hba.conf'),
    external_pid_file: '',
    // Certificates and preloaded libraries of the server need not exist on this machine.
    ssl: 'off',
    shared_preload_libraries: '',
    // Keeps the log where pg_ctl -l writes it, which is where start failures are read from.
    logging_collector: 'off',
    // Our archive_command (into the workspace) must win over an archive module shipping WAL to the
    // server's real archive; the setting exists from PostgreSQL 15.
    ...(major >= 15 ? { archive_library: '' } : {}),
    // The password the harness sets (setCopyPassword) is stored for SCRAM, whatever the server used.
    password_encryption: 'scram-sha-256',
  };
}

/**
 * The copy's roles and their passwords are the external server's, which the harness may not know
 * (a URL without a password). Its own Unix socket, in the workspace only the PostgreSQL user can
 * enter, is trusted so the harness can give the URL's role the workspace password there
 * (setCopyPassword); TCP, which any local user can reach, requires that password.
 */
const LOCAL_HBA = [
  '# drill: a local copy of an external server, listening on loopback only',
  '# the socket directory is inside the drill\'s workspace (mode 0700, the PostgreSQL user\'s)',
  'local all all trust',
  'host all all 127.0.0.1/32 scram-sha-256',
  'host replication all 127.0.0.1/32 scram-sha-256',
  '',
].join('\n');

/** Makes a copied data directory of an external server safe and startable here (before start). */
export async function prepareExternalCopy(instance: NativeInstance, major: number, runAs: RunAs | undefined): Promise<void> {
  const dir = instance.dataDir;
  const writeOwned = async (file: string, text: string) => {
    await writeFile(path.join(dir, file), text, { mode: 0o600 });
    if (runAs) chownSync(path.join(dir, file), runAs.uid, runAs.gid);
  };
  // A backup taken from a standby would otherwise start following the source's primary.
  await rm(path.join(dir, 'standby.signal'), { force: true });
  await rm(path.join(dir, 'recovery.signal'), { force: true });
  // ALTER SYSTEM settings are read after postgresql.conf, so they would override ours (an
  // archive_command shipping WAL to the production archive, say).
  await writeOwned('postgresql.auto.conf', "# drill: the external server's ALTER SYSTEM settings are not applied to this copy\n");
  // The server's own rules (or none: Debian keeps them in /etc) would require its passwords.
  await writeOwned('pg_hba.conf', LOCAL_HBA);
  await instance.writeSettings(externalCopySettings(dir, major));
}

/**
 * Gives `user` of a started copy the workspace's password, through the trusted socket, so that it
 * is reached over TCP like every other drill instance. Any role may set its own password.
 */
export async function setCopyPassword(instance: NativeInstance, as: { user: string; database: string }, password: string): Promise<void> {
  await withClient({ host: instance.socketDir, port: instance.connection.port, user: as.user, database: as.database }, async (c) => {
    await c.query(`alter role current_user password ${c.escapeLiteral(password)}`);
  });
}
