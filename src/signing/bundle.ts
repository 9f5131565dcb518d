import { Buffer } from 'node:buffer';
import { sign, type X509Certificate } from 'node:crypto';
import { keyHint } from '../checks/model-signing/keys.js';
import { pae } from '../formats/oms/dsse.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../formats/oms/statement.js';
import type { SigningKey } from './keys.js';

const MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

function envelope(payload: Buffer, key: SigningKey): Record<string, unknown> {
  const sig = sign(key.hash, pae(IN_TOTO_PAYLOAD_TYPE, payload), { key: key.privateKey, dsaEncoding: 'der' });
  return { payload: payload.toString('base64'), payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: sig.toString('base64'), keyid: '' }] };
}

/** A key signature as model_signing ≥ 1.1 writes it: the key is named by its hint, not carried. */
export function keyBundle(payload: Buffer, key: SigningKey): Record<string, unknown> {
  return {
    mediaType: MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: keyHint(key.publicKey) }, tlogEntries: [] },
    dsseEnvelope: envelope(payload, key),
  };
}

/** A certificate signature: the leaf and the chain travel in the bundle; the verifier brings the root. */
export function certificateBundle(payload: Buffer, key: SigningKey, chain: readonly X509Certificate[]): Record<string, unknown> {
  return {
    mediaType: MEDIA_TYPE,
    verificationMaterial: { x509CertificateChain: { certificates: chain.map((c) => ({ rawBytes: c.raw.toString('base64') })) }, tlogEntries: [] },
    dsseEnvelope: envelope(payload, key),
  };
}
