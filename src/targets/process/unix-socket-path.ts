import { EnvironmentError } from '../../engine/errors.js';

/** Unix socket paths must fit `sun_path` (108 bytes with the terminating NUL). */
export const MAX_SOCKET_PATH = 107;

/**
 * Refuses, before anything listens, a socket path the kernel would refuse: the server's own error
 * comes later and reads as if the server were broken. `what` names the socket ("containerd's
 * socket"), `fix` says which setting makes it shorter.
 */
export function requireSocketPathFits(socketPath: string, what: string, fix = 'set TMPDIR to a shorter directory such as /tmp'): void {
  if (Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH) return;
  throw new EnvironmentError('SOCKET_PATH_TOO_LONG', `${what} ${socketPath} is longer than ${MAX_SOCKET_PATH} bytes, the limit of a unix socket path; ${fix}`);
}
