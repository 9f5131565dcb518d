import { callWordsWith, DEFAULT_PYTHON_GLOBS, forEachPythonFile, inTestCode, PYTHON_CONTEXT_WORDS, PYTHON_FILES_PARAM, scopeChain, testLevelsParam } from './python-files.js';
import { argument, isCallTo, type PythonArg, type PythonCall, type PythonFile, type PythonValue } from '../formats/python/index.js';
import { checkAutoMaps } from './unsafe-deserialization/auto-map.js';
import { atlas, owaspLlm, type Rule, type RuleFinding } from './rule.js';

export interface UnsafeDeserializationParams {
  files?: string[];
  ignore?: string[];
  'unsafe-loaders'?: string[];
  'test-levels'?: Record<string, 'off' | 'info' | 'warning' | 'error'>;
}

const CODES = [
  'torch-load', 'pickle-load', 'dill-load', 'joblib-load', 'pandas-read-pickle', 'numpy-allow-pickle', 'yaml-unsafe-load', 'keras-unsafe-mode',
  'trust-remote-code', 'unsafe-loader', 'auto-map', 'unparsable', 'budget-exceeded',
] as const;

/**
 * Framework functions that unpickle the file they are given (each calls
 * torch.load without weights_only=True, or pickle, underneath): reported like
 * torch.load. The `unsafe-loaders` parameter adds more; `ignore` drops one.
 */
export const DEFAULT_UNSAFE_LOADERS: readonly string[] = [
  'ultralytics.utils.patches.torch_load',
  'ultralytics.nn.tasks.torch_safe_load',
  'mmengine.runner.load_checkpoint',
  'mmengine.runner.checkpoint.load_checkpoint',
  'mmcv.runner.load_checkpoint',
  'mmcv.runner.checkpoint.load_checkpoint',
  'fairseq.checkpoint_utils.load_checkpoint_to_cpu',
  'fairseq.checkpoint_utils.load_model_ensemble',
  'fairseq.checkpoint_utils.load_model_ensemble_and_task',
  'gensim.utils.unpickle',
  'gensim.models.Word2Vec.load',
  'gensim.models.KeyedVectors.load',
  'gensim.models.Doc2Vec.load',
  'gensim.models.FastText.load',
  'mlflow.pytorch.load_model',
  'mlflow.sklearn.load_model',
  'torch.package.PackageImporter',
];

/** What one detector says about one call: the finding without its path. */
type Problem = Omit<RuleFinding, 'path'>;

const names = (...xs: string[]): Set<string> => new Set(xs);
const product = (modules: string[], functions: string[]): Set<string> => new Set(modules.flatMap((m) => functions.map((f) => `${m}.${f}`)));

/** Loaders that call pickle underneath and accept `weights_only`. */
const TORCH_LOADS = names('torch.load', 'torch.serialization.load', 'torch.hub.load_state_dict_from_url', 'torch.utils.model_zoo.load_url');
const PICKLE_LOADS = product(['pickle', 'cPickle', '_pickle', 'cloudpickle'], ['load', 'loads', 'Unpickler']);
const DILL_LOADS = product(['dill'], ['load', 'loads', 'Unpickler']);
const JOBLIB_LOADS = names('joblib.load', 'sklearn.externals.joblib.load');
const PANDAS_PICKLE = names('pandas.read_pickle');
const NUMPY_LOADS = names('numpy.load');
const YAML_LOADS = names('yaml.load', 'yaml.load_all');
const YAML_UNSAFE = names('yaml.unsafe_load', 'yaml.unsafe_load_all', 'yaml.full_load', 'yaml.full_load_all');
const YAML_SAFE_LOADERS = names('yaml.SafeLoader', 'yaml.CSafeLoader', 'yaml.BaseLoader', 'yaml.CBaseLoader');
const YAML_UNSAFE_LOADERS = names('yaml.Loader', 'yaml.UnsafeLoader', 'yaml.FullLoader', 'yaml.CLoader', 'yaml.CUnsafeLoader', 'yaml.CFullLoader');

const at = (arg: PythonArg): Pick<RuleFinding, 'line' | 'column'> => ({ line: arg.line, column: arg.column });
const atCall = (call: PythonCall): Pick<RuleFinding, 'line' | 'endLine' | 'column'> => ({ line: call.line, endLine: call.endLine, column: call.column });
const shown = (call: PythonCall): string => call.written ?? call.method ?? 'this call';

