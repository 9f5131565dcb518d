// Issue 12: what the Python rules say on the shapes a large ML library has
// (round trips, pass-throughs, path expressions, test code, auto_map configs,
// framework loaders), each fixture written in the shape the issue describes.
import { describe, expect, it, vi } from 'vitest';
import * as python from '../src/formats/python/index.js';
import { silentLogger } from '../src/core/logger.js';
import { evaluate } from '../src/engine/evaluate.js';
import { runRule } from '../src/engine/rule-context.js';
import { scanRepository } from '../src/inventory/scan.js';
import { memoryProvider } from './helpers/policy.js';
import { makeRepo } from './helpers/repo.js';
import { modelHubPinning } from '../src/checks/model-hub-pinning.js';
import { unsafeDeserialization } from '../src/checks/unsafe-deserialization.js';
import { PYTHON_CALL_WORDS } from '../src/checks/python-files.js';
import { DEFAULT_TEST_GLOBS } from '../src/policies/merge.js';
import type { RuleFinding } from '../src/checks/rule.js';
import { runRuleOn } from './helpers/repo.js';

// Counts parses, still parsing for real: the rules' results below come from the actual parser.
vi.mock('../src/formats/python/index.js', async (original) => {
  const real = await original<typeof import('../src/formats/python/index.js')>();
  return { ...real, analysePython: vi.fn(real.analysePython) };
});

type Files = Record<string, string>;
const shown = (fs: RuleFinding[]): string[] => fs.map((f) => `${f.code}@${f.path}:${f.line}${f.maxLevel ? `<=${f.maxLevel}` : ''}`).sort();
const unsafe = async (files: Files, params: Record<string, unknown> = {}) => runRuleOn(unsafeDeserialization, files, { params, tests: DEFAULT_TEST_GLOBS });
const hub = async (files: Files, params: Record<string, unknown> = {}) => runRuleOn(modelHubPinning, files, { params, tests: DEFAULT_TEST_GLOBS });

describe('round trips and pass-throughs are not loads of external data', () => {
  it.each([
    ['pickle.loads(pickle.dumps(x))', 'import pickle\ncopy = pickle.loads(pickle.dumps(obj))\n', []],
    ['cloudpickle round trip', 'import cloudpickle\ncopy = cloudpickle.loads(cloudpickle.dumps(fn))\n', []],
    ['pickle.loads of bytes from elsewhere', 'import pickle\nobj = pickle.loads(blob)\n', ['pickle-load@x.py:2']],
    ['pickle.loads of another call', 'import pickle\nobj = pickle.loads(fetch(url))\n', ['pickle-load@x.py:2']],
    [
      'torch.load(fp, **kwargs) with a local dict literal',
      'import torch\n\ndef load(fp):\n    kwargs = {"map_location": "cpu", "weights_only": True}\n    return torch.load(fp, **kwargs)\n',
      [],
    ],
    ['torch.load(fp, **kw) with dict(weights_only=True)', 'import torch\nkw = dict(weights_only=True, mmap=True)\nstate = torch.load(fp, **kw)\n', []],
    [
      'torch.load(fp, **kwargs) with weights_only=False in the dict',
      'import torch\n\ndef load(fp):\n    kwargs = {"weights_only": False}\n    return torch.load(fp, **kwargs)\n',
      ['torch-load@x.py:5'],
    ],
    ['torch.load(fp, **kwargs) from the caller stays unverifiable', 'import torch\n\ndef load(fp, **kwargs):\n    return torch.load(fp, **kwargs)\n', ['torch-load@x.py:4<=warning']],
    [
      'a wrapper parameter defaulting to weights_only=True',
      'import torch\n\ndef load_state_dict(path, map_location="cpu", weights_only=True):\n    return torch.load(path, map_location=map_location, weights_only=weights_only)\n',
      [],
    ],
    [
      'a wrapper parameter defaulting to False',
      'import torch\n\ndef load_state_dict(path, weights_only=False):\n    return torch.load(\n        path,\n        weights_only=weights_only,\n    )\n',
      ['torch-load@x.py:6'],
    ],
    [
      'trust_remote_code=kwargs.get(..., False)',
      'from transformers import AutoModel\n\ndef build(name, **kwargs):\n    return AutoModel.from_pretrained(name, trust_remote_code=kwargs.get("trust_remote_code", False))\n',
      ['trust-remote-code@x.py:4<=info'],
    ],
    [
      'trust_remote_code from a parameter defaulting to False',
      'from transformers import AutoModel\n\ndef build(name, trust_remote_code=False):\n    return AutoModel.from_pretrained(name, trust_remote_code=trust_remote_code)\n',
      ['trust-remote-code@x.py:4<=info'],
    ],
    [
      'trust_remote_code=kwargs.get(..., True) is on by default',
      'from transformers import AutoModel\n\ndef build(name, **kwargs):\n    return AutoModel.from_pretrained(name, trust_remote_code=kwargs.get("trust_remote_code", True))\n',
      ['trust-remote-code@x.py:4<=warning'],
    ],
    [
      'trust_remote_code from a parameter defaulting to True',
      'from transformers import AutoModel\n\ndef build(name, trust_remote_code=True):\n    return AutoModel.from_pretrained(name, trust_remote_code=trust_remote_code)\n',
      ['trust-remote-code@x.py:4'],
    ],
  ])('%s', async (_name, src, expected) => {
    expect(shown(await unsafe({ 'x.py': src }))).toEqual(expected);
  });
});

