import pg from 'pg';
import { pino } from 'pino';
import { createToken, revokeAllTokens, revokeToken, TokenError } from './admin/tokens.js';
import { ConfigError, MODES, parseConfig } from './config.js';
import { messageOf } from './database.js';
import { createLogger, type Logger } from './logger.js';
import { RELEASES } from './releases.js';
import { startService, StartupDefectError, type RunningService } from './service.js';

/**
 * truststream <api|worker|scheduler|reader> [--instance ID]   (or MODE=...)
 * truststream token create --name NAME | token revoke --name NAME | token revoke --all
 * truststream releases
 *
 * Exit codes: 0 stopped cleanly, 1 failed at run time (or a release that cannot start), 2 bad
 * configuration or usage (the log line names the variable).
 */
const USAGE = 'usage: truststream <api|worker|scheduler|reader> [--instance ID] | token create --name NAME | token revoke (--name NAME | --all) | releases';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'token') return tokenCommand(rest);
  if (command === 'releases') {
    for (const r of Object.values(RELEASES)) process.stdout.write(`${r.version}\t${r.summary}\n`);
    return 0;
  }
  const bootstrap = createLogger('info', { mode: command ?? process.env.MODE ?? '' });
  const args = serviceArgs(argv);
  if ('error' in args) {
    bootstrap.error({ variable: 'argv' }, `${args.error}; ${USAGE}`);
    return 2;
  }
  let config;
  try {
    config = parseConfig(process.env, args);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    bootstrap.error({ variable: error.variable }, `configuration: ${error.message}`);
    return 2;
  }
  let service: RunningService;
  try {
    service = await startService(config);
  } catch (error) {
    if (error instanceof StartupDefectError) bootstrap.error({ version: config.release.version }, error.message);
    else bootstrap.error({ version: config.release.version, err: messageOf(error) }, 'could not start');
    return 1;
  }
  return waitForSignal(service);
}

function serviceArgs(argv: string[]): { mode?: string; instance?: string } | { error: string } {
  const out: { mode?: string; instance?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--instance') {
      const value = argv[++i];
      if (!value) return { error: '--instance needs a value' };
      out.instance = value;
    } else if (!arg.startsWith('-') && out.mode === undefined) {
      if (!(MODES as readonly string[]).includes(arg)) return { error: `unknown mode ${JSON.stringify(arg)} (modes: ${MODES.join(', ')})` };
      out.mode = arg;
    } else {
      return { error: `unexpected argument ${JSON.stringify(arg)}` };
    }
  }
  return out;
}

/** Runs until SIGTERM/SIGINT, then stops gracefully (a second signal exits at once). */
function waitForSignal(service: RunningService): Promise<number> {
  return new Promise((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        service.logger.warn({ signal }, 'second signal: exiting without finishing');
        resolve(1);
        return;
      }
      signalled = true;
      service.logger.info({ signal }, 'signal received');
      service.stop().then(
        () => resolve(0),
        (error: unknown) => {
          service.logger.error({ err: messageOf(error) }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** Operators' token commands; the clear token goes to stdout once, logs go to stderr. */
async function tokenCommand(argv: string[]): Promise<number> {
  const logger: Logger = createLogger('info', { mode: 'token' }, pino.destination({ dest: 2, sync: true }));
  const [action, ...flags] = argv;
  const name = flags[0] === '--name' ? flags[1] : undefined;
  const all = flags.length === 1 && flags[0] === '--all' && action === 'revoke';
  if ((action !== 'create' && action !== 'revoke') || (!all && (!name || flags.length !== 2))) {
    logger.error({ variable: 'argv' }, USAGE);
    return 2;
  }
  const url = process.env.DATABASE_URL;
  if (!url) {
    logger.error({ variable: 'DATABASE_URL' }, 'configuration: DATABASE_URL is not set');
    return 2;
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, application_name: 'truststream-token' });
  try {
    await client.connect();
    if (action === 'create') {
      const created = await createToken(client, name!);
      process.stdout.write(`${created.token}\n`);
      logger.info({ tokenName: name }, 'token created (shown once on stdout; only its sha256 is stored)');
    } else if (all) {
      logger.info({ tokenNames: await revokeAllTokens(client) }, 'all active tokens revoked');
    } else {
      logger.info({ tokenName: name, ...(await revokeToken(client, name!)) }, 'token revoked');
    }
    return 0;
  } catch (error) {
    logger.error({ err: messageOf(error), ...(error instanceof TokenError ? { code: error.code } : {}) }, `token ${action} failed`);
    return error instanceof TokenError ? 2 : 1;
  } finally {
    await client.end().catch(() => undefined);
  }
}

// Failures are logged at error (not fatal) so that `grep ERROR` finds them too.
const crash = (error: unknown) => {
  createLogger('info', {}).error({ err: messageOf(error) }, 'unexpected failure: exiting');
  process.exit(1);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);
main(process.argv.slice(2)).then((code) => process.exit(code), crash);
