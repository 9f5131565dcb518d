// SavedModel, Keras metadata and ONNX bytes encoded with protobufjs from mlgate's own descriptors.
import fc from 'fast-check';
import { expect } from 'vitest';
import { onnxProto, tensorflowProto } from '../src/formats/protobuf/descriptors.js';
import { bufferAccess, type RandomAccess } from '../src/formats/pickle/source.js';
import { ProtoError } from '../src/formats/protobuf/stream.js';

export interface TfNodeSpec {
  name: string;
  op: string;
  input?: string[];
  /** A string Const's value. */
  str?: string;
}

const nodeDef = (n: TfNodeSpec) => ({
  name: n.name,
  op: n.op,
  input: n.input ?? [],
  attr: n.str !== undefined ? [{ key: 'value', value: { tensor: { dtype: 7, stringVal: [Buffer.from(n.str)] } } }, { key: 'dtype', value: { s: Buffer.from('x') } }] : [{ key: 'T', value: { s: Buffer.from('float') } }],
});

/** A SavedModel with one meta graph (tags serve): its graph nodes and its function library. */
export function savedModel(graph: TfNodeSpec[], functions: Record<string, TfNodeSpec[]> = {}): Buffer {
  const T = tensorflowProto.lookupType('SavedModel');
  const msg = {
    savedModelSchemaVersion: 1,
    metaGraphs: [
      {
        metaInfoDef: { tags: ['serve'], tensorflowVersion: '2.16.1' },
        graphDef: {
          node: graph.map(nodeDef),
          library: { function: Object.entries(functions).map(([name, nodes]) => ({ signature: { name }, nodeDef: nodes.map(nodeDef) })) },
        },
      },
    ],
  };
  return Buffer.from(T.encode(T.fromObject(msg)).finish());
}

/** Only arithmetic: what a small Dense model's serving graph holds, with the TF2 saver functions. */
export const ARITHMETIC: TfNodeSpec[] = [
  { name: 'x', op: 'Placeholder' },
  { name: 'w', op: 'VarHandleOp' },
  { name: 'w/read', op: 'ReadVariableOp', input: ['w'] },
  { name: 'matmul', op: 'MatMul', input: ['x', 'w/read'] },
  { name: 'b', op: 'Const' },
  { name: 'add', op: 'AddV2', input: ['matmul', 'b'] },
  { name: 'relu', op: 'Relu', input: ['add'] },
  { name: 'saver_filename', op: 'Placeholder' },
  { name: 'StatefulPartitionedCall', op: 'StatefulPartitionedCall', input: ['saver_filename', 'w'] },
];

export const SAVE_FUNCTION: TfNodeSpec[] = [
  { name: 'file_prefix', op: 'Placeholder' },
  { name: 'StringJoin', op: 'StringJoin', input: ['file_prefix', 'Const'] },
  { name: 'Const', op: 'Const', str: '_temp/part' },
  { name: 'ShardedFilename', op: 'ShardedFilename', input: ['StringJoin'] },
  { name: 'SaveV2', op: 'SaveV2', input: ['ShardedFilename', 'tensor_names', 'shape_and_slices', 'w'] },
  { name: 'MergeV2Checkpoints', op: 'MergeV2Checkpoints', input: ['ShardedFilename', 'file_prefix'] },
  { name: 'RestoreV2', op: 'RestoreV2', input: ['file_prefix:0', 'tensor_names', 'shape_and_slices'] },
];

export function kerasMetadata(objects: Array<{ path: string; metadata: unknown }>): Buffer {
  const T = tensorflowProto.lookupType('SavedMetadata');
  const msg = { nodes: objects.map((o, i) => ({ nodeId: i, nodePath: o.path, identifier: '_tf_keras_layer', metadata: JSON.stringify(o.metadata) })) };
  return Buffer.from(T.encode(T.fromObject(msg)).finish());
}

