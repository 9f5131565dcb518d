import { describe, expect, it } from 'vitest';
import { modelSigning } from '../src/checks/model-signing.js';
import { ConfigurationError } from '../src/core/errors.js';
import { makeRepo, runRuleOn, runRuleOnDir, summarise, type FileTree } from './helpers/repo.js';
import { bundleFor, certificate, keyPair, lfsPointer, signModel, statement, type SignOptions } from './model-signing-signer.js';

const p256 = keyPair('P-256');
const p384 = keyPair('P-384');
const p521 = keyPair('P-521');
const stranger = keyPair('P-256');

const WEIGHTS = { 'model.safetensors': 'weights-v1 '.repeat(50), 'config.json': '{"layers": 2}\n', 'sub/tokenizer.json': '{"vocab": []}\n' };

/** A repository holding `models/m` signed over `signed`, with `onDisk` as its files (default: the same). */
function repo(opts: Omit<SignOptions, 'files'> & { signed?: Record<string, string>; onDisk?: Record<string, string>; extra?: FileTree }): FileTree {
  const signed = opts.signed ?? WEIGHTS;
  const tree: FileTree = { 'models/m/model.sig': signModel({ ...opts, files: signed }), ...opts.extra };
  for (const [p, c] of Object.entries(opts.onDisk ?? signed)) tree[`models/m/${p}`] = c;
  return tree;
}
const keySigner = (k = p256) => ({ method: 'key', 'public-key': k.publicPem });
const withKey = (k = p256, more: Record<string, unknown> = {}) => ({ params: { signers: [keySigner(k)], ...more } });

describe('model-signing: signing methods and serializations', () => {
  const cases: [string, FileTree, { params: Record<string, unknown> }, string[]][] = [
    ['files, P-256 key (hint)', repo({ key: p256 }), withKey(p256), []],
    ['files, P-384 key (rawBytes + keyDetails, v0.3.1–v1.0 form)', repo({ key: p384, keyForm: 'raw' }), withKey(p384), []],
    ['files, P-521 key', repo({ key: p521 }), withKey(p521), []],
    ['shards of 64 bytes, P-384', repo({ key: p384, method: 'shards', shardSize: 64 }), withKey(p384), []],
    ['shards with an empty file (zero shards)', repo({ key: p256, method: 'shards', shardSize: 64, signed: { ...WEIGHTS, 'empty.bin': '' } }), withKey(), []],
    ['blake2b files', repo({ key: p256, hashType: 'blake2b' }), withKey(), []],
    ['blake2b shards', repo({ key: p256, hashType: 'blake2b', method: 'shards', shardSize: 100 }), withKey(), []],
    ['PEM with text before the BEGIN line', repo({ key: p256 }), { params: { signers: [{ method: 'key', 'public-key': `Public Key Info:\n\tAlgorithm: EC\n${p256.publicPem}` }] } }, []],
    ['any one of several signers', repo({ key: p384 }), { params: { signers: [keySigner(p256), keySigner(p384)] } }, []],
    ['a stranger key (hint differs)', repo({ key: stranger }), withKey(p256), ['untrusted-signer@models/m/model.sig']],
    ['a stranger key (rawBytes differ)', repo({ key: stranger, keyForm: 'raw' }), withKey(p256), ['untrusted-signer@models/m/model.sig']],
    ['no signers configured: untrusted, manifest still checked', repo({ key: p256, onDisk: { ...WEIGHTS, 'config.json': 'x' } }), { params: {} }, ['digest-mismatch@models/m/config.json', 'untrusted-signer@models/m/model.sig']],
    ['recorded ignore_paths', repo({ key: p256, ignorePaths: ['logs', 'notes.txt'], extra: { 'models/m/logs/a.txt': 'x', 'models/m/notes.txt': 'y' } }), withKey(), []],
    ['default exclusions at the root only', repo({ key: p256, extra: { 'models/m/.gitattributes': '* lfs', 'models/m/.github/x.yml': 'a', 'models/m/sub/.gitignore': 'z' } }), withKey(), ['extra-file@models/m/sub/.gitignore']],
  ];
  it.each(cases)('%s', async (_name, tree, opts, expected) => {
    expect(summarise(await runRuleOn(modelSigning, tree, opts))).toEqual(expected);
  });
});

