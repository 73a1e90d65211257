/**
 * Ed25519 keys of the evidence bundle: the signer's private key (from the environment of
 * `drill run`), the auditor's public key (`verify-evidence --public-key`), and the fingerprint the
 * manifest records so an auditor can tell which key signed it.
 *
 * The private key is secret: it is taken out of the CLI's environment before any child starts
 * (takeEvidenceKeyEnv), never written, logged or put in an error message. Errors name the
 * variable or the file, never the value.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { lstat, readFile } from 'node:fs/promises';
import { InputError } from '../engine/errors.js';

/** The signer's Ed25519 private key: PEM text, or the path of a PEM file. */
export const SIGNING_KEY_ENV = 'DRILL_EVIDENCE_SIGNING_KEY';
/** The HMAC key of manifest format 1; refused now (HMAC needs the auditor to hold the secret). */
export const LEGACY_HMAC_KEY_ENV = 'DRILL_EVIDENCE_KEY';
/** Variables that may hold evidence key material: never passed to a child process. */
export const EVIDENCE_KEY_ENVS = [SIGNING_KEY_ENV, LEGACY_HMAC_KEY_ENV] as const;

export interface SigningKey {
  privateKey: KeyObject;
  fingerprint: string;
}

export interface VerifyingKey {
  publicKey: KeyObject;
  fingerprint: string;
  /** Where it came from, for messages. */
  source: string;
}

/** What the environment said about evidence keys, read once at CLI start. */
export interface EvidenceKeyEnv {
  signingKey?: string;
  legacyHmacKeySet: boolean;
}

const PEM_START = '-----BEGIN ';

/**
 * Reads the evidence key variables and deletes them from `env`, so that no process the CLI
 * starts afterwards (the drill, the reaper's pg_ctl, allure, a cluster) can inherit them, however
 * it builds its environment. An empty value counts as unset.
 */
export function takeEvidenceKeyEnv(env: NodeJS.ProcessEnv = process.env): EvidenceKeyEnv {
  const signingKey = env[SIGNING_KEY_ENV] || undefined;
  const legacyHmacKeySet = Boolean(env[LEGACY_HMAC_KEY_ENV]);
  for (const name of EVIDENCE_KEY_ENVS) delete env[name];
  return { ...(signingKey ? { signingKey } : {}), legacyHmacKeySet };
}

/** A copy of `env` without the evidence key variables: for a child process's environment. */
export function withoutEvidenceKeys(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const name of EVIDENCE_KEY_ENVS) delete copy[name];
  return copy;
}

/** `sha256:<hex>` of the key's DER SubjectPublicKeyInfo (`openssl pkey -pubin -outform DER | sha256sum`). */
export function fingerprintOf(publicKey: KeyObject): string {
  return `sha256:${createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`;
}

/**
 * The signing key `drill run` uses, or undefined for an unsigned bundle. Invalid input is an
 * InputError (exit 2) raised before any drill starts. The value is PEM text when it starts with
 * `-----BEGIN `, otherwise the path of a PEM file (a path never starts that way).
 */
export async function signingKeyFromEnv(keys: EvidenceKeyEnv): Promise<SigningKey | undefined> {
  if (keys.legacyHmacKeySet) {
    throw new InputError(
      'EVIDENCE_HMAC_REMOVED',
      `${LEGACY_HMAC_KEY_ENV} (an HMAC key) is no longer used: an HMAC can only be checked by someone holding the same secret. ` +
        `Create an Ed25519 key pair with \`npx drill keygen\`, set ${SIGNING_KEY_ENV} to the private key file (or its PEM text), ` +
        `give auditors the .pub file, and unset ${LEGACY_HMAC_KEY_ENV}.`,
    );
  }
  const value = keys.signingKey;
  if (!value) return undefined;
  const isPem = value.trimStart().startsWith(PEM_START);
  const where = isPem ? `${SIGNING_KEY_ENV} (PEM text)` : `${SIGNING_KEY_ENV} (file ${value})`;
  const pem = isPem ? value : await readSigningKeyFile(value);
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem)) {
    throw new InputError('EVIDENCE_SIGNING_KEY_ENCRYPTED', `${where} is an encrypted private key: drill needs it unencrypted (\`openssl pkey -in enc.pem -out key.pem\`), kept secret by file mode 0600 or a CI secret.`);
  }
  if (!/-----BEGIN (?:[A-Z0-9]+ )?PRIVATE KEY-----/.test(pem)) {
    throw new InputError('EVIDENCE_SIGNING_KEY_INVALID', `${where} is not a PEM private key: set it to the .key file written by \`npx drill keygen\` or to that file's text.`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    // No cause attached: an OpenSSL error about the key's content has no business in a log.
    throw new InputError('EVIDENCE_SIGNING_KEY_INVALID', `${where} cannot be read as a PEM private key: set it to the .key file written by \`npx drill keygen\` or to that file's text.`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new InputError('EVIDENCE_SIGNING_KEY_NOT_ED25519', `${where} is a ${privateKey.asymmetricKeyType} key; evidence is signed with Ed25519: create a pair with \`npx drill keygen\`.`);
  }
  return { privateKey, fingerprint: fingerprintOf(createPublicKey(privateKey)) };
}

/** The auditor's public key from a PEM file (`verify-evidence --public-key FILE`). */
export async function readVerifyingKey(file: string): Promise<VerifyingKey> {
  const pem = await readPublicKeyFile(file);
  // A private key would work (its public half can be derived), but an auditor must not need it:
  // refuse it so the signer's secret is not passed around to verify.
  if (/-----BEGIN (?:[A-Z0-9]+ )?PRIVATE KEY-----/.test(pem)) {
    throw new InputError('EVIDENCE_PUBLIC_KEY_IS_PRIVATE', `--public-key ${file} is a private key: pass the public key (the .pub file of \`npx drill keygen\`), and keep the private key secret.`);
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem);
  } catch {
    throw new InputError('EVIDENCE_PUBLIC_KEY_INVALID', `--public-key ${file} is not a PEM public key: pass the .pub file of \`npx drill keygen\` (-----BEGIN PUBLIC KEY-----).`);
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new InputError('EVIDENCE_PUBLIC_KEY_NOT_ED25519', `--public-key ${file} is a ${publicKey.asymmetricKeyType} key; evidence is signed with Ed25519: pass the signer's .pub file.`);
  }
  return { publicKey, fingerprint: fingerprintOf(publicKey), source: file };
}

async function readSigningKeyFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    // Echoed only when it is the path of something that exists: otherwise the value may be a
    // secret pasted without its PEM lines.
    const what = (await lstat(path).then(() => true, () => false))
      ? `names a file that cannot be read (${code}): ${path}`
      : 'is neither PEM text (-----BEGIN PRIVATE KEY-----) nor the path of an existing file (value not shown)';
    throw new InputError('EVIDENCE_SIGNING_KEY_UNREADABLE', `${SIGNING_KEY_ENV} ${what}: set it to the path of the private key file written by \`npx drill keygen\`, or to that file's text.`);
  }
}

async function readPublicKeyFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new InputError('EVIDENCE_PUBLIC_KEY_UNREADABLE', `--public-key: cannot read ${file} (${reason}): pass the signer's public key file (the .pub of \`npx drill keygen\`).`);
  }
}
