import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { modelHubPinning } from '../src/checks/model-hub-pinning.js';
import { runRuleOn, summarise } from './helpers/repo.js';
import { lineContaining, notebook } from './python-fixtures.js';

const SHA = '86b5e0934494bd15c9632b12f734a8a67f723594';
const run = async (src: string, params: Record<string, unknown> = {}, extra: Record<string, string> = {}) =>
  summarise(await runRuleOn(modelHubPinning, { 'x.py': src, ...extra }, { params }));

describe('model-hub-pinning: Python snippets', () => {
  it.each([
    // from_pretrained
    ['from_pretrained without revision', 'from transformers import AutoModel\nm = AutoModel.from_pretrained("bert-base-uncased")\n', ['unpinned@x.py:2']],
    ['from_pretrained keyword repo id', 'AutoTokenizer.from_pretrained(\n    pretrained_model_name_or_path="acme/tok",\n)\n', ['unpinned@x.py:1']],
    ['from_pretrained full commit', `AutoModel.from_pretrained("bert-base-uncased", revision="${SHA}")\n`, []],
    ['from_pretrained upper-case commit', `AutoModel.from_pretrained("bert-base-uncased", revision="${SHA.toUpperCase()}")\n`, []],
    ['from_pretrained branch on the revision line', 'm = AutoModel.from_pretrained(\n    "acme/m",\n    revision="main",\n)\n', ['mutable-revision@x.py:3']],
    ['from_pretrained tag', 'AutoModel.from_pretrained("acme/m", revision="v1.0")\n', ['mutable-revision@x.py:1']],
    ['from_pretrained short sha', 'AutoModel.from_pretrained("acme/m", revision="86b5e09")\n', ['mutable-revision@x.py:1']],
    ['from_pretrained revision=None', 'AutoModel.from_pretrained("acme/m", revision=None)\n', ['unpinned@x.py:1']],
    ['from_pretrained on any class', 'from diffusers import DiffusionPipeline\np = DiffusionPipeline.from_pretrained("acme/sd")\n', ['unpinned@x.py:2']],
    ['from_pretrained on an expression', 'get_cls().from_pretrained("acme/m")\n', ['unpinned@x.py:1']],
    ['PeftModel adapter is the second argument', 'from peft import PeftModel\nm = PeftModel.from_pretrained(base, "acme/lora")\n', ['unpinned@x.py:2']],
    ['PeftModel adapter pinned', `from peft import PeftModel\nm = PeftModel.from_pretrained(base, "acme/lora", revision="${SHA}")\n`, []],
    // local paths
    ['relative path', 'AutoModel.from_pretrained("./checkpoints/best")\n', []],
    ['parent path', 'AutoModel.from_pretrained("../m")\n', []],
    ['absolute path', 'AutoModel.from_pretrained("/models/m")\n', []],
    ['home path', 'AutoModel.from_pretrained("~/m")\n', []],
    ['deep path', 'AutoModel.from_pretrained("outputs/run1/checkpoint-500")\n', []],
    ['config file', 'AutoConfig.from_pretrained("cfg/config.json")\n', []],
    ['not a repo id', 'AutoModel.from_pretrained("not a repo")\n', []],
    // variables
    ['repo id in a variable', 'AutoModel.from_pretrained(args.model)\n', ['unverifiable-repo@x.py:1']],
    ['revision in a variable', 'AutoModel.from_pretrained("acme/m", revision=rev)\n', ['unverifiable-revision@x.py:1']],
    ['revision maybe in **kwargs', 'AutoModel.from_pretrained("acme/m", **kw)\n', ['unverifiable-revision@x.py:1']],
    ['repo in a variable, full commit', `AutoModel.from_pretrained(name, revision="${SHA}")\n`, []],
    ['repo in a variable, branch', 'AutoModel.from_pretrained(name, revision="main")\n', ['mutable-revision@x.py:1']],
    // huggingface_hub
    ['hf_hub_download', 'from huggingface_hub import hf_hub_download\np = hf_hub_download(repo_id="acme/m", filename="model.safetensors")\n', ['unpinned@x.py:2']],
    ['hf_hub_download positional', 'import huggingface_hub as hh\np = hh.hf_hub_download("acme/m", "model.safetensors")\n', ['unpinned@x.py:2']],
    ['hf_hub_download pinned', `hf_hub_download(repo_id="acme/m", filename="w.bin", revision="${SHA}")\n`, []],
    ['snapshot_download branch', 'snapshot_download("acme/m", revision="dev")\n', ['mutable-revision@x.py:1']],
    ['HfApi().snapshot_download', 'HfApi().snapshot_download(repo_id="acme/m")\n', ['unpinned@x.py:1']],
    // datasets
    ['load_dataset', 'from datasets import load_dataset\nds = load_dataset("imdb")\n', ['unpinned@x.py:2']],
    ['load_dataset pinned', `import datasets\nds = datasets.load_dataset("stanfordnlp/imdb", revision="${SHA}")\n`, []],
    ['load_dataset packaged builder', 'from datasets import load_dataset\nds = load_dataset("csv", data_files="d.csv")\n', []],
    ['load_dataset local file', 'from datasets import load_dataset\nds = load_dataset("data/train.jsonl")\n', []],
    ['user load_dataset', 'def load_dataset(name):\n    pass\nload_dataset("imdb")\n', []],
    // pipeline
    ['pipeline model unpinned', 'from transformers import pipeline\np = pipeline("text-classification", model="acme/clf")\n', ['unpinned@x.py:2']],
    ['pipeline positional model pinned', `from transformers import pipeline\np = pipeline("text-classification", "acme/clf", revision="${SHA}")\n`, []],
    ['pipeline default model', 'import transformers\np = transformers.pipeline("sentiment-analysis")\n', ['unpinned@x.py:2']],
    ['pipeline with a model object', 'from transformers import pipeline\np = pipeline("text-generation", model=model, tokenizer=tok)\n', []],
    ['sklearn Pipeline is not a hub call', 'from sklearn.pipeline import Pipeline\np = Pipeline([("a", a)])\n', []],
    // torch.hub
    ['torch.hub.load without ref', 'import torch\nm = torch.hub.load("pytorch/vision", "resnet50")\n', ['unpinned@x.py:2']],
    ['torch.hub.load branch ref', 'import torch\nm = torch.hub.load("pytorch/vision:main", "resnet50")\n', ['mutable-revision@x.py:2']],
    ['torch.hub.load commit ref', `import torch\nm = torch.hub.load("pytorch/vision:${SHA}", "resnet50")\n`, []],
    ['torch.hub.load local source', 'import torch\nm = torch.hub.load("hub_dir", "resnet50", source="local")\n', []],
    ['torch.hub.list', 'import torch\ntorch.hub.list("pytorch/vision")\n', ['unpinned@x.py:2']],
    ['torch.hub.load repo in a variable', 'import torch\ntorch.hub.load(repo, "m")\n', ['unverifiable-repo@x.py:2']],
    // timm
    ['timm hf-hub without revision', 'import timm\nm = timm.create_model("hf-hub:timm/resnet50.a1_in1k", pretrained=True)\n', ['unpinned@x.py:2']],
    ['timm hf_hub with branch', 'import timm\nm = timm.create_model("hf_hub:acme/m@main", pretrained=True)\n', ['mutable-revision@x.py:2']],
    ['timm hf-hub with commit', `import timm\nm = timm.create_model("hf-hub:acme/m@${SHA}", pretrained=True)\n`, []],
    ['timm plain name pretrained', 'import timm\nm = timm.create_model(\n    "resnet50",\n    pretrained=True)\n', ['unpinned@x.py:4']],
    ['timm plain name untrained', 'import timm\nm = timm.create_model("resnet50")\n', []],
    ['timm with a local weight file', 'import timm\nm = timm.create_model("resnet50", pretrained=True, pretrained_cfg_overlay=dict(file="w.safetensors"))\n', []],
    // sentence-transformers
    ['SentenceTransformer', 'from sentence_transformers import SentenceTransformer\nm = SentenceTransformer("all-MiniLM-L6-v2")\n', ['unpinned@x.py:2']],
    ['SentenceTransformer pinned', `from sentence_transformers import SentenceTransformer\nm = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2", revision="${SHA}")\n`, []],
    ['CrossEncoder keyword', 'from sentence_transformers import CrossEncoder\nm = CrossEncoder(model_name="acme/ce")\n', ['unpinned@x.py:2']],
    // never in strings or comments
    ['comment and string', '# AutoModel.from_pretrained("gpt2")\ns = \'AutoModel.from_pretrained("gpt2")\'\n', []],
  ])('%s', async (_name, src, expected) => {
    expect(await run(src)).toEqual([...expected].sort());
  });

  it('treats a directory of the repository as a local path', async () => {
    const src = 'AutoModel.from_pretrained("models/bert")\nAutoModel.from_pretrained("bert")\n';
    expect(await run(src, {}, { 'models/bert/config.json': '{}' })).toEqual(['unpinned@x.py:2']);
  });

  it('gives the pinned form to write', async () => {
    const [f] = await runRuleOn(modelHubPinning, { 'x.py': 'from transformers import AutoModel\nAutoModel.from_pretrained("acme/m")\n' });
    expect(f?.message).toContain('AutoModel.from_pretrained("acme/m", revision="<40-hex commit sha>")');
    const [h] = await runRuleOn(modelHubPinning, { 'x.py': 'import torch\ntorch.hub.load("pytorch/vision:v0.10.0", "resnet18")\n' });
    expect(h?.message).toContain('torch.hub.load("pytorch/vision:<40-hex commit sha>", …)');
    const [d] = await runRuleOn(modelHubPinning, { 'x.py': 'hf_hub_download(repo_id="acme/m", filename="w.bin")\n' });
    expect(d?.message).toContain('hf_hub_download(repo_id="acme/m", filename="w.bin", revision="<40-hex commit sha>")');
  });

  it('caps unverifiable findings at info', async () => {
    const findings = await runRuleOn(modelHubPinning, { 'x.py': 'AutoModel.from_pretrained(path)\nAutoModel.from_pretrained("acme/m", revision=rev)\n' });
    expect(findings.map((f) => f.maxLevel)).toEqual(['info', 'info']);
  });
});