describe('model-signing: tampering, each named in its own finding', () => {
  const changed = { ...WEIGHTS, 'model.safetensors': 'weights-v2 '.repeat(50) };
  const { 'config.json': _gone, ...withoutConfig } = WEIGHTS;
  const cases: [string, FileTree, Record<string, unknown>, string[]][] = [
    ['changed file', repo({ key: p256, onDisk: changed }), {}, ['digest-mismatch@models/m/model.safetensors']],
    ['missing file (reported on the signature)', repo({ key: p256, onDisk: withoutConfig }), {}, ['missing-file@models/m/model.sig']],
    ['extra file', repo({ key: p256, extra: { 'models/m/extra.bin': 'new' } }), {}, ['extra-file@models/m/extra.bin']],
    ['extra file tolerated by ignore-unsigned-files', repo({ key: p256, extra: { 'models/m/extra.bin': 'new' } }), { 'ignore-unsigned-files': true }, []],
    ['extra file tolerated by a glob in ignore-paths', repo({ key: p256, extra: { 'models/m/runs/1/log.txt': 'new' } }), { 'ignore-paths': ['runs/**'] }, []],
    ['renamed file', repo({ key: p256, onDisk: { ...withoutConfig, 'config.renamed.json': WEIGHTS['config.json'] } }), {}, ['renamed-file@models/m/config.renamed.json']],
    ['renamed and changed at once', repo({ key: p256, onDisk: { ...changed, 'config.json': 'other' } }), {}, ['digest-mismatch@models/m/config.json', 'digest-mismatch@models/m/model.safetensors']],
    ['one shard changed', repo({ key: p256, method: 'shards', shardSize: 64, onDisk: { ...WEIGHTS, 'model.safetensors': 'weights-v1 '.repeat(30) + 'WEIGHTS-v1 ' + 'weights-v1 '.repeat(19) } }), {}, ['digest-mismatch@models/m/model.safetensors']],
    ['sharded file grew', repo({ key: p256, method: 'shards', shardSize: 64, onDisk: { ...WEIGHTS, 'model.safetensors': 'weights-v1 '.repeat(51) } }), {}, ['digest-mismatch@models/m/model.safetensors']],
    ['a 1-byte shard_size against a 20 MB file answers at once', repo({ key: p256, method: 'shards', shardSize: 1, signed: { 'model.safetensors': 'x' }, onDisk: { 'model.safetensors': 'x'.repeat(20_000_000) } }), {}, ['digest-mismatch@models/m/model.safetensors']],
    ['sharded file missing', repo({ key: p256, method: 'shards', shardSize: 64, onDisk: withoutConfig }), {}, ['missing-file@models/m/model.sig']],
  ];
  it.each(cases)('%s', async (_name, tree, more, expected) => {
    expect(summarise(await runRuleOn(modelSigning, tree, withKey(p256, more)))).toEqual(expected);
  });

  it('names the file and the fix in the message', async () => {
    const [f] = await runRuleOn(modelSigning, repo({ key: p256, onDisk: changed }), withKey());
    expect(f?.message).toMatch(/models\/m\/model\.safetensors does not match its signed sha256 digest .* re-sign the model/);
  });

  it('rejects an edited payload and a manifest whose root digest is inconsistent', async () => {
    const payload = Buffer.from(JSON.stringify(statement({ key: p256, files: WEIGHTS })));
    const bundle = JSON.parse(bundleFor(payload, { key: p256 }));
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement({ key: p256, files: { ...WEIGHTS, 'config.json': 'x' } }))).toString('base64');
    const edited = { ...repo({ key: p256 }), 'models/m/model.sig': JSON.stringify(bundle) };
    expect(summarise(await runRuleOn(modelSigning, edited, withKey()))).toEqual(['invalid-signature@models/m/model.sig']);
    const resigned = repo({ key: p256, subjectDigest: '00'.repeat(32) });
    const findings = await runRuleOn(modelSigning, resigned, withKey());
    expect(summarise(findings)).toEqual(['invalid-signature@models/m/model.sig']);
    expect(findings[0]?.message).toMatch(/subject digest/);
  });
});

