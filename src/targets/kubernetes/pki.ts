import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
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
  'IP:10.96.0.1',
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
  // RSA like kubeadm's sa.key: every consumer of service-account tokens verifies RS256.
  const sa = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  await writeFile(p('sa.key'), sa.privateKey, { mode: 0o600 });
  await writeFile(p('sa.pub'), sa.publicKey);
  return {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    apiserverCert: p('apiserver.crt'),
    apiserverKey: p('apiserver.key'),
    serviceAccountKey: p('sa.key'),
    serviceAccountPub: p('sa.pub'),
    caPem: () => readFileSync(p('ca.crt'), 'utf8'),
  };
}

/** A bearer token for the static token file. */
export function newToken(): string {
  return randomBytes(24).toString('hex');
}
