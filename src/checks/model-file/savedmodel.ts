import { readKerasMetadata, readSavedModel, type TfGraph, type TfNode } from '../../formats/savedmodel.js';
import { ProtoError } from '../../formats/protobuf/stream.js';
import { kerasConfigIssues } from './keras.js';
import type { RandomAccess } from '../../formats/pickle/source.js';
import { withFile, type FormatCheckOptions, type FormatIssue } from './types.js';

/**
 * TensorFlow SavedModel graphs: ops that reach the file system or Python from
 * inside the graph run when the model is served or called, without any
 * Python of the model's author being imported (ATLAS AML.T0011.000).
 */

/** Ops that read, list or write files, or open a database, wherever their path comes from. */
export const TF_FILE_OPS: ReadonlyMap<string, string> = new Map(
  [
    ...['ReadFile', 'MatchingFiles', 'ImmutableConst', 'WholeFileReader', 'WholeFileReaderV2', 'TextLineReader', 'TextLineReaderV2', 'FixedLengthRecordReader', 'FixedLengthRecordReaderV2', 'TFRecordReader', 'TFRecordReaderV2', 'LMDBReader', 'TFRecordDataset', 'TFRecordDatasetV2', 'TextLineDataset', 'FixedLengthRecordDataset', 'FixedLengthRecordDatasetV2', 'LMDBDataset', 'ExperimentalLMDBDataset', 'LoadDataset', 'LoadAndRemapMatrix', 'RecordInput', 'DecodeProtoV2'].map((op) => [op, 'reads files from the machine that runs the model'] as const),
    ...['WriteFile', 'DatasetToTFRecord', 'ExperimentalDatasetToTFRecord', 'SaveDataset', 'SaveDatasetV2', 'SnapshotDataset', 'SnapshotDatasetV2', 'CreateSummaryFileWriter', 'EncodeProto'].map((op) => [op, 'writes files on the machine that runs the model'] as const),
    ...['SqlDataset', 'ExperimentalSqlDataset', 'CreateSummaryDbWriter'].map((op) => [op, 'opens a database file on the machine that runs the model'] as const),
    ...['DebugIdentity', 'DebugIdentityV2', 'DebugIdentityV3', 'DebugNanCount', 'DebugNumericSummary', 'DebugNumericSummaryV2'].map((op) => [op, 'dumps tensors to files or URLs it is configured with'] as const),
    ...['PyFunc', 'PyFuncStateless', 'EagerPyFunc'].map((op) => [op, 'calls back into Python code registered by whoever loads the model'] as const),
  ],
);

/** Ops with file-path inputs (by index): harmless when the loader feeds the path (the variables directory, an asset), not when the graph spells it out. */
export const TF_PATH_OPS: ReadonlyMap<string, readonly number[]> = new Map<string, readonly number[]>([
  ...['Save', 'SaveV2', 'SaveSlices', 'Restore', 'RestoreV2', 'RestoreSlice'].map((op): [string, number[]] => [op, [0]]),
  ['MergeV2Checkpoints', [0, 1]],
  ['InitializeTableFromTextFile', [1]],
  ['InitializeTableFromTextFileV2', [1]],
]);

const GROUP_MAX = 5;

/** Why a path written into a graph leaves the SavedModel directory, or undefined. */
export function escapingPath(p: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p)) return 'is a URL';
  if (p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:/.test(p)) return 'is absolute';
  if (p.split(/[\\/]/).includes('..')) return "climbs out with '..'";
  return undefined;
}

/** The first path input of `node` spelled out by a Const of the same graph, with why it escapes. */
function escapingConstPath(graph: TfGraph, node: TfNode, inputs: readonly number[]): { path: string; why: string } | undefined {
  for (const i of inputs) {
    const src = node.inputs[i]?.replace(/:\d+$/, '');
    const path = src === undefined ? undefined : graph.nodes.find((n) => n.name === src && n.op === 'Const')?.constString;
    const why = path === undefined ? undefined : escapingPath(path);
    if (path !== undefined && why) return { path, why };
  }
  return undefined;
}

/** The nodes the checks look at: risky ops, and the string Consts a path input may name. */
export const worthKeeping = (n: TfNode): boolean => TF_FILE_OPS.has(n.op) || TF_PATH_OPS.has(n.op) || n.constString !== undefined;

