import { Bundle, TrustedRoot } from '@sigstore/protobuf-specs';
import { PolicyError, toSignedEntity, toTrustMaterial, VerificationError, Verifier, type TrustMaterial } from '@sigstore/verify';
import publicGood from './public-good-trusted-root.json' with { type: 'json' };

export type SigstoreOutcome = { ok: true } | { ok: false; code: 'invalid-signature' | 'untrusted-signer'; reason: string };

/** Errors that mean the bytes were altered, as opposed to "not vouched for by this root or identity". */
const TAMPERING = new Set(['SIGNATURE_ERROR', 'TLOG_BODY_ERROR', 'TLOG_INCLUSION_PROOF_ERROR', 'TLOG_INCLUSION_PROMISE_ERROR']);

/** A TrustedRoot JSON, or a ClientTrustConfig whose `trustedRoot` is used; undefined = the bundled public-good root. */
export function loadTrustMaterial(json?: string): TrustMaterial {
  let value: unknown = publicGood;
  if (json !== undefined) value = JSON.parse(json);
  if (typeof value !== 'object' || value === null) throw new Error('the trusted root is not a JSON object');
  const root = 'trustedRoot' in value ? (value as { trustedRoot: unknown }).trustedRoot : value;
  return toTrustMaterial(TrustedRoot.fromJSON(root));
}

/**
 * Keyless verification, offline: Fulcio chain and SCT, the Rekor entry's
 * inclusion proof or SET, RFC 3161 timestamps, all against the trust material;
 * then the exact SAN and OIDC issuer. At least one transparency-log entry is
 * required, as in sigstore-python: a timestamp alone does not do.
 */
export function verifySigstore(bundleJson: unknown, trust: TrustMaterial, identity: string, issuer: string): SigstoreOutcome {
  try {
    const bundle = Bundle.fromJSON(bundleJson) as unknown as Parameters<typeof toSignedEntity>[0];
    const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
    verifier.verify(toSignedEntity(bundle), { subjectAlternativeName: identity, extensions: { issuer } });
    return { ok: true };
  } catch (e) {
    if (e instanceof PolicyError) return { ok: false, code: 'untrusted-signer', reason: e.message };
    if (e instanceof VerificationError) {
      return { ok: false, code: TAMPERING.has(e.code) ? 'invalid-signature' : 'untrusted-signer', reason: `${e.code}: ${e.message}` };
    }
    return { ok: false, code: 'invalid-signature', reason: `the Sigstore bundle could not be verified: ${e instanceof Error ? e.message : String(e)}` };
  }
}
