// ONNX and SavedModel reading (issue 16): tensor bytes are skipped by their
// length, so a 2 GiB ONNX file costs what its graph does; graphs of 100,000+
// nodes stream one node at a time, so memory stays flat. The corpus is
// encoded under .bench/formats-protobuf/ with mlgate's own descriptors; the
// big tensors are holes in sparse files.
import { execFile } from 'node:child_process';
import { mkdir, open, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { bundleSources, ensureFile, median } from './common.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dir = path.join(root, '.bench', 'formats-protobuf');
const MiB = 1024 * 1024;
const RUNS = 5;
const CHILD = '--read-in-child';

function varint(n) {
  const out = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
const lenHead = (id, len) => Buffer.concat([varint(id * 8 + 2), varint(len)]);

async function bundle() {
  return bundleSources(path.join(dir, 'readers.mjs'), [
    "export { readOnnx } from './src/formats/onnx.ts';",
    "export { readSavedModel } from './src/formats/savedmodel.ts';",
    "export { onnxProto, tensorflowProto } from './src/formats/protobuf/descriptors.ts';",
    "export { fileAccess } from './src/formats/pickle/source.ts';",
    "export { onnxIssues } from './src/checks/model-file/onnx.ts';",
    "export { savedModelIssues, worthKeeping } from './src/checks/model-file/savedmodel.ts';",
  ]);
}

/** An ONNX model whose graph holds `tensors` initializers of `each` bytes of raw_data, left as holes. */
async function writeBigOnnx(lib, file, tensors, each) {
  const M = lib.onnxProto.lookupType('ModelProto');
  const G = lib.onnxProto.lookupType('GraphProto');
  const head = Buffer.from(M.encode(M.fromObject({ irVersion: 9, producerName: 'bench', opsetImport: [{ domain: '', version: 17 }] })).finish());
  const nodes = Buffer.from(G.encode(G.fromObject({ name: 'g', node: Array.from({ length: tensors }, (_, i) => ({ name: `mm${i}`, opType: 'MatMul' })) })).finish());
  const inits = [];
  let graphLen = nodes.length;
  for (let i = 0; i < tensors; i++) {
    const name = Buffer.concat([Buffer.from([0x42]), varint(`w${i}`.length), Buffer.from(`w${i}`)]);
    const rawHead = Buffer.concat([Buffer.from([0x4a]), varint(each)]);
    const tensorLen = name.length + rawHead.length + each;
    const h = Buffer.concat([lenHead(5, tensorLen), name, rawHead]);
    inits.push(h);
    graphLen += h.length + each;
  }
  const fh = await open(file, 'w');
  let pos = 0;
  const put = async (b) => {
    await fh.write(b, 0, b.length, pos);
    pos += b.length;
  };
  await put(head);
  await put(lenHead(7, graphLen));
  await put(nodes);
  for (const h of inits) {
    await put(h);
    pos += each; // a hole: never written, never read
  }
  await fh.truncate(pos);
  await fh.close();
}

async function writeWideOnnx(lib, file, n) {
  const M = lib.onnxProto.lookupType('ModelProto');
  const ops = ['MatMul', 'Add', 'Relu', 'LayerNormalization', 'Softmax', 'Reshape', 'Transpose', 'Gather'];
  const model = { irVersion: 9, opsetImport: [{ domain: '', version: 17 }], graph: { name: 'g', node: Array.from({ length: n }, (_, i) => ({ name: `/layers.${i >> 4}/op_${i}`, opType: ops[i % ops.length], attribute: [{ name: 'axis' }] })) } };
  await writeFile(file, M.encode(M.fromObject(model)).finish());
}

async function writeSavedModel(lib, file, n) {
  const T = lib.tensorflowProto.lookupType('SavedModel');
  const ops = ['MatMul', 'AddV2', 'Relu', 'ReadVariableOp', 'Identity', 'Reshape', 'ConcatV2', 'Softmax'];
  const node = (i) => ({ name: `model/dense_${i}/op`, op: ops[i % ops.length], input: [`model/dense_${i - 1}/op`, `model/dense_${i}/kernel`], attr: [{ key: 'T', value: { s: Buffer.from('DT_FLOAT') } }] });
  const msg = { savedModelSchemaVersion: 1, metaGraphs: [{ metaInfoDef: { tags: ['serve'] }, graphDef: { node: Array.from({ length: n / 2 }, (_, i) => node(i)), library: { function: Array.from({ length: 100 }, (_, f) => ({ signature: { name: `__inference_fn_${f}` }, nodeDef: Array.from({ length: n / 200 }, (_, i) => node(i)) })) } } }] };
  await writeFile(file, T.encode(T.fromObject(msg)).finish());
}

async function readInChild([lib, kind, file]) {
  const m = await import(pathToFileURL(lib).href);
  const fh = await open(file, 'r');
  const { size } = await fh.stat();
  const baseRss = process.resourceUsage().maxRSS * 1024;
  const times = [];
  let nodes = 0;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    if (kind === 'onnx') {
      const model = await m.readOnnx(m.fileAccess(fh, size));
      if (m.onnxIssues(model, new Set()).length) throw new Error('false positive');
      nodes = model.nodeCount;
    } else {
      const sm = await m.readSavedModel(m.fileAccess(fh, size), { keep: m.worthKeeping });
      if (m.savedModelIssues(sm.graphs, new Set()).length) throw new Error('false positive');
      nodes = sm.nodeCount;
    }
    times.push(performance.now() - t0);
  }
  await fh.close();
  process.stdout.write(JSON.stringify({ times, nodes, baseRss, peakRss: process.resourceUsage().maxRSS * 1024 }));
}

export default async function bench() {
  await mkdir(dir, { recursive: true });
  const lib = await bundle();
  const m = await import(pathToFileURL(lib).href);
  const corpora = [
    ['onnx', 'ONNX, 2 GiB of inline raw_data in 8 initializers (sparse file)', path.join(dir, 'big-raw.onnx'), (f) => writeBigOnnx(m, f, 8, 256 * MiB)],
    ['onnx', 'ONNX, 200,000 nodes', path.join(dir, 'wide.onnx'), (f) => writeWideOnnx(m, f, 200_000)],
    ['savedmodel', 'SavedModel, 200,000 nodes (graph + 100 functions)', path.join(dir, 'saved_model.pb'), (f) => writeSavedModel(m, f, 200_000)],
  ];
  console.log(`| corpus | file size | nodes | wall (median of ${RUNS}) | peak RSS (after loading) |`);
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [kind, name, file, make] of corpora) {
    await ensureFile(file, make);
    const { size } = await stat(file);
    const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(import.meta.url), CHILD, lib, kind, file], { maxBuffer: 1024 * 1024 });
    const r = JSON.parse(stdout);
    console.log(`| ${name} | ${(size / MiB).toFixed(1)} MiB | ${r.nodes} | ${median(r.times).toFixed(1)} ms | ${(r.peakRss / MiB).toFixed(0)} MiB (${(r.baseRss / MiB).toFixed(0)} MiB) |`);
  }
}

if (process.argv[2] === CHILD) await readInChild(process.argv.slice(3));
