import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { OmsFormatError } from './bundle.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_V1 = 'https://model_signing/signature/v1.0';
/** model_signing v0.2's predicate: one in-toto subject per file, no root digest. */
export const PREDICATE_DIGESTS_V01 = 'https://model_signing/Digests/v0.1';

/** Hash names of the OMS serialization, mapped to node:crypto's. */
const HASHES: Record<string, string> = { sha256: 'sha256', blake2b: 'blake2b512' };

/** More resources than any real model has; bounds the work a hostile manifest can ask for. */
export const MAX_RESOURCES = 1_000_000;

/** What model_signing always leaves out of a directory model (OMS §6.2.1): only at the model root. */
export const DEFAULT_IGNORED = ['.git', '.github', '.gitignore', '.gitattributes'];

/** model_signing's default shard size (1 GB) for `shards` serialization. */
export const DEFAULT_SHARD_SIZE = 1_000_000_000;

/** The byte ranges `shards` serialization cuts a file of `size` bytes into: none for an empty file. */
export function shardRanges(size: number, shardSize: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let start = 0; start < size; start += shardSize) out.push({ start, end: Math.min(start + shardSize, size) });
  return out;
}

/** The statement subject's digest: SHA-256 over the resource digests in the order listed. */
export function rootDigest(digests: readonly Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const d of digests) hash.update(d);
  return hash.digest();
}

export interface ManifestEntry {
  /** As written in the manifest (`path` or `path:start:end`). */
  name: string;
  /** Path relative to the model root; `.` for a single-file model. */
  path: string;
  /** Byte range of a shard; absent for a whole file. */
  range?: { start: number; end: number };
  digest: Buffer;
}

