import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { notebook, lineContaining } from './python-fixtures.js';
import { analysePython, argument, MAX_PYTHON_SOURCE_CHARS, PythonParseError, pythonOfCell, type PythonCall } from '../src/formats/python/index.js';

const callsOf = async (src: string, path = 'x.py'): Promise<PythonCall[]> => (await analysePython(path, src)).calls;
const named = (calls: PythonCall[]): string[] => calls.map((c) => `${c.names.join('|')}:${c.line}`);

describe('python call extraction', () => {
  it.each([
    ['plain module call', 'import torch\ntorch.load(p)\n', ['torch.load:2']],
    ['module alias', 'import torch as t\n\nt.load(p)\n', ['torch.load:3']],
    ['from import', 'from pickle import loads\nloads(b)\n', ['pickle.loads:2']],
    ['from import with alias', 'from torch import load as tl\ntl(p)\n', ['torch.load:2']],
    ['submodule alias', 'import torch.hub as th\nth.load("a/b")\n', ['torch.hub.load:2']],
    ['dotted import binds the head', 'import torch.hub\ntorch.hub.load("a/b")\n', ['torch.hub.load:2']],
    ['import after use still resolves', 'np.load(f)\nimport numpy as np\n', ['numpy.load:1']],
    ['conventional alias when not imported', 'pd.read_pickle(f)\n', ['pd.read_pickle|pandas.read_pickle:1']],
    ['conventional alias shadowed by a definition', 'class np:\n    pass\nnp.load(f)\n', ['np.load:3']],
    ['try/except imports keep both bindings', 'try:\n    import cPickle as pickle\nexcept ImportError:\n    import pickle\npickle.load(f)\n', ['cPickle.load|pickle.load:5']],
    ['star import adds candidates', 'from pickle import *\nloads(b)\n', ['loads|pickle.loads:2']],
    ['relative import does not match a library', 'from .utils import load\nload(p)\n', ['.utils.load:2']],
    ['import inside a function counts', 'def f():\n    import joblib as jl\n    return jl.load(p)\n', ['joblib.load:3']],
    ['comment is not a call', '# torch.load(p)\nx = 1\n', []],
    ['string is not a call', 's = "pickle.loads(b)"\nt = """\ntorch.load(p)\n"""\n', []],
    ['call inside f-string interpolation is a call', 'import pickle\nx = f"{pickle.loads(b)}"\n', ['pickle.loads:2']],
    ['nested calls', 'import torch\nm.load_state_dict(torch.load(p))\n', ['m.load_state_dict:2', 'torch.load:2']],
    ['decorator call', 'import functools\n@functools.lru_cache(maxsize=2)\ndef f(): pass\n', ['functools.lru_cache:2']],
    ['byte order mark and CRLF line ends', '\uFEFFimport pickle\r\n\r\npickle.load(f)\r\n', ['pickle.load:3']],
    ['python 2 print statement still parses', 'import pickle\nprint "x"\npickle.load(f)\n', ['pickle.load:3']],
  ])('%s', async (_name, src, expected) => {
    expect(named(await callsOf(src)).sort()).toEqual([...expected].sort());
  });

  it('reads literal argument values and positions', async () => {
    const [call] = await callsOf(
      'import yaml\nyaml.load(\n    stream,\n    Loader=yaml.CSafeLoader,  # safe\n    flag=True, none=None, s=r"a\\d" "b", u="\\u00e9\\n", f=f"{x}", n=3, *rest, **kw)\n',
    );
    expect(call).toBeDefined();
    expect(call!.line).toBe(2);
    expect(call!.endLine).toBe(5);
    expect(call!.positional.map((a) => a.value)).toEqual([{ kind: 'name', written: 'stream', names: ['stream'] }]);
    expect(call!.keywords.get('Loader')).toMatchObject({ line: 4, column: 12, value: { kind: 'name', names: ['yaml.CSafeLoader'] } });
    expect(call!.keywords.get('flag')?.value).toEqual({ kind: 'bool', value: true });
    expect(call!.keywords.get('none')?.value).toEqual({ kind: 'none' });
    expect(call!.keywords.get('s')?.value).toEqual({ kind: 'string', value: 'a\\db' });
    expect(call!.keywords.get('u')?.value).toEqual({ kind: 'string', value: 'é\n' });
    expect(call!.keywords.get('f')?.value).toEqual({ kind: 'other' });
    expect(call!.keywords.get('n')?.value).toEqual({ kind: 'other' });
    expect(call!.starArgs).toBe(true);
    expect(call!.starKwargs).toBe(true);
  });

  it('finds a keyword or positional argument', async () => {
    const [a, b] = await callsOf('np.load(f, None, True)\nnp.load(f, allow_pickle=False)\n');
    expect(argument(a!, 2, 'allow_pickle')?.value).toEqual({ kind: 'bool', value: true });
    expect(argument(b!, 2, 'allow_pickle')?.value).toEqual({ kind: 'bool', value: false });
    expect(argument(b!, null, 'mmap_mode')).toBeUndefined();
  });

  it('gives the method name of a callee that is not a dotted name', async () => {
    const [outer] = await callsOf('get_cls().from_pretrained("gpt2")\n');
    expect(outer).toMatchObject({ written: null, names: [], method: 'from_pretrained' });
  });

  it('keeps columns in UTF-16 units after non-ASCII text', async () => {
    const [call] = await callsOf('s = "é😀"; pickle.load(f)\n');
    // s, space, =, space, quote, é, 😀 (two UTF-16 units), quote, ;, space: the call starts at index 11.
    expect(call?.column).toBe(12);
  });
});

