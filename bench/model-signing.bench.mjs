// model-signing: verify a signed 2 GiB model (four 512 MiB files, `files`
// serialization, P-256 key) with `mlgate check`, against one `openssl dgst
// -sha256` pass over the same files. Goal (DESIGN §10): mlgate ≤ 0.70× openssl,
// RSS ≤ 256 MiB. The model and its signature are generated once under .bench/
// (git-ignored); the signing key is thrown away after signing.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomFillSync, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';

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

/** The bundled CLI, as users run it, with a policy that enables only model-signing. */
function command() {
  const cli = path.join(REPO, 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run npm run build');
  return { label: 'mlgate check (dist/cli.js)', argv: [process.execPath, cli, 'check', DIR, '--policy', path.join(DIR, 'mlgate.yml'), '--format', 'json'] };
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

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export default async function run() {
  await prepare();
  const mlgate = command();
  const openssl = ['openssl', 'dgst', '-sha256', ...FILES.map((f) => path.join(DIR, 'model', f))];
  // Warm the page cache and check that the signed model verifies cleanly.
  timed(openssl);
  const first = timed(mlgate.argv);
  if (first.status !== 0) throw new Error(`the benchmark model did not verify (exit ${first.status}):\n${first.stdout}\n${first.stderr}`);
  const ours = [];
  const theirs = [];
  const ourCpu = [];
  const theirCpu = [];
  let peak = 0;
  for (let i = 0; i < RUNS; i++) {
    const a = timed(mlgate.argv);
    if (a.status !== 0) throw new Error(`mlgate failed on run ${i + 1}: ${a.stderr}`);
    ours.push(a.ms);
    ourCpu.push(a.cpu);
    peak = Math.max(peak, a.rss || 0);
    const b = timed(openssl);
    theirs.push(b.ms);
    theirCpu.push(b.cpu);
  }
  const ratio = median(ours) / median(theirs);
  // Other work on the machine slows mlgate (which needs every core) far more than openssl (one core).
  const load = loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`${FILES.length} files, ${(FILES.length * FILE_BYTES) / 2 ** 30} GiB, ${availableParallelism()} cores (load average ${load}), ${RUNS} alternating runs (page cache warm)`);
  console.log(`| measure | value | goal |`);
  console.log(`| --- | --- | --- |`);
  console.log(`| ${mlgate.label}, median | ${median(ours).toFixed(0)} ms | |`);
  console.log(`| openssl dgst -sha256 (one process), median | ${median(theirs).toFixed(0)} ms | |`);
  console.log(`| ratio mlgate / openssl (medians) | ${ratio.toFixed(2)} | ≤ 0.70 |`);
  console.log(`| ratio mlgate / openssl (fastest runs) | ${(Math.min(...ours) / Math.min(...theirs)).toFixed(2)} | |`);
  if (hasTime) console.log(`| CPU time (user + sys), medians | mlgate ${median(ourCpu).toFixed(2)} s, openssl ${median(theirCpu).toFixed(2)} s | |`);
  console.log(`| mlgate peak RSS | ${hasTime ? `${(peak / 1024).toFixed(0)} MiB` : 'n/a (no /usr/bin/time)'} | ≤ 256 MiB |`);
  console.log(`runs (ms): mlgate ${ours.map((x) => x.toFixed(0)).join(', ')}; openssl ${theirs.map((x) => x.toFixed(0)).join(', ')}`);
}
