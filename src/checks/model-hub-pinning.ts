import { Minimatch } from 'minimatch';
import { DEFAULT_PYTHON_GLOBS, forEachPythonFile, inTestCode, PYTHON_FILES_PARAM, testLevelsParam } from './python-files.js';
import { argument, isCallTo, type PythonArg, type PythonCall, type PythonValue } from '../formats/python/index.js';
import type { Inventory } from '../inventory/types.js';
import { atlas, type Rule, type RuleFinding } from './rule.js';

export interface ModelHubPinningParams {
  files?: string[];
  'allow-unpinned'?: string[];
  'test-levels'?: Record<string, 'off' | 'info' | 'warning' | 'error'>;
}

const CODES = ['unpinned', 'mutable-revision', 'unverifiable-revision', 'unverifiable-repo', 'unparsable', 'budget-exceeded'] as const;

/**
 * In tests, a moving revision makes CI flaky and can run someone's new weights
 * on CI, but ships nothing to users: info unless the policy says otherwise.
 */
const DEFAULT_TEST_LEVELS = { unpinned: 'info', 'mutable-revision': 'info' } as const;

/** Calls that build a filesystem path: a model named by one is a local directory, not a hub id. */
const PATH_CALLS = new Set([
  'os.path.join', 'os.path.abspath', 'os.path.realpath', 'os.path.expanduser', 'os.path.dirname', 'os.path.normpath', 'os.fspath', 'os.getcwd',
  'pathlib.Path', 'pathlib.PurePath', 'pathlib.PosixPath', 'pathlib.WindowsPath', 'Path', 'posixpath.join', 'ntpath.join',
]);
const PATH_METHODS = new Set(['joinpath', 'resolve', 'absolute', 'expanduser', 'with_name', 'with_suffix', 'as_posix']);

/** `os.path.join(d, "m")`, `Path(d)`, `Path(d) / "m"`, `str(Path(d) / "m")`, `(d / "m").as_posix()`. */
function isPathExpression(v: PythonValue | undefined): boolean {
  if (v === undefined) return false;
  if (v.kind === 'division') return true;
  if (v.kind !== 'call') return false;
  if (v.names.some((n) => PATH_CALLS.has(n)) || (v.method !== null && PATH_METHODS.has(v.method))) return true;
  return (v.written === 'str' || v.written === 'os.fspath') && isPathExpression(v.args[0]);
}

type Problem = Omit<RuleFinding, 'path'>;

const FULL_COMMIT = /^[0-9a-f]{40}$/i;
const SHORT_COMMIT = /^[0-9a-f]{7,39}$/i;
const PIN = '<40-hex commit sha>';
/** What a Hugging Face repo id may look like; anything else is a local path or not a hub reference. */
const HF_REPO_ID = /^[\w.-]+(?:\/[\w.-]+)?$/;
/** A file name, not a repository: from_pretrained also takes a config file, load_dataset a data file. */
const FILE_EXTENSION = /\.(?:py|json|jsonl|ya?ml|csv|tsv|txt|parquet|arrow|pt|pth|bin|ckpt|safetensors|h5|keras|onnx|gguf|pkl|zip|tar|gz)$/i;
/** `datasets` builders shipped with the library: they read local or URL data files, not a hub repository. */
const PACKAGED_DATASET_BUILDERS = new Set([
  'arrow', 'audiofolder', 'cache', 'csv', 'generator', 'hdf5', 'imagefolder', 'json', 'pandas', 'parquet', 'pdffolder',
  'spark', 'sql', 'text', 'videofolder', 'webdataset', 'xml',
]);

const LOAD_DATASET = new Set(['datasets.load_dataset', 'datasets.load_dataset_builder']);
const PIPELINE = new Set(['transformers.pipeline', 'transformers.pipelines.pipeline']);
const TORCH_HUB = new Set(['torch.hub.load', 'torch.hub.list', 'torch.hub.help']);
const TIMM_CREATE = new Set(['timm.create_model', 'timm.models.create_model']);
const SENTENCE_TRANSFORMERS = new Set(['SentenceTransformer', 'CrossEncoder', 'SparseEncoder']);

interface Judge {
  call: PythonCall;
  /** The call as a user would write it, for messages. */
  shown: string;
  isLocal(path: string): boolean;
  allowed(repo: string): boolean;
  /** Where the hub kind of the repository is stated in messages and the commit lookup. */
  kind: 'model' | 'dataset';
}

const atCall = (call: PythonCall) => ({ line: call.line, endLine: call.endLine, column: call.column });
const at = (arg: PythonArg) => ({ line: arg.line, column: arg.column });
const lookup = (kind: 'model' | 'dataset', repo: string): string =>
  `the commit is on the repository's history page or in huggingface_hub.HfApi().${kind}_info("${repo}").sha`;