describe('the FullLoader message says what PyYAML 5.4+ still allows', () => {
  it('caps FullLoader at warning and explains SafeLoader', async () => {
    const [f] = await unsafe({ 'x.py': 'import yaml\ncfg = yaml.load(f, Loader=yaml.FullLoader)\n' });
    expect(f).toMatchObject({ code: 'yaml-unsafe-load', line: 2, maxLevel: 'warning' });
    expect(f!.message).toMatch(/since PyYAML 5\.4 it no longer calls functions or builds arbitrary objects/);
    expect(f!.message).toMatch(/!!python\/name and !!python\/module/);
    expect(f!.message).toMatch(/before 5\.4 it runs code/);
    expect(f!.message).toMatch(/SafeLoader builds only plain data/);
    expect(f!.message).not.toMatch(/code-execution bypasses/);
  });

  it('treats yaml.full_load alike, and keeps Loader=yaml.Loader an error', async () => {
    expect(shown(await unsafe({ 'x.py': 'import yaml\na = yaml.full_load(f)\nb = yaml.load(f, Loader=yaml.Loader)\nc = yaml.unsafe_load(f)\n' }))).toEqual([
      'yaml-unsafe-load@x.py:2<=warning',
      'yaml-unsafe-load@x.py:3',
      'yaml-unsafe-load@x.py:4',
    ]);
  });
});

describe('auto_map in a model configuration', () => {
  const local = '{\n  "architectures": ["MyModel"],\n  "auto_map": {\n    "AutoConfig": "configuration_my.MyConfig",\n    "AutoModel": "modeling_my.MyModel"\n  },\n  "hidden_size": 64\n}\n';
  const remote = '{\n  "model_type": "x",\n  "auto_map": {"AutoModelForCausalLM": "someone/other-repo--modeling_x.XForCausalLM"}\n}\n';

  it('reports custom code in the model directory as a warning on the auto_map line', async () => {
    const fs = await unsafe({ 'models/mine/config.json': local, 'models/mine/modeling_my.py': 'import torch\n' });
    expect(shown(fs)).toEqual(['auto-map@models/mine/config.json:3<=warning']);
    expect(fs[0]!.message).toMatch(/trust_remote_code=True/);
    expect(fs[0]!.message).toMatch(/modeling_my\.MyModel/);
  });

  it('reports code taken from another hub repository at the rule level, naming it', async () => {
    const fs = await unsafe({ 'm/config.json': remote });
    expect(shown(fs)).toEqual(['auto-map@m/config.json:3']);
    expect(fs[0]!.message).toMatch(/another hub repository \(someone\/other-repo\)/);
  });

  it('reads tokenizer pairs, ignores configs without auto_map, and reports unreadable JSON that mentions it', async () => {
    const fs = await unsafe({
      't/tokenizer_config.json': '{"auto_map": {"AutoTokenizer": ["tokenization_x.XTokenizer", null]}}',
      'plain/config.json': '{"hidden_size": 64}',
      'app/config.json': '{"comment": "no auto_map here", "x": [1, 2]}',
      'broken/config.json': '{"auto_map": {',
    });
    expect(shown(fs)).toEqual(['auto-map@broken/config.json:1<=warning', 'auto-map@t/tokenizer_config.json:1<=warning']);
  });
});

