import { Buffer } from 'node:buffer';
import { createHash, createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';

/** The signing hash model_signing pairs with each ECDSA curve. */
const CURVE_HASH: Record<string, string> = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' };

const PEM_BLOCK = (label: string) => new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, 'g');

/** A PUBLIC KEY PEM block, anywhere in the text: certtool writes a readable dump before it. */
export function publicKeyFromPem(text: string): KeyObject {
  const block = text.match(PEM_BLOCK('PUBLIC KEY'))?.[0];
  if (!block) throw new Error('no -----BEGIN PUBLIC KEY----- block found');
  return createPublicKey(block);
}

/** Every CERTIFICATE PEM block of the text (a bundle of trust anchors may hold several). */
export function certificatesFromPem(text: string): X509Certificate[] {
  const blocks = text.match(PEM_BLOCK('CERTIFICATE')) ?? [];
  if (blocks.length === 0) throw new Error('no -----BEGIN CERTIFICATE----- block found');
  return blocks.map((b) => new X509Certificate(b));
}

/** `publicKey.rawBytes` of older model_signing bundles: PEM text, or DER SubjectPublicKeyInfo. */
export function publicKeyFromRawBytes(raw: Buffer): KeyObject {
  const text = raw.toString('latin1');
  if (text.includes('-----BEGIN PUBLIC KEY-----')) return publicKeyFromPem(text);
  return createPublicKey({ key: raw, format: 'der', type: 'spki' });
}

/** model_signing ≥ 1.1 writes `publicKey.hint` = SHA-256 hex of the key's SPKI PEM. */
export function keyHint(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'pem' })).digest('hex');
}

export function sameKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));
}

export function describeKey(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return `${key.asymmetricKeyType ?? 'unknown'}${curve ? ` ${curve}` : ''} key ${keyHint(key).slice(0, 16)}…`;
}

/** Verifies a DER signature with the hash the key's curve implies (or an explicit one). Never throws. */
export function verifyWith(key: KeyObject, data: Buffer, sig: Buffer, hash?: string): boolean {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const algo = hash ?? (curve ? CURVE_HASH[curve] : 'sha256');
  if (!algo) return false;
  try {
    return verify(algo, data, { key, dsaEncoding: 'der' }, sig);
  } catch {
    return false;
  }
}