function revisionProblem(j: Judge, revision: string, where: Pick<RuleFinding, 'line' | 'column'>, pinned: string): Problem | null {
  if (FULL_COMMIT.test(revision)) return null;
  const why = SHORT_COMMIT.test(revision)
    ? `"${revision}" is an abbreviated commit, which the hub does not resolve reliably`
    : `"${revision}" is a branch or tag, which its owner can move to different files at any time`;
  return { code: 'mutable-revision', ...where, message: `${j.shown} downloads revision ${why}; write the full commit: ${pinned}` };
}

/**
 * Hugging Face style calls: a repo id argument and a `revision=` keyword.
 * `pinned(repo)` is the concrete call to suggest.
 */
function judgeRevisionKeyword(j: Judge, repoArg: PythonArg | undefined, pinned: (repo: string) => string): Problem | null {
  const { call } = j;
  const revision = call.keywords.get('revision');
  if (isPathExpression(repoArg?.value)) return null;
  const repo = repoArg?.value.kind === 'string' ? repoArg.value.value : null;
  if (repo !== null && (j.isLocal(repo) || !HF_REPO_ID.test(repo) || j.allowed(repo))) return null;
  if (repoArg === undefined && !call.starArgs && !call.starKwargs) return null;
  const example = pinned(repo ?? 'owner/name');
  if (revision?.value.kind === 'string') return revisionProblem(j, revision.value.value, at(revision), example);
  if (revision && revision.value.kind !== 'none') {
    return {
      code: 'unverifiable-revision',
      ...at(revision),
      maxLevel: 'info',
      message: `${j.shown} takes its revision from an expression, so mlgate cannot verify that it is a full commit; make sure it resolves to a 40-hex commit sha, e.g. ${example}`,
    };
  }
  if (repo === null) {
    if (!revision && call.starKwargs) return unverifiableRevisionFromKwargs(j, example);
    return {
      code: 'unverifiable-repo',
      ...(repoArg ? at(repoArg) : atCall(call)),
      maxLevel: 'info',
      message: `${j.shown} loads a repository named by an expression, so mlgate cannot tell a local path from a hub ${j.kind}; if it can name a hub ${j.kind}, pin it with revision="${PIN}", e.g. ${example}`,
    };
  }
  if (!revision && call.starKwargs) return unverifiableRevisionFromKwargs(j, example);
  return {
    code: 'unpinned',
    ...atCall(call),
    message: `${j.shown} downloads hub ${j.kind} "${repo}" at whatever its default branch holds when the code runs, so a push to that repository changes what you load; pin the commit: ${example} (${lookup(j.kind, repo)})`,
  };
}

function unverifiableRevisionFromKwargs(j: Judge, example: string): Problem {
  return {
    code: 'unverifiable-revision',
    ...atCall(j.call),
    maxLevel: 'info',
    message: `${j.shown} may get its revision from **kwargs, which mlgate cannot verify; pass it explicitly, e.g. ${example}`,
  };
}

const quote = (s: string): string => JSON.stringify(s);

function fromPretrained(j: Judge): Problem | null {
  const { call } = j;
  // PeftModel.from_pretrained(base_model, adapter_id): the adapter is the hub download.
  const peft = call.written !== null && /(?:^|\.)PeftModel\w*\.from_pretrained$/.test(call.written);
  const repoArg = peft ? argument(call, 1, 'model_id') : argument(call, 0, 'pretrained_model_name_or_path');
  const head = peft ? 'base_model, ' : '';
  return judgeRevisionKeyword(j, repoArg, (repo) => `${j.shown}(${head}${quote(repo)}, revision="${PIN}")`);
}

function pipelineCall(j: Judge): Problem | null {
  const { call } = j;
  const model = argument(call, 1, 'model');
  const task = argument(call, 0, 'task');
  const taskText = task?.value.kind === 'string' ? quote(task.value.value) : '"<task>"';
  if (!model) {
    if (call.starArgs || call.starKwargs) return null;
    return {
      code: 'unpinned',
      ...atCall(call),
      message: `${j.shown} without model= downloads the library's default model for the task, chosen by the installed transformers version; name the model and its commit: ${j.shown}(${taskText}, model="owner/name", revision="${PIN}")`,
    };
  }
  // A model object (model=model) is loaded elsewhere, where this rule checks it.
  if (model.value.kind !== 'string') return null;
  return judgeRevisionKeyword(j, model, (repo) => `${j.shown}(${taskText}, model=${quote(repo)}, revision="${PIN}")`);
}

