import { EnvironmentError } from '../../engine/errors.js';
import { runCommand } from '../process/run-command.js';

/**
 * The shared libraries a dynamically linked program loads, by absolute path, as `ldd` prints
 * them: `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` and the loader itself
 * (`/lib64/ld-linux-x86-64.so.2 (0x...)`). The vDSO has no file and is left out.
 */
export function parseLdd(output: string, program: string): string[] {
  const paths: string[] = [];
  const missing: string[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (line === '' || /statically linked|not a dynamic executable/.test(line)) continue;
    const arrow = /^(\S+)\s+=>\s+(.*)$/.exec(line);
    if (arrow) {
      if (/^not found/.test(arrow[2]!)) missing.push(arrow[1]!);
      const target = /^(\/\S+)/.exec(arrow[2]!);
      if (target) paths.push(target[1]!);
      continue;
    }
    const direct = /^(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(line);
    if (direct) paths.push(direct[1]!);
  }
  if (missing.length > 0) {
    throw new EnvironmentError('SHARED_LIBRARY_MISSING', `${program} needs ${missing.join(', ')}, which ldd cannot find on this machine; install them or use another node binary`);
  }
  return [...new Set(paths)];
}

export async function sharedLibraries(program: string): Promise<string[]> {
  const result = await runCommand('ldd', [program], { timeoutMs: 30_000, okCodes: [0, 1] }).catch((error: unknown) => {
    throw new EnvironmentError('LDD_FAILED', `could not list the shared libraries of ${program} with ldd (${String(error)}); install libc-bin`, { cause: error });
  });
  return parseLdd(result.stdout, program);
}