export interface Manifest {
  predicateType: string;
  method: 'files' | 'shards';
  /** OMS name (`sha256`, `blake2b`). */
  hashType: string;
  /** node:crypto algorithm for hashType. */
  nodeHash: string;
  shardSize?: number;
  allowSymlinks: boolean;
  /** `serialization.ignore_paths` as recorded by the signer. */
  ignorePaths: string[];
  entries: ManifestEntry[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const HEX = /^(?:[0-9a-f]{2})+$/;

/** Refuses names that could point outside the model root. */
function checkPath(p: string, name: string): string {
  if (p === '.') return p;
  const parts = p.split('/');
  if (p.length > 4096 || p.includes('\0') || parts.some((s) => s === '' || s === '.' || s === '..')) {
    throw new OmsFormatError(`manifest resource name ${JSON.stringify(name.slice(0, 200))} is not a relative path inside the model`);
  }
  return p;
}

function hexDigest(value: unknown, name: string): Buffer {
  if (typeof value !== 'string' || !HEX.test(value) || value.length > 256) throw new OmsFormatError(`manifest digest of ${JSON.stringify(name.slice(0, 200))} is not lower-case hex`);
  return Buffer.from(value, 'hex');
}

function parseShardName(name: string, shardSize: number): { path: string; start: number; end: number } {
  const m = /^(.+):(\d{1,16}):(\d{1,16})$/s.exec(name);
  const start = Number(m?.[2]);
  const end = Number(m?.[3]);
  if (!m?.[1] || !(end > start) || end - start > shardSize) {
    throw new OmsFormatError(`shard name ${JSON.stringify(name.slice(0, 200))} is not path:start:end with 0 <= start < end <= start + shard_size`);
  }
  return { path: checkPath(m[1], name), start, end };
}

function parseV1(statement: Record<string, unknown>): Manifest {
  const predicate = statement.predicate;
  if (!isObject(predicate) || !isObject(predicate.serialization) || !Array.isArray(predicate.resources)) {
    throw new OmsFormatError('the predicate lacks serialization or resources');
  }
  const ser = predicate.serialization;
  const method = ser.method;
  if (method !== 'files' && method !== 'shards') throw new OmsFormatError(`serialization method ${JSON.stringify(method)} is not files or shards`, 'unsupported-format');
  const hashType = typeof ser.hash_type === 'string' ? ser.hash_type : '';
  const nodeHash = HASHES[hashType];
  if (!nodeHash) throw new OmsFormatError(`hash type ${JSON.stringify(hashType.slice(0, 50))} is not supported (sha256 or blake2b); re-sign with --hash_type sha256`, 'unsupported-format');
  let shardSize: number | undefined;
  if (method === 'shards') {
    shardSize = Number(ser.shard_size);
    if (!Number.isSafeInteger(shardSize) || shardSize <= 0) throw new OmsFormatError('serialization.shard_size is not a positive integer');
  }
  const ignorePaths = ser.ignore_paths === undefined ? [] : ser.ignore_paths;
  if (!Array.isArray(ignorePaths) || ignorePaths.some((p) => typeof p !== 'string')) throw new OmsFormatError('serialization.ignore_paths is not a list of paths');
  const resources = predicate.resources;
  if (resources.length > MAX_RESOURCES) throw new OmsFormatError(`the manifest lists ${resources.length} resources, over the ${MAX_RESOURCES} limit`);
  const entries = resources.map((r): ManifestEntry => {
    if (!isObject(r) || typeof r.name !== 'string') throw new OmsFormatError('a manifest resource has no name');
    const digest = hexDigest(r.digest, r.name);
    if (shardSize === undefined) return { name: r.name, path: checkPath(r.name, r.name), digest };
    const { path, start, end } = parseShardName(r.name, shardSize);
    return { name: r.name, path, range: { start, end }, digest };
  });
  checkRootDigest(statement, entries);
  return {
    predicateType: PREDICATE_V1,
    method,
    hashType,
    nodeHash,
    shardSize,
    allowSymlinks: ser.allow_symlinks === true,
    ignorePaths: ignorePaths as string[],
    entries,
  };
}

/** The subject digest is SHA-256 over the resource digests in the order listed; the reference rejects a mismatch. */
function checkRootDigest(statement: Record<string, unknown>, entries: ManifestEntry[]): void {
  const subject = Array.isArray(statement.subject) ? statement.subject[0] : undefined;
  const recorded = isObject(subject) && isObject(subject.digest) ? subject.digest.sha256 : undefined;
  const expected = hexDigest(recorded, 'subject');
  if (!rootDigest(entries.map((e) => e.digest)).equals(expected)) {
    throw new OmsFormatError('the statement subject digest is not the SHA-256 of its resource digests: the manifest is inconsistent');
  }
}

function parseDigestsV01(statement: Record<string, unknown>): Manifest {
  const subjects = statement.subject;
  if (!Array.isArray(subjects)) throw new OmsFormatError('the statement has no subject list');
  if (subjects.length > MAX_RESOURCES) throw new OmsFormatError(`the statement lists ${subjects.length} subjects, over the ${MAX_RESOURCES} limit`);
  const entries = subjects.map((s): ManifestEntry => {
    if (!isObject(s) || typeof s.name !== 'string' || !isObject(s.digest)) throw new OmsFormatError('a statement subject has no name or digest');
    const algo = isObject(s.annotations) ? s.annotations.actual_hash_algorithm : undefined;
    if (algo !== undefined && algo !== 'file-sha256') throw new OmsFormatError(`subject hash algorithm ${JSON.stringify(String(algo).slice(0, 50))} is not supported (file-sha256)`, 'unsupported-format');
    return { name: s.name, path: checkPath(s.name, s.name), digest: hexDigest(s.digest.sha256, s.name) };
  });
  return { predicateType: PREDICATE_DIGESTS_V01, method: 'files', hashType: 'sha256', nodeHash: 'sha256', allowSymlinks: false, ignorePaths: [], entries };
}

/** The in-toto statement of a DSSE payload → the model manifest it signs. */
export function parseStatement(payload: Uint8Array): Manifest {
  let statement: unknown;
  try {
    statement = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw new OmsFormatError('the signed payload is not JSON');
  }
  if (!isObject(statement) || statement._type !== STATEMENT_TYPE) throw new OmsFormatError(`the signed payload is not an in-toto ${STATEMENT_TYPE} statement`, 'unsupported-format');
  if (statement.predicateType === PREDICATE_V1) return parseV1(statement);
  if (statement.predicateType === PREDICATE_DIGESTS_V01) return parseDigestsV01(statement);
  throw new OmsFormatError(`predicate type ${JSON.stringify(String(statement.predicateType).slice(0, 200))} is not an OMS model signature (${PREDICATE_V1})`, 'unsupported-format');
}