/** The default of the parameter `name` of the function a call sits in (or one around it), when the value is that parameter. */
function parameterDefault(file: PythonFile, call: PythonCall, v: PythonValue): PythonValue | null | undefined {
  if (v.kind !== 'name' || v.written.includes('.')) return undefined;
  for (const s of scopeChain(file, call.scope)) {
    const param = file.functions[s]?.params.find((p) => p.name === v.written);
    if (param) return param.default;
  }
  return undefined;
}

/** What `**name` passes for `key`: the value when every dict literal bound to `name` in the call's scope chain sets it alike. */
function splatValue(file: PythonFile, call: PythonCall, key: string): PythonValue | undefined {
  if (call.kwargsName === null) return undefined;
  const scopes = new Set([...scopeChain(file, call.scope), -1]);
  const assigns = file.dictAssigns.filter((d) => d.name === call.kwargsName && scopes.has(d.scope));
  const values = assigns.map((d) => d.keys.get(key));
  const first = values[0];
  if (first === undefined || first.kind !== 'bool' || values.some((x) => x?.kind !== 'bool' || x.value !== first.value)) return undefined;
  return first;
}

function torchLoad(call: PythonCall, file: PythonFile): Problem | null {
  const weightsOnly = call.keywords.get('weights_only');
  const fix = `pass weights_only=True (${shown(call)}(path, weights_only=True)) so only tensors and plain containers are unpickled, or store the weights as safetensors`;
  if (!weightsOnly) {
    // torch.load(f, **kwargs) with kwargs = {"weights_only": True} built just before.
    const passed = call.starKwargs ? splatValue(file, call, 'weights_only') : undefined;
    if (passed?.kind === 'bool' && passed.value) return null;
    if (call.starKwargs && passed === undefined)
      return { code: 'torch-load', ...atCall(call), maxLevel: 'warning', message: `${shown(call)} may get weights_only from **kwargs, which cannot be verified; ${fix}` };
    return {
      code: 'torch-load',
      ...atCall(call),
      message: `${shown(call)} without weights_only=True runs arbitrary code from a malicious checkpoint on PyTorch before 2.6 (and wherever TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD is set); ${fix}`,
    };
  }
  const v = weightsOnly.value;
  if (v.kind === 'bool' && v.value) return null;
  if (v.kind === 'bool' || v.kind === 'none')
    return {
      code: 'torch-load',
      ...at(weightsOnly),
      message: `${shown(call)} with weights_only=${v.kind === 'none' ? 'None (the version default)' : 'False'} can unpickle arbitrary objects, so a malicious checkpoint runs code; ${fix}`,
    };
  // A wrapper passing its own parameter through: def load(path, weights_only=True): torch.load(path, weights_only=weights_only).
  const byDefault = parameterDefault(file, call, v);
  if (byDefault?.kind === 'bool' && byDefault.value) return null;
  if (byDefault?.kind === 'bool' || byDefault?.kind === 'none')
    return {
      code: 'torch-load',
      ...at(weightsOnly),
      message: `${shown(call)} passes weights_only=${(v as { written: string }).written}, a parameter that defaults to ${byDefault.kind === 'none' ? 'None' : 'False'}, so callers that leave it out unpickle arbitrary objects; default it to True, or ${fix}`,
    };
  return { code: 'torch-load', ...at(weightsOnly), maxLevel: 'warning', message: `${shown(call)} takes weights_only from an expression that cannot be verified; ${fix}` };
}

type Detector = (call: PythonCall, file: PythonFile) => Problem | null;

const DUMPS = product(['pickle', 'cPickle', '_pickle', 'cloudpickle', 'dill'], ['dumps']);

/** Loaders that unpickle whatever they are given: every call is a finding, except a round trip of bytes made on the spot. */
function pickleFamily(loads: ReadonlySet<string>, code: string, library: string, fix: string): Detector {
  return (call) => {
    if (!isCallTo(call, loads)) return null;
    // pickle.loads(pickle.dumps(x)) copies an object in memory: no external data is read.
    const first = call.positional[0]?.value;
    if (first?.kind === 'call' && first.names.some((n) => DUMPS.has(n))) return null;
    return { code, ...atCall(call), message: `${shown(call)} unpickles its input with ${library}, which runs any code the data names; load only data you produced and verified, or ${fix}` };
  };
}