describe('model-hub-pinning: configuration and modes', () => {
  const src = 'AutoModel.from_pretrained("acme/internal")\nAutoModel.from_pretrained("gpt2")\ntorch.hub.load("acme/hub:main", "m")\n';

  it('allows unpinned repositories matching allow-unpinned globs', async () => {
    expect(await run(src, { 'allow-unpinned': ['acme/*'] })).toEqual(['unpinned@x.py:2']);
  });

  it('checks only changed files in changed mode', async () => {
    const findings = await runRuleOn(modelHubPinning, { 'a.py': src, 'b.py': src }, { changed: ['b.py'] });
    expect(new Set(findings.map((f) => f.path))).toEqual(new Set(['b.py']));
  });

  it('honours files globs', async () => {
    const findings = await runRuleOn(modelHubPinning, { 'a.py': src, 'lib/b.py': src }, { params: { files: ['lib/**'] } });
    expect(new Set(findings.map((f) => f.path))).toEqual(new Set(['lib/b.py']));
  });

  it('reports the .ipynb line in notebooks', async () => {
    const text = notebook([
      { source: 'from transformers import AutoModel\n' },
      { source: '%pip install transformers\nmodel = AutoModel.from_pretrained("gpt2")\n' },
    ]);
    expect(summarise(await runRuleOn(modelHubPinning, { 'nb.ipynb': text }))).toEqual([`unpinned@nb.ipynb:${lineContaining(text, 'model = AutoModel')}`]);
  });

  it('runs its own examples', async () => {
    const { pass, fail } = modelHubPinning.examples;
    expect(await runRuleOn(modelHubPinning, pass.files)).toEqual([]);
    expect((await runRuleOn(modelHubPinning, fail.files)).map((f) => f.code).sort()).toEqual([...fail.expect].sort());
  });
});

describe('model-hub-pinning: property', () => {
  it('never throws out of the rule and only reports the file', async () => {
    const repo = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('./m', 'a/b', 'gpt2', 'hf-hub:a/b@', 'a/b:', ':', '@@'));
    const call = fc.tuple(fc.constantFrom('AutoModel.from_pretrained', 'torch.hub.load', 'timm.create_model', 'hf_hub_download', 'pipeline'), repo, fc.option(repo));
    await fc.assert(
      fc.asyncProperty(fc.array(call, { maxLength: 5 }), fc.string({ unit: 'binary', maxLength: 200 }), async (calls, noise) => {
        const src = calls.map(([fn, r, rev]) => `${fn}(${JSON.stringify(r)}${rev === null ? '' : `, revision=${JSON.stringify(rev)}`}, pretrained=True)`).join('\n');
        const findings = await runRuleOn(modelHubPinning, { 'a.py': `${src}\n${noise}` });
        for (const f of findings) expect(f.path).toBe('a.py');
      }),
      { numRuns: 40 },
    );
  });
});
