import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unsafeDeserialization } from '../src/checks/unsafe-deserialization.js';
import { runRuleOn, summarise } from './helpers/repo.js';
import { lineContaining, notebook } from './python-fixtures.js';

const run = async (src: string, params: Record<string, unknown> = {}) => summarise(await runRuleOn(unsafeDeserialization, { 'x.py': src }, { params }));

describe('unsafe-deserialization: Python snippets', () => {
  it.each([
    // torch
    ['torch.load without weights_only', 'import torch\nstate = torch.load("m.pt")\n', ['torch-load@x.py:2']],
    ['torch.load weights_only=False on its line', 'import torch\nstate = torch.load(\n    "m.pt",\n    weights_only=False,\n)\n', ['torch-load@x.py:4']],
    ['torch.load weights_only=True', 'import torch\nstate = torch.load("m.pt", weights_only=True)\n', []],
    ['aliased torch module', 'import torch as t\n\nt.load(p)\n', ['torch-load@x.py:3']],
    ['from torch import load as tl', 'from torch import load as tl\ntl(p)\n', ['torch-load@x.py:2']],
    ['torch.hub.load_state_dict_from_url', 'import torch\ntorch.hub.load_state_dict_from_url(url)\n', ['torch-load@x.py:2']],
    ['torch.jit.load is not pickle', 'import torch\ntorch.jit.load(p)\n', []],
    ['user load function is fine', 'def load(p):\n    return 1\nload(p)\n', []],
    ['json.load is fine', 'import json\njson.load(f)\n', []],
    // pickle family
    ['pickle.load', 'import pickle\nobj = pickle.load(f)\n', ['pickle-load@x.py:2']],
    ['pickle.loads via from import', 'from pickle import loads\nobj = loads(b)\n', ['pickle-load@x.py:2']],
    ['pickle.Unpickler', 'import pickle\npickle.Unpickler(f).load()\n', ['pickle-load@x.py:2']],
    ['cPickle', 'import cPickle\ncPickle.load(f)\n', ['pickle-load@x.py:2']],
    ['_pickle', 'import _pickle\n_pickle.loads(b)\n', ['pickle-load@x.py:2']],
    ['cloudpickle.loads', 'import cloudpickle\ncloudpickle.loads(b)\n', ['pickle-load@x.py:2']],
    ['pickle.dump is fine', 'import pickle\npickle.dump(obj, f)\n', []],
    ['try/except cPickle fallback', 'try:\n    import cPickle as pickle\nexcept ImportError:\n    import pickle\npickle.load(f)\n', ['pickle-load@x.py:5']],
    ['dill.load', 'import dill\ndill.load(f)\n', ['dill-load@x.py:2']],
    ['dill.loads', 'import dill as d\nd.loads(b)\n', ['dill-load@x.py:2']],
    ['joblib.load', 'import joblib\nclf = joblib.load("clf.joblib")\n', ['joblib-load@x.py:2']],
    ['joblib via from import', 'from joblib import load\nclf = load("clf.joblib")\n', ['joblib-load@x.py:2']],
    ['pandas.read_pickle', 'import pandas as pd\ndf = pd.read_pickle("df.pkl")\n', ['pandas-read-pickle@x.py:2']],
    ['pd.read_pickle without import', 'df = pd.read_pickle("df.pkl")\n', ['pandas-read-pickle@x.py:1']],
    ['pd.read_parquet is fine', 'import pandas as pd\npd.read_parquet("df.parquet")\n', []],
    // numpy
    ['np.load allow_pickle=True', 'import numpy as np\na = np.load("a.npy", allow_pickle=True)\n', ['numpy-allow-pickle@x.py:2']],
    ['np.load positional allow_pickle', 'import numpy as np\na = np.load("a.npy", None, True)\n', ['numpy-allow-pickle@x.py:2']],
    ['np.load default', 'import numpy as np\na = np.load("a.npy")\n', []],
    ['np.load allow_pickle=False', 'import numpy\na = numpy.load("a.npy", allow_pickle=False)\n', []],
    // yaml
    ['yaml.load without Loader', 'import yaml\ncfg = yaml.load(f)\n', ['yaml-unsafe-load@x.py:2']],
    ['yaml.load Loader=yaml.Loader', 'import yaml\ncfg = yaml.load(f,\n  Loader=yaml.Loader)\n', ['yaml-unsafe-load@x.py:3']],
    ['yaml.load FullLoader', 'import yaml\ncfg = yaml.load(f, Loader=yaml.FullLoader)\n', ['yaml-unsafe-load@x.py:2']],
    ['yaml.load SafeLoader', 'import yaml\ncfg = yaml.load(f, Loader=yaml.SafeLoader)\n', []],
    ['yaml.load CSafeLoader positional', 'import yaml\ncfg = yaml.load(f, yaml.CSafeLoader)\n', []],
    ['yaml.load imported SafeLoader alias', 'from yaml import load, CSafeLoader as L\ncfg = load(f, Loader=L)\n', []],
    ['yaml.load try/except safe loaders', 'try:\n    from yaml import CSafeLoader as L\nexcept ImportError:\n    from yaml import SafeLoader as L\nimport yaml\nyaml.load(f, Loader=L)\n', []],
    ['yaml.load_all with CLoader', 'import yaml\nyaml.load_all(f, Loader=yaml.CLoader)\n', ['yaml-unsafe-load@x.py:2']],
    ['yaml.unsafe_load', 'import yaml\nyaml.unsafe_load(f)\n', ['yaml-unsafe-load@x.py:2']],
    ['yaml.full_load', 'import yaml\nyaml.full_load(f)\n', ['yaml-unsafe-load@x.py:2']],
    ['yaml.safe_load', 'import yaml\nyaml.safe_load(f)\n', []],
    ['yaml.load with a custom loader is a capped finding', 'import yaml\nyaml.load(f, Loader=MyLoader)\n', ['yaml-unsafe-load@x.py:2']],
    // trust_remote_code
    ['trust_remote_code=True on any call', 'from transformers import AutoModel\nm = AutoModel.from_pretrained(\n    "x/y",\n    trust_remote_code=True)\n', ['trust-remote-code@x.py:4']],
    ['trust_remote_code=True on load_dataset', 'load_dataset("x/y", trust_remote_code=True)\n', ['trust-remote-code@x.py:1']],
    ['trust_remote_code in a dict literal', 'p = pipeline("text-generation", model="x/y",\n    model_kwargs={"trust_remote_code": True})\n', ['trust-remote-code@x.py:2']],
    ['trust_remote_code in a config dict', 'cfg = {\n    "trust_remote_code": True,\n}\nAutoModel.from_pretrained("x/y", **cfg)\n', ['trust-remote-code@x.py:2']],
    ['trust_remote_code False in a dict', 'cfg = {"trust_remote_code": False}\n', []],
    ['trust_remote_code=False', 'AutoModel.from_pretrained("x/y", trust_remote_code=False)\n', []],
    // keras
    ['keras load_model safe_mode=False', 'import keras\nm = keras.models.load_model("m.keras", safe_mode=False)\n', ['keras-unsafe-mode@x.py:2']],
    ['tf.keras load_model safe_mode=False', 'import tensorflow as tf\nm = tf.keras.models.load_model("m.keras", safe_mode=False)\n', ['keras-unsafe-mode@x.py:2']],
    ['from keras.saving import load_model', 'from keras.saving import load_model\nm = load_model("m.keras", safe_mode=False)\n', ['keras-unsafe-mode@x.py:2']],
    ['keras load_model default', 'import keras\nm = keras.models.load_model("m.keras")\n', []],
    ['keras enable_unsafe_deserialization', 'import keras\nkeras.config.enable_unsafe_deserialization()\n', ['keras-unsafe-mode@x.py:2']],
    ['other load_model', 'import mylib\nmylib.load_model("m", safe_mode=False)\n', []],
    // never in strings or comments
    ['comment', '# torch.load(p)\n# pickle.loads(b)\n', []],
    ['string', 's = "pickle.loads(b)"\ndoc = """\nyaml.load(f)\n"""\n', []],
    // several findings keep their own lines
    ['two findings', 'import pickle, torch\n\na = pickle.load(f)\nb = torch.load(p)\n', ['pickle-load@x.py:3', 'torch-load@x.py:4']],
  ])('%s', async (_name, src, expected) => {
    expect(await run(src)).toEqual([...expected].sort());
  });

  it.each([
    ['weights_only from a variable', 'import torch\ntorch.load(p, weights_only=flag)\n', 'torch-load'],
    ['weights_only maybe in **kwargs', 'import torch\ntorch.load(p, **kw)\n', 'torch-load'],
    ['allow_pickle from a variable', 'import numpy as np\nnp.load(p, allow_pickle=ap)\n', 'numpy-allow-pickle'],
    ['trust_remote_code from a variable', 'AutoModel.from_pretrained(m, trust_remote_code=args.trust)\n', 'trust-remote-code'],
    ['unknown yaml loader', 'import yaml\nyaml.load(f, Loader=MyLoader)\n', 'yaml-unsafe-load'],
  ])('caps unverifiable values at warning: %s', async (_name, src, code) => {
    const findings = await runRuleOn(unsafeDeserialization, { 'x.py': src });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code, maxLevel: 'warning' });
  });

  it('says what to write instead', async () => {
    const [f] = await runRuleOn(unsafeDeserialization, { 'x.py': 'import torch\ntorch.load(p)\n' });
    expect(f?.message).toContain('weights_only=True');
    expect(f).toMatchObject({ line: 2, column: 1 });
    const [y] = await runRuleOn(unsafeDeserialization, { 'x.py': 'import yaml\nyaml.load(f)\n' });
    expect(y?.message).toContain('yaml.safe_load');
  });
});

