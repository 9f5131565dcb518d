// Issue 13: a 100,003-file ML monorepo (1,000 services × 90 Python modules, 8
// CSV datasets with a PROVENANCE.yml and a requirements.txt each, 3 files at the
// top) with a head commit that changes 10 files and 50 planted findings across
// rules; `mlgate:strict`. Changed mode, full mode, files opened and peak RSS
// beside `git ls-files` (the floor) and `bandit -r` (the Python-only baseline).
// The repository is generated once under the system's temporary directory.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { median } from './common.mjs';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const STAMP = 'v1: 1000 services x (90 .py, 8 .csv, PROVENANCE.yml, requirements.txt) + 3, 10 changed, 50 planted';
const RUNS = Number(process.env.SCALE_RUNS ?? 3);
const BANDIT_RUNS = Number(process.env.SCALE_BANDIT_RUNS ?? RUNS);
const SERVICES = Number(process.env.SCALE_SERVICES ?? 1000);
const DIR = path.join(tmpdir(), `mlgate-bench-scale-${SERVICES}`, 'repo');

const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const svc = (i) => `services/svc${String(i).padStart(4, '0')}`;

function moduleText(s, m) {
  // Every 50th service loads a checkpoint unsafely, every 100th pulls a hub model by branch.
  const planted =
    m === 3 && s % 50 === 0 ? '\n\ndef restore(path):\n    import torch\n    return torch.load(path)\n'
    : m === 5 && s % 100 === 0 ? '\n\ndef encoder():\n    from transformers import AutoModel\n    return AutoModel.from_pretrained("bert-base-uncased")\n'
    : '';
  return `"""Service ${s}, module ${m}."""\nimport json\nimport os\n\n\nclass Handler${m}:\n    def __init__(self, root):\n        self.root = root\n\n    def load(self, name):\n        with open(os.path.join(self.root, name)) as f:\n            return json.load(f)\n\n\ndef score_${m}(values):\n    return sum(v * ${m + 1} for v in values) / max(len(values), 1)\n${planted}`;
}

const csv = (s, d, extra = '') => `id,text,label\n${Array.from({ length: 6 }, (_, r) => `${r},row ${s}-${d}-${r}${extra},${r % 2}`).join('\n')}\n`;

function provenance(s, digests) {
  // Every 200th record lacks its license.
  const license = s % 200 === 100 ? '' : 'license: CC-BY-4.0\n';
  return `source: https://data.example.com/svc${s}\n${license}collected: 2026-01-15\ncollection-process: "exported nightly, PII removed"\nfiles:\n${digests.map(([name, d]) => `  ${name}: {sha256: ${d}}`).join('\n')}\n`;
}

// Every 100th service ranges a requirement; every 200th (offset 50) records a wrong digest.
const requirements = (s) => `numpy==1.26.4\nrequests==2.32.3\n${s % 100 === 10 ? 'pandas>=2\n' : 'pandas==2.2.2\n'}`;

function write(rel, text) {
  const abs = path.join(DIR, rel);
  mkdirSync(path.dirname(abs), { recursive: true });
  writeFileSync(abs, text);
}

function git(...args) {
  return execFileSync('git', args, {
    cwd: DIR,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@example.com', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@example.com' },
  });
}