describe('unsafe-loaders', () => {
  it('reports the built-in framework loaders like torch.load', async () => {
    const src = 'from ultralytics.utils.patches import torch_load\nfrom mmengine.runner import load_checkpoint\nimport gensim\n\nckpt = torch_load(p)\nload_checkpoint(model, p)\nv = gensim.utils.unpickle(p)\n';
    expect(shown(await unsafe({ 'x.py': src }))).toEqual(['unsafe-loader@x.py:5', 'unsafe-loader@x.py:6', 'unsafe-loader@x.py:7']);
  });

  it('adds the configured names to the built-in list', async () => {
    const src = 'from acme.io import load_ckpt\nimport ultralytics.utils.patches as p\n\nload_ckpt(path)\np.torch_load(path)\n';
    expect(shown(await unsafe({ 'x.py': src }))).toEqual(['unsafe-loader@x.py:5']);
    expect(shown(await unsafe({ 'x.py': src }, { 'unsafe-loaders': ['acme.io.load_ckpt'] }))).toEqual(['unsafe-loader@x.py:4', 'unsafe-loader@x.py:5']);
  });

  it('ignore drops one of them', async () => {
    expect(shown(await unsafe({ 'x.py': 'from ultralytics.nn.tasks import torch_safe_load\ntorch_safe_load(w)\n' }, { ignore: ['ultralytics.nn.tasks.torch_safe_load'] }))).toEqual([]);
  });
});

