// Sigstore keyless signing, offline: a local Fulcio, Rekor and TSA built from
// @sigstore/mock issue the certificate, the log entry and the timestamp; the
// bundle then verifies with `mlgate check` against a trusted root made of the
// mock's keys, for the workflow identity that signed it, and no other.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { dump } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliAsync } from './helpers/cli-async.js';
import { makeRepo } from './helpers/repo.js';
import { actionsToken, startSigstoreMock, type SigstoreMock } from './helpers/sigstore-mock.js';
import { runCli } from './helpers/cli.js';

const WORKFLOW = 'https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const NO_AMBIENT = { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '', SIGSTORE_ID_TOKEN: '' };

let mock: SigstoreMock;
beforeAll(async () => {
  mock = await startSigstoreMock();
});
afterAll(() => mock.close());

async function repo(identity = WORKFLOW): Promise<string> {
  const policy = { version: 1, rules: { 'model-signing': { level: 'error', models: ['model'], signers: [{ method: 'sigstore', identity, issuer: ISSUER, 'trusted-root': 'keys/trusted_root.json' }] } } };
  return makeRepo({ 'model/weights.safetensors': 'weights', 'model/config.json': '{}', 'keys/trusted_root.json': mock.trustedRoot, '.github/mlgate.yml': dump(policy) });
}

const services = (extra: string[] = []) => ['--fulcio-url', mock.url, '--rekor-url', mock.url, ...extra];

function check(dir: string): { codes: string[]; code: number | null } {
  const r = runCli(['check', dir, '--format', 'json']);
  expect(r.stderr).toBe('');
  return { codes: (JSON.parse(r.stdout) as { findings: { code: string }[] }).findings.map((f) => f.code), code: r.code };
}

describe('keyless signing against a local Sigstore', () => {
  it('--identity-token: Fulcio certificate + Rekor dsse entry + TSA timestamp; check passes for that workflow identity', async () => {
    const dir = await repo();
    const r = await runCliAsync(['sign', path.join(dir, 'model'), '--identity-token', actionsToken(WORKFLOW), ...services(['--tsa-url', mock.url])], { env: NO_AMBIENT });
    expect([r.stderr, r.code]).toEqual(['', 0]);
    const bundle = JSON.parse(await readFile(path.join(dir, 'model/model.sig'), 'utf8'));
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.verificationMaterial.certificate.rawBytes).toBeTruthy();
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' });
    expect(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    expect(bundle.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(check(dir)).toEqual({ codes: [], code: 0 });
  });

  it('another identity in the policy → untrusted-signer', async () => {
    const dir = await repo('https://github.com/acme/models/.github/workflows/other.yml@refs/heads/main');
    const r = await runCliAsync(['sign', path.join(dir, 'model'), '--identity-token', actionsToken(WORKFLOW), ...services()], { env: NO_AMBIENT });
    expect(r.code).toBe(0);
    expect(check(dir)).toEqual({ codes: ['model-signing/untrusted-signer'], code: 1 });
  });

  describe('the token from the GitHub Actions runtime', () => {
    let runtime: Server;
    let runtimeUrl: string;
    const asked: string[] = [];
    beforeAll(async () => {
      runtime = createServer((req, res) => {
        asked.push(`${req.url} ${req.headers.authorization}`);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ value: actionsToken(WORKFLOW) }));
      });
      await new Promise<void>((resolve) => runtime.listen(0, '127.0.0.1', resolve));
      runtimeUrl = `http://127.0.0.1:${(runtime.address() as AddressInfo).port}/idtoken?api-version=2.0`;
    });
    afterAll(() => new Promise<void>((resolve) => runtime.close(() => resolve())));

    it('is the default method in Actions: audience sigstore, and the signature verifies', async () => {
      const dir = await repo();
      const r = await runCliAsync(['sign', path.join(dir, 'model'), ...services()], {
        env: { ...NO_AMBIENT, ACTIONS_ID_TOKEN_REQUEST_URL: runtimeUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-bearer' },
      });
      expect([r.stderr, r.code]).toEqual(['', 0]);
      expect(r.stdout).toContain('Sigstore keyless');
      expect(asked).toEqual(['/idtoken?api-version=2.0&audience=sigstore bearer runtime-bearer']);
      expect(check(dir)).toEqual({ codes: [], code: 0 });
    });
  });

  describe('service failures', () => {
    it('a Fulcio 503 is retried, and the signing succeeds', async () => {
      const dir = await repo();
      const before = mock.requests.length;
      mock.failNext('/api/v2/signingCert', 503, 1);
      const r = await runCliAsync(['sign', path.join(dir, 'model'), '--identity-token', actionsToken(WORKFLOW), ...services()], { env: NO_AMBIENT });
      expect([r.stderr, r.code]).toEqual(['', 0]);
      expect(mock.requests.slice(before)).toEqual(['POST /api/v2/signingCert', 'POST /api/v2/signingCert', 'POST /api/v1/log/entries']);
      expect(check(dir)).toEqual({ codes: [], code: 0 });
    });

    it('a Rekor that keeps answering 502 is exit 3 after retries, with no signature file', async () => {
      const dir = await repo();
      const before = mock.requests.length;
      mock.failNext('/api/v1/log/entries', 502, 10);
      const r = await runCliAsync(['sign', path.join(dir, 'model'), '--identity-token', actionsToken(WORKFLOW), ...services()], { env: NO_AMBIENT });
      mock.failNext('/api/v1/log/entries', 502, 0);
      expect(r.stderr).toMatch(/^mlgate: Rekor could not record the signature in the transparency log \(HTTP 502, after retries: mock failure\)\n$/);
      expect(r.code).toBe(3);
      expect(mock.requests.slice(before).filter((x) => x.endsWith('/log/entries'))).toHaveLength(4);
      expect((await readdir(path.join(dir, 'model'))).sort()).toEqual(['config.json', 'weights.safetensors']);
    });

    it('a Fulcio 4xx is not retried: exit 3 with the status, the token never printed', async () => {
      const dir = await repo();
      const token = actionsToken(WORKFLOW);
      const before = mock.requests.length;
      mock.failNext('/api/v2/signingCert', 401, 1);
      const r = await runCliAsync(['sign', path.join(dir, 'model'), '--identity-token', token, ...services()], { env: NO_AMBIENT });
      expect(r.stderr).toMatch(/Fulcio could not issue a signing certificate \(HTTP 401/);
      expect(r.stderr + r.stdout).not.toContain(token.split('.')[1]);
      expect(r.code).toBe(3);
      expect(mock.requests.slice(before)).toEqual(['POST /api/v2/signingCert']);
      expect((await readdir(path.join(dir, 'model'))).sort()).toEqual(['config.json', 'weights.safetensors']);
    });
  });
});