describe('syntax errors', () => {
  it('still finds calls around a local syntax error', async () => {
    const file = await analysePython('x.py', 'import pickle\nif x:\n  )))\npickle.load(f)\n' + 'y = 1\n'.repeat(20));
    expect(named(file.calls)).toEqual(['pickle.load:4']);
    expect(file.unparsable).toBeNull();
  });

  it('reports a source that is mostly not Python', async () => {
    const file = await analysePython('x.py', 'x = 1\n' + '<html><body>)))</body>{{{ ]]] }\n'.repeat(30));
    expect(file.unparsable).not.toBeNull();
    expect(file.unparsable!.errorShare).toBeGreaterThan(0.5);
    expect(file.unparsable!.line).toBeLessThanOrEqual(2);
  });

  it('refuses sources over the size limit before parsing', async () => {
    await expect(analysePython('x.py', 'x'.repeat(MAX_PYTHON_SOURCE_CHARS + 1))).rejects.toBeInstanceOf(PythonParseError);
  });

  it('walks pathologically deep nesting without exhausting the stack', async () => {
    const depth = 50_000;
    const file = await analysePython('x.py', `x = ${'('.repeat(depth)}pickle.load(f)${')'.repeat(depth)}\n`);
    expect(file.calls.length).toBeLessThanOrEqual(1);
  });

  it('stops when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new DOMException('budget', 'TimeoutError'));
    await expect(analysePython('x.py', 'x = 1\n', controller.signal)).rejects.toThrow('budget');
  });
});

describe('notebooks', () => {
  it('maps calls to the .ipynb line and resolves imports across cells', async () => {
    const text = notebook([
      { source: 'import torch as t\nimport pickle\n' },
      { type: 'markdown', source: 'torch.load(p) in prose\n' },
      { source: '!pip install torch\n%matplotlib inline\nx = t.load(p)\n' },
    ]);
    const line = lineContaining(text, 'x = t.load(p)');
    const calls = await callsOf(text, 'nb.ipynb');
    expect(named(calls)).toEqual([`torch.load:${line}`]);
  });

  it('maps a cell stored as one string to that JSON line', async () => {
    const text = '{"cells": [\n{"cell_type": "code", "metadata": {}, "outputs": [],\n "source": "import pickle\\npickle.loads(b)\\n"}\n], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n';
    expect(named(await callsOf(text, 'nb.ipynb'))).toEqual(['pickle.loads:3']);
  });

  it('skips notebooks of other kernel languages', async () => {
    expect(await callsOf(notebook([{ source: 'pickle.load(f)\n' }], 'r'), 'nb.ipynb')).toEqual([]);
  });

  it('rejects a notebook that is not JSON', async () => {
    await expect(analysePython('nb.ipynb', '{"cells": [')).rejects.toThrow(/not valid JSON/);
  });

  it.each([
    ['shell escape', '!pip install x\npickle.load(f)', '              \npickle.load(f)'],
    ['line magic', '%matplotlib inline\nx', '                  \nx'],
    ['assigned shell output', 'files = !ls\nx', '           \nx'],
    ['help', 'torch.load?\nx', '           \nx'],
    ['timed statement keeps its code', '%time torch.load(p)', '      torch.load(p)'],
    ['timeit options are blanked', '%timeit -n 3 torch.load(p)', '             torch.load(p)'],
    ['continued shell line', '!pip install \\\n  torch\nx', '              \n       \nx'],
    ['python cell magic keeps its body', '%%time\ntorch.load(p)', '      \ntorch.load(p)'],
  ])('blanks IPython syntax without moving code: %s', (_name, cell, expected) => {
    expect(pythonOfCell(cell)).toBe(expected);
  });

  it('hides cells run by another interpreter', () => {
    expect(pythonOfCell('%%bash\npython -c "import pickle; pickle.load(f)"\n')).toBeNull();
  });
});

describe('property: arbitrary input', () => {
  it('never throws on arbitrary text and never reports a line outside the file', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 400 }), async (src) => {
        const file = await analysePython('x.py', src);
        const lines = src.split('\n').length;
        for (const c of file.calls) expect(c.line >= 1 && c.endLine <= lines).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on Python-like token soup', async () => {
    const token = fc.constantFrom('import ', 'from ', ' as ', 'torch', 'pickle', '.', 'load', '(', ')', ',', '=', 'True', '"s"', "'", '\n', '    ', '*', '**', '#', ':', '@', 'f"{', '}', '\\');
    await fc.assert(
      fc.asyncProperty(fc.array(token, { maxLength: 120 }), async (tokens) => {
        await analysePython('x.py', tokens.join(''));
      }),
      { numRuns: 300 },
    );
  });

  it('rejects arbitrary notebook text only with a notebook error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 200 }), fc.json().map((j) => `{"cells": [{"cell_type": "code", "source": ${j}}]}`)), async (text) => {
        try {
          await analysePython('nb.ipynb', text);
        } catch (e) {
          expect((e as Error).name).toBe('NotebookError');
        }
      }),
      { numRuns: 300 },
    );
  });
});
