import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../e2e/helpers.js';

/**
 * tools/local-docker.sh itself: a second engine of its own (its own directory), started from a
 * network namespace made for this test that stands in for the machine's root namespace (the
 * test may itself run inside another engine's namespace, where other tests add containers).
 * Whatever the engine does, that namespace must look the same before, during and after, and
 * stopping it must leave no process, mount, cgroup or file of its runtime behind.
 */

const root = process.getuid?.() === 0;
let dockerd = false;
try {
  execFileSync('sh', ['-c', 'command -v dockerd && command -v unshare && command -v nsenter'], { stdio: 'ignore' });
  dockerd = true;
} catch {
  /* not installed */
}
const runnable = root && dockerd;
if (!runnable && process.env.DRILL_REQUIRE_DOCKER === '1') {
  throw new Error('DRILL_REQUIRE_DOCKER=1 but this test cannot run: it needs root and dockerd, unshare and nsenter (tools/local-docker.sh start installs docker.io)');
}

const SCRIPT = path.join(ROOT, 'tools/local-docker.sh');
const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-docker-test-'));
const env = { ...process.env, DRILL_DOCKER_DIR: dir };
let outer: ChildProcess | undefined;

afterAll(() => {
  if (outer?.pid) {
    // Whatever happened, nothing of this engine may outlive the test.
    try {
      execFileSync('nsenter', [`--net=/proc/${outer.pid}/ns/net`, '--', 'bash', SCRIPT, 'stop'], { env, stdio: 'ignore' });
    } catch {
      /* reported by the test */
    }
    outer.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a command in the stand-in root namespace. */
function inOuter(command: string[], options: { env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync('nsenter', [`--net=/proc/${outer!.pid}/ns/net`, '--', ...command], { encoding: 'utf8', env: options.env ?? env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Interfaces, addresses, routes and packet filter rules of the stand-in root namespace. */
function network(): string {
  const ip = (...args: string[]) => inOuter(['ip', ...args]);
  const rules = (tool: string) => inOuter(['sh', '-c', `${tool} 2>/dev/null | grep -v '^#' || true`]);
  return [ip('-o', 'link', 'show'), ip('-o', 'addr', 'show'), ip('route', 'show', 'table', 'all'), rules('nft list ruleset'), rules('iptables-save'), rules('ip6tables-save')].join('\n--\n');
}

function namespaceMembers(ns: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/ns/net`) === ns;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** This engine's cgroup directories (its cgroup parent is named after its directory). */
function engineCgroups(): string[] {
  const hash = execFileSync('sh', ['-c', 'printf "%s" "$1" | sha256sum | cut -c1-10', 'x', dir], { encoding: 'utf8' }).trim();
  return execFileSync('find', ['/sys/fs/cgroup', '-maxdepth', '3', '-type', 'd', '-name', `drill-docker-${hash}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/** Whether something accepts TCP connections on 127.0.0.1:port in the namespace of `pid` (ours when undefined). */
function accepts(port: number, pid?: number): boolean {
  const probe = `require('net').connect(${port}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))`;
  const command = pid ? ['nsenter', `--net=/proc/${pid}/ns/net`, '--', process.execPath, '-e', probe] : [process.execPath, '-e', probe];
  try {
    execFileSync(command[0]!, command.slice(1), { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!runnable)(`tools/local-docker.sh${runnable ? '' : ' (skipped: needs root and docker.io)'}`, () => {
  it('keeps the engine, its bridge, ports and rules in a namespace of its own, and leaves nothing when stopped', { timeout: 300_000 }, async () => {
    outer = spawn('unshare', ['--net', '--', 'sleep', 'infinity'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
    inOuter(['ip', 'link', 'set', 'lo', 'up']);
    const before = network();
    expect(existsSync('/etc/docker/key.json')).toBe(false);

    inOuter(['bash', SCRIPT, 'start']);
    const pid = Number(readFileSync(path.join(dir, 'run/dockerd.pid'), 'utf8'));
    const engineNs = readlinkSync(`/proc/${pid}/ns/net`);
    expect(engineNs).not.toBe(readlinkSync(`/proc/${outer.pid}/ns/net`));
    expect(inOuter(['bash', SCRIPT, 'status'])).toMatch(new RegExp(`running: dockerd pid ${pid}`));

    // A container with a published port, as testcontainers makes them.
    const docker = (...args: string[]) => inOuter(['docker', ...args], { env: { ...env, DOCKER_HOST: `unix://${dir}/run/docker.sock` } }).trim();
    docker('run', '-d', '--label', 'drill.test=local-docker', '-e', 'POSTGRES_PASSWORD=not-a-secret', '-p', '5432', 'drill-postgres:15-bookworm');
    const port = Number(/:(\d+)$/m.exec(docker('ps', '--filter', 'label=drill.test=local-docker', '--format', '{{.Ports}}').split(',')[0]!.replace(/->.*/, ''))?.[1]);
    expect(port).toBeGreaterThan(0);

    // Inside the engine's namespace: its bridge and the container's veth, and the port answers there ...
    const engineLinks = execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'ip', '-o', 'link'], { encoding: 'utf8' });
    expect(engineLinks).toMatch(/docker0/);
    expect(engineLinks).toMatch(/veth/);
    expect(execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'ip', 'route'], { encoding: 'utf8' })).not.toMatch(/default/);
    for (let i = 0; i < 50 && !accepts(port, pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(accepts(port, pid)).toBe(true);
    // ... and none of it in the namespace the engine was started from: the same port does not answer there.
    expect(accepts(port, outer.pid)).toBe(false);
    expect(network()).toBe(before);
    // Through exec, a command runs in the engine's namespace with the variables clients need.
    const inside = inOuter(['bash', SCRIPT, 'exec', 'sh', '-c', 'readlink /proc/self/ns/net; echo "$DOCKER_HOST $TESTCONTAINERS_HOST_OVERRIDE $TESTCONTAINERS_RYUK_DISABLED $DRILL_POSTGRES_IMAGE"']);
    expect(inside.trim().split('\n')).toEqual([engineNs, `unix://${dir}/run/docker.sock 127.0.0.1 true drill-postgres:15-bookworm`]);
    const members = namespaceMembers(engineNs);
    expect(members.length).toBeGreaterThan(3);
    expect(engineCgroups().length).toBeGreaterThan(0);

    inOuter(['bash', SCRIPT, 'stop']);
    expect(network()).toBe(before);
    expect(namespaceMembers(engineNs)).toEqual([]);
    expect(members.filter((p) => existsSync(`/proc/${p}`))).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dir);
    expect(engineCgroups()).toEqual([]);
    expect(readdirSync(path.join(dir, 'run')).sort()).toEqual(['daemon.json', 'dockerd.log']);
    expect(existsSync('/etc/docker/key.json')).toBe(false);
    // It stopped its own processes only: the namespace it was started from still has its member.
    expect(existsSync(`/proc/${outer.pid}`)).toBe(true);
    const status = spawnSync('nsenter', [`--net=/proc/${outer.pid}/ns/net`, '--', 'bash', SCRIPT, 'status'], { env, encoding: 'utf8' });
    expect([status.status, status.stdout.trim()]).toEqual([1, 'not running']);
  });

  it('stop fails, naming it, when something appeared in the namespace it was started from (negative control of the check)', { timeout: 120_000 }, () => {
    inOuter(['bash', SCRIPT, 'start']);
    // What an engine escaping its namespace would leave: here added by hand, in the stand-in root namespace.
    inOuter(['ip', 'route', 'add', 'unreachable', '198.51.100.0/24']);
    const stop = spawnSync('nsenter', [`--net=/proc/${outer!.pid}/ns/net`, '--', 'bash', SCRIPT, 'stop'], { env, encoding: 'utf8' });
    expect(stop.status).toBe(1);
    expect(stop.stderr).toMatch(/unreachable 198\.51\.100\.0\/24[\s\S]*appeared in this network namespace while the engine ran/);
    // The engine itself is stopped all the same.
    expect(existsSync(path.join(dir, 'run/dockerd.pid'))).toBe(false);
    inOuter(['ip', 'route', 'del', 'unreachable', '198.51.100.0/24']);
  });
});
