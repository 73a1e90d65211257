import { createReaderRole, createToken, revokeToken } from '../../../sut/truststream/src/admin/index.js';
import type { ConnectionInfo } from '../postgres/types.js';
import { withClient } from '../postgres/with-client.js';
import { EnvironmentError } from '../../engine/errors.js';
import type { JournalRecorder } from '../../engine/journal-recorder.js';
import type { TeardownStack } from '../../engine/teardown-stack.js';

export interface ServiceCredentials {
  tokenName: string;
  /** The drill's API token (clear text, in memory only). */
  token: string;
  /** The reader mode's read-only role, when readers run. */
  reader?: { role: string; password: string };
}

/**
 * What the service needs in its database before it runs, as a deployment would create it: an API
 * token for the drill's clients and, when readers run, the read-only role. Both are secrets of the
 * run, registered with `recorder.secrets` the moment they exist. The token's revoke is registered
 * before the token exists, so a failure after it was created still revokes it.
 */
export async function createServiceCredentials(options: {
  runId: string;
  database: () => ConnectionInfo;
  reader: boolean;
  recorder: JournalRecorder;
  teardown: TeardownStack;
}): Promise<ServiceCredentials> {
  const { recorder } = options;
  const tokenName = `drill-${options.runId}`.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 63);
  options.teardown.push(`revoke API token ${tokenName}`, async () => {
    await withClient(options.database(), (c) => revokeToken(c, tokenName)).catch(() => undefined);
  });
  return withClient(options.database(), async (c) => {
    const token = (await createToken(c, tokenName)).token;
    recorder.secrets.register(token, `the API token ${tokenName}`);
    const reader = options.reader ? await createReaderRole(c) : undefined;
    recorder.secrets.register(reader?.password, `the password of the reader role ${reader?.role ?? ''}`);
    return { tokenName, token, ...(reader ? { reader } : {}) };
  }).catch((error: unknown) => {
    throw new EnvironmentError('SERVICE_SETUP_FAILED', `could not create the service's API token or reader role in the drill database: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  });
}