describe('model-signing: certificate chains', () => {
  const root = certificate({ cn: 'Test Root', key: keyPair('P-384'), ca: true });
  const inter = certificate({ cn: 'Test Intermediate', key: keyPair('P-256'), issuer: root, ca: true });
  const leafKey = keyPair('P-256');
  const leaf = certificate({ cn: 'model signer', key: leafKey, issuer: inter, codeSigning: true });
  const otherRoot = certificate({ cn: 'Other Root', key: keyPair('P-256'), ca: true });
  const tree = (chain = [leaf, inter], key = leafKey) => repo({ key, chain });
  const roots = (...r: string[]) => ({ params: { signers: [{ method: 'certificate', roots: r }] } });
  const noCodeSigning = certificate({ cn: 'no eku', key: leafKey, issuer: inter });
  const early = certificate({ cn: 'early', key: leafKey, issuer: inter, codeSigning: true, notBefore: new Date('2025-06-01T00:00:00Z') });
  const lateInter = certificate({ cn: 'Late Intermediate', key: keyPair('P-256'), issuer: root, ca: true, notBefore: new Date('2027-01-01T00:00:00Z') });
  const notCa = certificate({ cn: 'Not a CA', key: keyPair('P-256'), issuer: root });
  const cases: [string, FileTree, { params: Record<string, unknown> }, string[]][] = [
    ['leaf → intermediate (bundle) → root (policy)', tree(), roots(root.pem), []],
    ['several roots in one PEM text', tree(), roots(otherRoot.pem + root.pem), []],
    ['wrong root', tree(), roots(otherRoot.pem), ['untrusted-signer@models/m/model.sig']],
    ['intermediate configured as the only anchor', tree(), roots(inter.pem), ['untrusted-signer@models/m/model.sig']],
    ['intermediate missing from the bundle', tree([leaf]), roots(root.pem), ['untrusted-signer@models/m/model.sig']],
    ['leaf without code-signing usage', tree([noCodeSigning, inter]), roots(root.pem), ['untrusted-signer@models/m/model.sig']],
    ['leaf notBefore before the root was valid', tree([early, inter]), roots(root.pem), ['untrusted-signer@models/m/model.sig']],
    ['intermediate not yet valid at the leaf notBefore', tree([certificate({ cn: 'l', key: leafKey, issuer: lateInter, codeSigning: true }), lateInter]), roots(root.pem), ['untrusted-signer@models/m/model.sig']],
    ['issuer that is not a CA', tree([certificate({ cn: 'l', key: leafKey, issuer: notCa, codeSigning: true }), notCa]), roots(root.pem), ['untrusted-signer@models/m/model.sig']],
    ['signed by another key than the leaf', tree([leaf, inter], keyPair('P-256')), roots(root.pem), ['invalid-signature@models/m/model.sig']],
    ['a key signer does not accept a certificate bundle', tree(), withKey(leafKey), ['untrusted-signer@models/m/model.sig']],
  ];
  it.each(cases)('%s', async (_name, t, opts, expected) => {
    expect(summarise(await runRuleOn(modelSigning, t, opts))).toEqual(expected);
  });
});

