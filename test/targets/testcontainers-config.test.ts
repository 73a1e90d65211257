import { describe, expect, it } from 'vitest';
import {
  formatSettings,
  pgCtlOptions,
  restoredSettings,
  settingsArgs,
  testcontainersPostgresConfig,
} from '../../src/targets/postgres/testcontainers-config.js';

const config = testcontainersPostgresConfig({ runId: 'run-1' });
const setting = (args: string[], name: string) =>
  args.find((a, i) => args[i - 1] === '-c' && a.startsWith(`${name}=`))?.slice(name.length + 1);

describe('testcontainers PostgreSQL config (pure, no Docker)', () => {
  it('takes the image tag from the scenario version, 15 by default', () => {
    expect(config.image).toBe('postgres:15-alpine');
    expect(testcontainersPostgresConfig({ runId: 'r', version: 16 }).image).toBe('postgres:16-alpine');
  });

  it('initialises with data checksums into an explicit PGDATA', () => {
    expect(config.env).toEqual({ POSTGRES_INITDB_ARGS: '--data-checksums', PGDATA: '/var/lib/postgresql/data' });
  });

  it('puts WAL archiving and replication settings on the postgres command line', () => {
    const postgres = config.command.slice(config.command.indexOf('postgres'));
    expect(setting(postgres, 'wal_level')).toBe('replica');
    expect(setting(postgres, 'archive_mode')).toBe('on');
    expect(setting(postgres, 'max_wal_senders')).toBe('10');
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

  it('declares the restore ports up front, since Docker maps only ports known at start', () => {
    expect(config.primaryPort).toBe(5432);
    expect(config.exposedPorts).toEqual([5432, 5433, 5434, 5435, 5436]);
    expect(config.restorePorts).toEqual([5433, 5434, 5435, 5436]);
  });

  it('labels the container with the run id', () => {
    expect(config.labels['drill.run-id']).toBe('run-1');
  });

  it('gives a restored instance its own port and archive, and refuses names unfit for a shell command', () => {
    expect(restoredSettings('recovered-1', 5433)).toMatchObject({
      port: 5433,
      archive_command: expect.stringContaining("'/var/lib/postgresql/drill/archive/recovered-1/%f'"),
    });
    expect(() => restoredSettings("x'; rm -rf /", 5433)).toThrow(/letters, digits/);
  });

  it('quotes settings for pg_ctl -o (a shell) and for postgresql.conf', () => {
    const settings = { archive_command: "cp '%p' x", port: 5432 };
    expect(settingsArgs(settings)).toEqual(['-c', "archive_command=cp '%p' x", '-c', 'port=5432']);
    expect(pgCtlOptions(settings)).toBe(`'-c' 'archive_command=cp '\\''%p'\\'' x' '-c' 'port=5432'`);
    expect(formatSettings(settings, 'r')).toBe("\n# drill (r)\narchive_command = 'cp ''%p'' x'\nport = 5432\n");
  });
});