/** A configured unsafe wrapper: a framework function that unpickles its input underneath. */
function unsafeLoader(loaders: ReadonlySet<string>): Detector {
  return (call) =>
    isCallTo(call, loaders)
      ? {
          code: 'unsafe-loader',
          ...atCall(call),
          message: `${shown(call)} unpickles the checkpoint it is given underneath (torch.load without weights_only=True, or pickle), so a malicious file runs code when loaded; load only files you produced and verified, or load the weights as safetensors (or with torch.load(path, weights_only=True)) and build the model from its class`,
        }
      : null;
}

/** A boolean flag whose `true` (or `false` when `dangerous` is false) enables unsafe loading. */
function flag(call: PythonCall, position: number | null, keyword: string, dangerous: boolean, code: string, fix: string): Problem | null {
  const arg = argument(call, position, keyword);
  if (!arg) return null;
  const v = arg.value;
  if (v.kind === 'bool') {
    return v.value === dangerous ? { code, ...at(arg), message: `${shown(call)} with ${keyword}=${dangerous ? 'True' : 'False'} can run code from the file it loads; ${fix}` } : null;
  }
  if (v.kind === 'none') return null;
  return { code, ...at(arg), maxLevel: 'warning', message: `${shown(call)} takes ${keyword} from an expression that cannot be verified; ${fix}` };
}

const YAML_FIX = 'use yaml.safe_load(stream) or yaml.load(stream, Loader=yaml.SafeLoader) (CSafeLoader when libyaml is available)';
const YAML_FULL = names('yaml.full_load', 'yaml.full_load_all');
const YAML_FULL_LOADERS = names('yaml.FullLoader', 'yaml.CFullLoader');
/** FullLoader lost its code-running tags (python/object/apply, /new, /object) in PyYAML 5.4; what it still resolves is worth a warning, not an error. */
const fullLoaderMessage = (what: string): string =>
  `${what} uses PyYAML's FullLoader: since PyYAML 5.4 it no longer calls functions or builds arbitrary objects, but it still turns !!python/name and !!python/module tags into any function, class or module already imported in the process, handing your code a callable where it expects data, and before 5.4 it runs code (CVE-2020-1747, CVE-2020-14343); configuration needs none of that, and SafeLoader builds only plain data; ${YAML_FIX}`;

function yamlLoad(call: PythonCall): Problem | null {
  if (isCallTo(call, YAML_FULL)) return { code: 'yaml-unsafe-load', ...atCall(call), maxLevel: 'warning', message: fullLoaderMessage(shown(call)) };
  if (isCallTo(call, YAML_UNSAFE))
    return { code: 'yaml-unsafe-load', ...atCall(call), message: `${shown(call)} constructs arbitrary Python objects from YAML tags, so a crafted file runs code; ${YAML_FIX}` };
  if (!isCallTo(call, YAML_LOADS)) return null;
  const loader = argument(call, 1, 'Loader');
  if (!loader) {
    if (call.starKwargs) return { code: 'yaml-unsafe-load', ...atCall(call), maxLevel: 'warning', message: `${shown(call)} may get its Loader from **kwargs, which cannot be verified; ${YAML_FIX}` };
    return { code: 'yaml-unsafe-load', ...atCall(call), message: `${shown(call)} without a safe Loader falls back to an unsafe loader on old PyYAML; ${YAML_FIX}` };
  }
  const v = loader.value;
  if (v.kind === 'name') {
    const canonical = v.names.map((n) => n.replace(/^yaml\.(?:loader|cyaml)\./, 'yaml.'));
    if (canonical.every((n) => YAML_SAFE_LOADERS.has(n))) return null;
    if (canonical.every((n) => YAML_FULL_LOADERS.has(n))) return { code: 'yaml-unsafe-load', ...at(loader), maxLevel: 'warning', message: fullLoaderMessage(`${shown(call)} with Loader=${v.written}`) };
    if (canonical.some((n) => YAML_UNSAFE_LOADERS.has(n)))
      return { code: 'yaml-unsafe-load', ...at(loader), message: `${shown(call)} with Loader=${v.written} constructs arbitrary Python objects from YAML tags; ${YAML_FIX}` };
  }
  return { code: 'yaml-unsafe-load', ...at(loader), maxLevel: 'warning', message: `${shown(call)} uses a Loader that cannot be verified as safe; ${YAML_FIX}` };
}

const isKeras = (call: PythonCall, suffix: string): boolean => call.names.some((n) => n.endsWith(suffix) && /(?:^|\.)(?:tf_)?keras\./.test(n));

