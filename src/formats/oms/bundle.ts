import { Buffer } from 'node:buffer';

/** A Sigstore bundle is a few KB; anything far larger is not one. */
export const BUNDLE_MAX_BYTES = 4 * 1024 * 1024;

/** The bundle (or what it carries) is not something a verifier can use. */
export class OmsFormatError extends Error {
  override name = 'OmsFormatError';
  constructor(
    message: string,
    /** `invalid-signature` for a corrupt bundle, `unsupported-format` for a well-formed one we do not handle. */
    readonly code: 'invalid-signature' | 'unsupported-format' = 'invalid-signature',
  ) {
    super(message);
  }
}

export type VerificationMaterial =
  | { kind: 'public-key'; hint?: string; rawBytes?: Buffer; keyDetails?: string }
  | { kind: 'certificates'; certificates: Buffer[] };

export interface DsseEnvelope {
  payloadType: string;
  payload: Buffer;
  signatures: { sig: Buffer; keyid?: string | null }[];
}

export interface ParsedBundle {
  mediaType: string;
  material: VerificationMaterial;
  envelope: DsseEnvelope;
  /** The JSON as read, for libraries that take the protobuf JSON form. */
  json: Record<string, unknown>;
}

const MEDIA_TYPES = new Set([
  'application/vnd.dev.sigstore.bundle.v0.3+json',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function base64(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value.replace(/\s+/g, ''))) throw new OmsFormatError(`${what} is not base64 text`);
  return Buffer.from(value, 'base64');
}

function parseMaterial(vm: unknown): VerificationMaterial {
  if (!isObject(vm)) throw new OmsFormatError('the bundle has no verificationMaterial');
  if (isObject(vm.publicKey)) {
    const pk = vm.publicKey;
    if (pk.hint !== undefined && typeof pk.hint !== 'string') throw new OmsFormatError('verificationMaterial.publicKey.hint is not a string');
    return {
      kind: 'public-key',
      hint: typeof pk.hint === 'string' && pk.hint !== '' ? pk.hint : undefined,
      rawBytes: pk.rawBytes === undefined ? undefined : base64(pk.rawBytes, 'verificationMaterial.publicKey.rawBytes'),
      keyDetails: typeof pk.keyDetails === 'string' ? pk.keyDetails : undefined,
    };
  }
  if (isObject(vm.certificate)) {
    return { kind: 'certificates', certificates: [base64(vm.certificate.rawBytes, 'verificationMaterial.certificate.rawBytes')] };
  }
  if (isObject(vm.x509CertificateChain)) {
    const certs = vm.x509CertificateChain.certificates;
    if (!Array.isArray(certs) || certs.length === 0 || certs.length > 10) throw new OmsFormatError('verificationMaterial.x509CertificateChain must hold 1 to 10 certificates');
    return { kind: 'certificates', certificates: certs.map((c, i) => base64(isObject(c) ? c.rawBytes : undefined, `x509CertificateChain.certificates[${i}].rawBytes`)) };
  }
  throw new OmsFormatError('verificationMaterial holds neither a public key nor a certificate');
}

function parseEnvelope(env: unknown): DsseEnvelope {
  if (!isObject(env)) throw new OmsFormatError('the bundle has no dsseEnvelope (OMS signatures are DSSE envelopes)');
  if (typeof env.payloadType !== 'string') throw new OmsFormatError('dsseEnvelope.payloadType is missing');
  const sigs = env.signatures;
  if (!Array.isArray(sigs) || sigs.length !== 1) throw new OmsFormatError('dsseEnvelope must carry exactly one signature');
  return {
    payloadType: env.payloadType,
    payload: base64(env.payload, 'dsseEnvelope.payload'),
    signatures: sigs.map((s, i) => {
      if (!isObject(s)) throw new OmsFormatError(`dsseEnvelope.signatures[${i}] is not an object`);
      return { sig: base64(s.sig, `dsseEnvelope.signatures[${i}].sig`), keyid: typeof s.keyid === 'string' ? s.keyid : null };
    }),
  };
}

/** Parses a Sigstore bundle (v0.1–v0.3 JSON) holding a DSSE envelope, as model_signing writes it. */
export function parseBundle(bytes: Uint8Array): ParsedBundle {
  if (bytes.length > BUNDLE_MAX_BYTES) throw new OmsFormatError(`the signature file is ${bytes.length} bytes; a Sigstore bundle is at most ${BUNDLE_MAX_BYTES}`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new OmsFormatError(`the signature file is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isObject(json)) throw new OmsFormatError('the signature file is not a JSON object');
  const mediaType = json.mediaType;
  if (typeof mediaType !== 'string') throw new OmsFormatError('the bundle has no mediaType');
  if (!MEDIA_TYPES.has(mediaType)) throw new OmsFormatError(`bundle media type ${JSON.stringify(mediaType.slice(0, 100))} is not a Sigstore bundle v0.1–v0.3`, 'unsupported-format');
  const material = parseMaterial(json.verificationMaterial);
  const envelope = parseEnvelope(json.dsseEnvelope);
  return { mediaType, material, envelope, json };
}
