import type { X509Certificate } from 'node:crypto';

const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const MAX_DEPTH = 8;

/** Fulcio leaves have an empty subject (node reports undefined). */
export const subjectOf = (c: X509Certificate): string => (c.subject ?? '').replace(/\n/g, ', ') || '(empty subject)';

const validAt = (c: X509Certificate, at: Date): boolean => new Date(c.validFrom) <= at && at <= new Date(c.validTo);
const selfSigned = (c: X509Certificate): boolean => c.checkIssued(c) && safeVerify(c, c);

function safeVerify(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * Checks the bundle's leaf (with the bundle's intermediates) up to a
 * configured self-signed root, as model_signing does with an OpenSSL store:
 * every certificate valid at the leaf's notBefore (the signing time the
 * reference assumes), issuers marked CA, the leaf allowed to sign code.
 * Returns the reason it fails, or undefined when the chain holds.
 */
export function checkChain(leaf: X509Certificate, intermediates: X509Certificate[], roots: X509Certificate[]): string | undefined {
  const at = new Date(leaf.validFrom);
  if (!(leaf.keyUsage ?? []).includes(CODE_SIGNING)) return `the leaf certificate (${subjectOf(leaf)}) does not allow code signing (extended key usage ${CODE_SIGNING})`;
  const isRoot = (c: X509Certificate) => roots.some((r) => r.fingerprint256 === c.fingerprint256);
  let current = leaf;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    if (!validAt(current, at)) return `certificate ${subjectOf(current)} is not valid at the signing time ${at.toISOString()}`;
    if (isRoot(current) && selfSigned(current)) return undefined;
    const issuer = [...roots, ...intermediates].find((c) => c.fingerprint256 !== current.fingerprint256 && current.checkIssued(c) && safeVerify(current, c));
    if (!issuer) return `the chain from ${subjectOf(leaf)} does not reach a configured root certificate (no issuer for ${subjectOf(current)})`;
    if (!issuer.ca) return `issuer ${subjectOf(issuer)} is not a CA certificate`;
    current = issuer;
  }
  return `the certificate chain is longer than ${MAX_DEPTH}`;
}
