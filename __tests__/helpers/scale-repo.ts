import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { callPickle } from '../pickle-fixtures.js';
import { gitIn } from './repo.js';

/**
 * A scaled-down version of issue 13's monorepo: `services` directories of
 * `modules` Python modules, `datasets` CSV files with a PROVENANCE.yml and a
 * requirements.txt each, plus a model, a Dockerfile and a workflow at the top,
 * with findings planted across the rules. Two commits: the base, and a head
 * commit changing `HEAD_CHANGES.length` files. Deterministic, so a golden
 * recorded once stays valid.
 */
export interface ScaleShape {
  services: number;
  modules: number;
  datasets: number;
}

export const SMALL_SHAPE: ScaleShape = { services: 24, modules: 12, datasets: 4 };

const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
export const svc = (i: number): string => `services/svc${String(i).padStart(4, '0')}`;
const mod = (m: number): string => `mod${String(m).padStart(2, '0')}.py`;

function moduleText(s: number, m: number): string {
  const planted =
    m === 3 && s % 5 === 0
      ? '\n\ndef restore(path):\n    import torch\n    return torch.load(path)\n'
      : m === 5 && s % 7 === 0
        ? '\n\ndef encoder():\n    from transformers import AutoModel\n    return AutoModel.from_pretrained("bert-base-uncased")\n'
        : m === 6 && s % 11 === 0
          ? '\n\ndef cached(path):\n    import joblib\n    return joblib.load(path)\n'
          : '';
  return `"""Service ${s}, module ${m}."""\nimport json\nimport os\n\n\ndef load_${m}(root, name):\n    with open(os.path.join(root, name)) as f:\n        return json.load(f)\n${planted}`;
}

const csv = (s: number, d: number, extra = ''): string => `id,text,label\n${[0, 1, 2].map((r) => `${r},row ${s}-${d}-${r}${extra},${r % 2}`).join('\n')}\n`;

function provenance(s: number, digests: [string, string][]): string {
  const license = s % 9 === 4 ? '' : s % 9 === 5 ? 'license: proprietary-unknown\n' : 'license: CC-BY-4.0\n';
  return `source: https://data.example.com/svc${s}\n${license}collected: 2026-01-15\ncollection-process: "exported nightly, PII removed"\nfiles:\n${digests.map(([n, d]) => `  ${n}: {sha256: ${d}}`).join('\n')}\n`;
}

const requirements = (s: number): string => `numpy==1.26.4\nrequests==2.32.3\n${s % 6 === 1 ? 'pandas>=2\n' : 'pandas==2.2.2\n'}`;

function datasetFiles(shape: ScaleShape, s: number, edit?: { d: number; extra: string; record: boolean }): Record<string, string> {
  const out: Record<string, string> = {};
  const digests: [string, string][] = [];
  for (let d = 0; d < shape.datasets; d++) {
    const base = csv(s, d);
    const text = edit?.d === d ? csv(s, d, edit.extra) : base;
    out[`${svc(s)}/data/part${d}.csv`] = text;
    const recorded = edit?.d === d && !edit.record ? base : text;
    digests.push([`data/part${d}.csv`, s % 8 === 3 && d === 0 ? sha256('something else') : sha256(recorded)]);
  }
  out[`${svc(s)}/PROVENANCE.yml`] = provenance(s, digests);
  return out;
}

export function baseFiles(shape: ScaleShape): Record<string, string | Buffer> {
  const files: Record<string, string | Buffer> = {
    '.github/mlgate.yml': 'version: 1\nextends: [mlgate:strict]\n',
    '.github/workflows/ci.yml': `on: pull_request\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: pip install -r ${svc(2)}/requirements.txt\n`,
    Dockerfile: `FROM python:3.11\nCOPY . /app\nRUN pip install -r /app/${svc(3)}/requirements.txt\n`,
    'scripts/setup.sh': `#!/bin/sh\npip install -r ${svc(4)}/requirements.txt\n`,
    'README.md': '# services\n',
    'models/clf/model.pkl': callPickle('os', 'system'),
    'models/clf/README.md': '# clf\n\nA classifier.\n',
  };
  for (let s = 0; s < shape.services; s++) {
    for (let m = 0; m < shape.modules; m++) files[`${svc(s)}/${mod(m)}`] = moduleText(s, m);
    Object.assign(files, datasetFiles(shape, s));
    files[`${svc(s)}/requirements.txt`] = requirements(s);
  }
  return files;
}

/** The head commit: 10 files over Python, data, records, requirements (two installed by the Dockerfile and the workflow) and the model. */
export function headChanges(shape: ScaleShape): Record<string, string | Buffer> {
  const at = (i: number): number => i % shape.services;
  const s6 = at(6);
  const s7 = at(8);
  return {
    [`${svc(at(1))}/${mod(1)}`]: `${moduleText(at(1), 1)}\nVERSION = 2\n`,
    [`${svc(at(9))}/${mod(2)}`]: `${moduleText(at(9), 2)}\n\ndef warm(path):\n    import pickle\n    with open(path, "rb") as f:\n        return pickle.load(f)\n`,
    [`${svc(at(12))}/${mod(4)}`]: `${moduleText(at(12), 4)}\nVERSION = 3\n`,
    [`${svc(s6)}/data/part1.csv`]: csv(s6, 1, ' (edited)'),
    ...Object.fromEntries(Object.entries(datasetFiles(shape, s7, { d: 2, extra: ' (relabelled)', record: true })).filter(([p]) => p.endsWith('part2.csv') || p.endsWith('PROVENANCE.yml'))),
    [`${svc(at(2))}/requirements.txt`]: 'numpy==1.26.4\nrequests>=2\npandas==2.2.2\n',
    [`${svc(at(10))}/requirements.txt`]: 'numpy\nrequests==2.32.3\npandas==2.2.2\n',
    'models/clf/model.pkl': callPickle('subprocess', 'Popen'),
    [`${svc(at(13))}/${mod(0)}`]: `${moduleText(at(13), 0)}\nVERSION = 4\n`,
  };
}

async function writeAll(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  const dirs = new Set(Object.keys(files).map((p) => path.dirname(path.join(dir, p))));
  for (const d of dirs) await mkdir(d, { recursive: true });
  await Promise.all(Object.entries(files).map(([p, c]) => writeFile(path.join(dir, p), c)));
}

/** Generates the repository (base commit, then the head commit) in a new temporary directory. */
export async function makeScaleRepo(shape: ScaleShape, parent = tmpdir()): Promise<string> {
  const dir = await mkdtemp(path.join(parent, 'mlgate-scale-'));
  await writeAll(dir, baseFiles(shape));
  gitIn(dir, 'init', '-q', '-b', 'main');
  gitIn(dir, 'add', '-A');
  gitIn(dir, 'commit', '-q', '-m', 'base');
  await writeAll(dir, headChanges(shape));
  gitIn(dir, 'add', '-A');
  gitIn(dir, 'commit', '-q', '-m', 'head');
  return dir;
}