function kerasLoad(call: PythonCall): Problem | null {
  const fix = 'leave safe_mode at its default (True) and replace Lambda layers with registered custom layers';
  if (isKeras(call, '.enable_unsafe_deserialization'))
    return { code: 'keras-unsafe-mode', ...atCall(call), message: `${shown(call)} turns off Keras safe mode for every later load, so Lambda layers in a model file run code; ${fix}` };
  if (isKeras(call, '.load_model')) return flag(call, null, 'safe_mode', false, 'keras-unsafe-mode', fix);
  return null;
}

const REMOTE_CODE_FIX =
  'drop trust_remote_code=True and use a model class built into the library, or vendor and review the remote code and pin the repository to a full commit revision';

const isOff = (v: PythonValue | null | undefined): boolean => v?.kind === 'none' || (v?.kind === 'bool' && !v.value);

function trustRemoteCode(call: PythonCall, file: PythonFile): Problem | null {
  const arg = call.keywords.get('trust_remote_code');
  if (!arg) return null;
  const v = arg.value;
  if (v.kind === 'bool' || v.kind === 'none') {
    return v.kind === 'bool' && v.value
      ? { code: 'trust-remote-code', ...at(arg), message: `${shown(call)} with trust_remote_code=True downloads and runs Python code from the model repository; ${REMOTE_CODE_FIX}` }
      : null;
  }
  // Off unless a caller turns it on: kwargs.get("trust_remote_code", False), or a parameter defaulting to False.
  const fromGet = v.kind === 'call' && v.method === 'get' && v.args.length === 2 && isOff(v.args[1]);
  const byDefault = parameterDefault(file, call, v);
  if (fromGet || isOff(byDefault)) {
    return {
      code: 'trust-remote-code',
      ...at(arg),
      maxLevel: 'info',
      message: `${shown(call)} passes trust_remote_code through from its caller, off by default; it runs code from the model repository only if a caller passes True, which this rule reports where that is written`,
    };
  }
  if (byDefault?.kind === 'bool' && byDefault.value) {
    return { code: 'trust-remote-code', ...at(arg), message: `${shown(call)} takes trust_remote_code from a parameter that defaults to True, so callers that leave it out download and run Python code from the model repository; default it to False; ${REMOTE_CODE_FIX}` };
  }
  return { code: 'trust-remote-code', ...at(arg), maxLevel: 'warning', message: `${shown(call)} takes trust_remote_code from an expression that cannot be verified; ${REMOTE_CODE_FIX}` };
}

/** Detectors per call; each returns at most one problem. */
const DETECTORS: Detector[] = [
  (c, f) => (isCallTo(c, TORCH_LOADS) ? torchLoad(c, f) : null),
  pickleFamily(PICKLE_LOADS, 'pickle-load', 'pickle', 'switch to a data-only format (safetensors, JSON, Parquet, NumPy without pickle)'),
  pickleFamily(DILL_LOADS, 'dill-load', 'dill', 'switch to a data-only format (safetensors, JSON, Parquet)'),
  pickleFamily(JOBLIB_LOADS, 'joblib-load', 'joblib', 'save models with skops.io or ONNX and arrays with NumPy (allow_pickle=False)'),
  pickleFamily(PANDAS_PICKLE, 'pandas-read-pickle', 'pandas', 'read Parquet, Feather or CSV instead (pd.read_parquet)'),
  (c) => (isCallTo(c, NUMPY_LOADS) ? flag(c, 2, 'allow_pickle', true, 'numpy-allow-pickle', 'drop allow_pickle=True and store object arrays in a data-only format') : null),
  yamlLoad,
  kerasLoad,
  trustRemoteCode,
];

/** Codes of loads whose input a test may have written itself. */
const FILE_LOADS = new Set(['torch-load', 'pickle-load', 'dill-load', 'joblib-load', 'pandas-read-pickle', 'numpy-allow-pickle', 'unsafe-loader']);
/** pytest's temporary-directory fixtures. */
const TMP_FIXTURES = new Set(['tmp_path', 'tmpdir', 'tmp_path_factory', 'tmpdir_factory']);

/**
 * A test function that writes what it loads (torch.save, pickle.dump, …) or
 * works in a temporary directory (tmp_path, tempfile) loads its own output,
 * not someone else's file.
 */
