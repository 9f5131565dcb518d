// Test-only OMS signer: builds the in-toto statement, DSSE envelope and
// Sigstore bundle the way model_signing does, with throwaway keys and a
// throwaway X.509 CA made here (node:crypto has no certificate builder, so the
// few DER structures needed are encoded by hand). Nothing is committed.
import { Buffer } from 'node:buffer';
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

export type Curve = 'P-256' | 'P-384' | 'P-521';
const HASH: Record<Curve, string> = { 'P-256': 'sha256', 'P-384': 'sha384', 'P-521': 'sha512' };
const SIG_OID: Record<string, string> = { sha256: '1.2.840.10045.4.3.2', sha384: '1.2.840.10045.4.3.3', sha512: '1.2.840.10045.4.3.4' };

export interface KeyPair {
  curve: Curve;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
}

export function keyPair(curve: Curve = 'P-256'): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return { curve, privateKey, publicKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

// --- DER, just enough for certificates ---
function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const v of rest) {
    const chunk = [v & 0x7f];
    for (let x = v >>> 7; x > 0; x >>>= 7) chunk.unshift((x & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}
const int = (b: Buffer) => tlv(0x02, b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
const explicit = (n: number, b: Buffer) => tlv(0xa0 + n, b);
function time(d: Date): Buffer {
  const s = d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return tlv(0x17, Buffer.from(s));
}
const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), utf8(cn))));

export interface Cert {
  cn: string;
  der: Buffer;
  pem: string;
  key: KeyPair;
}

export interface CertOptions {
  cn: string;
  key: KeyPair;
  /** Omitted: self-signed. */
  issuer?: Cert;
  ca?: boolean;
  codeSigning?: boolean;
  notBefore?: Date;
  notAfter?: Date;
}

export function certificate(o: CertOptions): Cert {
  const signer = o.issuer?.key ?? o.key;
  const hash = HASH[signer.curve];
  const alg = seq(oid(SIG_OID[hash]!));
  const exts = [seq(oid('2.5.29.19'), bool(true), octets(o.ca ? seq(bool(true)) : seq()))];
  exts.push(seq(oid('2.5.29.15'), bool(true), octets(tlv(0x03, Buffer.from(o.ca ? [0x01, 0x06] : [0x07, 0x80])))));
  if (o.codeSigning) exts.push(seq(oid('2.5.29.37'), octets(seq(oid('1.3.6.1.5.5.7.3.3')))));
  const tbs = seq(
    explicit(0, int(Buffer.from([2]))),
    int(randomBytes(8)),
    alg,
    name(o.issuer ? o.issuer.cn : o.cn),
    seq(time(o.notBefore ?? new Date('2026-01-01T00:00:00Z')), time(o.notAfter ?? new Date('2036-01-01T00:00:00Z'))),
    name(o.cn),
    o.key.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...exts)),
  );
  const der = seq(tbs, alg, bits(sign(hash, tbs, { key: signer.privateKey, dsaEncoding: 'der' })));
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  return { cn: o.cn, der, pem, key: o.key };
}

// --- OMS signing ---
export interface SignOptions {
  /** Model-relative path → content; `.` for a single-file model. */
  files: Record<string, Buffer | string>;
  key: KeyPair;
  method?: 'files' | 'shards';
  shardSize?: number;
  hashType?: 'sha256' | 'blake2b';
  ignorePaths?: string[];
  /** Key bundles: `hint` (model_signing ≥ 1.1, default) or `raw` (v0.3.1–v1.0.x). */
  keyForm?: 'hint' | 'raw';
  /** Certificate bundles: leaf first, then intermediates. */
  chain?: Cert[];
  /** Replaces the subject digest (to build an inconsistent manifest). */
  subjectDigest?: string;
}

const NODE_HASH = { sha256: 'sha256', blake2b: 'blake2b512' } as const;

export function resources(o: SignOptions): { name: string; algorithm: string; digest: string }[] {
  const hashType = o.hashType ?? 'sha256';
  const h = (b: Buffer) => createHash(NODE_HASH[hashType]).update(b).digest('hex');
  const out: { name: string; algorithm: string; digest: string }[] = [];
  for (const [p, content] of Object.entries(o.files).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const buf = Buffer.from(content);
    if (o.method !== 'shards') {
      out.push({ name: p, algorithm: hashType, digest: h(buf) });
      continue;
    }
    const size = o.shardSize ?? 1_000_000_000;
    for (let start = 0; start < buf.length; start += size) {
      const end = Math.min(start + size, buf.length);
      out.push({ name: `${p}:${start}:${end}`, algorithm: `${hashType}-sharded-${size}`, digest: h(buf.subarray(start, end)) });
    }
  }
  return out;
}

export function statement(o: SignOptions): Record<string, unknown> {
  const res = resources(o);
  const root = createHash('sha256');
  for (const r of res) root.update(Buffer.from(r.digest, 'hex'));
  const serialization: Record<string, unknown> = { method: o.method ?? 'files', hash_type: o.hashType ?? 'sha256', allow_symlinks: false, ignore_paths: o.ignorePaths ?? [] };
  if (o.method === 'shards') serialization.shard_size = o.shardSize ?? 1_000_000_000;
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'model', digest: { sha256: o.subjectDigest ?? root.digest('hex') } }],
    predicateType: 'https://model_signing/signature/v1.0',
    predicate: { serialization, resources: res },
  };
}

export function pae(type: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.length} `), payload]);
}

/** Signs `payload` into a bundle (JSON text) with the key or certificate chain of `o`. */
export function bundleFor(payload: Buffer, o: Pick<SignOptions, 'key' | 'keyForm' | 'chain'>): string {
  const type = 'application/vnd.in-toto+json';
  const sig = sign(HASH[o.key.curve], pae(type, payload), { key: o.key.privateKey, dsaEncoding: 'der' });
  let verificationMaterial: Record<string, unknown>;
  if (o.chain) verificationMaterial = { x509CertificateChain: { certificates: o.chain.map((c) => ({ rawBytes: c.der.toString('base64') })) }, tlogEntries: [] };
  else if (o.keyForm === 'raw') verificationMaterial = { publicKey: { rawBytes: Buffer.from(o.key.publicPem).toString('base64'), keyDetails: `PKIX_ECDSA_${o.key.curve.replace('-', '')}_SHA_${HASH[o.key.curve].slice(3)}` } };
  else verificationMaterial = { publicKey: { hint: createHash('sha256').update(o.key.publicPem).digest('hex') }, tlogEntries: [] };
  return JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial,
    dsseEnvelope: { payload: payload.toString('base64'), payloadType: type, signatures: [{ sig: sig.toString('base64'), keyid: '' }] },
  });
}

export function signModel(o: SignOptions): string {
  return bundleFor(Buffer.from(JSON.stringify(statement(o), null, 2)), o);
}

export function lfsPointer(content: Buffer | string): string {
  const buf = Buffer.from(content);
  return `version https://git-lfs.github.com/spec/v1\noid sha256:${createHash('sha256').update(buf).digest('hex')}\nsize ${buf.length}\n`;
}