describe('model-signing: Git LFS pointers', () => {
  const big = 'large weights '.repeat(40);
  const signedFiles = { 'model.safetensors': big, 'config.json': '{}' };
  const lfsTree = (opts: Omit<SignOptions, 'files' | 'key'>, content = big): FileTree => repo({ key: p256, ...opts, signed: signedFiles, onDisk: { ...signedFiles, 'model.safetensors': lfsPointer(content) } });
  const cases: [string, FileTree, string[]][] = [
    ['files: oid matches the signed digest', lfsTree({}), []],
    ['files: oid differs', lfsTree({}, big + 'x'), ['digest-mismatch@models/m/model.safetensors']],
    ['one shard covering the file: oid answers it', lfsTree({ method: 'shards', shardSize: 10_000 }), []],
    ['one shard, size differs', lfsTree({ method: 'shards', shardSize: 10_000 }, big + 'x'), ['digest-mismatch@models/m/model.safetensors']],
    ['several shards cannot be answered by the oid', lfsTree({ method: 'shards', shardSize: 100 }), ['lfs-shard-unverifiable@models/m/model.safetensors']],
    ['blake2b cannot be answered by a sha256 oid', lfsTree({ hashType: 'blake2b' }), ['lfs-unverifiable@models/m/model.safetensors']],
  ];
  it.each(cases)('%s', async (_name, tree, expected) => {
    expect(summarise(await runRuleOn(modelSigning, tree, withKey()))).toEqual(expected);
  });
});

describe('model-signing: model roots, placement and changed mode', () => {
  it('reports an unsigned model (default discovery) on its weight file', async () => {
    const f = await runRuleOn(modelSigning, { 'models/a/config.json': '{}', 'models/a/pytorch_model.bin': 'x', 'src/train.py': '' }, withKey());
    expect(summarise(f)).toEqual(['unsigned@models/a/pytorch_model.bin']);
    expect(f[0]?.message).toMatch(/models\/a\/model\.sig/);
  });

  it('names a model at the repository root as such, never "model ."', async () => {
    const f = await runRuleOn(modelSigning, { 'config.json': '{}', 'model.safetensors': 'x' }, withKey());
    expect(summarise(f)).toEqual(['unsigned@model.safetensors']);
    expect(f[0]?.message).toMatch(/^the model at the repository root has no signature \(model\.sig\)/);
  });

  it('verifies a single-file root against the signature beside it (resource name ".")', async () => {
    const content = 'a single weight file';
    const tree = { 'ckpt/w.safetensors': content, 'ckpt/model.sig': signModel({ key: p256, files: { '.': content } }), 'ckpt/readme.md': 'not part of the model' };
    expect(summarise(await runRuleOn(modelSigning, tree, withKey(p256, { models: ['ckpt/*.safetensors'] })))).toEqual([]);
    const bad = { ...tree, 'ckpt/w.safetensors': 'edited' };
    expect(summarise(await runRuleOn(modelSigning, bad, withKey(p256, { models: ['ckpt/*.safetensors'] })))).toEqual(['digest-mismatch@ckpt/w.safetensors']);
    expect(summarise(await runRuleOn(modelSigning, tree, withKey(p256, { models: ['ckpt'] })))).toEqual(['unsupported-format@ckpt/model.sig']);
  });

  it('honours a custom signature name and excludes it from the comparison', async () => {
    const tree = { ...repo({ key: p256 }) };
    tree['models/m/release.sig'] = tree['models/m/model.sig']!;
    delete tree['models/m/model.sig'];
    expect(summarise(await runRuleOn(modelSigning, tree, withKey(p256, { signature: 'release.sig' })))).toEqual([]);
  });

  it('in changed mode verifies only roots with a change inside (then the whole root)', async () => {
    const tampered = (name: string) => Object.fromEntries(Object.entries(repo({ key: p256, onDisk: { ...WEIGHTS, 'config.json': 'edited' } })).map(([k, v]) => [k.replace('models/m/', `models/${name}/`), v]));
    const dir = await makeRepo({ ...tampered('a'), ...tampered('b'), 'README.md': '' });
    const run = (changed: string[]) => runRuleOnDir(modelSigning, dir, { ...withKey(), changed }).then(summarise);
    expect(await run(['models/a/sub/tokenizer.json'])).toEqual(['digest-mismatch@models/a/config.json']);
    expect(await run(['models/b/model.sig'])).toEqual(['digest-mismatch@models/b/config.json']);
    expect(await run(['README.md'])).toEqual([]);
    expect(summarise(await runRuleOnDir(modelSigning, dir, withKey()))).toEqual(['digest-mismatch@models/a/config.json', 'digest-mismatch@models/b/config.json']);
  });

  it('reads a key given as a repository path', async () => {
    const tree = { ...repo({ key: p384 }), 'keys/signer.pub': p384.publicPem };
    expect(summarise(await runRuleOn(modelSigning, tree, { params: { signers: [{ method: 'key', 'public-key': 'keys/signer.pub' }] } }))).toEqual([]);
  });

  it('a signer that cannot be loaded is a configuration error naming the key', async () => {
    await expect(runRuleOn(modelSigning, repo({ key: p256 }), { params: { signers: [{ method: 'key', 'public-key': 'keys/missing.pub' }] } })).rejects.toThrow(ConfigurationError);
    await expect(runRuleOn(modelSigning, repo({ key: p256 }), { params: { signers: [{ method: 'key', 'public-key': '-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----' }] } })).rejects.toThrow(/signers\[0\]/);
  });
});