describe('test code', () => {
  it('a test that writes the checkpoint it loads gets info', async () => {
    const src = [
      'import pickle, tempfile, torch',
      '',
      'def test_save_load():',
      '    with tempfile.TemporaryDirectory() as d:',
      '        torch.save(model.state_dict(), f"{d}/m.bin")',
      '        state = torch.load(f"{d}/m.bin")',
      '',
      'def test_pickle(tmp_path):',
      '    obj = pickle.load(open(tmp_path / "x.pkl", "rb"))',
      '',
    ].join('\n');
    const fs = await unsafe({ 'tests/test_io.py': src });
    expect(shown(fs)).toEqual(['pickle-load@tests/test_io.py:9<=info', 'torch-load@tests/test_io.py:6<=info']);
    expect(fs[0]!.message).toMatch(/writes this file itself/);
  });

  it('a test that loads a file it did not write keeps its level and says it is test code', async () => {
    const src = 'import torch\n\ndef test_release():\n    state = torch.load("downloads/release.pt")\n';
    const fs = await unsafe({ 'pkg/tests/test_release.py': src, 'pkg/release.py': src });
    expect(shown(fs)).toEqual(['torch-load@pkg/release.py:4', 'torch-load@pkg/tests/test_release.py:4']);
    expect(fs.find((f) => f.path === 'pkg/tests/test_release.py')!.message).toMatch(/\(in test code: /);
    expect(fs.find((f) => f.path === 'pkg/release.py')!.message).not.toMatch(/test code/);
  });

  it('a save in another function does not make a load the test\'s own', async () => {
    const src = 'import torch\n\ndef helper():\n    torch.save(x, "a.pt")\n\ndef test_load():\n    return torch.load("b.pt")\n';
    expect(shown(await unsafe({ 'tests/test_x.py': src }))).toEqual(['torch-load@tests/test_x.py:7']);
  });

  it('hub downloads in tests are info; the same call in library code keeps the rule level', async () => {
    const src = 'from diffusers import DiffusionPipeline\n\npipe = DiffusionPipeline.from_pretrained("hf-internal-testing/tiny-pipe")\n';
    const fs = await hub({ 'tests/pipelines/test_tiny.py': src, 'src/lib/latest_model.py': src, 'conftest.py': src, 'src/lib/pipe.py': src });
    expect(shown(fs)).toEqual([
      'unpinned@conftest.py:3<=info',
      'unpinned@src/lib/latest_model.py:3',
      'unpinned@src/lib/pipe.py:3',
      'unpinned@tests/pipelines/test_tiny.py:3<=info',
    ]);
    expect(fs.find((f) => f.path === 'conftest.py')!.message).toMatch(/in test code: .*ships nothing to users/);
  });

  it('test-levels overrides the defaults per sub-code, off drops the finding', async () => {
    const src = 'from transformers import AutoModel\na = AutoModel.from_pretrained("o/a")\nb = AutoModel.from_pretrained("o/b", revision="main")\n';
    expect(shown(await hub({ 'tests/test_a.py': src }, { 'test-levels': { unpinned: 'warning' } }))).toEqual(['mutable-revision@tests/test_a.py:3<=info', 'unpinned@tests/test_a.py:2<=warning']);
    expect(shown(await hub({ 'tests/test_a.py': src }, { 'test-levels': { unpinned: 'error', 'mutable-revision': 'off' } }))).toEqual(['unpinned@tests/test_a.py:2']);
    expect(shown(await unsafe({ 'tests/test_a.py': 'import torch\ntorch.load(p)\n' }, { 'test-levels': { 'torch-load': 'info' } }))).toEqual(['torch-load@tests/test_a.py:2<=info']);
  });

  it('with no test globs nothing is test code', async () => {
    const fs = await runRuleOn(modelHubPinning, { 'tests/test_a.py': 'from transformers import AutoModel\nAutoModel.from_pretrained("o/a")\n' }, { tests: [] });
    expect(shown(fs)).toEqual(['unpinned@tests/test_a.py:2']);
  });
});

describe('path expressions as a model id are local paths', () => {
  it.each([
    ['os.path.join', 'import os\nfrom transformers import AutoModel\nm = AutoModel.from_pretrained(os.path.join(args.output_dir, "unet"))\n'],
    ['from os.path import join', 'from os.path import join\nfrom transformers import AutoModel\nm = AutoModel.from_pretrained(join(d, "unet"))\n'],
    ['Path(...)', 'from pathlib import Path\nfrom transformers import AutoModel\nm = AutoModel.from_pretrained(Path(d))\n'],
    ['Path / "x"', 'from pathlib import Path\nfrom transformers import AutoModel\nm = AutoModel.from_pretrained(Path(d) / "vae")\n'],
    ['a / b on names', 'from transformers import AutoModel\nm = AutoModel.from_pretrained(root / "vae", subfolder="x")\n'],
    ['str(Path(...) / ...)', 'from pathlib import Path\nfrom transformers import AutoModel\nm = AutoModel.from_pretrained(str(Path(d) / "vae"))\n'],
    ['hf_hub_download of a joined path', 'import os\nfrom huggingface_hub import hf_hub_download\nhf_hub_download(os.path.join(a, b), "x.bin")\n'],
  ])('%s', async (_name, src) => {
    expect(shown(await hub({ 'x.py': src }))).toEqual([]);
  });

  it('a plain variable still cannot be told from a hub id', async () => {
    expect(shown(await hub({ 'x.py': 'from transformers import AutoModel\nm = AutoModel.from_pretrained(name)\n' }))).toEqual(['unverifiable-repo@x.py:2<=info']);
  });
});

describe('the token pre-filter', () => {
  it('does not hide calls inside f-strings, aliases or multi-line strings that end', async () => {
    const src = 'import torch\nfrom pickle import loads as L\ndoc = """\n  quoted \\""" text\n"""\nmsg = f"{torch.load(p)}"\nx = L(b)  # comment with from_pretrained\n';
    expect(shown(await unsafe({ 'x.py': src }))).toEqual(['pickle-load@x.py:7', 'torch-load@x.py:6']);
  });

  it('skips a file whose code names nothing the rules judge, however large', async () => {
    // Over the 2 MiB parse limit: without the pre-filter this would be a budget-exceeded finding.
    const big = `"""from_pretrained("a/b") torch.load(x) in a docstring"""\n${'value = compute(1, 2)  # load\n'.repeat(80_000)}`;
    expect(big.length).toBeGreaterThan(2 * 1024 * 1024);
    expect(shown(await unsafe({ 'big.py': big }))).toEqual([]);
    expect(shown(await unsafe({ 'big.py': `${big}torch.load(p)\n` }))).toEqual(['budget-exceeded@big.py:undefined']);
  });

  it('covers every callee the rules judge', async () => {
    const { DEFAULT_UNSAFE_LOADERS } = await import('../src/checks/unsafe-deserialization.js');
    for (const name of DEFAULT_UNSAFE_LOADERS) expect(PYTHON_CALL_WORDS.has(name.slice(name.lastIndexOf('.') + 1)), name).toBe(true);
    for (const word of ['load', 'loads', 'Unpickler', 'from_pretrained', 'hf_hub_download', 'snapshot_download', 'load_dataset', 'pipeline', 'create_model', 'hub.list', 'full_load', 'enable_unsafe_deserialization']) {
      expect(PYTHON_CALL_WORDS.has(word), word).toBe(true);
    }
  });
});

describe('one parse per file per run', () => {
  it('both Python rules, running at once, share each parse, and files naming nothing judged are not parsed', async () => {
    const files: Files = {};
    for (let i = 0; i < 12; i++) files[`src/m${i}.py`] = `import torch\nfrom transformers import AutoModel\n\nm = AutoModel.from_pretrained("o/m${i}")\ns = torch.load("w${i}.pt")\n`;
    for (let i = 0; i < 30; i++) files[`src/layers${i}.py`] = `"""Use Model.from_pretrained("o/m") to load."""\nimport torch\n\ndef f(x):\n    return torch.relu(x)  # torch.load is not used here\n`;
    const parse = vi.mocked(python.analysePython);
    parse.mockClear();
    const report = await evaluate({
      root: await makeRepo(files),
      provider: memoryProvider({ '.github/mlgate.yml': 'version: 1\nrules:\n  unsafe-deserialization: {}\n  model-hub-pinning: {}\n' }),
      mode: 'full',
      logger: silentLogger,
      toolVersion: '1.0.0',
      now: new Date('2026-11-28T12:00:00Z'),
    });
    expect(report.findings.filter((f) => f.code === 'unsafe-deserialization/torch-load' || f.code === 'torch-load')).toHaveLength(12);
    expect(report.findings.filter((f) => f.rule === 'model-hub-pinning')).toHaveLength(12);
    expect(parse.mock.calls.map((c) => c[0]).sort()).toEqual(Object.keys(files).filter((f) => f.startsWith('src/m')).sort());
  });
});

describe('the pre-filter and the many loads that are not deserialisation', () => {
  it('skips a file whose only loads belong to no judged module, and keeps every load that could be one', async () => {
    const files: Files = {
      'src/config.py': 'import json\n\ndef read(p):\n    with open(p) as f:\n        return json.load(f)\n',
      'src/store.py': 'class Store:\n    def get(self, k):\n        return self.backend.load(k)\n',
      'src/alias.py': 'import pickle as pk\n\ndef read(b):\n    return pk.loads(b)\n',
      'src/bare.py': 'from pickle import load\n\ndef read(f):\n    return load(f)\n',
      'src/vectors.py': 'from gensim.models import Word2Vec\n\nmodel = Word2Vec.load("w2v.model")\n',
      'src/numpy_alias.py': 'import numpy as np\n\na = np.load("a.npy", allow_pickle=True)\n',
      'src/mylib_use.py': 'from mylib.io import load\n\nstate = load("ckpt.bin")\n',
    };
    const parse = vi.mocked(python.analysePython);
    const run = async (policy: string) => {
      parse.mockClear();
      const report = await evaluate({ root: await makeRepo(files), provider: memoryProvider({ '.github/mlgate.yml': policy }), mode: 'full', logger: silentLogger, toolVersion: '1.0.0', now: new Date('2026-11-28T12:00:00Z') });
      return { parsed: parse.mock.calls.map((c) => c[0]).sort(), found: report.findings.filter((f) => f.rule === 'unsafe-deserialization').map((f) => f.path).sort() };
    };
    const plain = await run('version: 1\nrules:\n  unsafe-deserialization: {}\n');
    expect(plain.parsed).toEqual(['src/alias.py', 'src/bare.py', 'src/numpy_alias.py', 'src/vectors.py']);
    expect(plain.found).toEqual(['src/alias.py', 'src/bare.py', 'src/numpy_alias.py', 'src/vectors.py']);
    // A configured loader named `load` turns the module gate off, so its callers are read and found.
    const custom = await run('version: 1\nrules:\n  unsafe-deserialization:\n    unsafe-loaders: ["mylib.io.load"]\n');
    expect(custom.found).toContain('src/mylib_use.py');
    expect(custom.parsed).toContain('src/config.py');
  });
});

describe('sharing survives one rule running out of time', () => {
  it('the other rule re-analyses what the first one was cut off on, and reports every file', async () => {
    const files: Files = {};
    for (let i = 0; i < 40; i++) files[`src/m${i}.py`] = `import torch\nfrom transformers import AutoModel\n\nm = AutoModel.from_pretrained("o/m${i}")\ns = torch.load("w${i}.pt")\n${'x = [1, 2, 3]\n'.repeat(2000)}`;
    const { inventory } = await scanRepository(await makeRepo(files));
    const base = { params: {}, inventory, changed: null, now: new Date('2026-11-28T12:00:00Z'), logger: silentLogger };
    const [cut, whole] = await Promise.all([
      runRule({ ...base, rule: unsafeDeserialization, budget: { ms: 5 } }),
      runRule({ ...base, rule: modelHubPinning }),
    ]);
    expect(cut.some((f) => f.code === 'budget-exceeded')).toBe(true);
    expect(cut.filter((f) => f.code === 'torch-load').length).toBeLessThan(40);
    expect(whole.map((f) => f.code)).toEqual(Array(40).fill('unpinned'));
  });
});
