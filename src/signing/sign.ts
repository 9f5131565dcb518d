import path from 'node:path';
import { describeKey } from '../checks/model-signing/keys.js';
import { DEFAULT_SIGNATURE } from '../checks/model-signing/params.js';
import { ConfigurationError } from '../core/errors.js';
import { HashPool } from '../core/hash-pool.js';
import { DEFAULT_SHARD_SIZE } from '../formats/oms/manifest.js';
import { statementPayload } from '../formats/oms/statement.js';
import { certificateBundle, keyBundle } from './bundle.js';
import { listModelFiles } from './files.js';
import { gitIgnoredFiles } from './git-ignored.js';
import { keylessBundle, type KeylessOptions } from './keyless.js';
import { loadCertificateChain, loadSigningKey } from './keys.js';
import { hashResources } from './resources.js';
import { writeAtomically } from './write.js';

export type SignMethod =
  | { method: 'key'; key: string; passphrase?: string }
  | { method: 'certificate'; key: string; passphrase?: string; certificate: string; chain: string[] }
  | ({ method: 'sigstore'; token: () => Promise<string> } & Omit<KeylessOptions, 'token'>);

export interface SignOptions {
  /** The model: a directory or a single file. */
  modelRoot: string;
  /** Default: model.sig inside a directory model, beside a single-file one (where `mlgate check` looks). */
  signature?: string;
  /** Cut files into shards of this many bytes (`shards` serialization); default whole files. */
  shardSize?: number;
  ignorePaths?: readonly string[];
  lfsOid?: boolean;
  signer: SignMethod;
  signal?: AbortSignal;
}

export interface SignResult {
  signature: string;
  files: number;
  resources: number;
  bytesHashed: number;
  /** Who signed, for the summary line. */
  signer: string;
  /** Things the user should know; the signature was written. */
  warnings: string[];
}

/** Where `mlgate check` looks for a model's signature by default. */
export function defaultSignaturePath(modelRoot: string, kind: 'file' | 'dir'): string {
  return kind === 'dir' ? path.join(modelRoot, DEFAULT_SIGNATURE) : path.join(path.dirname(modelRoot), DEFAULT_SIGNATURE);
}

/**
 * Signs a model as `model_signing sign` does: list and hash its files, build
 * the OMS statement, sign it with a key, a certificate's key or Sigstore
 * keyless, and write the bundle in one rename. Everything that can be checked
 * before the network is checked first, so a bad key or model costs no
 * certificate and leaves no log entry.
 */
export async function signModel(o: SignOptions): Promise<SignResult> {
  const root = path.resolve(o.modelRoot);
  if (o.shardSize !== undefined && (!Number.isSafeInteger(o.shardSize) || o.shardSize <= 0)) throw new ConfigurationError(`--shard-size must be a positive whole number of bytes, got ${o.shardSize}`);
  const s = o.signer;
  const key = s.method === 'sigstore' ? undefined : await loadSigningKey(s.key, s.passphrase);
  const chain = s.method === 'certificate' ? await loadCertificateChain(s.certificate, s.chain, key!) : undefined;

  // Resolve the signature against the model first: the default depends on whether the model is a file.
  const provisional = o.signature !== undefined ? path.resolve(o.signature) : path.join(root, DEFAULT_SIGNATURE);
  const listing = await listModelFiles(root, provisional, o.ignorePaths ?? []);
  const signature = o.signature !== undefined ? provisional : defaultSignaturePath(root, listing.kind);
  if (listing.kind === 'file' && signature === root) throw new ConfigurationError('--signature would overwrite the model file itself; choose another path');

  const warnings: string[] = [];
  const ignored = await gitIgnoredFiles(root, listing);
  if (ignored.length > 0) {
    const shown = ignored.slice(0, 5).join(', ') + (ignored.length > 5 ? ` and ${ignored.length - 5} more` : '');
    warnings.push(
      `git ignores ${shown}, so ${ignored.length === 1 ? 'it is' : 'they are'} signed but not in the repository: once the signature is committed, mlgate check on a clone reports ${ignored.length === 1 ? 'it' : 'them'} missing. Unless the model ships outside git, sign again with --ignore-paths for each, or delete them`,
    );
  }
  const method = o.shardSize !== undefined ? 'shards' : 'files';
  const shardSize = o.shardSize ?? DEFAULT_SHARD_SIZE;
  const pool = new HashPool(undefined, o.signal);
  let hashed;
  try {
    hashed = await hashResources(listing.files, pool, { method, shardSize, lfsOid: o.lfsOid ?? false });
  } finally {
    await pool.close();
  }
  const payload = statementPayload({
    name: path.basename(root),
    method,
    hashType: 'sha256',
    ...(method === 'shards' ? { shardSize } : {}),
    ignorePaths: listing.ignorePaths,
    resources: hashed.resources,
  });

  let bundle: Record<string, unknown>;
  let who: string;
  if (s.method === 'sigstore') {
    bundle = await keylessBundle(payload, { token: await s.token(), fulcioUrl: s.fulcioUrl, rekorUrl: s.rekorUrl, ...(s.tsaUrl ? { tsaUrl: s.tsaUrl } : {}) });
    who = `Sigstore keyless (${s.fulcioUrl})`;
  } else if (chain) {
    bundle = certificateBundle(payload, key!, chain);
    who = `certificate ${chain[0]!.subject.replace(/\n/g, ', ') || '(empty subject)'}`;
  } else {
    bundle = keyBundle(payload, key!);
    who = describeKey(key!.publicKey);
  }
  await writeAtomically(signature, `${JSON.stringify(bundle)}\n`);
  return { signature, files: listing.files.length, resources: hashed.resources.length, bytesHashed: hashed.bytes, signer: who, warnings };
}