/** Generates the monorepo (base commit, then the 10-file head commit) unless the stamp says it is there. */
export function prepare() {
  const stamp = path.join(DIR, '..', 'READY');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === STAMP) return DIR;
  console.log(`generating a ${SERVICES * 100 + 3}-file repository in ${DIR} (once)…`);
  rmSync(path.join(DIR, '..'), { recursive: true, force: true });
  write('.github/mlgate.yml', 'version: 1\nextends: [mlgate:strict]\n');
  write('.github/workflows/ci.yml', `on: pull_request\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pip install -r ${svc(7)}/requirements.txt\n`);
  write('README.md', '# services\n\nOne directory per service.\n');
  for (let s = 0; s < SERVICES; s++) {
    const dir = svc(s);
    for (let m = 0; m < 90; m++) write(`${dir}/mod${String(m).padStart(2, '0')}.py`, moduleText(s, m));
    const digests = [];
    for (let d = 0; d < 8; d++) {
      const text = csv(s, d);
      write(`${dir}/data/part${d}.csv`, text);
      digests.push([`data/part${d}.csv`, s % 200 === 50 && d === 0 ? sha256('something else') : sha256(text)]);
    }
    write(`${dir}/PROVENANCE.yml`, provenance(s, digests));
    write(`${dir}/requirements.txt`, requirements(s));
  }
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'base');
  // The head commit: 10 files across Python, data, records and requirements.
  const at = (i) => Math.min(i, SERVICES - 1);
  for (const [i, m] of [[100, 10], [200, 11], [400, 13], [500, 14]]) write(`${svc(at(i))}/mod${m}.py`, `${moduleText(at(i), m)}\nVERSION = 2\n`);
  write(`${svc(at(300))}/mod12.py`, `${moduleText(at(300), 12)}\n\ndef warm(path):\n    import pickle\n    with open(path, "rb") as f:\n        return pickle.load(f)\n`);
  write(`${svc(at(600))}/data/part3.csv`, csv(at(600), 3, ' (edited)')); // digest now stale
  const s7 = at(700);
  const edited = csv(s7, 4, ' (relabelled)');
  write(`${svc(s7)}/data/part4.csv`, edited);
  write(`${svc(s7)}/PROVENANCE.yml`, provenance(s7, Array.from({ length: 8 }, (_, d) => [`data/part${d}.csv`, sha256(d === 4 ? edited : csv(s7, d))])));
  write(`${svc(at(800))}/requirements.txt`, 'numpy\nrequests==2.32.3\npandas==2.2.2\n');
  write(`${svc(7)}/requirements.txt`, 'numpy==1.26.4\nrequests>=2\npandas==2.2.2\n');
  git('add', '-A');
  git('commit', '-qm', 'head: 10 files');
  writeFileSync(stamp, STAMP);
  return DIR;
}

/** Wall time, peak RSS of the child (GNU time when present) and exit status. */
function measure(argv, cwd) {
  const timeBin = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', '%M'] : [];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(timeBin[0] ?? argv[0], [...timeBin.slice(1), ...(timeBin.length ? argv : argv.slice(1))], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const rssKiB = timeBin.length ? Number(/(\d+)\s*$/.exec(r.stderr ?? '')?.[1] ?? NaN) : NaN;
  return { ms, rssMiB: rssKiB / 1024, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Repository files and directories the command opens (every process, git's
 * included), counted by strace when present: `{ files, dirs }`, or undefined.
 */
function opened(argv, cwd) {
  if (spawnSync('strace', ['-V'], { encoding: 'utf8' }).status !== 0) return undefined;
  const log = path.join(DIR, '..', 'strace.log');
  spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat', '-o', log, ...argv], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  const files = new Set();
  const dirs = new Set();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const m = /openat\(AT_FDCWD, "([^"]+)", ([A-Z_|]+)[^)]*\)\s*=\s*\d+/.exec(line);
    if (!m) continue;
    const p = path.resolve(cwd, m[1]);
    if (p !== DIR && !p.startsWith(`${DIR}/`)) continue;
    if (p === path.join(DIR, '.git') || p.startsWith(`${DIR}/.git/`)) continue;
    (m[2].includes('O_DIRECTORY') ? dirs : files).add(p);
  }
  rmSync(log, { force: true });
  return { files: files.size, dirs: dirs.size };
}

function bandit() {
  let have = spawnSync('bandit', ['--version'], { encoding: 'utf8' }).status === 0;
  if (!have && process.getuid?.() === 0) {
    console.log('bandit is missing: installing the Debian package…');
    spawnSync('apt-get', ['install', '-y', '-qq', 'bandit'], { stdio: 'ignore' });
    have = spawnSync('bandit', ['--version'], { encoding: 'utf8' }).status === 0;
  }
  return have;
}

