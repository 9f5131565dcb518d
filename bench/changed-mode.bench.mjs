// Changed mode costs what the change costs (DESIGN §10): the same repository
// evaluated in full and for a one-file pull request, beside `git ls-files` (the
// floor of any tool that looks at the repository at all).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { median } from './common.mjs';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const DIR = path.join(REPO, '.bench', 'changed-mode', 'repo');
const STAMP = 'v1: 200 packages x (40 .py, 50 .csv, 1 notebook), recommended policy';
const RUNS = 5;

async function prepare() {
  const stamp = path.join(DIR, '..', 'READY');
  if (existsSync(stamp) && (await readFile(stamp, 'utf8')) === STAMP) return;
  console.log('generating a 20,000-file repository (once)…');
  await rm(path.join(DIR, '..'), { recursive: true, force: true });
  for (let p = 0; p < 200; p++) {
    const pkg = path.join(DIR, `pkg${p}`);
    await mkdir(path.join(pkg, 'data'), { recursive: true });
    for (let i = 0; i < 40; i++) {
      await writeFile(path.join(pkg, `mod${i}.py`), `import torch\n\n\ndef load_${i}(path):\n    return torch.load(path, weights_only=True)\n\n\nVALUE = ${i}\n`);
    }
    for (let i = 0; i < 50; i++) await writeFile(path.join(pkg, 'data', `part${i}.csv`), `id,text\n${i},row ${p}-${i}\n`);
    await writeFile(
      path.join(pkg, 'explore.ipynb'),
      JSON.stringify({ cells: [{ cell_type: 'code', metadata: {}, outputs: [], source: ['import torch\n', 'x = torch.zeros(3)\n'] }], metadata: {}, nbformat: 4, nbformat_minor: 5 }),
    );
  }
  await writeFile(path.join(DIR, 'requirements.txt'), 'torch==2.3.1\n');
  const git = (...args) => execFileSync('git', args, { cwd: DIR, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@example.com', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@example.com' } });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'base');
  await writeFile(path.join(DIR, '..', 'changed.txt'), 'pkg7/mod3.py\n');
  await writeFile(stamp, STAMP);
}

function timed(argv, cwd = REPO) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export default async function run() {
  await prepare();
  const cli = path.join(REPO, 'dist', 'cli.js');
  const commands = {
    'git ls-files (listing floor)': ['git', '-C', DIR, 'ls-files'],
    'mlgate check, changed mode (1 file)': [process.execPath, cli, 'check', DIR, '--changed-files', path.join(DIR, '..', 'changed.txt'), '--format', 'json'],
    'mlgate check, full': [process.execPath, cli, 'check', DIR, '--format', 'json'],
  };
  const times = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (const argv of Object.values(commands)) timed(argv); // warm caches
  for (let i = 0; i < RUNS; i++) for (const [k, argv] of Object.entries(commands)) times[k].push(timed(argv));
  const files = execFileSync('git', ['-C', DIR, 'ls-files'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
  console.log(`${files} files, mlgate:recommended (all rules), ${availableParallelism()} cores (load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}), median of ${RUNS}`);
  console.log('| command | median | runs (ms) |');
  console.log('| --- | ---: | --- |');
  for (const [k, ts] of Object.entries(times)) console.log(`| ${k} | ${median(ts).toFixed(0)} ms | ${ts.map((t) => t.toFixed(0)).join(', ')} |`);
  const full = median(times['mlgate check, full']);
  const changed = median(times['mlgate check, changed mode (1 file)']);
  console.log(`changed / full: ${(changed / full).toFixed(3)}`);
}