/** `torch.hub.load("owner/repo:ref", …)`: the ref after the colon must be a full commit. */
function torchHub(j: Judge): Problem | null {
  const { call } = j;
  const source = call.keywords.get('source');
  if (source?.value.kind === 'string' && source.value.value === 'local') return null;
  const repoArg = argument(call, 0, call.names.includes('torch.hub.load') ? 'repo_or_dir' : 'github');
  if (!repoArg) return null;
  if (repoArg.value.kind !== 'string') {
    return {
      code: 'unverifiable-repo',
      ...at(repoArg),
      maxLevel: 'info',
      message: `${j.shown} loads a repository named by an expression, which mlgate cannot verify; use a literal "owner/repo:${PIN}"`,
    };
  }
  const spec = repoArg.value.value;
  const [repo = '', ref] = spec.split(':', 2);
  if (j.isLocal(spec) || j.allowed(repo)) return null;
  const pinned = `${j.shown}("${repo}:${PIN}", …)`;
  if (ref === undefined || ref === '') {
    return {
      code: 'unpinned',
      ...at(repoArg),
      message: `${j.shown} fetches and runs hubconf.py from the default branch of GitHub repository "${repo}", so a push there changes the code you run; pin the commit: ${pinned}`,
    };
  }
  return revisionProblem(j, ref, at(repoArg), pinned);
}

/** `timm.create_model("hf-hub:owner/name@rev")`: timm splits the revision at `@`. */
function timmCreate(j: Judge): Problem | null {
  const { call } = j;
  const nameArg = argument(call, 0, 'model_name');
  if (!nameArg) return null;
  const overlay = 'or download the weights with hf_hub_download(repo_id, filename, revision=...) and pass pretrained_cfg_overlay=dict(file=path)';
  if (nameArg.value.kind === 'string') {
    const name = nameArg.value.value;
    const hub = /^hf[-_]hub:(.*)$/.exec(name);
    if (hub) {
      const [repo = '', ref, ...more] = hub[1]!.split('@');
      if (j.allowed(repo) || more.length > 0) return null;
      const pinned = `${j.shown}("hf-hub:${repo}@${PIN}", pretrained=True)`;
      if (ref === undefined || ref === '') {
        return { code: 'unpinned', ...at(nameArg), message: `${j.shown} downloads hub model "${repo}" at its default branch; pin the commit: ${pinned} (${lookup('model', repo)})` };
      }
      return revisionProblem(j, ref, at(nameArg), pinned);
    }
    if (name.startsWith('local-dir:')) return null;
  }
  const pretrained = call.keywords.get('pretrained');
  if (!pretrained || call.keywords.has('pretrained_cfg_overlay')) return null;
  const v = pretrained.value;
  if (v.kind === 'bool' && !v.value) return null;
  if (v.kind === 'none') return null;
  const name = nameArg.value.kind === 'string' ? nameArg.value.value : null;
  if (name !== null && j.allowed(name)) return null;
  if (v.kind !== 'bool' || name === null) {
    return {
      code: 'unverifiable-revision',
      ...at(pretrained),
      maxLevel: 'info',
      message: `${j.shown} may download pretrained weights that mlgate cannot pin down; name the hub repository and commit: ${j.shown}("hf-hub:owner/name@${PIN}", pretrained=True), ${overlay}`,
    };
  }
  return {
    code: 'unpinned',
    ...at(pretrained),
    message: `${j.shown}(${quote(name)}, pretrained=True) downloads weights from the default branch of the hub repository timm maps "${name}" to; write it with a commit: ${j.shown}("hf-hub:timm/<that repository>@${PIN}", pretrained=True), ${overlay}`,
  };
}

function loadDataset(j: Judge): Problem | null {
  const repoArg = argument(j.call, 0, 'path');
  if (repoArg?.value.kind === 'string' && PACKAGED_DATASET_BUILDERS.has(repoArg.value.value)) return null;
  return judgeRevisionKeyword({ ...j, kind: 'dataset' }, repoArg, (repo) => `${j.shown}(${quote(repo)}, revision="${PIN}")`);
}

/** `filename="…", ` for hf_hub_download, so the suggested call is complete. */
function filenameOf(call: PythonCall): string {
  if (call.method !== 'hf_hub_download') return '';
  const f = argument(call, 1, 'filename');
  return `filename=${f?.value.kind === 'string' ? quote(f.value.value) : '"…"'}, `;
}

