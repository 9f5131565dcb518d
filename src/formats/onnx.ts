import { onnxProto } from './protobuf/descriptors.js';
import { decodeMessage, type DecodeOptions, type ProtoObject } from './protobuf/stream.js';
import type { RandomAccess } from './pickle/source.js';

/**
 * ONNX `ModelProto`, read as protobuf from the file: the IR version, the
 * opset imports, the operator domain of every node (in the main graph, in
 * subgraphs of control-flow nodes, in training graphs and in local functions),
 * and every tensor's external-data `location`. Tensor bytes (`raw_data` and
 * the typed arrays) are skipped by their length, never read.
 */

export interface OnnxOpset {
  domain: string;
  version: number;
}

export interface OnnxOp {
  domain: string;
  opType: string;
  /** First NodeProto with this domain and type, and how many there are. */
  offset: number;
  count: number;
}

export interface OnnxExternal {
  tensor: string;
  location: string | undefined;
  offset: number;
}

export interface OnnxModel {
  irVersion: number | undefined;
  opsets: OnnxOpset[];
  /** Every distinct (domain, op type) of a node. */
  ops: OnnxOp[];
  /** Model-local functions as `domain\u0000name`: nodes calling them expand to ops listed themselves. */
  functions: Set<string>;
  externals: OnnxExternal[];
  nodeCount: number;
  /** Whether the model has a main graph at all. */
  hasGraph: boolean;
}

const TENSOR_EXTERNAL = 1;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export async function readOnnx(ra: RandomAccess, opts: Pick<DecodeOptions, 'limits' | 'check'> = {}): Promise<OnnxModel> {
  const ops = new Map<string, OnnxOp>();
  const externals: OnnxExternal[] = [];
  const functions = new Set<string>();
  let nodeCount = 0;
  const model = await decodeMessage(ra, 0, ra.size, onnxProto.lookupType('ModelProto'), {
    ...opts,
    stream: new Set(['NodeProto', 'TensorProto', 'FunctionProto']),
    onMessage: (type, m) => {
      if (type === 'NodeProto') {
        nodeCount++;
        const domain = str(m.domain);
        const opType = str(m.opType);
        const key = `${domain}\u0000${opType}`;
        const seen = ops.get(key);
        if (seen) seen.count++;
        else ops.set(key, { domain, opType, offset: m.$offset, count: 1 });
      } else if (type === 'TensorProto') {
        const entries = (m.externalData as ProtoObject[] | undefined) ?? [];
        if (m.dataLocation !== TENSOR_EXTERNAL && entries.length === 0) return;
        const loc = entries.find((e) => e.key === 'location');
        externals.push({ tensor: str(m.name), location: loc ? str(loc.value) : undefined, offset: m.$offset });
      } else {
        functions.add(`${str(m.domain)}\u0000${str(m.name)}`);
      }
    },
  });
  const opsets = ((model.opsetImport as ProtoObject[] | undefined) ?? []).map((o) => ({ domain: str(o.domain), version: typeof o.version === 'number' ? o.version : 0 }));
  return { irVersion: typeof model.irVersion === 'number' ? model.irVersion : undefined, opsets, ops: [...ops.values()], functions, externals, nodeCount, hasGraph: model.graph !== undefined };
}
