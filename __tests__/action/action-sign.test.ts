// The action's `command: sign`, run as the runner runs dist/index.js: it signs
// each model of the `models` input where `mlgate check` looks, keyless with
// the job's OIDC token (a local Sigstore) or with a key from a secret, and the
// check the next pull request runs accepts the signatures.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { dump } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/repo.js';
import { actionsToken, startSigstoreMock, type SigstoreMock } from '../helpers/sigstore-mock.js';
import { keyPair } from '../model-signing-signer.js';
import { runAction, workflowCommands } from './harness.js';

const WORKFLOW = 'https://github.com/acme/classifier/.github/workflows/sign-models.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
// Sign never calls the GitHub API; nothing listens here.
const NO_API = 'http://127.0.0.1:9';

const MODELS = {
  'models/clf/model.safetensors': 'clf weights',
  'models/clf/config.json': '{}',
  'models/llm/model-00001-of-00002.safetensors': 'part one',
  'models/llm/model-00002-of-00002.safetensors': 'part two',
};

function check(dir: string): { codes: string[]; code: number | null } {
  const r = runCli(['check', dir, '--format', 'json', '--policy', path.join(dir, 'policy.yml')]);
  expect(r.stderr).toBe('');
  return { codes: (JSON.parse(r.stdout) as { findings: { code: string }[] }).findings.map((f) => f.code), code: r.code };
}

const policy = (signer: Record<string, unknown>) => dump({ version: 1, rules: { 'model-signing': { level: 'error', models: ['models/*'], signers: [signer] } } });

describe('the action: command sign', () => {
  let mock: SigstoreMock;
  let runtime: Server;
  let runtimeUrl: string;
  beforeAll(async () => {
    mock = await startSigstoreMock();
    runtime = createServer((req, res) => {
      if (req.headers.authorization !== 'bearer runtime-request-token' || !req.url?.includes('audience=sigstore')) res.writeHead(403).end();
      else res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ value: actionsToken(WORKFLOW) }));
    });
    await new Promise<void>((resolve) => runtime.listen(0, '127.0.0.1', resolve));
    runtimeUrl = `http://127.0.0.1:${(runtime.address() as AddressInfo).port}/token?api-version=2.0`;
  });
  afterAll(async () => {
    await mock.close();
    await new Promise<void>((resolve) => runtime.close(() => resolve()));
  });

  it('keyless with the job OIDC token: one signature per model, the signatures output, and check passes for the workflow identity', async () => {
    const signer = { method: 'sigstore', identity: WORKFLOW, issuer: ISSUER, 'trusted-root': 'trusted_root.json' };
    const ws = await makeRepo({ ...MODELS, 'trusted_root.json': mock.trustedRoot, 'policy.yml': policy(signer) });
    const run = await runAction({
      workspace: ws,
      apiUrl: NO_API,
      eventName: 'push',
      event: {},
      sha: '0'.repeat(40),
      inputs: { command: 'sign', models: 'models/clf\nmodels/llm', 'fulcio-url': mock.url, 'rekor-url': mock.url },
      env: { ACTIONS_ID_TOKEN_REQUEST_URL: runtimeUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-request-token' },
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs.signatures).toBe('models/clf/model.sig\nmodels/llm/model.sig');
    expect(run.summary).toContain('| `models/llm/model.sig` | 2 |');
    expect(run.stdout + run.stderr).not.toContain('runtime-request-token');
    expect(check(ws)).toEqual({ codes: [], code: 0 });
  });

  it('key from a secret (PEM text, encrypted): the key and passphrase are masked, nothing of them is printed, check passes', async () => {
    const k = keyPair('P-384');
    const pem = k.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'hunter2-passphrase' }).toString();
    const signer = { method: 'key', 'public-key': k.publicPem };
    const ws = await makeRepo({ ...MODELS, 'policy.yml': policy(signer) });
    const run = await runAction({
      workspace: ws,
      apiUrl: NO_API,
      eventName: 'push',
      event: {},
      sha: '0'.repeat(40),
      inputs: { command: 'sign', models: 'models/clf, models/llm', method: 'key', key: pem, 'key-passphrase': 'hunter2-passphrase', 'shard-size': '4' },
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const masks = workflowCommands(run.stdout).filter((c) => c.command === 'add-mask').map((c) => c.message);
    expect(masks).toContain('hunter2-passphrase');
    expect(masks).toContain(pem.split('\n')[1]);
    expect(run.stdout.replace(/::add-mask::.*\n/g, '')).not.toMatch(/hunter2|ENCRYPTED PRIVATE KEY/);
    expect(JSON.parse(Buffer.from(JSON.parse(await readFile(path.join(ws, 'models/llm/model.sig'), 'utf8')).dsseEnvelope.payload, 'base64').toString()).predicate.serialization.method).toBe('shards');
    expect(check(ws)).toEqual({ codes: [], code: 0 });
  });

  it('bad inputs are exit 2 with the input named; keyless without id-token permission says what to grant', async () => {
    const ws = await makeRepo(MODELS);
    const base = { workspace: ws, apiUrl: NO_API, eventName: 'push', event: {}, sha: '0'.repeat(40) };
    const cases: [Record<string, string>, RegExp][] = [
      [{ command: 'chek' }, /Input "command" must be "check" or "sign"; got "chek" \(did you mean "check"\?\)/],
      [{ command: 'sign' }, /Input "models" is empty/],
      [{ command: 'sign', models: '../elsewhere' }, /Input "models" must name a path inside the workspace/],
      [{ command: 'sign', models: 'models/clf', method: 'key' }, /Input "key" is required with method: key/],
      [{ command: 'sign', models: 'models/clf', method: 'keys' }, /Input "method" must be one of sigstore, key, certificate; got "keys"/],
      [{ command: 'sign', models: 'models/clf' }, /permissions: id-token: write/],
    ];
    for (const [inputs, message] of cases) {
      const run = await runAction({ ...base, inputs });
      expect(run.code, JSON.stringify(inputs)).toBe(2);
      expect(workflowCommands(run.stdout).find((c) => c.command === 'error')?.message).toMatch(message);
    }
    expect((await readdir(path.join(ws, 'models/clf'))).sort()).toEqual(['config.json', 'model.safetensors']);
  });
});
