import { existsSync } from 'node:fs';
import path from 'node:path';
import { drillCacheDir } from '../../engine/cache-dir.js';
import { EnvironmentError } from '../../engine/errors.js';

/** The Toxiproxy release tools/build-toxiproxy.sh builds (the newest on the Go module proxy; MIT). */
export const TOXIPROXY_VERSION = 'v2.12.0';

/**
 * The oldest Go that builds it: the `go` line of Toxiproxy v2.12.0's go.mod (`go 1.23.0`); the build
 * uses the installed Go (GOTOOLCHAIN=local), so an older one refuses the module. The local Kubernetes
 * control plane is another matter (Go 1.26+, tools/build-control-plane.sh).
 */
export const TOXIPROXY_GO_MINIMUM = '1.23';

/** The version wanted: `$DRILL_TOXIPROXY_VERSION` (as the build script takes it), else the pinned one. */
export function toxiproxyVersion(env: NodeJS.ProcessEnv = process.env): string {
  return env.DRILL_TOXIPROXY_VERSION || TOXIPROXY_VERSION;
}

/** `${DRILL_CACHE_DIR:-~/.cache/drill}/toxiproxy/<version>/bin/toxiproxy-server`, where tools/build-toxiproxy.sh puts it. */
export function toxiproxyBinary(env: NodeJS.ProcessEnv = process.env): string {
  const cache = drillCacheDir(env);
  return path.join(cache, 'toxiproxy', toxiproxyVersion(env), 'bin', 'toxiproxy-server');
}

/** The built server, or the do-this error (exit 3) when set-up has not built it. */
export function requireToxiproxyBinary(env: NodeJS.ProcessEnv = process.env): string {
  const program = toxiproxyBinary(env);
  if (!existsSync(program)) {
    throw new EnvironmentError(
      'TOXIPROXY_MISSING',
      `network faults need Toxiproxy ${toxiproxyVersion(env)}, which is not built at ${program}; run npm run setup (tools/build-toxiproxy.sh builds it from Go modules; Go ${TOXIPROXY_GO_MINIMUM}+)`,
    );
  }
  return program;
}