export interface OnnxNodeSpec {
  op: string;
  domain?: string;
  /** Subgraphs in a `g` attribute (If/Loop bodies). */
  body?: OnnxNodeSpec[];
}

export interface OnnxSpec {
  irVersion?: number;
  opsets?: Array<[string, number]>;
  nodes?: OnnxNodeSpec[];
  /** Initializers: name and external-data location (undefined = stored inline with raw bytes). */
  tensors?: Array<{ name: string; location?: string; external?: boolean; raw?: Buffer }>;
  functions?: Array<{ domain: string; name: string; nodes: OnnxNodeSpec[] }>;
}

const onnxNode = (n: OnnxNodeSpec, i: number): Record<string, unknown> => ({
  name: `n${i}`,
  opType: n.op,
  domain: n.domain ?? '',
  attribute: n.body ? [{ name: 'then_branch', g: { name: 'body', node: n.body.map(onnxNode) } }] : [],
});

/** TensorProto's raw_data (field 9) is not in mlgate's descriptor: appended by hand after the encoded fields. */
function tensorBytes(t: NonNullable<OnnxSpec['tensors']>[number]): Buffer {
  const T = onnxProto.lookupType('TensorProto');
  const fields = t.location !== undefined || t.external ? { name: t.name, dataLocation: 1, externalData: t.location !== undefined ? [{ key: 'location', value: t.location }, { key: 'offset', value: '0' }] : [] } : { name: t.name };
  const head = Buffer.from(T.encode(T.fromObject(fields)).finish());
  if (!t.raw) return head;
  return Buffer.concat([head, Buffer.from([0x4a]), varint(t.raw.length), t.raw]);
}

export function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A length-delimited field `id` holding `body`. */
export const lenField = (id: number, body: Buffer): Buffer => Buffer.concat([varint(id * 8 + 2), varint(body.length), body]);

export function onnxModel(spec: OnnxSpec = {}): Buffer {
  const M = onnxProto.lookupType('ModelProto');
  const G = onnxProto.lookupType('GraphProto');
  const graph = Buffer.concat([
    Buffer.from(G.encode(G.fromObject({ name: 'main', node: (spec.nodes ?? [{ op: 'MatMul' }, { op: 'Add' }, { op: 'Relu' }]).map(onnxNode) })).finish()),
    ...(spec.tensors ?? [{ name: 'w', raw: Buffer.alloc(64, 1) }]).map((t) => lenField(5, tensorBytes(t))),
  ]);
  const model = {
    irVersion: spec.irVersion ?? 9,
    producerName: 'pytorch',
    opsetImport: (spec.opsets ?? [['', 17]]).map(([domain, version]) => ({ domain, version })),
    functions: (spec.functions ?? []).map((f) => ({ domain: f.domain, name: f.name, node: f.nodes.map(onnxNode), opsetImport: [{ domain: '', version: 17 }] })),
  };
  return Buffer.concat([Buffer.from(M.encode(M.fromObject(model)).finish()), lenField(7, graph)]);
}

/**
 * The property both protobuf readers hold: arbitrary bytes, and `good`
 * truncated and mutated, give a result (never more nodes than bytes) or a
 * ProtoError, within a second.
 */
export async function assertReadsOrRefuses(good: Buffer, read: (file: RandomAccess) => Promise<{ nodeCount: number }>): Promise<void> {
  const mutated = fc.tuple(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: good.length })).map(([at, v, cut]) => {
    const b = Buffer.from(good.subarray(0, cut));
    if (at < b.length) b[at] = v;
    return b;
  });
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 400 }).map((u) => Buffer.from(u)), mutated), async (b) => {
      const started = Date.now();
      try {
        expect((await read(bufferAccess(b))).nodeCount).toBeLessThanOrEqual(b.length);
      } catch (e) {
        expect(e, String(e)).toBeInstanceOf(ProtoError);
      }
      expect(Date.now() - started).toBeLessThan(1000);
    }),
    { numRuns: 1500 },
  );
}