export function savedModelIssues(graphs: TfGraph[], allowOps: ReadonlySet<string>): FormatIssue[] {
  const out: FormatIssue[] = [];
  for (const g of graphs) {
    const byOp = new Map<string, TfNode[]>();
    for (const n of g.nodes) {
      if (allowOps.has(n.op)) continue;
      if (TF_FILE_OPS.has(n.op)) {
        const list = byOp.get(n.op) ?? [];
        list.push(n);
        byOp.set(n.op, list);
      } else if (TF_PATH_OPS.has(n.op)) {
        const bad = escapingConstPath(g, n, TF_PATH_OPS.get(n.op)!);
        if (bad) {
          const { path, why } = bad;
          out.push({ code: 'savedmodel-unsafe-op', severity: 'error', message: `${g.where} has a ${n.op} node "${n.name}" (at byte ${n.offset}) whose file path is written into the graph as ${JSON.stringify(path)}, which ${why}: outside the SavedModel's variables and assets directories. Running the graph reads or overwrites that file on the machine that loads the model. Re-export the model with tf.saved_model.save, which feeds checkpoint paths at load time` });
        }
      }
    }
    for (const [op, nodes] of byOp) {
      const names = nodes.slice(0, GROUP_MAX).map((n) => `"${n.name}"`).join(', ') + (nodes.length > GROUP_MAX ? ` and ${nodes.length - GROUP_MAX} more` : '');
      out.push({ code: 'savedmodel-unsafe-op', severity: 'error', message: `${g.where} has ${nodes.length === 1 ? 'a node' : `${nodes.length} nodes`} of op ${op} (${names}, first at byte ${nodes[0]!.offset}), which ${TF_FILE_OPS.get(op)}; serving or calling the model runs it. Re-export the model without it (keep file input in the training or serving code, not in the graph), or — if you reviewed it — add "${op}" to allow-tf-ops` });
    }
  }
  return out;
}

function protoFailure(e: unknown, what: string): FormatIssue {
  if (!(e instanceof ProtoError)) throw e;
  return e.budget
    ? { code: 'budget-exceeded', severity: 'error', message: `could not be read in full as ${what}: ${e.message}; the scan is incomplete, so the file fails closed` }
    : { code: 'malformed', severity: 'error', message: `is not a valid ${what}: ${e.message}. TensorFlow would refuse it and mlgate cannot check it, so it fails closed; re-export the model` };
}

const SAVED_MODEL_MAX = 1024 * 1024 * 1024;

/** A `saved_model.pb` from any random-access source (a file, an archive member). */
export async function savedModelAccessIssues(ra: RandomAccess, opts: FormatCheckOptions): Promise<FormatIssue[]> {
  // Protobuf caps a message at 2 GiB; TensorFlow refuses a saved_model.pb over that.
  const cap = Math.min(SAVED_MODEL_MAX, opts.maxBytes);
  if (ra.size > cap) return [{ code: 'budget-exceeded', severity: 'error', message: `is ${ra.size} bytes, over the ${cap}-byte cap for a SavedModel graph, so it was not read and fails closed` }];
  try {
    const { graphs, metaGraphCount } = await readSavedModel(ra, { check: () => opts.signal?.throwIfAborted(), keep: worthKeeping });
    if (metaGraphCount === 0) return [{ code: 'malformed', severity: 'error', message: 'holds no meta graph (a truncated or empty file?); TensorFlow cannot load a model from it and mlgate cannot check it, so it fails closed; re-export the model' }];
    return savedModelIssues(graphs, opts.allowTfOps);
  } catch (e) {
    return [protoFailure(e, 'SavedModel protobuf (saved_model.pb)')];
  }
}

export const checkSavedModel = (abs: string, opts: FormatCheckOptions): Promise<FormatIssue[]> => withFile(abs, (ra) => savedModelAccessIssues(ra, opts));

const KERAS_METADATA_MAX = 256 * 1024 * 1024;

/** `keras_metadata.pb`: the JSON of every saved Keras object, checked like a Keras config. */
export async function kerasMetadataAccessIssues(ra: RandomAccess, opts: FormatCheckOptions): Promise<FormatIssue[]> {
  if (ra.size > Math.min(KERAS_METADATA_MAX, opts.maxBytes)) return [{ code: 'budget-exceeded', severity: 'error', message: `is ${ra.size} bytes, over the cap for Keras metadata, so it was not read and fails closed` }];
  let objects;
  try {
    objects = await readKerasMetadata(ra, { check: () => opts.signal?.throwIfAborted() });
  } catch (e) {
    return [protoFailure(e, 'Keras SavedModel metadata protobuf (keras_metadata.pb)')];
  }
  const out: FormatIssue[] = [];
  // A model's metadata repeats the configs of its layers: one finding per layer, on the first object that holds it.
  const seen = new Set<string>();
  for (const o of objects) {
    if (!o.metadata) continue;
    let json: unknown;
    try {
      json = JSON.parse(o.metadata);
    } catch (e) {
      out.push({ code: 'malformed', severity: 'error', message: `has metadata for ${o.nodePath || 'an object'} that is not valid JSON (${(e as Error).message}); Keras could not load it and mlgate cannot check it` });
      continue;
    }
    for (const i of kerasConfigIssues(json, opts.allow)) {
      if (seen.has(`${i.code}\0${i.message}`)) continue;
      seen.add(`${i.code}\0${i.message}`);
      out.push({ ...i, message: `object ${o.nodePath || '(root)'} ${i.message}` });
    }
  }
  return out;
}

export const checkKerasMetadata = (abs: string, opts: FormatCheckOptions): Promise<FormatIssue[]> => withFile(abs, (ra) => kerasMetadataAccessIssues(ra, opts));
