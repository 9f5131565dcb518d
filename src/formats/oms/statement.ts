import { Buffer } from 'node:buffer';
import { PREDICATE_V1, rootDigest, STATEMENT_TYPE } from './manifest.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** One signed resource: a whole file (`files`) or a byte range of one (`shards`). */
export interface Resource {
  /** Model-relative path; `.` for a single-file model. */
  path: string;
  /** Byte range of a shard; absent for a whole file. */
  range?: { start: number; end: number };
  /** Lower-case hex. */
  digest: string;
}

export interface StatementInput {
  /** The subject name: model_signing uses the model root's base name. */
  name: string;
  method: 'files' | 'shards';
  /** OMS hash name (`sha256`). */
  hashType: string;
  shardSize?: number;
  /** Model-relative paths the signer left out, recorded so verifiers leave them out too. */
  ignorePaths: readonly string[];
  resources: readonly Resource[];
}

/**
 * The order model_signing lists resources in: by path, then by shard start.
 * Paths compare as Python strings do (code point order), which is UTF-8 byte order.
 */
export function compareResources(a: Resource, b: Resource): number {
  const byPath = Buffer.compare(Buffer.from(a.path, 'utf8'), Buffer.from(b.path, 'utf8'));
  return byPath !== 0 ? byPath : (a.range?.start ?? 0) - (b.range?.start ?? 0);
}

/**
 * The in-toto v1 statement of an OMS v1.0 signature, as model_signing ≥ 1.1
 * writes it (pretty-printed JSON, the predicate's resources in manifest
 * order, the subject digest over them). The DSSE payload is these bytes.
 */
export function statementPayload(input: StatementInput): Buffer {
  const resources = [...input.resources].sort(compareResources);
  const algorithm = input.method === 'shards' ? `${input.hashType}-sharded-${input.shardSize}` : input.hashType;
  const serialization: Record<string, unknown> = { method: input.method, hash_type: input.hashType, allow_symlinks: false };
  if (input.method === 'shards') serialization.shard_size = input.shardSize;
  serialization.ignore_paths = [...input.ignorePaths];
  const statement = {
    _type: STATEMENT_TYPE,
    subject: [{ name: input.name, digest: { sha256: rootDigest(resources.map((r) => Buffer.from(r.digest, 'hex'))).toString('hex') } }],
    predicateType: PREDICATE_V1,
    predicate: {
      serialization,
      resources: resources.map((r) => ({ algorithm, name: r.range ? `${r.path}:${r.range.start}:${r.range.end}` : r.path, digest: r.digest })),
    },
  };
  return Buffer.from(JSON.stringify(statement, null, 2), 'utf8');
}
