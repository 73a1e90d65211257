/** The Docker engine the process talks to: DOCKER_HOST (unix:// or tcp://), else the default socket. */
export function dockerHost(): string {
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}
