import { tensorflowProto } from './protobuf/descriptors.js';
import { decodeMessage, type DecodeOptions, type ProtoObject } from './protobuf/stream.js';
import type { RandomAccess } from './pickle/source.js';

/**
 * TensorFlow SavedModel (`saved_model.pb`) and Keras SavedModel metadata
 * (`keras_metadata.pb`), read as protobuf from the file: the op of every node
 * of every graph and of every function in the function libraries, with the
 * first input of each and the string a `Const` node holds, which is what the
 * checks need to tell a checkpoint path written into the graph from one
 * passed in at load time. Nothing is evaluated.
 */

export interface TfNode {
  name: string;
  op: string;
  /** The node's first data inputs (`node:0` forms as written; `^control` inputs left out). */
  inputs: string[];
  /** For a `Const` with a short string value: that value. */
  constString?: string;
  /** Byte offset of the NodeDef in the file. */
  offset: number;
}

export interface TfGraph {
  /** `meta graph 0 (tags serve)` or `meta graph 0, function __inference_save_123`. */
  where: string;
  nodes: TfNode[];
}

export interface SavedModelContents {
  graphs: TfGraph[];
  /** How many NodeDefs the file holds in all. */
  nodeCount: number;
  /** How many MetaGraphDefs it holds (TensorFlow loads none from a file without one). */
  metaGraphCount: number;
}

/** Const strings longer than this are never a checkpoint path; they are not kept. */
const CONST_STRING_MAX = 4096;
const DT_STRING = 7;
const INPUTS_KEPT = 4;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function nodeOf(m: ProtoObject): TfNode {
  const inputs = (m.input as string[] | undefined) ?? [];
  const node: TfNode = { name: str(m.name), op: str(m.op), inputs: inputs.filter((i) => !i.startsWith('^')).slice(0, INPUTS_KEPT), offset: m.$offset };
  if (node.op === 'Const') {
    for (const a of (m.attr as ProtoObject[] | undefined) ?? []) {
      const t = (a.value as ProtoObject | undefined)?.tensor as ProtoObject | undefined;
      const vals = t?.stringVal as Buffer[] | undefined;
      if (a.key === 'value' && t?.dtype === DT_STRING && vals?.length === 1 && vals[0]!.length <= CONST_STRING_MAX) node.constString = vals[0]!.toString('utf8');
    }
  }
  return node;
}

/** Every graph and function of a `saved_model.pb`; throws ProtoError when the bytes are not one. */
export async function readSavedModel(ra: RandomAccess, opts: Pick<DecodeOptions, 'limits' | 'check'> & { keep?: (node: TfNode) => boolean } = {}): Promise<SavedModelContents> {
  const graphs: TfGraph[] = [];
  let pending: TfNode[] = [];
  let nodeCount = 0;
  let metaIndex = 0;
  let functions: TfGraph[] = [];
  const metaLabel = (m: ProtoObject | undefined): string => {
    const tags = ((m?.metaInfoDef as ProtoObject | undefined)?.tags as string[] | undefined) ?? [];
    return `meta graph ${metaIndex}${tags.length ? ` (tags ${tags.join(', ')})` : ''}`;
  };
  await decodeMessage(ra, 0, ra.size, tensorflowProto.lookupType('SavedModel'), {
    limits: opts.limits,
    check: opts.check,
    stream: new Set(['NodeDef', 'FunctionDef', 'GraphDef', 'MetaGraphDef']),
    onMessage: (type, m) => {
      if (type === 'NodeDef') {
        nodeCount++;
        const node = nodeOf(m);
        if (!opts.keep || opts.keep(node)) pending.push(node);
      } else if (type === 'FunctionDef') {
        // Graph nodes written before the library are pending too: the function's own lie inside its bytes, at the end.
        let first = pending.length;
        while (first > 0 && pending[first - 1]!.offset >= m.$offset) first--;
        functions.push({ where: `function ${str((m.signature as ProtoObject | undefined)?.name) || '(unnamed)'}`, nodes: pending.slice(first) });
        pending.length = first;
      } else if (type === 'GraphDef') {
        functions.unshift({ where: 'graph', nodes: pending });
        pending = [];
      } else {
        const label = metaLabel(m);
        for (const g of functions) graphs.push({ where: g.where === 'graph' ? label : `${label}, ${g.where}`, nodes: g.nodes });
        functions = [];
        metaIndex++;
      }
    },
  });
  return { graphs, nodeCount, metaGraphCount: metaIndex };
}

export interface KerasMetadataObject {
  nodePath: string;
  identifier: string;
  /** The object's JSON metadata as written (Keras' `get_config()` and class names). */
  metadata: string;
}

/** The objects of a `keras_metadata.pb` with their JSON metadata. */
export async function readKerasMetadata(ra: RandomAccess, opts: Pick<DecodeOptions, 'limits' | 'check'> = {}): Promise<KerasMetadataObject[]> {
  const out: KerasMetadataObject[] = [];
  await decodeMessage(ra, 0, ra.size, tensorflowProto.lookupType('SavedMetadata'), {
    ...opts,
    stream: new Set(['KerasSavedObject']),
    onMessage: (_type, m) => {
      out.push({ nodePath: str(m.nodePath), identifier: str(m.identifier), metadata: str(m.metadata) });
    },
  });
  return out;
}
