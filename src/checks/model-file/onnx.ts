import { lstat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { readOnnx, type OnnxModel } from '../../formats/onnx.js';
import { ProtoError } from '../../formats/protobuf/stream.js';
import { escapingPath } from './savedmodel.js';
import type { RandomAccess } from '../../formats/pickle/source.js';
import { withFile, type FormatCheckOptions, type FormatIssue } from './types.js';

/**
 * ONNX models: tensors stored outside the file (`external_data`) are read by
 * the runtime from the path the model names, so a path that leaves the
 * model's directory reads any file of the machine into a tensor (and out
 * through the model's outputs); operators from domains outside the ONNX
 * standard need a custom-op library the runtime loads.
 */

/**
 * Domains the ONNX specification defines (`ai.onnx*`). `ai.onnx.contrib` is not one: it is
 * onnxruntime-extensions' domain, a custom-op library whose PyOp runs Python functions.
 */
const STANDARD_DOMAIN = /^(|ai\.onnx(\.(?!contrib$)[^]*)?)$/;
/** Operators that call back into Python, whatever domain allow-list lets their library in. */
const PYTHON_OPS = new Set(['com.microsoft\u0000PythonOp', 'com.microsoft\u0000PythonOpGrad']);
/** Newest IR version and default-domain opset mlgate knows (ONNX 1.18: IR 11, opset 23). */
export const ONNX_MAX_IR = 11;
export const ONNX_MAX_OPSET = 23;
const GROUP_MAX = 5;

/** Issues with the model's own fields; `externalPaths` says where its external data resolves. */
export function onnxIssues(m: OnnxModel, allowDomains: ReadonlySet<string>): FormatIssue[] {
  const out: FormatIssue[] = [];
  if (m.irVersion === undefined || m.irVersion < 1) {
    out.push({ code: 'onnx-version', severity: 'error', message: `sets no valid ir_version (${m.irVersion ?? 'none'}); the ONNX checker and runtimes refuse such a file, so mlgate cannot tell how it would be read and fails closed. Re-export the model with a current exporter` });
  } else if (m.irVersion > ONNX_MAX_IR) {
    out.push({ code: 'onnx-version', severity: 'warning', message: `has ir_version ${m.irVersion}, newer than the ${ONNX_MAX_IR} mlgate knows; fields a newer IR adds were not checked. Update mlgate, or re-export with an IR version it knows` });
  }
  const declared = new Map<string, number>();
  for (const o of m.opsets) declared.set(o.domain === 'ai.onnx' ? '' : o.domain, o.version);
  if (m.irVersion !== undefined && m.irVersion >= 3 && m.opsets.length === 0) {
    out.push({ code: 'onnx-version', severity: 'error', message: 'imports no opset (opset_import is empty), so no runtime can tell which operator versions it means; re-export the model with an explicit opset' });
  }
  const def = declared.get('');
  if (def !== undefined && (def < 1 || def > ONNX_MAX_OPSET)) {
    out.push({ code: 'onnx-version', severity: def < 1 ? 'error' : 'warning', message: `imports default-domain opset ${def}, ${def < 1 ? 'which does not exist' : `newer than the ${ONNX_MAX_OPSET} mlgate knows`}; re-export the model with opset 1–${ONNX_MAX_OPSET}` });
  }
  const custom = new Map<string, string[]>();
  const undeclared = new Set<string>();
  for (const op of m.ops) {
    const domain = op.domain === 'ai.onnx' ? '' : op.domain;
    if (m.functions.has(`${op.domain}\u0000${op.opType}`)) continue;
    if (!declared.has(domain) && m.opsets.length > 0) undeclared.add(op.domain || '(default)');
    if (PYTHON_OPS.has(`${op.domain}\u0000${op.opType}`)) {
      out.push({ code: 'onnx-custom-op', severity: 'error', message: `uses ${op.opType} from ${JSON.stringify(op.domain)} (${op.count === 1 ? 'first ' : `${op.count} nodes, first `}at byte ${op.offset}), which calls a Python function registered in the process that runs the model; an inference model has no use for it. Export the model without it` });
      continue;
    }
    if (STANDARD_DOMAIN.test(op.domain) || allowDomains.has(op.domain)) continue;
    const list = custom.get(op.domain) ?? [];
    list.push(op.count > 1 ? `${op.opType} ×${op.count}` : op.opType);
    custom.set(op.domain, list);
  }
  for (const d of undeclared) {
    out.push({ code: 'onnx-version', severity: 'error', message: `has nodes in the operator domain ${JSON.stringify(d)} that opset_import does not declare; the ONNX checker refuses such a model. Re-export it, or add the domain to opset_import` });
  }
  for (const [domain, ops] of custom) {
    const listed = ops.slice(0, GROUP_MAX).join(', ') + (ops.length > GROUP_MAX ? ` and ${ops.length - GROUP_MAX} more` : '');
    out.push({ code: 'onnx-custom-op', severity: 'warning', message: `uses operators from the custom domain ${JSON.stringify(domain)} (${listed}); a runtime runs them only from a custom-operator library (native code) that whoever loads the model must register. Export with standard ONNX operators, or — if you reviewed the library that provides them — add "${domain}" to allow-onnx-domains` });
  }
  return out;
}

/** Why an external-data location is unsafe (a phrase), checked against the repository's files; undefined when it stays in the model's directory. */
export async function externalLocationProblem(location: string | undefined, modelPath: string, root: string | undefined): Promise<string | undefined> {
  if (location === undefined || location === '') return 'names no location';
  if (location.includes('\0')) return 'holds a NUL byte';
  const why = escapingPath(location);
  if (why) return `${why}, so the runtime reads a file outside the model's directory`;
  const dir = posix.dirname(modelPath);
  const target = posix.normalize(posix.join(dir, location.replace(/\\/g, '/')));
  if (target === '..' || target.startsWith('../') || (dir !== '.' && !target.startsWith(`${dir}/`))) return "leaves the model's directory";
  if (root === undefined) return undefined; // inside an archive: its link members are findings of their own
  // Each component the runtime walks through: a symlink there can point anywhere on the machine.
  const parts = target.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const p = parts.slice(0, i).join('/');
    try {
      if ((await lstat(join(root, ...p.split('/')))).isSymbolicLink()) return `goes through ${p}, a symbolic link in the repository, which can point anywhere on the machine that loads the model`;
    } catch {
      return undefined; // not in the checkout (fetched later, or missing): nothing to follow
    }
  }
  return undefined;
}