export default async function run() {
  prepare();
  // SCALE_CLI measures another build (a copy of dist/ taken before a change) on the same repository.
  const cli = process.env.SCALE_CLI ?? path.join(REPO, 'dist', 'cli.js');
  const node = process.execPath;
  const commands = {
    'git ls-files (the floor)': ['git', 'ls-files'],
    'mlgate --version': [node, cli, '--version'],
    'mlgate check --base HEAD~1 (10 changed files)': [node, cli, 'check', '--base', 'HEAD~1', '--format', 'json'],
    // A pull request's shape: two commits compared, nothing untracked, so git walks no directory.
    'mlgate check --base HEAD~1 --head HEAD (the same change, commit to commit)': [node, cli, 'check', '--base', 'HEAD~1', '--head', 'HEAD', '--format', 'json'],
    'mlgate check (full)': [node, cli, 'check', '--format', 'json'],
  };
  const haveBandit = BANDIT_RUNS > 0 && bandit();
  if (haveBandit) commands['bandit -r services (Python only)'] = ['bandit', '-q', '-r', 'services', '-f', 'json'];
  else console.log(BANDIT_RUNS > 0 ? 'bandit could not be installed (no root or no apt): the Python-analysis baseline is left out' : 'bandit left out (SCALE_BANDIT_RUNS=0)');

  const results = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const [k, argv] of Object.entries(commands)) {
      // bandit takes minutes on a loaded machine: SCALE_BANDIT_RUNS may take fewer of it.
      if (k.startsWith('bandit') && i >= BANDIT_RUNS) continue;
      const r = measure(argv, DIR);
      if (k.startsWith('mlgate check') && r.status !== 0 && r.status !== 1) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
      results[k].push(r);
    }
  }
  const files = git('ls-files').split('\n').filter(Boolean).length;
  console.log(`${files} files, mlgate:strict, ${availableParallelism()} cores (load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}), median of ${RUNS}${haveBandit && BANDIT_RUNS < RUNS ? ` (bandit: ${BANDIT_RUNS})` : ''}`);
  console.log('| command | median | runs (ms) | peak RSS (median) | repository files opened |');
  console.log('| --- | ---: | --- | ---: | ---: |');
  const med = {};
  for (const [k, rs] of Object.entries(results)) {
    med[k] = median(rs.map((r) => r.ms));
    const rss = median(rs.map((r) => r.rssMiB));
    // strace slows a run several times over: only the listing and changed mode are traced.
    const open = k.startsWith('git') || k.includes('--base') ? opened(commands[k], DIR) : undefined;
    const shown = open ? `${open.files} files + ${open.dirs} directories` : k.includes('full') ? 'every file (not traced)' : 'n/a';
    console.log(`| ${k} | ${med[k].toFixed(0)} ms | ${rs.map((r) => r.ms.toFixed(0)).join(', ')} | ${Number.isFinite(rss) ? `${rss.toFixed(0)} MiB` : 'n/a'} | ${shown} |`);
  }
  const full = med['mlgate check (full)'];
  const changed = med['mlgate check --base HEAD~1 (10 changed files)'];
  const floor = med['git ls-files (the floor)'];
  console.log(`changed / git ls-files: ${(changed / floor).toFixed(1)}×; full / git ls-files: ${(full / floor).toFixed(1)}×; changed / full: ${(changed / full).toFixed(3)}`);
  if (haveBandit) console.log(`bandit / mlgate full: ${(med['bandit -r services (Python only)'] / full).toFixed(2)}× (goal ≥ 3×)`);
  const report = JSON.parse(results['mlgate check (full)'][0].stdout);
  console.log(`full mode: ${report.findings.length} findings (${Object.entries(report.counts).map(([k, v]) => `${v} ${k}`).join(', ')})`);
}
