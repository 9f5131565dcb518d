import { DEFAULT_PYTHON_GLOBS, forEachPythonFile, PYTHON_FILES_PARAM } from './python-files.js';
import { argument, isCallTo, type PythonArg, type PythonCall } from '../formats/python/index.js';
import { atlas, owaspLlm, type Rule, type RuleFinding } from './rule.js';

export interface UnsafeDeserializationParams {
  files?: string[];
  ignore?: string[];
}

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

function torchLoad(call: PythonCall): Problem | null {
  const weightsOnly = call.keywords.get('weights_only');
  const fix = `pass weights_only=True (${shown(call)}(path, weights_only=True)) so only tensors and plain containers are unpickled, or store the weights as safetensors`;
  if (!weightsOnly) {
    if (call.starKwargs)
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
  return { code: 'torch-load', ...at(weightsOnly), maxLevel: 'warning', message: `${shown(call)} takes weights_only from an expression that cannot be verified; ${fix}` };
}

type Detector = (call: PythonCall) => Problem | null;

/** Loaders that unpickle whatever they are given: every call is a finding. */
function pickleFamily(loads: ReadonlySet<string>, code: string, library: string, fix: string): Detector {
  return (call) =>
    isCallTo(call, loads)
      ? { code, ...atCall(call), message: `${shown(call)} unpickles its input with ${library}, which runs any code the data names; load only data you produced and verified, or ${fix}` }
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

function yamlLoad(call: PythonCall): Problem | null {
  if (isCallTo(call, YAML_UNSAFE))
    return { code: 'yaml-unsafe-load', ...atCall(call), message: `${shown(call)} constructs arbitrary Python objects from YAML tags (FullLoader has had code-execution bypasses); ${YAML_FIX}` };
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

function trustRemoteCode(call: PythonCall): Problem | null {
  const arg = call.keywords.get('trust_remote_code');
  if (!arg) return null;
  const v = arg.value;
  if (v.kind === 'bool' || v.kind === 'none') {
    return v.kind === 'bool' && v.value
      ? { code: 'trust-remote-code', ...at(arg), message: `${shown(call)} with trust_remote_code=True downloads and runs Python code from the model repository; ${REMOTE_CODE_FIX}` }
      : null;
  }
  return { code: 'trust-remote-code', ...at(arg), maxLevel: 'warning', message: `${shown(call)} takes trust_remote_code from an expression that cannot be verified; ${REMOTE_CODE_FIX}` };
}

/** Detectors per call; each returns at most one problem. */
const DETECTORS: Detector[] = [
  (c) => (isCallTo(c, TORCH_LOADS) ? torchLoad(c) : null),
  pickleFamily(PICKLE_LOADS, 'pickle-load', 'pickle', 'switch to a data-only format (safetensors, JSON, Parquet, NumPy without pickle)'),
  pickleFamily(DILL_LOADS, 'dill-load', 'dill', 'switch to a data-only format (safetensors, JSON, Parquet)'),
  pickleFamily(JOBLIB_LOADS, 'joblib-load', 'joblib', 'save models with skops.io or ONNX and arrays with NumPy (allow_pickle=False)'),
  pickleFamily(PANDAS_PICKLE, 'pandas-read-pickle', 'pandas', 'read Parquet, Feather or CSV instead (pd.read_parquet)'),
  (c) => (isCallTo(c, NUMPY_LOADS) ? flag(c, 2, 'allow_pickle', true, 'numpy-allow-pickle', 'drop allow_pickle=True and store object arrays in a data-only format') : null),
  yamlLoad,
  kerasLoad,
  trustRemoteCode,
];

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
      ignore: {
        type: 'array',
        items: { type: 'string', minLength: 1, maxLength: 256 },
        default: [],
        description: 'Fully qualified call names not to report anywhere, e.g. joblib.load for a project that only loads its own joblib files; prefer a path-scoped exception.',
      },
    },
  },
  tighten: { files: 'superset', ignore: 'subset' },
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
    await forEachPythonFile(ctx, ctx.params.files ?? DEFAULT_PYTHON_GLOBS, (path, file) => {
      for (const call of file.calls) {
        if (call.names.some((n) => ignore.has(n)) || (call.written !== null && ignore.has(call.written))) continue;
        for (const detect of DETECTORS) {
          const problem = detect(call);
          if (problem) ctx.report({ ...problem, path });
        }
      }
      // The flag also travels in dictionaries: model_kwargs={"trust_remote_code": True}, or **config.
      for (const flag of file.dictFlags) {
        if (flag.key !== 'trust_remote_code' || !flag.value) continue;
        ctx.report({
          code: 'trust-remote-code',
          path,
          line: flag.line,
          column: flag.column,
          message: `"trust_remote_code": True makes the call it reaches download and run Python code from the model repository; ${REMOTE_CODE_FIX}`,
        });
      }
    });
  },
};