describe('model-signing: corrupt signature files are findings, never crashes', () => {
  const good = JSON.parse(signModel({ key: p256, files: WEIGHTS }));
  const variants: [string, string | Uint8Array, string][] = [
    ['empty', '', 'invalid-signature'],
    ['not JSON', 'PK\u0003\u0004 binary', 'invalid-signature'],
    ['random bytes', new Uint8Array([0xff, 0xfe, 0x00, 0x7b, 0x22]), 'invalid-signature'],
    ['a JSON array', '[1,2]', 'invalid-signature'],
    ['truncated', JSON.stringify(good).slice(0, 200), 'invalid-signature'],
    ['unknown media type', JSON.stringify({ ...good, mediaType: 'application/x-other' }), 'unsupported-format'],
    ['payload not base64', JSON.stringify({ ...good, dsseEnvelope: { ...good.dsseEnvelope, payload: '%%%' } }), 'invalid-signature'],
    ['two signatures', JSON.stringify({ ...good, dsseEnvelope: { ...good.dsseEnvelope, signatures: [good.dsseEnvelope.signatures[0], good.dsseEnvelope.signatures[0]] } }), 'invalid-signature'],
    ['garbage certificate', JSON.stringify({ ...good, verificationMaterial: { certificate: { rawBytes: 'AAAA' } } }), 'invalid-signature'],
    ['garbage rawBytes key', JSON.stringify({ ...good, verificationMaterial: { publicKey: { rawBytes: 'AAAA' } } }), 'invalid-signature'],
  ];
  it.each(variants)('%s', async (_name, sig, code) => {
    const tree = { ...repo({ key: p256 }), 'models/m/model.sig': sig };
    expect(summarise(await runRuleOn(modelSigning, tree, withKey()))).toEqual([`${code}@models/m/model.sig`]);
  });

  it('a well-signed statement with an unknown predicate or hash is unsupported-format', async () => {
    const st = statement({ key: p256, files: WEIGHTS });
    const other = bundleFor(Buffer.from(JSON.stringify({ ...st, predicateType: 'https://example.com/other' })), { key: p256 });
    const blake3 = bundleFor(Buffer.from(JSON.stringify({ ...st, predicate: { ...(st.predicate as object), serialization: { method: 'files', hash_type: 'blake3' } } })), { key: p256 });
    for (const sig of [other, blake3]) {
      expect(summarise(await runRuleOn(modelSigning, { ...repo({ key: p256 }), 'models/m/model.sig': sig }, withKey()))).toEqual(['unsupported-format@models/m/model.sig']);
    }
  });

  it('a manifest naming paths outside the model is refused', async () => {
    const sig = signModel({ key: p256, files: { '../../etc/passwd': 'x' } });
    expect(summarise(await runRuleOn(modelSigning, { ...repo({ key: p256 }), 'models/m/model.sig': sig }, withKey()))).toEqual(['invalid-signature@models/m/model.sig']);
  });
});

describe('model-signing: the rule\'s own examples', () => {
  it.each([['pass', modelSigning.examples.pass], ['fail', modelSigning.examples.fail]] as const)('%s example gives its expected codes', async (_n, ex) => {
    const findings = await runRuleOn(modelSigning, ex.files, { params: ex.params });
    expect(findings.map((f) => f.code).sort()).toEqual([...ex.expect].sort());
  });
});
