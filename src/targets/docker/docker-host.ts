/**
 * The Docker engine the process talks to: DOCKER_HOST (unix:// or tcp://), else the default socket.
 * testcontainers resolves its engine the same way first; where it finds one by other means (its
 * properties file, a rootless or Desktop socket), the ledger names this one and a reaper cannot
 * reach that container: set DOCKER_HOST there.
 */
export function dockerHost(): string {
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}