function writesItsOwnInput(file: PythonFile, call: PythonCall): boolean {
  const chain = scopeChain(file, call.scope);
  if (chain.length === 0) return false;
  if (chain.some((s) => file.functions[s]?.params.some((p) => TMP_FIXTURES.has(p.name)))) return true;
  const scopes = new Set(chain);
  return file.calls.some((c) => c !== call && scopes.has(c.scope) && c.method !== null && PYTHON_CONTEXT_WORDS.has(c.method));
}

export const unsafeDeserialization: Rule<UnsafeDeserializationParams> = {
  id: 'unsafe-deserialization',
  title: 'Unsafe deserialization in Python code',
  summary: 'Flags Python and notebook code that loads artifacts with pickle-based or code-running loaders (torch.load, pickle, joblib, yaml.load, trust_remote_code).',
  defaultLevel: 'error',
  references: [atlas('AML.T0011.000'), owaspLlm('LLM03', 'llm032025-supply-chain')],
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      files: PYTHON_FILES_PARAM,
      'unsafe-loaders': {
        type: 'array',
        items: { type: 'string', pattern: '^[A-Za-z_][\\w]*(?:\\.[A-Za-z_][\\w]*)+$', maxLength: 256, description: 'a fully qualified call name, e.g. acme.io.load_checkpoint' },
        default: [],
        description: 'Fully qualified names of more functions that unpickle their input (in-house checkpoint loaders), reported like torch.load; added to the built-in list of framework loaders.',
      },
      'test-levels': testLevelsParam(CODES, {}),
      ignore: {
        type: 'array',
        items: { type: 'string', minLength: 1, maxLength: 256 },
        default: [],
        description: 'Fully qualified call names not to report anywhere, e.g. joblib.load for a project that only loads its own joblib files; prefer a path-scoped exception.',
      },
    },
  },
  codes: CODES,
  tighten: { files: 'superset', ignore: 'subset', 'unsafe-loaders': 'superset' },
  examples: {
    pass: {
      description: 'torch.load with weights_only=True and yaml.safe_load',
      files: {
        'train.py': 'import torch\nimport yaml\n\nstate = torch.load("model.pt", weights_only=True)\ncfg = yaml.safe_load(open("cfg.yml"))\n',
      },
      expect: [],
    },
    fail: {
      description: 'torch.load without weights_only and pickle.loads',
      files: {
        'train.py': 'import pickle\nimport torch\n\nstate = torch.load("model.pt")\nfeatures = pickle.loads(blob)\n',
      },
      expect: ['torch-load', 'pickle-load'],
    },
  },
  async run(ctx) {
    const ignore = new Set(ctx.params.ignore ?? []);
    const extra = ctx.params['unsafe-loaders'] ?? [];
    const detectors = [...DETECTORS, unsafeLoader(new Set([...DEFAULT_UNSAFE_LOADERS, ...extra]))];
    const testLevels = ctx.params['test-levels'] ?? {};
    const report = (path: string, problem: Problem, file?: PythonFile, call?: PythonCall): void => {
      if (!ctx.isTest(path)) return ctx.report({ ...problem, path });
      if (file && call && problem.code !== undefined && FILE_LOADS.has(problem.code) && writesItsOwnInput(file, call)) {
        const own = { ...problem, maxLevel: 'info' as const };
        return ctx.report({ ...own, path, message: `${problem.message} (in test code that writes this file itself, so the load reads the test's own output: info)` });
      }
      const shownAs = inTestCode(problem, testLevels, 'a test that loads a file from outside can run its code on CI machines and developer laptops');
      if (shownAs) ctx.report({ ...shownAs, path });
    };
    await forEachPythonFile(
      ctx,
      ctx.params.files ?? DEFAULT_PYTHON_GLOBS,
      (path, file) => {
        for (const call of file.calls) {
          if (call.names.some((n) => ignore.has(n)) || (call.written !== null && ignore.has(call.written))) continue;
          for (const detect of detectors) {
            const problem = detect(call, file);
            if (problem) report(path, problem, file, call);
          }
        }
        // The flag also travels in dictionaries: model_kwargs={"trust_remote_code": True}, or **config.
        for (const flag of file.dictFlags) {
          if (flag.key !== 'trust_remote_code' || !flag.value) continue;
          report(path, {
            code: 'trust-remote-code',
            line: flag.line,
            column: flag.column,
            message: `"trust_remote_code": True makes the call it reaches download and run Python code from the model repository; ${REMOTE_CODE_FIX}`,
          });
        }
      },
      callWordsWith(extra),
    );
    await checkAutoMaps(ctx, (path, problem) => report(path, problem));
  },
};