function judgeCall(j: Judge): Problem | null {
  const { call } = j;
  switch (call.method) {
    case 'from_pretrained':
    case 'from_pretrained_keras':
      return fromPretrained(j);
    case 'hf_hub_download':
    case 'snapshot_download':
      return judgeRevisionKeyword(j, argument(call, 0, 'repo_id'), (repo) => `${j.shown}(repo_id=${quote(repo)}, ${filenameOf(call)}revision="${PIN}")`);
  }
  if (call.method !== null && SENTENCE_TRANSFORMERS.has(call.method)) {
    return judgeRevisionKeyword(j, argument(call, 0, 'model_name_or_path') ?? call.keywords.get('model_name'), (repo) => `${j.shown}(${quote(repo)}, revision="${PIN}")`);
  }
  if (isCallTo(call, LOAD_DATASET)) return loadDataset(j);
  if (isCallTo(call, PIPELINE)) return pipelineCall(j);
  if (isCallTo(call, TORCH_HUB)) return torchHub(j);
  if (isCallTo(call, TIMM_CREATE)) return timmCreate(j);
  return null;
}

/** Local paths are not hub downloads: explicit paths, several segments, file names, or a directory of this repository. */
function localPathTest(inventory: Inventory): (path: string) => boolean {
  let dirs: Set<string> | undefined;
  return (p) => {
    if (p === '' || /^(?:[./~\\]|[A-Za-z]:)/.test(p) || p.includes('\\') || p.includes('://')) return true;
    if (p.split('/').length > 2 || FILE_EXTENSION.test(p)) return true;
    if (!dirs) {
      dirs = new Set();
      for (const f of inventory.files) for (let i = f.path.indexOf('/'); i !== -1; i = f.path.indexOf('/', i + 1)) dirs.add(f.path.slice(0, i));
    }
    const trimmed = p.replace(/\/+$/, '');
    return dirs.has(trimmed) || inventory.get(trimmed) !== undefined;
  };
}

export const modelHubPinning: Rule<ModelHubPinningParams> = {
  id: 'model-hub-pinning',
  title: 'Hub downloads pin a full commit',
  summary: 'Requires Python and notebook downloads from model hubs (from_pretrained, hf_hub_download, load_dataset, torch.hub.load, …) to pin a full 40-hex commit revision.',
  defaultLevel: 'warning',
  references: [atlas('AML.T0010.003'), atlas('AML.M0014')],
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      files: PYTHON_FILES_PARAM,
      'allow-unpinned': {
        type: 'array',
        items: { type: 'string', minLength: 1, maxLength: 256 },
        default: [],
        description: 'Globs of repository ids that may be downloaded without a commit pin, e.g. "acme/*" for repositories your organisation controls (GitHub "owner/repo" for torch.hub).',
      },
      'test-levels': testLevelsParam(CODES, DEFAULT_TEST_LEVELS),
    },
  },
  codes: CODES,
  tighten: { files: 'superset', 'allow-unpinned': 'subset' },
  examples: {
    pass: {
      description: 'from_pretrained with a full commit revision and a local checkpoint',
      files: {
        'train.py':
          'from transformers import AutoModel\n\nbase = AutoModel.from_pretrained("bert-base-uncased", revision="86b5e0934494bd15c9632b12f734a8a67f723594")\ntuned = AutoModel.from_pretrained("./checkpoints/best")\n',
      },
      expect: [],
    },
    fail: {
      description: 'from_pretrained without a revision and snapshot_download at a branch',
      files: {
        'train.py':
          'from huggingface_hub import snapshot_download\nfrom transformers import AutoModel\n\nmodel = AutoModel.from_pretrained("bert-base-uncased")\npath = snapshot_download("acme/tokenizer", revision="main")\n',
      },
      expect: ['unpinned', 'mutable-revision'],
    },
  },
  async run(ctx) {
    const allow = (ctx.params['allow-unpinned'] ?? []).map((g) => new Minimatch(g, { dot: true }));
    const isLocal = localPathTest(ctx.inventory);
    const testLevels = { ...DEFAULT_TEST_LEVELS, ...ctx.params['test-levels'] };
    await forEachPythonFile(ctx, ctx.params.files ?? DEFAULT_PYTHON_GLOBS, (path, file) => {
      const test = ctx.isTest(path);
      for (const call of file.calls) {
        const shown = call.written ?? call.method ?? 'this call';
        const problem = judgeCall({ call, shown, isLocal, allowed: (repo) => allow.some((m) => m.match(repo)), kind: 'model' });
        if (!problem) continue;
        const shownAs = test ? inTestCode(problem, testLevels, 'a moving revision makes CI flaky and runs new upstream files on CI, but ships nothing to users') : problem;
        if (shownAs) ctx.report({ ...shownAs, path });
      }
    });
  },
};
