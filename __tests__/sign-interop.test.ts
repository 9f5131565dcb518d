// Interoperability of `mlgate sign` with model_signing: over the same model
// files, the statement mlgate signs has the same subject, resources (names,
// order, digests, algorithms) and serialization parameters as the one the
// reference wrote, field by field; only signatures, certificates and
// timestamps may differ. Two sources: the signed models of the interop corpus
// (`files` manifests, every model_signing version and the OMS test vectors),
// and the reference serializer's golden statements (`files` and `shards`,
// default and 8-byte shards), over the models its test fixtures build.
import { Buffer } from 'node:buffer';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signModel } from '../src/signing/sign.js';
import { keyPair } from './model-signing-signer.js';

const CORPUS = path.join(import.meta.dirname, 'fixtures/model-signing');
const MT = path.join(CORPUS, 'model-transparency');
const k = keyPair('P-384');

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'mlgate-sign-interop-'));
  dirs.push(d);
  return d;
}

interface Statement {
  _type: string;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: string;
  predicate: { serialization: Record<string, unknown>; resources: { name: string; digest: string; algorithm: string }[] };
}

const statementOf = async (bundleFile: string): Promise<Statement> =>
  JSON.parse(Buffer.from(JSON.parse(await readFile(bundleFile, 'utf8')).dsseEnvelope.payload, 'base64').toString('utf8')) as Statement;

