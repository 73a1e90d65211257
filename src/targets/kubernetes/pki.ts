import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FIRST_SERVICE_IP } from '../network/layout.js';
import { runCommand } from '../process/run-command.js';

/**
 * The local control plane's keys and certificates: a throwaway CA, the apiserver's serving
 * certificate (loopback and in-cluster names), and the service-account signing key pair.
 * X.509 needs the `openssl` CLI (node:crypto reads certificates but does not issue them).
 */
export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
  caPem(): string;
}

/** Names the serving certificate is valid for: loopback plus the `kubernetes` Service's names and IP. */
export const APISERVER_SANS = [
  'DNS:localhost',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
  'IP:127.0.0.1',
  `IP:${FIRST_SERVICE_IP}`,
];

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function opensslConfig(commonName: string): string {
  // An explicit config, so the machine's openssl.cnf defaults cannot add or clash with extensions.
  return [
    '[req]',
    'distinguished_name = dn',
    'prompt = no',
    '[dn]',
    `CN = ${commonName}`,
    '[v3_ca]',
    'basicConstraints = critical,CA:TRUE',
    'keyUsage = critical,keyCertSign,cRLSign,digitalSignature',
    'subjectKeyIdentifier = hash',
    '[v3_server]',
    'basicConstraints = critical,CA:FALSE',
    'keyUsage = critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage = serverAuth',
    `subjectAltName = ${APISERVER_SANS.join(',')}`,
    'authorityKeyIdentifier = keyid',
    '',
  ].join('\n');
}

export async function createPki(dir: string, days = 365): Promise<Pki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const p = (name: string) => path.join(dir, name);
  await writeFile(p('ca.cnf'), opensslConfig('drill-local-ca'));
  await writeFile(p('apiserver.cnf'), opensslConfig('kube-apiserver'));
  await runCommand('openssl', [
    'req', '-x509', '-new', ...EC_KEY, '-keyout', p('ca.key'), '-out', p('ca.crt'),
    '-days', String(days), '-config', p('ca.cnf'), '-extensions', 'v3_ca',
  ]);
  await runCommand('openssl', ['req', '-new', ...EC_KEY, '-keyout', p('apiserver.key'), '-out', p('apiserver.csr'), '-config', p('apiserver.cnf')]);
  await runCommand('openssl', [
    'x509', '-req', '-in', p('apiserver.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'),
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', String(days),
    '-extfile', p('apiserver.cnf'), '-extensions', 'v3_server', '-out', p('apiserver.crt'),
  ]);
  const sa = await createServiceAccountKeyPair(dir, 'sa');
  return {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    apiserverCert: p('apiserver.crt'),
    apiserverKey: p('apiserver.key'),
    serviceAccountKey: sa.key,
    serviceAccountPub: sa.pub,
    caPem: () => readFileSync(p('ca.crt'), 'utf8'),
  };
}

/**
 * A service-account signing key pair, `<base>.key` (private, 0600) and `<base>.pub`: the
 * apiserver signs tokens with the private key and accepts only tokens its public key(s) verify.
 * Also used to rotate it (a new pair under a new name, so the old files are never half-overwritten).
 */
export async function createServiceAccountKeyPair(dir: string, base: string): Promise<{ key: string; pub: string }> {
  // RSA like kubeadm's sa.key: every consumer of service-account tokens verifies RS256.
  const sa = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const key = path.join(dir, `${base}.key`);
  const pub = path.join(dir, `${base}.pub`);
  await writeFile(key, sa.privateKey, { mode: 0o600 });
  await writeFile(pub, sa.publicKey);
  return { key, pub };
}

/**
 * A client certificate signed by the cluster CA: the apiserver authenticates it as user `commonName`
 * in the groups `organizations` (kubelets as system:node:<name> in system:nodes; the apiserver
 * itself towards the kubelets). Issued any time, so nodes that join later need no apiserver restart.
 */
export async function issueClientCertificate(
  pki: Pick<Pki, 'caCert' | 'caKey'>,
  dir: string,
  fileBase: string,
  subject: { commonName: string; organizations?: string[] },
  days = 365,
): Promise<{ cert: string; key: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const p = (ext: string) => path.join(dir, `${fileBase}.${ext}`);
  // Several O= entries need distinct keys in an openssl config: 0.O, 1.O, ...
  const dn = [...(subject.organizations ?? []).map((o, i) => `${i}.O = ${o}`), `CN = ${subject.commonName}`];
  await writeFile(
    p('cnf'),
    ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', ...dn, '[v3_client]',
      'basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature,keyEncipherment', 'extendedKeyUsage = clientAuth',
      'authorityKeyIdentifier = keyid', ''].join('\n'),
  );
  await runCommand('openssl', ['req', '-new', ...EC_KEY, '-keyout', p('key'), '-out', p('csr'), '-config', p('cnf')]);
  await runCommand('openssl', [
    'x509', '-req', '-in', p('csr'), '-CA', pki.caCert, '-CAkey', pki.caKey,
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', String(days),
    '-extfile', p('cnf'), '-extensions', 'v3_client', '-out', p('crt'),
  ]);
  return { cert: p('crt'), key: p('key') };
}

/** A bearer token for the static token file. */
export function newToken(): string {
  return randomBytes(24).toString('hex');
}
