// Every runnable case of the interop corpus (model_signing's signed models and
// the OMS test vectors, copied with their licences into fixtures/) must get
// the verdict cases.json records, through the rule as the engine runs it.
import { readFileSync } from 'node:fs';
import { appendFile, cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelSigning } from '../src/checks/model-signing.js';
import { dump } from 'js-yaml';
import { runCli } from './helpers/cli.js';
import { makeRepo, runRuleOnDir, summarise, writeTree } from './helpers/repo.js';

const CORPUS = path.join(import.meta.dirname, 'fixtures/model-signing');

interface Case {
  id: string;
  model: string | { copy_into_tempdir: string[] };
  signature: string;
  method: 'key' | 'certificate' | 'sigstore';
  material: { public_key?: string; certificate_chain?: string[]; identity?: string; oidc_issuer?: string; trusted_root?: string };
  ignore_paths: string[];
  ignore_unsigned_files: boolean;
  mutation?: Record<string, unknown> & { op: string };
  expect: string;
}

const cases = (JSON.parse(readFileSync(path.join(CORPUS, 'cases.json'), 'utf8')) as { cases: Case[] }).cases;
const runnable = cases.filter((c) => c.expect === 'pass' || c.expect === 'fail');

/** The sub-code each failing case must produce (the reason, not just "some failure"). */
const FAIL_CODE: Record<string, string> = {
  'mt-v1.0.1-key-no-ignore': 'extra-file',
  'mt-v1.0.1-sigstore-no-ignore': 'extra-file',
  'mt-v1.1.0-sigstore-custom-root': 'untrusted-signer',
  'mt-v1.1.0-sigstore-wrong-identity': 'untrusted-signer',
  'mt-v1.1.0-sigstore-wrong-issuer': 'untrusted-signer',
  'mt-v1.1.0-key-wrong-key': 'untrusted-signer',
  'mt-v1.1.0-certificate-intermediate-only': 'untrusted-signer',
  'mut-tampered-file': 'digest-mismatch',
  'mut-missing-file': 'missing-file',
  'mut-extra-file': 'extra-file',
  'mut-git-dir-nested': 'extra-file',
  'mut-payload-digest-edited': 'invalid-signature',
  'mut-sig-bit-flip': 'invalid-signature',
  'oms-wrong-predicate': 'invalid-signature',
  'oms-invalid-empty': 'invalid-signature',
  'oms-invalid-missing-envelope': 'invalid-signature',
  'oms-invalid-missing-verification-material': 'invalid-signature',
  'oms-invalid-missing-tlog-entries': 'untrusted-signer',
};

const text = (rel: string) => readFileSync(path.join(CORPUS, rel), 'utf8');

function signer(c: Case): Record<string, unknown> {
  if (c.method === 'key') return { method: 'key', 'public-key': text(c.material.public_key!) };
  if (c.method === 'certificate') return { method: 'certificate', roots: c.material.certificate_chain!.map(text) };
  return { method: 'sigstore', identity: c.material.identity, issuer: c.material.oidc_issuer, 'trusted-root': text(c.material.trusted_root!) };
}

async function editBundle(file: string, edit: (b: { dsseEnvelope: { payload: string; signatures: { sig: string }[] } }) => void): Promise<void> {
  const bundle = JSON.parse(await readFile(file, 'utf8'));
  edit(bundle);
  await writeFile(file, JSON.stringify(bundle));
}

/**
 * Lays the case out as a repository: the model at `model/` (a single-file
 * model at `model/<name>` with its signature beside it). A bundle that lives
 * outside the model goes in as `model/external.sig`: the rule always leaves
 * the signature file out of the comparison, so that is equivalent.
 */
