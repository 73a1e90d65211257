/**
 * The detached signature of a manifest: Ed25519 over the exact bytes of `evidence/manifest.json`,
 * stored base64 on one line in `evidence/manifest.sig`. Signing the bytes, not a re-serialised
 * object, lets an auditor check it with stock tools:
 *
 *   base64 -d evidence/manifest.sig > manifest.sig.bin
 *   openssl pkeyutl -verify -pubin -inkey signer.pub -rawin -in evidence/manifest.json -sigfile manifest.sig.bin
 */
import { sign, verify } from 'node:crypto';
import type { SigningKey, VerifyingKey } from './evidence-keys.js';

/** An Ed25519 signature is 64 bytes: 86 base64 characters and `==`. */
const SIGNATURE_TEXT = /^[A-Za-z0-9+/]{86}==$/;

/** The content of manifest.sig for these manifest bytes. */
export function signManifest(manifestBytes: Buffer, key: SigningKey): string {
  return `${sign(null, manifestBytes, key.privateKey).toString('base64')}\n`;
}

export type SignatureCheck = 'valid' | 'invalid' | 'malformed';

/** Checks manifest.sig's content against the manifest bytes and the auditor's key. */
export function checkManifestSignature(manifestBytes: Buffer, signatureText: string, key: VerifyingKey): SignatureCheck {
  const text = signatureText.trim();
  if (!SIGNATURE_TEXT.test(text)) return 'malformed';
  return verify(null, manifestBytes, key.publicKey, Buffer.from(text, 'base64')) ? 'valid' : 'invalid';
}
