// model-signing: verify a signed 2 GiB model (four 512 MiB files, `files`
// serialization, P-256 key) with `mlgate check`, and sign it with `mlgate
// sign --key`, each against one `openssl dgst -sha256` pass over the same
// files. Goal (DESIGN §10, issue 18): each ≤ 0.70× openssl, RSS ≤ 256 MiB.
// The model and its signature are generated once under .bench/ (git-ignored);
// `npm run bench -- sign` runs this file. MLGATE_BENCH_ONLY=verify|sign runs one half.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomFillSync, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { median } from './common.mjs';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const WORK = path.join(REPO, '.bench', 'model-signing');
const DIR = path.join(WORK, 'repo');
const FILES = ['model-00001-of-00004.safetensors', 'model-00002-of-00004.safetensors', 'model-00003-of-00004.safetensors', 'model-00004-of-00004.safetensors'];
const FILE_BYTES = 512 * 1024 * 1024;
const RUNS = Number(process.env.MLGATE_BENCH_RUNS ?? 5);
const STAMP = `v1 ${FILES.length}x${FILE_BYTES}`;

/** Writes one file of random bytes and returns its SHA-256 (hex), streamed. */
async function writeRandom(file) {
  const handle = await open(file, 'w');
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(16 * 1024 * 1024);
  try {
    for (let written = 0; written < FILE_BYTES; written += chunk.length) {
      randomFillSync(chunk);
      hash.update(chunk);
      await handle.write(chunk, 0, chunk.length);
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** An OMS v1.0 bundle as model_signing writes it (key method, publicKey.hint). */
function signBundle(resources, privateKey, publicPem) {
  const root = createHash('sha256');
  for (const r of resources) root.update(Buffer.from(r.digest, 'hex'));
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'model', digest: { sha256: root.digest('hex') } }],
    predicateType: 'https://model_signing/signature/v1.0',
    predicate: {
      serialization: { method: 'files', hash_type: 'sha256', allow_symlinks: false, ignore_paths: ['model.sig', '.git', '.github', '.gitignore', '.gitattributes'] },
      resources,
    },
  };
  const payload = Buffer.from(JSON.stringify(statement, null, 2));
  const type = 'application/vnd.in-toto+json';
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} `), payload]);
  const sig = sign('sha256', pae, { key: privateKey, dsaEncoding: 'der' });
  return JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint: createHash('sha256').update(publicPem).digest('hex') }, tlogEntries: [] },
    dsseEnvelope: { payload: payload.toString('base64'), payloadType: type, signatures: [{ sig: sig.toString('base64'), keyid: '' }] },
  });
}

async function prepare() {
  const stampFile = path.join(WORK, 'READY');
  if (existsSync(stampFile) && (await readFile(stampFile, 'utf8')) === STAMP) return;
  console.log(`generating a ${(FILES.length * FILE_BYTES) / 2 ** 30} GiB model under ${path.relative(REPO, DIR)} (once)…`);
  await rm(WORK, { recursive: true, force: true });
  await mkdir(path.join(DIR, 'model'), { recursive: true });
  await mkdir(path.join(DIR, 'keys'), { recursive: true });
  const resources = [];
  for (const f of FILES) resources.push({ name: f, algorithm: 'sha256', digest: await writeRandom(path.join(DIR, 'model', f)) });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await writeFile(path.join(DIR, 'model', 'model.sig'), signBundle(resources, privateKey, publicPem));
  await writeFile(path.join(DIR, 'keys', 'bench.pub'), publicPem);
  await writeFile(
    path.join(DIR, 'mlgate.yml'),
    'version: 1\nrules:\n  model-signing:\n    level: error\n    models: ["model"]\n    signers:\n      - method: key\n        public-key: keys/bench.pub\n',
  );
  // Its own git repository: the parent checkout ignores .bench/, and the inventory lists files through git.
  execFileSync('git', ['init', '-q', DIR]);
  await writeFile(stampFile, STAMP);
}

const CLI = path.join(REPO, 'dist', 'cli.js');

/** The bundled CLI, as users run it, with a policy that enables only model-signing. */
function verifyCommand() {
  return { label: 'mlgate check (dist/cli.js)', argv: [process.execPath, CLI, 'check', DIR, '--policy', path.join(DIR, 'mlgate.yml'), '--format', 'json'] };
}

/** Signs the same model with a throwaway P-256 key; the signature goes outside the model, which stays as it is. */
async function signCommand() {
  const key = path.join(WORK, 'sign-bench.key');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(key, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return { label: 'mlgate sign --key (dist/cli.js)', argv: [process.execPath, CLI, 'sign', path.join(DIR, 'model'), '--key', key, '--signature', path.join(WORK, 'sign-bench.sig'), '--ignore-paths', 'model.sig'] };
}

const hasTime = existsSync('/usr/bin/time');

/** Wall time in ms and peak RSS in KiB (from /usr/bin/time -v when present). */
function timed(argv) {
  const full = hasTime ? ['/usr/bin/time', '-v', ...argv] : argv;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(full[0], full.slice(1), { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const field = (re) => Number(re.exec(r.stderr ?? '')?.[1] ?? NaN);
  const rss = field(/Maximum resident set size \(kbytes\): (\d+)/);
  // CPU seconds do not depend on what else the machine runs: a fairer figure on a shared box.
  const cpu = field(/User time \(seconds\): ([\d.]+)/) + field(/System time \(seconds\): ([\d.]+)/);
  return { ms, rss, cpu, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Alternating runs of `ours` and openssl over the same (page-cached) files; prints one table. */
function measure(ours, openssl) {
  const first = timed(ours.argv);
  if (first.status !== 0) throw new Error(`${ours.label} failed on the benchmark model (exit ${first.status}):\n${first.stdout}\n${first.stderr}`);
  const mine = [];
  const theirs = [];
  const myCpu = [];
  const theirCpu = [];
  let peak = 0;
  for (let i = 0; i < RUNS; i++) {
    const a = timed(ours.argv);
    if (a.status !== 0) throw new Error(`${ours.label} failed on run ${i + 1}: ${a.stderr}`);
    mine.push(a.ms);
    myCpu.push(a.cpu);
    peak = Math.max(peak, a.rss || 0);
    const b = timed(openssl);
    theirs.push(b.ms);
    theirCpu.push(b.cpu);
  }
  const ratio = median(mine) / median(theirs);
  // Other work on the machine slows mlgate (which needs every core) far more than openssl (one core).
  const load = loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`\n${ours.label}: ${FILES.length} files, ${(FILES.length * FILE_BYTES) / 2 ** 30} GiB, ${availableParallelism()} cores (load average ${load}), ${RUNS} alternating runs (page cache warm)`);
  console.log(`| measure | value | goal |`);
  console.log(`| --- | --- | --- |`);
  console.log(`| ${ours.label}, median | ${median(mine).toFixed(0)} ms | |`);
  console.log(`| openssl dgst -sha256 (one process), median | ${median(theirs).toFixed(0)} ms | |`);
  console.log(`| ratio mlgate / openssl (medians) | ${ratio.toFixed(2)} | ≤ 0.70 |`);
  console.log(`| ratio mlgate / openssl (fastest runs) | ${(Math.min(...mine) / Math.min(...theirs)).toFixed(2)} | |`);
  if (hasTime) console.log(`| CPU time (user + sys), medians | mlgate ${median(myCpu).toFixed(2)} s, openssl ${median(theirCpu).toFixed(2)} s | |`);
  console.log(`| mlgate peak RSS | ${hasTime ? `${(peak / 1024).toFixed(0)} MiB` : 'n/a (no /usr/bin/time)'} | ≤ 256 MiB |`);
  console.log(`runs (ms): mlgate ${mine.map((x) => x.toFixed(0)).join(', ')}; openssl ${theirs.map((x) => x.toFixed(0)).join(', ')}`);
}

export default async function run() {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run npm run build');
  await prepare();
  const openssl = ['openssl', 'dgst', '-sha256', ...FILES.map((f) => path.join(DIR, 'model', f))];
  // Warm the page cache.
  timed(openssl);
  const only = process.env.MLGATE_BENCH_ONLY;
  if (only !== 'sign') measure(verifyCommand(), openssl);
  if (only !== 'verify') {
    const sign = await signCommand();
    measure(sign, openssl);
    // The signature just written must verify like the reference one (same manifest, another key).
    const signed = JSON.parse(await readFile(path.join(WORK, 'sign-bench.sig'), 'utf8'));
    const reference = JSON.parse(await readFile(path.join(DIR, 'model', 'model.sig'), 'utf8'));
    const resources = (b) =>
      JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString())
        .predicate.resources.map((r) => `${r.name} ${r.digest}`)
        .join('\n');
    if (resources(signed) !== resources(reference)) throw new Error('mlgate sign produced other resources than the benchmark signature');
  }
}
