import * as core from '@actions/core';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigurationError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { SIGSTORE_INSTANCES } from '../signing/instances.js';
import { actionsIdToken } from '../signing/oidc.js';
import type { SignMethod, SignResult } from '../signing/sign.js';
import type { InputReader } from './inputs.js';
import { defuse } from './logger.js';

export type Command = 'check' | 'sign';
const COMMANDS: readonly Command[] = ['check', 'sign'];
const METHODS = ['sigstore', 'key', 'certificate'] as const;

export function readCommand(read: InputReader): Command {
  const value = (read('command') || 'check').toLowerCase();
  if ((COMMANDS as readonly string[]).includes(value)) return value as Command;
  throw new ConfigurationError(`Input "command" must be "check" or "sign"; got ${JSON.stringify(value)}${didYouMean(value, COMMANDS)}.`);
}

/** Multi-line or comma-separated inputs, as other actions take lists. */
const list = (value: string): string[] =>
  value
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');

function insideWorkspace(name: string, value: string, workspace: string): string {
  const abs = path.resolve(workspace, value);
  const rel = path.relative(workspace, abs);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new ConfigurationError(`Input "${name}" must name a path inside the workspace, got ${JSON.stringify(value)}.`);
  return abs;
}

interface Material {
  method: (typeof METHODS)[number];
  key?: string;
  certificate?: string;
  chain: string[];
  passphrase?: string;
}

/**
 * Key material comes from secrets as PEM text, or as a path in the workspace.
 * PEM text is written to a private temporary file for the signer and removed
 * afterwards; the text itself is masked in the log.
 */
async function materialFile(name: string, value: string, workspace: string, tempDir: string): Promise<string> {
  if (!value.includes('-----BEGIN')) return insideWorkspace(name, value, workspace);
  for (const line of value.split(/\r?\n/)) if (line.trim().length > 8 && !line.startsWith('-----')) core.setSecret(line.trim());
  const file = path.join(tempDir, `${name}.pem`);
  await writeFile(file, value.endsWith('\n') ? value : `${value}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}

function method(read: InputReader, m: Material, env: Readonly<Record<string, string | undefined>>): SignMethod {
  if (m.method === 'key' || m.method === 'certificate') {
    if (!m.key) throw new ConfigurationError(`Input "key" is required with method: ${m.method} (a PEM private key: the text from a secret, or a path in the workspace).`);
    const passphrase = m.passphrase ? { passphrase: m.passphrase } : {};
    if (m.method === 'key') return { method: 'key', key: m.key, ...passphrase };
    if (!m.certificate) throw new ConfigurationError('Input "certificate" is required with method: certificate.');
    return { method: 'certificate', key: m.key, certificate: m.certificate, chain: m.chain, ...passphrase };
  }
  const instance = read('staging') === 'true' ? SIGSTORE_INSTANCES.staging : SIGSTORE_INSTANCES.production;
  const url = (name: string) => {
    const v = read(name);
    if (v && !/^https:\/\//.test(v) && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(v)) throw new ConfigurationError(`Input "${name}" must be an https URL, got ${JSON.stringify(v)}.`);
    return v.replace(/\/+$/, '');
  };
  const tsa = url('tsa-url');
  return {
    method: 'sigstore',
    token: () => actionsIdToken(env),
    fulcioUrl: url('fulcio-url') || instance.fulcio,
    rekorUrl: url('rekor-url') || instance.rekor,
    ...(tsa ? { tsaUrl: tsa } : {}),
  };
}

const summaryRow = (r: SignResult, workspace: string) => `| \`${path.relative(workspace, r.signature)}\` | ${r.files} | ${r.bytesHashed} | ${r.signer.replace(/\|/g, '\\|')} |`;

/**
 * `command: sign`: signs each model root of the `models` input, writes each
 * signature where `mlgate check` looks for it (`signature` inside a directory
 * model, beside a single-file one), and sets the `signatures` output.
 */
export async function runSign(read: InputReader, env: Readonly<Record<string, string | undefined>>, workspace: string): Promise<number> {
  const models = list(read('models'));
  if (models.length === 0) throw new ConfigurationError('Input "models" is empty: with command: sign, list the model directories (or files) to sign, one a line.');
  const name = read('signature') || 'model.sig';
  if (name.includes('/') || name.includes('\\') || name === '.' || name === '..') throw new ConfigurationError(`Input "signature" is a file name (like model.sig), placed as mlgate check looks for it; got ${JSON.stringify(name)}.`);
  const m = (read('method') || 'sigstore').toLowerCase();
  if (!(METHODS as readonly string[]).includes(m)) throw new ConfigurationError(`Input "method" must be one of sigstore, key, certificate; got ${JSON.stringify(m)}${didYouMean(m, METHODS)}.`);
  const shardText = read('shard-size');
  const shardSize = shardText ? Number(shardText) : undefined;
  if (shardText && (!/^\d+$/.test(shardText) || !Number.isSafeInteger(shardSize) || shardSize! <= 0)) throw new ConfigurationError(`Input "shard-size" must be a positive whole number of bytes; got ${JSON.stringify(shardText)}.`);
  const passphrase = read('key-passphrase');
  if (passphrase) core.setSecret(passphrase);

  const tempDir = await mkdtemp(path.join(env.RUNNER_TEMP || tmpdir(), 'mlgate-sign-'));
  try {
    const material: Material = {
      method: m as Material['method'],
      chain: [],
      ...(passphrase ? { passphrase } : {}),
      ...(read('key') ? { key: await materialFile('key', read('key'), workspace, tempDir) } : {}),
      ...(read('certificate') ? { certificate: await materialFile('certificate', read('certificate'), workspace, tempDir) } : {}),
    };
    // PEM text (one or more certificates) from a secret or variable, else paths.
    const chain = read('chain');
    const chainItems = chain.includes('-----BEGIN') ? [chain] : list(chain);
    for (const [i, c] of chainItems.entries()) material.chain.push(await materialFile(`chain-${i}`, c, workspace, tempDir));
    const signer = method(read, material, env);
    const ignorePaths = list(read('ignore-paths'));
    // Loaded on use: the Sigstore client stack is not needed by command: check.
    const { signModel } = await import('../signing/sign.js');
    const results: SignResult[] = [];
    for (const model of models) {
      const root = insideWorkspace('models', model, workspace);
      const dir = await stat(root).then(
        (s) => s.isDirectory(),
        () => true,
      );
      const r = await signModel({
        modelRoot: root,
        signature: path.join(dir ? root : path.dirname(root), name),
        ...(shardSize ? { shardSize } : {}),
        ignorePaths,
        lfsOid: read('lfs-oid') === 'true',
        signer,
      });
      for (const w of r.warnings) core.warning(w);
      core.info(defuse(`mlgate: signed ${model}: ${r.files} files, ${r.bytesHashed} bytes hashed, ${r.signer} → ${path.relative(workspace, r.signature)}`));
      results.push(r);
    }
    core.setOutput('signatures', results.map((r) => path.relative(workspace, r.signature)).join('\n'));
    try {
      await core.summary.addRaw(`### mlgate sign\n\n| Signature | Files | Bytes hashed | Signed with |\n| --- | ---: | ---: | --- |\n${results.map((r) => summaryRow(r, workspace)).join('\n')}\n`).write();
    } catch (e) {
      core.debug(`No job summary written: ${(e as Error).message}`);
    }
    return 0;
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}
