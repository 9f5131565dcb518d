import protobuf from 'protobufjs/light.js';

/**
 * The parts of TensorFlow's `saved_model.proto` (with `meta_graph.proto`,
 * `graph.proto`, `node_def.proto`, `function.proto`, `attr_value.proto`,
 * `tensor.proto`), Keras' `saved_metadata.proto` and `onnx.proto` that the
 * model-file checks read, written from the published field numbers. Fields
 * left out (weights, shapes, debug info) are skipped by length, never read.
 * Maps are declared as their wire form: repeated `{key = 1; value = 2}`.
 * The descriptors are code, so the bundle carries them: nothing is read from
 * disk at run time.
 */

const field = (type: string, id: number, repeated = false): protobuf.IField & { rule?: string } => (repeated ? { type, id, rule: 'repeated' } : { type, id });

const TENSORFLOW: protobuf.INamespace = {
  nested: {
    SavedModel: { fields: { savedModelSchemaVersion: field('int64', 1), metaGraphs: field('MetaGraphDef', 2, true) } },
    MetaGraphDef: { fields: { metaInfoDef: field('MetaInfoDef', 1), graphDef: field('GraphDef', 2) } },
    MetaInfoDef: { fields: { tags: field('string', 4, true), tensorflowVersion: field('string', 5) } },
    GraphDef: { fields: { node: field('NodeDef', 1, true), library: field('FunctionDefLibrary', 2) } },
    NodeDef: { fields: { name: field('string', 1), op: field('string', 2), input: field('string', 3, true), attr: field('AttrEntry', 5, true) } },
    AttrEntry: { fields: { key: field('string', 1), value: field('AttrValue', 2) } },
    AttrValue: { fields: { s: field('bytes', 2), tensor: field('TensorProto', 8), func: field('NameAttrList', 10) } },
    NameAttrList: { fields: { name: field('string', 1) } },
    TensorProto: { fields: { dtype: field('int32', 1), stringVal: field('bytes', 8, true) } },
    FunctionDefLibrary: { fields: { function: field('FunctionDef', 1, true) } },
    FunctionDef: { fields: { signature: field('OpDef', 1), nodeDef: field('NodeDef', 3, true) } },
    OpDef: { fields: { name: field('string', 1) } },
    // keras/protobuf/saved_metadata.proto: what Keras writes to keras_metadata.pb.
    SavedMetadata: { fields: { nodes: field('KerasSavedObject', 1, true) } },
    KerasSavedObject: { fields: { nodeId: field('int32', 2), nodePath: field('string', 3), identifier: field('string', 4), metadata: field('string', 5) } },
  },
};

const ONNX: protobuf.INamespace = {
  nested: {
    ModelProto: {
      fields: {
        irVersion: field('int64', 1),
        producerName: field('string', 2),
        domain: field('string', 4),
        graph: field('GraphProto', 7),
        opsetImport: field('OperatorSetIdProto', 8, true),
        trainingInfo: field('TrainingInfoProto', 20, true),
        functions: field('FunctionProto', 25, true),
      },
    },
    OperatorSetIdProto: { fields: { domain: field('string', 1), version: field('int64', 2) } },
    GraphProto: { fields: { node: field('NodeProto', 1, true), name: field('string', 2), initializer: field('TensorProto', 5, true), sparseInitializer: field('SparseTensorProto', 15, true) } },
    NodeProto: { fields: { name: field('string', 3), opType: field('string', 4), attribute: field('AttributeProto', 5, true), domain: field('string', 7) } },
    AttributeProto: { fields: { name: field('string', 1), t: field('TensorProto', 5), g: field('GraphProto', 6), tensors: field('TensorProto', 10, true), graphs: field('GraphProto', 11, true), sparseTensor: field('SparseTensorProto', 22), sparseTensors: field('SparseTensorProto', 23, true) } },
    TensorProto: { fields: { name: field('string', 8), externalData: field('StringStringEntryProto', 13, true), dataLocation: field('int32', 14) } },
    SparseTensorProto: { fields: { values: field('TensorProto', 1), indices: field('TensorProto', 2) } },
    StringStringEntryProto: { fields: { key: field('string', 1), value: field('string', 2) } },
    TrainingInfoProto: { fields: { initialization: field('GraphProto', 1), algorithm: field('GraphProto', 2) } },
    FunctionProto: { fields: { name: field('string', 1), node: field('NodeProto', 7, true), opsetImport: field('OperatorSetIdProto', 9, true), domain: field('string', 10) } },
  },
};

function load(ns: protobuf.INamespace): protobuf.Root {
  const root = protobuf.Root.fromJSON(ns);
  root.resolveAll();
  return root;
}

export const tensorflowProto = load(TENSORFLOW);
export const onnxProto = load(ONNX);