/** Signs `modelRoot` with a throwaway key and returns the statement mlgate wrote. */
async function mlgateStatement(modelRoot: string, signature: string, opts: { ignorePaths?: string[]; shardSize?: number } = {}): Promise<Statement> {
  const keyFile = path.join(await tempDir(), 'key.pem');
  await writeFile(keyFile, k.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await signModel({ modelRoot, signature, ignorePaths: opts.ignorePaths ?? [], ...(opts.shardSize ? { shardSize: opts.shardSize } : {}), signer: { method: 'key', key: keyFile } });
  return statementOf(signature);
}

/** The fields that must agree; the order of resources is part of it (the subject digest depends on it). */
function expectSameManifest(ours: Statement, theirs: Statement, serializationKeys: string[]): void {
  expect(ours._type).toBe(theirs._type);
  expect(ours.predicateType).toBe(theirs.predicateType);
  expect(ours.subject).toEqual(theirs.subject);
  expect(ours.predicate.resources.map((r) => r.name)).toEqual(theirs.predicate.resources.map((r) => r.name));
  for (const [i, r] of theirs.predicate.resources.entries()) expect(ours.predicate.resources[i], r.name).toEqual(r);
  for (const key of serializationKeys) {
    const [a, b] = [ours.predicate.serialization[key], theirs.predicate.serialization[key]];
    // ignore_paths is a set in model_signing (its order varies from run to run); shard_size goes through a protobuf double.
    if (key === 'ignore_paths') expect([...(a as string[])].sort(), key).toEqual([...(b as string[])].sort());
    else if (key === 'shard_size') expect(Number(a), key).toBe(Number(b));
    else expect(a, key).toEqual(b);
  }
}

describe('the same statement as the corpus signatures', () => {
  // [case, upstream signature, model files, subject (= model directory name) or a single file, signature inside the model?, --ignore-paths, serialization keys recorded upstream]
  const ALL = ['method', 'hash_type', 'allow_symlinks', 'ignore_paths'];
  const NO_IGNORES = ['method', 'hash_type', 'allow_symlinks'];
  const dirCases: [string, string, string[], string, boolean, string[], string[]][] = [
    ['v1.1.0 key', 'v1.1.0-elliptic-key/model.sig', ['signme-1', 'signme-2', 'ignore-me'], 'v1.1.0-elliptic-key', true, ['ignore-me'], ALL],
    ['v1.1.0 certificate', 'v1.1.0-certificate/model.sig', ['signme-1', 'signme-2', 'ignore-me'], 'v1.1.0-certificate', true, ['ignore-me'], ALL],
    ['v1.1.0 sigstore', 'v1.1.0-sigstore/model.sig', ['signme-1', 'signme-2', 'ignore-me'], 'v1.1.0-sigstore', true, ['ignore-me'], ALL],
    ['v1.0.1 key', 'v1.0.1-elliptic-key/model.sig', ['signme-1', 'signme-2', 'ignore-me'], 'v1.0.1-elliptic-key', true, ['ignore-me'], NO_IGNORES],
    ['v1.0.1 certificate', 'v1.0.1-certificate/model.sig', ['signme-1', 'signme-2', 'ignore-me'], 'v1.0.1-certificate', true, ['ignore-me'], NO_IGNORES],
    ['v1.0.1 sigstore', 'v1.0.1-sigstore/model.sig', ['signme-1', 'signme-2', 'ignore-me'], 'v1.0.1-sigstore', true, ['ignore-me'], NO_IGNORES],
    ['v1.0.0 certificate', 'v1.0.0-certificate/model.sig', ['signme-1', 'signme-2'], 'v1.0.0-certificate', true, [], NO_IGNORES],
    ['v1.0.0 sigstore', 'v1.0.0-sigstore/model.sig', ['signme-1', 'signme-2'], 'v1.0.0-sigstore', true, [], NO_IGNORES],
    ['v0.3.1 certificate', 'v0.3.1-certificate/model.sig', ['signme-1', 'signme-2'], 'v0.3.1-certificate', true, [], NO_IGNORES],
    ['v0.3.1 sigstore', 'v0.3.1-sigstore/model.sig', ['signme-1', 'signme-2'], 'v0.3.1-sigstore', true, [], NO_IGNORES],
  ];

  it.each(dirCases)('%s (directory model)', async (_name, sig, files, subject, inside, ignorePaths, keys) => {
    const model = path.join(await tempDir(), subject);
    await mkdir(model);
    for (const f of files) await cp(path.join(MT, path.dirname(sig), f), path.join(model, f));
    const signature = inside ? path.join(model, 'model.sig') : path.join(path.dirname(model), 'out.sig');
    expectSameManifest(await mlgateStatement(model, signature, { ignorePaths }), await statementOf(path.join(MT, sig)), keys);
  });

  it.each([
    ['OMS vector: key', 'oms-test-vectors/v1.0/valid/key.bundle.json'],
    ['OMS vector: certificate', 'oms-test-vectors/v1.0/valid/certificate.bundle.json'],
  ])('%s (signature kept outside the model, not recorded)', async (_name, sig) => {
    const model = path.join(await tempDir(), 'model');
    await mkdir(model);
    for (const f of ['signme-1', 'signme-2', 'ignore-me']) await cp(path.join(MT, 'v1.1.0-elliptic-key', f), path.join(model, f));
    const ours = await mlgateStatement(model, path.join(path.dirname(model), 'model.bundle.json'), { ignorePaths: ['ignore-me'] });
    expectSameManifest(ours, await statementOf(path.join(CORPUS, sig)), ALL);
  });

  it.each([
    ['v1.0.0 key', 'v1.0.0-elliptic-key'],
    ['v0.3.1 key', 'v0.3.1-elliptic-key'],
  ])('%s (single-file model: resource ".")', async (_name, dir) => {
    const file = path.join(await tempDir(), 'signme-1');
    await cp(path.join(MT, dir, 'signme-1'), file);
    expectSameManifest(await mlgateStatement(file, path.join(path.dirname(file), 'model.sig')), await statementOf(path.join(MT, dir, 'model.sig')), NO_IGNORES);
  });
});

describe("the same statement as the reference serializer's goldens (files and shards)", () => {
  // The models model_signing's test fixtures build (tests/conftest.py), by golden name.
  const KNOWN_MODEL_TEXT = 'This is a simple model';
  const models: Record<string, Record<string, string> | string> = {
    sample_model_folder: Object.fromEntries([
      ...[0, 1].flatMap((i) => [0, 1, 2].map((j) => [`d${i}/f${i}${j}`, `This is file f${i}${j} in d${i}.`])),
      ...[0, 1, 2, 3].map((i) => [`f${i}`, `This is file f${i} in root.`]),
    ]),
    deep_model_folder: Object.fromEntries([0, 1, 2, 3].map((i) => [`d0/d1/d2/d3/d4/f${i}`, `This is file f${i}.`])),
    model_folder_with_empty_file: { empty_file: '' },
    empty_model_folder: {},
    sample_model_file: KNOWN_MODEL_TEXT,
    empty_model_file: '',
  };
  const variants: [string, number | undefined][] = [
    ['', undefined],
    ['_shard', 1_000_000_000],
    ['_small_shards', 8],
  ];
  const cases = Object.keys(models).flatMap((m) => variants.map(([suffix, shardSize]) => [`${m}${suffix}`, m, shardSize] as const));

  it.each(cases)('%s', async (golden, model, shardSize) => {
    const theirs = JSON.parse(await readFile(path.join(MT, 'payload-goldens', golden), 'utf8')) as Statement;
    const root = path.join(await tempDir(), theirs.subject[0]!.name);
    const content = models[model]!;
    if (typeof content === 'string') await writeFile(root, content);
    else {
      await mkdir(root);
      for (const [rel, text] of Object.entries(content)) {
        await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
        await writeFile(path.join(root, rel), text);
      }
    }
    const ours = await mlgateStatement(root, path.join(path.dirname(root), `${golden}.sig`), shardSize ? { shardSize } : {});
    // The goldens come from the serializer alone, with allow_symlinks on and nothing ignored: the CLI's
    // choices (links refused, ignore_paths recorded) are compared against the corpus signatures above.
    expectSameManifest(ours, theirs, shardSize ? ['method', 'hash_type', 'shard_size'] : ['method', 'hash_type']);
    expect(ours.predicate.serialization.allow_symlinks).toBe(false);
  });
});