const ONNX_MAX = 4 * 1024 * 1024 * 1024;

/** An ONNX model from any random-access source; `locate` says why an external-data location is unsafe. */
export async function onnxAccessIssues(ra: RandomAccess, opts: FormatCheckOptions, locate: (location: string | undefined) => Promise<string | undefined>): Promise<FormatIssue[]> {
  if (ra.size > ONNX_MAX) return [{ code: 'budget-exceeded', severity: 'error', message: `is ${ra.size} bytes, over the 4 GiB an ONNX protobuf can hold, so it was not read and fails closed` }];
  let model: OnnxModel;
  try {
    model = await readOnnx(ra, { check: () => opts.signal?.throwIfAborted() });
  } catch (e) {
    if (!(e instanceof ProtoError)) throw e;
    return [
      e.budget
        ? { code: 'budget-exceeded', severity: 'error', message: `could not be read in full as an ONNX model: ${e.message}; the graph is over what mlgate checks, so the file fails closed` }
        : { code: 'malformed', severity: 'error', message: `is not a valid ONNX model: ${e.message}. A runtime would refuse it and mlgate cannot check it, so it fails closed; re-export the model` },
    ];
  }
  const out = onnxIssues(model, opts.allowOnnxDomains);
  if (!model.hasGraph) out.push({ code: 'malformed', severity: 'error', message: 'has no graph (a truncated or empty file?); a runtime would refuse it and mlgate cannot check it, so it fails closed; re-export the model' });
  const seen = new Set<string>();
  for (const x of model.externals) {
    const why = await locate(x.location);
    if (!why || seen.has(`${x.location}`)) continue;
    seen.add(`${x.location}`);
    out.push({ code: 'onnx-external-data', severity: 'error', message: `has tensor ${JSON.stringify(x.tensor)} (at byte ${x.offset}) whose external data location ${x.location === undefined ? '' : `${JSON.stringify(x.location)} `}${why}; loading the model reads that file into the tensor. Save external data next to the model with a relative file name (onnx.save_model(..., save_as_external_data=True, location="model.onnx.data"))` });
  }
  return out;
}

export const checkOnnx = (path: string, root: string, opts: FormatCheckOptions): Promise<FormatIssue[]> =>
  withFile(join(root, ...path.split('/')), (ra) => onnxAccessIssues(ra, opts, (location) => externalLocationProblem(location, path, root)));
