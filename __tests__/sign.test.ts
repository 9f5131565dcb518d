// mlgate sign: what it writes verifies with mlgate check (through the bundled
// CLI), for each method; any change to the model after signing gets the
// sub-code that names it; bad input is exit 2 (or 3) with no file left behind.
import { Buffer } from 'node:buffer';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { dump } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelSigning } from '../src/checks/model-signing.js';
import { ConfigurationError } from '../src/core/errors.js';
import { signModel } from '../src/signing/sign.js';
import { runCli } from './helpers/cli.js';
import { runCliAsync } from './helpers/cli-async.js';
import { gitIn, makeRepo, runRuleOnDir, writeTree } from './helpers/repo.js';
import { certificate, keyPair, lfsPointer, type Curve, type KeyPair } from './model-signing-signer.js';

const MODEL = {
  'model/weights.safetensors': Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 256)),
  'model/config.json': '{"hidden": 16}\n',
  'model/tokenizer/vocab.txt': 'a\nb\nc\n',
  'model/.gitattributes': '*.safetensors filter=lfs\n',
};

const pkcs8 = (k: KeyPair, passphrase?: string): string =>
  k.privateKey.export({ type: 'pkcs8', format: 'pem', ...(passphrase ? { cipher: 'aes-256-cbc', passphrase } : {}) }).toString();

/** A repository holding the model, the signing material (outside the model) and a policy trusting `signer`. */
async function repoWith(files: Record<string, string | Uint8Array>, signer?: Record<string, unknown>): Promise<string> {
  const policy = { version: 1, rules: { 'model-signing': { level: 'error', models: ['model'], ...(signer ? { signers: [signer] } : {}) } } };
  return makeRepo({ ...MODEL, ...files, '.github/mlgate.yml': dump(policy) });
}

function checkCodes(dir: string): { codes: string[]; code: number | null } {
  const r = runCli(['check', dir, '--format', 'json']);
  expect(r.stderr).toBe('');
  return { codes: (JSON.parse(r.stdout) as { findings: { code: string }[] }).findings.map((f) => f.code), code: r.code };
}

const payloadOf = async (sig: string) => JSON.parse(Buffer.from(JSON.parse(await readFile(sig, 'utf8')).dsseEnvelope.payload, 'base64').toString('utf8'));
const leftovers = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.tmp') || n === 'model.sig');