describe('unsafe-deserialization: notebooks', () => {
  it('reports the .ipynb line and skips magics, markdown and other interpreters', async () => {
    const text = notebook([
      { source: 'import torch\nimport pickle as pk\n' },
      { type: 'markdown', source: 'Never call `pickle.load(f)` on untrusted data.\n' },
      { source: '!pip install torch\n%matplotlib inline\nstate = torch.load(path)\n' },
      { source: '%%bash\npython -c "import pickle; pickle.load(open(1))"\n' },
      { source: '%time obj = pk.loads(blob)\n' },
    ]);
    const findings = summarise(await runRuleOn(unsafeDeserialization, { 'nb/train.ipynb': text }));
    expect(findings).toEqual(
      [`torch-load@nb/train.ipynb:${lineContaining(text, 'state = torch.load(path)')}`, `pickle-load@nb/train.ipynb:${lineContaining(text, 'pk.loads(blob)')}`].sort(),
    );
  });

  it('reports a notebook that is not JSON as unparsable', async () => {
    expect(summarise(await runRuleOn(unsafeDeserialization, { 'a.ipynb': '{"cells": [\n  {"cell_type": ' }))).toEqual(['unparsable@a.ipynb:2']);
  });
});

describe('unsafe-deserialization: configuration and modes', () => {
  const files = { 'src/a.py': 'import pickle\npickle.load(f)\n', 'tools/b.py': 'import joblib\njoblib.load(p)\n', 'c.pyw': 'import pickle\npickle.load(f)\n' };

  it('checks **/*.py and **/*.ipynb by default', async () => {
    expect(summarise(await runRuleOn(unsafeDeserialization, files))).toEqual(['joblib-load@tools/b.py:2', 'pickle-load@src/a.py:2']);
  });

  it('honours files globs', async () => {
    expect(summarise(await runRuleOn(unsafeDeserialization, files, { params: { files: ['src/**', '*.pyw'] } }))).toEqual(['pickle-load@c.pyw:2', 'pickle-load@src/a.py:2']);
  });

  it('skips ignored call names', async () => {
    expect(summarise(await runRuleOn(unsafeDeserialization, files, { params: { ignore: ['joblib.load'] } }))).toEqual(['pickle-load@src/a.py:2']);
  });

  it('checks only changed files in changed mode', async () => {
    expect(summarise(await runRuleOn(unsafeDeserialization, files, { changed: ['tools/b.py', 'README.md'] }))).toEqual(['joblib-load@tools/b.py:2']);
  });

  it('reports files over the read budget instead of parsing them', async () => {
    const findings = await runRuleOn(unsafeDeserialization, { 'big.py': `x = 1\n${'#'.repeat(4000)}\n` }, { budget: { maxFileBytes: 1000 } });
    expect(summarise(findings)).toEqual(['budget-exceeded@big.py']);
  });

  it('fails closed on the file it was analysing when the time budget runs out', async () => {
    const cells = Array.from({ length: 400 }, (_, i) => ({ source: `import pickle\nx${i} = pickle.loads(b)\n${'y = [1, 2, 3]\n'.repeat(50)}` }));
    const findings = await runRuleOn(unsafeDeserialization, { 'nb.ipynb': notebook(cells) }, { budget: { ms: 20 } });
    expect(summarise(findings)).toEqual(['budget-exceeded@nb.ipynb']);
  });

  it('reports a file that is mostly not Python, capped at warning', async () => {
    // It names a judged call (pickle.load), so the pre-filter lets it through to the parser.
    const findings = await runRuleOn(unsafeDeserialization, { 'x.py': '<html>\n' + '<p>)))]]] {{ </p>\n'.repeat(20) + '<p>pickle.load</p>\n' });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: 'unparsable', path: 'x.py', maxLevel: 'warning' });
  });

  it('runs its own examples', async () => {
    const { pass, fail } = unsafeDeserialization.examples;
    expect(await runRuleOn(unsafeDeserialization, pass.files)).toEqual([]);
    expect((await runRuleOn(unsafeDeserialization, fail.files)).map((f) => f.code).sort()).toEqual([...fail.expect].sort());
  });
});

describe('unsafe-deserialization: property', () => {
  it('never throws out of the rule on arbitrary .py and .ipynb content', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ maxLength: 300 }), async (py, nb) => {
        const findings = await runRuleOn(unsafeDeserialization, { 'a.py': py, 'b.ipynb': nb });
        for (const f of findings) expect(['a.py', 'b.ipynb']).toContain(f.path);
      }),
      { numRuns: 40 },
    );
  });
});
