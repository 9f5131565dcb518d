import { Buffer } from 'node:buffer';
import { X509Certificate, type KeyObject } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import type { ParsedBundle } from '../../formats/oms/bundle.js';
import { legacyPae, pae } from '../../formats/oms/dsse.js';
import { PREDICATE_DIGESTS_V01 } from '../../formats/oms/manifest.js';
import { checkChain, subjectOf } from './chain.js';
import { describeKey, keyHint, publicKeyFromRawBytes, sameKey, verifyWith } from './keys.js';
import { verifySigstore } from './sigstore.js';

/** A configured signer with its material loaded. */
export type TrustedSigner =
  | { method: 'key'; key: KeyObject }
  | { method: 'certificate'; roots: X509Certificate[] }
  | { method: 'sigstore'; identity: string; issuer: string; trust: TrustMaterial };

export type SignatureVerdict =
  | { ok: true; signer: string }
  | { ok: false; code: 'invalid-signature' | 'untrusted-signer'; message: string };

/**
 * Checks the DSSE signature with one key: the DSSE PAE with the curve's hash,
 * or, for a `Digests/v0.1` statement only, the v0.2 encoding with SHA-256.
 */
export function dsseVerifies(bundle: ParsedBundle, key: KeyObject): boolean {
  const { payloadType, payload, signatures } = bundle.envelope;
  const sig = signatures[0]!.sig;
  if (verifyWith(key, pae(payloadType, payload), sig)) return true;
  return isDigestsV01(payload) && verifyWith(key, legacyPae(payloadType, payload), sig, 'sha256');
}

function isDigestsV01(payload: Buffer): boolean {
  try {
    return (JSON.parse(payload.toString('utf8')) as { predicateType?: unknown }).predicateType === PREDICATE_DIGESTS_V01;
  } catch {
    return false;
  }
}

interface Embedded {
  key?: KeyObject;
  certs?: X509Certificate[];
  /** Who signed, as the bundle says (not yet trusted). */
  who: string;
}

function embedded(bundle: ParsedBundle): Embedded {
  const m = bundle.material;
  if (m.kind === 'certificates') {
    const certs = m.certificates.map((der, i) => {
      try {
        return new X509Certificate(der);
      } catch {
        throw new EmbeddedError(`certificate ${i} of the bundle is not a valid X.509 certificate`);
      }
    });
    const leaf = certs[0]!;
    const san = leaf.subjectAltName ? ` (${leaf.subjectAltName})` : '';
    return { key: leaf.publicKey, certs, who: `certificate ${subjectOf(leaf)}${san}` };
  }
  if (m.rawBytes) {
    let key: KeyObject;
    try {
      key = publicKeyFromRawBytes(m.rawBytes);
    } catch {
      throw new EmbeddedError('verificationMaterial.publicKey.rawBytes is not a public key');
    }
    return { key, who: describeKey(key) };
  }
  return { who: m.hint ? `the key with hint ${m.hint.slice(0, 16)}…` : 'an unidentified key' };
}

class EmbeddedError extends Error {}

type Attempt = SignatureVerdict;

function tryKey(bundle: ParsedBundle, emb: Embedded, key: KeyObject): Attempt {
  const m = bundle.material;
  const name = describeKey(key);
  if (m.kind !== 'public-key') return { ok: false, code: 'untrusted-signer', message: `signed with a certificate, not with ${name}` };
  if (m.hint && m.hint !== keyHint(key)) return { ok: false, code: 'untrusted-signer', message: `signed by ${emb.who}, not by ${name}` };
  if (emb.key && !sameKey(emb.key, key)) return { ok: false, code: 'untrusted-signer', message: `signed by ${emb.who}, not by ${name}` };
  if (dsseVerifies(bundle, key)) return { ok: true, signer: name };
  return { ok: false, code: 'invalid-signature', message: `the signature does not verify with ${name}: the signed manifest or the signature was altered` };
}

function tryCertificate(emb: Embedded, roots: X509Certificate[]): Attempt {
  if (!emb.certs) return { ok: false, code: 'untrusted-signer', message: 'signed with a bare key, not a certificate' };
  const why = checkChain(emb.certs[0]!, emb.certs.slice(1), roots);
  return why ? { ok: false, code: 'untrusted-signer', message: why } : { ok: true, signer: emb.who };
}

function trySigstore(bundle: ParsedBundle, emb: Embedded, s: Extract<TrustedSigner, { method: 'sigstore' }>): Attempt {
  if (!emb.certs) return { ok: false, code: 'untrusted-signer', message: 'signed with a bare key, not a Sigstore certificate' };
  const r = verifySigstore(bundle.json, s.trust, s.identity, s.issuer);
  return r.ok ? { ok: true, signer: `${s.identity} (issuer ${s.issuer})` } : { ok: false, code: r.code, message: `Sigstore identity ${s.identity} (issuer ${s.issuer}): ${r.reason}` };
}

/**
 * Is the signature genuine, and by a signer the policy trusts? A signature that
 * fails under the bundle's own key is `invalid-signature` (tampered); one that
 * holds but matches no configured signer is `untrusted-signer`.
 */
export function verifyBundleSignature(bundle: ParsedBundle, signers: readonly TrustedSigner[]): SignatureVerdict {
  let emb: Embedded;
  try {
    emb = embedded(bundle);
  } catch (e) {
    return { ok: false, code: 'invalid-signature', message: (e as Error).message };
  }
  if (emb.key && !dsseVerifies(bundle, emb.key)) {
    return { ok: false, code: 'invalid-signature', message: `the signature does not verify with the ${emb.certs ? 'certificate' : 'key'} the bundle carries: the signed manifest or the signature was altered` };
  }
  if (signers.length === 0) {
    return { ok: false, code: 'untrusted-signer', message: `signed by ${emb.who}, but the policy lists no signers; add this signer under \`signers\` if you trust it` };
  }
  const attempts = signers.map((s): Attempt => {
    if (s.method === 'key') return tryKey(bundle, emb, s.key);
    if (s.method === 'certificate') return tryCertificate(emb, s.roots);
    return trySigstore(bundle, emb, s);
  });
  const ok = attempts.find((a) => a.ok);
  if (ok) return ok;
  const failures = attempts.filter((a): a is Extract<Attempt, { ok: false }> => !a.ok);
  const invalid = failures.find((a) => a.code === 'invalid-signature');
  if (invalid) return invalid;
  return { ok: false, code: 'untrusted-signer', message: `no configured signer trusts this signature: ${failures.map((f) => f.message).join('; ')}` };
}
