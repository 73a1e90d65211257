import { describe, expect, it } from 'vitest';
import {
  formatSettings,
  imageFor,
  instanceSettings,
  settingsArgs,
  testcontainersPostgresConfig,
} from '../../src/targets/postgres/testcontainers-config.js';

const config = testcontainersPostgresConfig({ runId: 'run-1', deploymentId: 'dep-1' });
const setting = (args: string[], name: string) =>
  args.find((a, i) => args[i - 1] === '-c' && a.startsWith(`${name}=`))?.slice(name.length + 1);

describe('testcontainers PostgreSQL config (pure, no Docker)', () => {
  it('runs the scenario image, else DRILL_POSTGRES_IMAGE is passed as one, else the official image of the version', () => {
    expect(config.image).toBe('postgres:15-alpine');
    expect(testcontainersPostgresConfig({ runId: 'r', deploymentId: 'd', version: 16 }).image).toBe('postgres:16-alpine');
    expect(imageFor({ image: 'drill-postgres:15-bookworm', version: 16 })).toBe('drill-postgres:15-bookworm');
  });

  it('initialises with data checksums into an explicit PGDATA', () => {
    expect(config.env).toEqual({ POSTGRES_INITDB_ARGS: '--data-checksums', PGDATA: '/var/lib/postgresql/data' });
  });

  it('puts WAL archiving and replication settings on the postgres command line for the first start', () => {
    const postgres = config.command.slice(config.command.indexOf('postgres'));
    expect(setting(postgres, 'wal_level')).toBe('replica');
    expect(setting(postgres, 'archive_mode')).toBe('on');
    expect(setting(postgres, 'max_wal_senders')).toBe('10');
    expect(setting(postgres, 'listen_addresses')).toBe('*');
    expect(setting(postgres, 'archive_command')).toBe(
      "mkdir -p '/var/lib/postgresql/drill/archive/primary' && test ! -f '/var/lib/postgresql/drill/archive/primary/%f' " +
        "&& cp '%p' '/var/lib/postgresql/drill/archive/primary/%f'",
    );
  });

  it('runs the image entrypoint under a shell, so the postmaster is not PID 1 and can be SIGKILLed', () => {
    const [sh, dashC, script, argv0, first] = config.command;
    expect([sh, dashC, argv0, first]).toEqual(['sh', '-c', 'drill-supervisor', 'postgres']);
    expect(script).toContain('docker-entrypoint.sh "$@" &');
    expect(script).toMatch(/trap 'exit 0' TERM/);
  });

  it('declares the ports of further servers (replicas, restores) up front, since Docker publishes only ports known at start', () => {
    expect(config.primaryPort).toBe(5432);
    expect(config.exposedPorts).toEqual([5432, 5433, 5434, 5435, 5436, 5437, 5438]);
    expect(config.instancePorts).toEqual([5433, 5434, 5435, 5436, 5437, 5438]);
  });

  it('labels the container with the run and a deployment id of its own (what the reaper removes by)', () => {
    expect(config.labels).toEqual({ 'drill.run-id': 'run-1', 'drill.deployment': 'dep-1', 'drill.role': 'postgres' });
  });

  it('checks health without a password (testcontainers\' default check would show it in docker inspect)', () => {
    expect(config.healthCheck).toEqual(['CMD-SHELL', 'pg_isready --host 127.0.0.1 --port 5432 --username postgres --dbname postgres']);
    expect(JSON.stringify(config)).not.toMatch(/PASSWORD/i);
  });

  it('gives a further server the primary\'s settings with its own port, socket and archive, and refuses names unfit for a shell command', () => {
    const settings = instanceSettings(config.settings, 'recovered-1', 5433);
    expect(settings).toMatchObject({
      port: 5433,
      wal_level: 'replica',
      archive_mode: 'on',
      unix_socket_directories: '/var/run/postgresql',
      archive_command: expect.stringContaining("'/var/lib/postgresql/drill/archive/recovered-1/%f'"),
    });
    expect(config.settings.port).toBe(5432);
    expect(() => instanceSettings(config.settings, "x'; rm -rf /", 5433)).toThrow(/letters, digits/);
  });

  it('quotes settings for the command line and for postgresql.conf', () => {
    const settings = { archive_command: "cp '%p' x", port: 5432 };
    expect(settingsArgs(settings)).toEqual(['-c', "archive_command=cp '%p' x", '-c', 'port=5432']);
    expect(formatSettings(settings, 'r')).toBe("\n# drill (r)\narchive_command = 'cp ''%p'' x'\nport = 5432\n");
  });
});