describe('mlgate sign → mlgate check (dist/cli.js)', () => {
  it.each<Curve>(['P-256', 'P-384', 'P-521'])('key method, %s: the signature verifies with the matching public key', async (curve) => {
    const k = keyPair(curve);
    const dir = await repoWith({ 'keys/signing.pem': pkcs8(k) }, { method: 'key', 'public-key': k.publicPem });
    const r = runCli(['sign', path.join(dir, 'model'), '--key', path.join(dir, 'keys/signing.pem')]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/signed 3 files \(3 resources, \d+ bytes hashed\).*model\.sig/);
    const bundle = JSON.parse(await readFile(path.join(dir, 'model/model.sig'), 'utf8'));
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.verificationMaterial).toEqual({ publicKey: { hint: createHash('sha256').update(k.publicPem).digest('hex') }, tlogEntries: [] });
    expect(checkCodes(dir)).toEqual({ codes: [], code: 0 });
  });

  it('key method with an encrypted key and its passphrase from the environment', async () => {
    const k = keyPair('P-384');
    const dir = await repoWith({ 'keys/enc.pem': pkcs8(k, 'correct horse') }, { method: 'key', 'public-key': k.publicPem });
    const r = runCli(['sign', path.join(dir, 'model'), '--key', path.join(dir, 'keys/enc.pem'), '--key-passphrase-env', 'MODEL_KEY_PASS'], { env: { MODEL_KEY_PASS: 'correct horse' } });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(checkCodes(dir)).toEqual({ codes: [], code: 0 });
  });

  it('certificate method: leaf and intermediate in the bundle, the policy trusts the root', async () => {
    const root = certificate({ cn: 'Acme Root CA', key: keyPair('P-384'), ca: true });
    const intermediate = certificate({ cn: 'Acme Signing CA', key: keyPair('P-256'), issuer: root, ca: true });
    const leafKey = keyPair('P-256');
    const leaf = certificate({ cn: 'release-bot', key: leafKey, issuer: intermediate, codeSigning: true });
    const dir = await repoWith({ 'keys/leaf.pem': leaf.pem, 'keys/int.pem': intermediate.pem, 'keys/leaf-key.pem': pkcs8(leafKey) }, { method: 'certificate', roots: [root.pem] });
    const k = (f: string) => path.join(dir, 'keys', f);
    const r = runCli(['sign', path.join(dir, 'model'), '--certificate', k('leaf.pem'), '--chain', k('int.pem'), '--key', k('leaf-key.pem')]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const bundle = JSON.parse(await readFile(path.join(dir, 'model/model.sig'), 'utf8'));
    expect(bundle.verificationMaterial.x509CertificateChain.certificates.map((c: { rawBytes: string }) => c.rawBytes)).toEqual([leaf.der.toString('base64'), intermediate.der.toString('base64')]);
    expect(checkCodes(dir)).toEqual({ codes: [], code: 0 });
  });

  it('shards: --shard-size signs byte ranges that check verifies', async () => {
    const k = keyPair();
    const dir = await repoWith({ 'keys/k.pem': pkcs8(k) }, { method: 'key', 'public-key': k.publicPem });
    const r = runCli(['sign', path.join(dir, 'model'), '--key', path.join(dir, 'keys/k.pem'), '--shard-size', '128']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const statement = await payloadOf(path.join(dir, 'model/model.sig'));
    expect(statement.predicate.serialization).toMatchObject({ method: 'shards', shard_size: 128 });
    expect(statement.predicate.resources.map((x: { name: string }) => x.name)).toEqual([
      'config.json:0:15',
      'tokenizer/vocab.txt:0:6',
      'weights.safetensors:0:128',
      'weights.safetensors:128:256',
      'weights.safetensors:256:300',
    ]);
    expect(checkCodes(dir)).toEqual({ codes: [], code: 0 });
  });

  it('a single-file model is signed as "." with the signature beside it', async () => {
    const k = keyPair();
    const dir = await makeRepo({
      'models/clf.safetensors': 'weights',
      'k.pem': pkcs8(k),
      '.github/mlgate.yml': dump({ version: 1, rules: { 'model-signing': { level: 'error', models: ['models/clf.safetensors'], signers: [{ method: 'key', 'public-key': k.publicPem }] } } }),
    });
    const r = runCli(['sign', path.join(dir, 'models/clf.safetensors'), '--key', path.join(dir, 'k.pem')]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect((await payloadOf(path.join(dir, 'models/model.sig'))).predicate.resources.map((x: { name: string }) => x.name)).toEqual(['.']);
    expect(checkCodes(dir)).toEqual({ codes: [], code: 0 });
  });

  it('--ignore-paths leaves a file out and records it, so check needs no policy ignore', async () => {
    const k = keyPair();
    const dir = await repoWith({ 'model/notes/draft.md': 'wip', 'model/cache.tmp': 'x', 'k.pem': pkcs8(k) }, { method: 'key', 'public-key': k.publicPem });
    const r = runCli(['sign', path.join(dir, 'model'), '--key', path.join(dir, 'k.pem'), '--ignore-paths', 'notes', '--ignore-paths', '*.tmp']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const ser = (await payloadOf(path.join(dir, 'model/model.sig'))).predicate.serialization;
    expect([...ser.ignore_paths].sort()).toEqual(['.git', '.gitattributes', '.github', '.gitignore', 'cache.tmp', 'model.sig', 'notes']);
    expect(checkCodes(dir)).toEqual({ codes: [], code: 0 });
  });
});

describe('git-ignored files in the model', () => {
  it('are signed as model_signing would, with a warning that a clone will not have them; tracked files are not named', async () => {
    const k = keyPair();
    const dir = await makeRepo({ ...MODEL, '.gitignore': '*.log\n', 'model/train.log': 'epoch 1', 'k.pem': pkcs8(k) }, { git: true });
    const r = runCli(['sign', path.join(dir, 'model'), '--key', path.join(dir, 'k.pem')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('mlgate: warning: git ignores train.log, so it is signed but not in the repository: once the signature is committed, mlgate check on a clone reports it missing. Unless the model ships outside git, sign again with --ignore-paths for each, or delete them\n');
    expect((await payloadOf(path.join(dir, 'model/model.sig'))).predicate.resources.map((x: { name: string }) => x.name)).toContain('train.log');
    gitIn(dir, 'add', '-f', 'model/train.log');
    expect(runCli(['sign', path.join(dir, 'model'), '--key', path.join(dir, 'k.pem')]).stderr).toBe('');
  });
});

describe('changes after signing get their own sub-code', () => {
  const k = keyPair();
  const params = { models: ['model'], signers: [{ method: 'key', 'public-key': k.publicPem }] };
  let keyFile: string;
  beforeAll(async () => {
    keyFile = path.join(await makeRepo({ 'k.pem': pkcs8(k) }), 'k.pem');
  });

  async function signed(shardSize?: number): Promise<string> {
    const dir = await makeRepo(MODEL);
    await signModel({ modelRoot: path.join(dir, 'model'), ...(shardSize ? { shardSize } : {}), signer: { method: 'key', key: keyFile } });
    expect(await runRuleOnDir(modelSigning, dir, { params })).toEqual([]);
    return dir;
  }
  const codes = async (dir: string) => (await runRuleOnDir(modelSigning, dir, { params })).map((f) => `${f.code} ${f.path}`);

  it('one byte changed → digest-mismatch on that file (files and shards)', async () => {
    for (const shardSize of [undefined, 100]) {
      const dir = await signed(shardSize);
      const file = path.join(dir, 'model/weights.safetensors');
      const bytes = await readFile(file);
      bytes[150]! ^= 1;
      await writeFile(file, bytes);
      expect(await codes(dir)).toEqual(['digest-mismatch model/weights.safetensors']);
    }
  });

  it('a file added → extra-file', async () => {
    const dir = await signed();
    await writeTree(dir, { 'model/adapter.safetensors': 'new' });
    expect(await codes(dir)).toEqual(['extra-file model/adapter.safetensors']);
  });

  it('a file removed → missing-file', async () => {
    const dir = await signed();
    await rm(path.join(dir, 'model/config.json'));
    expect(await codes(dir)).toEqual(['missing-file model/model.sig']);
  });

  it('a file renamed → renamed-file', async () => {
    const dir = await signed();
    await rename(path.join(dir, 'model/config.json'), path.join(dir, 'model/config.old.json'));
    expect(await codes(dir)).toEqual(['renamed-file model/config.old.json']);
  });

  it('signed with a key the policy does not trust → untrusted-signer', async () => {
    const dir = await makeRepo(MODEL);
    const other = keyPair('P-384');
    const otherFile = path.join(dir, 'other.pem');
    await writeFile(otherFile, pkcs8(other));
    await signModel({ modelRoot: path.join(dir, 'model'), signer: { method: 'key', key: otherFile } });
    expect(await codes(dir)).toEqual(['untrusted-signer model/model.sig']);
  });
});

describe('Git LFS pointers', () => {
  const content = Buffer.from('the real weights, not in this checkout');

  it('are refused without --lfs-oid, with what to do, and nothing is written', async () => {
    const k = keyPair();
    const dir = await repoWith({ 'model/weights.safetensors': lfsPointer(content), 'k.pem': pkcs8(k) });
    const r = runCli(['sign', path.join(dir, 'model'), '--key', path.join(dir, 'k.pem')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('weights.safetensors is a Git LFS pointer, not the model content');
    expect(r.stderr).toContain('git lfs pull');
    expect(r.stderr).toContain('--lfs-oid');
    expect(await leftovers(path.join(dir, 'model'))).toEqual([]);
  });

  it('with --lfs-oid the oid is the signed digest: check answers the pointer by its oid, and the fetched content verifies too', async () => {
    const k = keyPair();
    const dir = await repoWith({ 'model/weights.safetensors': lfsPointer(content), 'k.pem': pkcs8(k) }, { method: 'key', 'public-key': k.publicPem });
    const r = runCli(['sign', path.join(dir, 'model'), '--key', path.join(dir, 'k.pem'), '--lfs-oid']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const res = (await payloadOf(path.join(dir, 'model/model.sig'))).predicate.resources;
    expect(res.find((x: { name: string }) => x.name === 'weights.safetensors').digest).toBe(createHash('sha256').update(content).digest('hex'));
    expect(checkCodes(dir)).toEqual({ codes: [], code: 0 });
    await writeFile(path.join(dir, 'model/weights.safetensors'), content);
    expect(checkCodes(dir)).toEqual({ codes: [], code: 0 });
  });
});

describe('bad input: a clear message, exit 2 or 3, no signature file', () => {
  let dir: string;
  const k = keyPair();
  beforeAll(async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const k256 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const stranger = certificate({ cn: 'someone else', key: keyPair(), codeSigning: true });
    const noCodeSigning = certificate({ cn: 'no eku', key: k });
    dir = await makeRepo({ ...MODEL, 'k.pem': pkcs8(k), 'rsa.pem': rsa, 'k1.pem': k256, 'enc.pem': pkcs8(k, 'right'), 'stranger.pem': stranger.pem, 'noeku.pem': noCodeSigning.pem, 'junk.pem': 'not a key' });
  });
  const model = () => path.join(dir, 'model');
  const f = (n: string) => path.join(dir, n);

  const cases: [string, () => string[], Record<string, string>, number, RegExp][] = [
    ['a missing model root', () => ['sign', f('nope'), '--key', f('k.pem')], {}, 2, /model root .*nope: no such file or directory/],
    ['a key that is not a key', () => ['sign', model(), '--key', f('junk.pem')], {}, 2, /is not a PEM private key/],
    ['an RSA key', () => ['sign', model(), '--key', f('rsa.pem')], {}, 2, /is not an ECDSA key \(it is RSA\); OMS signatures use ECDSA on P-256, P-384 or P-521/],
    ['an EC key on another curve', () => ['sign', model(), '--key', f('k1.pem')], {}, 2, /EC key on curve secp256k1/],
    ['an encrypted key without a passphrase', () => ['sign', model(), '--key', f('enc.pem')], {}, 2, /is encrypted: pass .* --key-passphrase-env/],
    ['a wrong passphrase', () => ['sign', model(), '--key', f('enc.pem'), '--key-passphrase-env', 'P'], { P: 'wrong' }, 2, /could not be decrypted: the passphrase is wrong/],
    ['an unset passphrase variable', () => ['sign', model(), '--key', f('enc.pem'), '--key-passphrase-env', 'UNSET_VAR_X'], {}, 2, /UNSET_VAR_X: that environment variable is not set/],
    ['a certificate of another key', () => ['sign', model(), '--certificate', f('stranger.pem'), '--key', f('k.pem')], {}, 2, /is not the certificate of the private key/],
    ['a certificate without code signing', () => ['sign', model(), '--certificate', f('noeku.pem'), '--key', f('k.pem')], {}, 2, /does not allow code signing/],
    ['keyless with no token outside Actions', () => ['sign', model()], {}, 2, /needs an OIDC identity token.*id-token: write.*--identity-token/],
    ['a token that is not a JWT', () => ['sign', model(), '--identity-token', 'abc'], {}, 2, /identity token is not a JWT/],
    ['a plain-http Fulcio', () => ['sign', model(), '--identity-token', 'a.b.c', '--fulcio-url', 'http://fulcio.example.com'], {}, 2, /--fulcio-url must be an https URL/],
    ['a zero shard size', () => ['sign', model(), '--key', f('k.pem'), '--shard-size', '0'], {}, 2, /positive whole number/],
    ['a signature directory that does not exist', () => ['sign', model(), '--key', f('k.pem'), '--signature', f('no/such/dir/model.sig')], {}, 2, /its directory does not exist/],
  ];

  it.each(cases)('%s', async (_name, args, env, code, message) => {
    const r = runCli(args(), { env: { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '', SIGSTORE_ID_TOKEN: '', ...env } });
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(code);
    expect(await leftovers(model())).toEqual([]);
  });

  it('a symbolic link in the model is refused, not followed', async () => {
    const d = await makeRepo({ ...MODEL, 'k.pem': pkcs8(k), 'outside.bin': 'secret' });
    await symlink(path.join(d, 'outside.bin'), path.join(d, 'model/linked.bin'));
    await expect(signModel({ modelRoot: path.join(d, 'model'), signer: { method: 'key', key: path.join(d, 'k.pem') } })).rejects.toThrow(ConfigurationError);
    await expect(signModel({ modelRoot: path.join(d, 'model'), signer: { method: 'key', key: path.join(d, 'k.pem') } })).rejects.toThrow(/symbolic links.*"linked.bin"/);
    expect(existsSync(path.join(d, 'model/model.sig'))).toBe(false);
  });

  it('an existing signature is replaced whole, never left half written', async () => {
    const d = await makeRepo({ ...MODEL, 'k.pem': pkcs8(k) });
    await writeFile(path.join(d, 'model/model.sig'), 'old');
    await signModel({ modelRoot: path.join(d, 'model'), signer: { method: 'key', key: path.join(d, 'k.pem') } });
    expect(JSON.parse(await readFile(path.join(d, 'model/model.sig'), 'utf8')).mediaType).toContain('bundle.v0.3');
    expect((await readdir(path.join(d, 'model'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  describe('the GitHub Actions OIDC endpoint', () => {
    let server: Server;
    let url: string;
    const seen: { auth?: string; url?: string }[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        seen.push({ auth: req.headers.authorization, url: req.url });
        res.writeHead(500).end('runtime unavailable');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token?api-version=2.0`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('a failing token request is exit 3, asks with audience sigstore, and never prints the request token', async () => {
      const r = await runCliAsync(['sign', model()], { env: { ACTIONS_ID_TOKEN_REQUEST_URL: url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-secret-123', SIGSTORE_ID_TOKEN: '' } });
      expect(r.stderr).toMatch(/GitHub Actions OIDC token request was refused \(HTTP 500\)/);
      expect(r.code).toBe(3);
      expect(r.stderr + r.stdout).not.toContain('runtime-secret-123');
      expect(seen.at(-1)).toEqual({ auth: 'bearer runtime-secret-123', url: '/token?api-version=2.0&audience=sigstore' });
      expect(await leftovers(model())).toEqual([]);
    });
  });

  it('appending to a file after signing is caught even when its size class is unchanged in shards', async () => {
    const d = await makeRepo({ ...MODEL, 'k.pem': pkcs8(k) });
    await signModel({ modelRoot: path.join(d, 'model'), shardSize: 300, signer: { method: 'key', key: path.join(d, 'k.pem') } });
    await appendFile(path.join(d, 'model/weights.safetensors'), 'x');
    const findings = await runRuleOnDir(modelSigning, d, { params: { models: ['model'], signers: [{ method: 'key', 'public-key': k.publicPem }] } });
    expect(findings.map((x) => x.code)).toEqual(['digest-mismatch']);
  });
});