async function layout(c: Case): Promise<{ dir: string; params: Record<string, unknown> }> {
  const dir = await makeRepo({});
  const model = path.join(dir, 'model');
  let signature = path.basename(c.signature);
  let models = ['model'];
  if (typeof c.model === 'object') {
    await mkdir(model);
    for (const f of c.model.copy_into_tempdir) await cp(path.join(CORPUS, f), path.join(model, path.basename(f)));
    signature = 'external.sig';
    await cp(path.join(CORPUS, c.signature), path.join(model, signature));
  } else if (c.model.endsWith('signme-1')) {
    await mkdir(model);
    await cp(path.join(CORPUS, c.model), path.join(model, 'signme-1'));
    await cp(path.join(CORPUS, c.signature), path.join(model, signature));
    models = ['model/signme-1'];
  } else {
    await cp(path.join(CORPUS, c.model), model, { recursive: true });
    if (path.dirname(c.signature) !== c.model) {
      signature = 'external.sig';
      await cp(path.join(CORPUS, c.signature), path.join(model, signature));
    }
  }
  const m = c.mutation;
  const at = (p: unknown) => path.join(model, String(p));
  if (m?.op === 'append_bytes') await appendFile(at(m.path), Buffer.from(String(m.hex), 'hex'));
  if (m?.op === 'delete') await rm(at(m.path));
  if (m?.op === 'write') {
    await mkdir(path.dirname(at(m.path)), { recursive: true });
    await writeFile(at(m.path), Buffer.from(String(m.hex), 'hex'));
  }
  if (m?.op === 'write_many') {
    for (const [p, content] of Object.entries(m.files as Record<string, string>)) {
      await mkdir(path.dirname(at(p)), { recursive: true });
      await writeFile(at(p), content);
    }
  }
  if (m?.op === 'rename') {
    await rename(at(m.from), at(m.to));
    signature = String(m.signature);
  }
  if (m?.op === 'edit_payload') {
    await editBundle(at(signature), (b) => {
      const statement = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8'));
      const digest: string = statement.predicate.resources[0].digest;
      statement.predicate.resources[0].digest = digest.slice(0, -1) + (digest.endsWith('0') ? '1' : '0');
      b.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement, null, 2)).toString('base64');
    });
  }
  if (m?.op === 'flip_sig_bit') {
    await editBundle(at(signature), (b) => {
      const sig = Buffer.from(b.dsseEnvelope.signatures[0]!.sig, 'base64');
      sig[Number(m.byte)]! ^= 1;
      b.dsseEnvelope.signatures[0]!.sig = sig.toString('base64');
    });
  }
  const params: Record<string, unknown> = { models, signature, signers: [signer(c)] };
  if (c.ignore_paths.length > 0) params['ignore-paths'] = c.ignore_paths;
  if (c.ignore_unsigned_files) params['ignore-unsigned-files'] = true;
  return { dir, params };
}

describe('model-signing interop corpus (cases.json)', () => {
  it('has every runnable case and a code for every failing one', () => {
    expect(runnable.length).toBe(40);
    for (const c of runnable.filter((x) => x.expect === 'fail')) expect(FAIL_CODE[c.id], c.id).toBeDefined();
  });

  it.each(runnable.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const { dir, params } = await layout(c);
    const findings = await runRuleOnDir(modelSigning, dir, { params });
    if (c.expect === 'pass') expect(summarise(findings)).toEqual([]);
    else expect(findings.map((f) => f.code)).toContain(FAIL_CODE[c.id]);
  });
});

describe('model-signing interop: defaults', () => {
  const sigstoreModel = runnable.find((c) => c.id === 'mt-v1.1.0-sigstore')!;

  it('verifies a public-good Sigstore signature with the bundled trusted root', async () => {
    const { dir, params } = await layout(sigstoreModel);
    const signers = [{ method: 'sigstore', identity: 'stefanb@us.ibm.com', issuer: 'https://sigstore.verify.ibm.com/oauth2' }];
    expect(summarise(await runRuleOnDir(modelSigning, dir, { params: { ...params, signers } }))).toEqual([]);
  });

  it('without signers, names who signed and still checks the files', async () => {
    const { dir, params } = await layout({ ...sigstoreModel, mutation: { op: 'write', path: 'extra.bin', hex: '00' } });
    const findings = await runRuleOnDir(modelSigning, dir, { params: { ...params, signers: [] } });
    expect(summarise(findings)).toEqual(['extra-file@model/extra.bin', 'untrusted-signer@model/model.sig']);
    expect(findings.find((f) => f.code === 'untrusted-signer')?.message).toMatch(/stefanb@us\.ibm\.com.*add this signer/);
  });
});

/**
 * The same corpus through the bundled CLI, as a user runs it: the signer
 * material sits in the repository as files the policy names by path, so the
 * engine's policy-file inlining is exercised too.
 */
describe('model-signing interop corpus through `mlgate check`', () => {
  function signerByPath(c: Case): { signer: Record<string, unknown>; files: Record<string, string> } {
    const files: Record<string, string> = {};
    const put = (rel: string) => {
      const name = `keys/${path.basename(rel)}`;
      files[name] = text(rel);
      return name;
    };
    if (c.method === 'key') return { signer: { method: 'key', 'public-key': put(c.material.public_key!) }, files };
    if (c.method === 'certificate') return { signer: { method: 'certificate', roots: c.material.certificate_chain!.map(put) }, files };
    return { signer: { method: 'sigstore', identity: c.material.identity, issuer: c.material.oidc_issuer, 'trusted-root': put(c.material.trusted_root!) }, files };
  }

  it.each(runnable.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const { dir, params } = await layout(c);
    const { signer, files } = signerByPath(c);
    const policy = { version: 1, rules: { 'model-signing': { level: 'error', ...params, signers: [signer] } } };
    await writeTree(dir, { ...files, '.github/mlgate.yml': dump(policy) });
    const r = runCli(['check', dir, '--format', 'json']);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as { conclusion: string; findings: { code: string | null }[]; stats: { bytesHashed: number } };
    if (c.expect === 'pass') {
      expect(report.findings.map((f) => f.code)).toEqual([]);
      expect(report.stats.bytesHashed).toBeGreaterThan(0);
      expect([report.conclusion, r.code]).toEqual(['success', 0]);
    } else {
      expect(report.findings.map((f) => f.code)).toContain(`model-signing/${FAIL_CODE[c.id]}`);
      expect([report.conclusion, r.code]).toEqual(['failure', 1]);
    }
  });
});
