import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { modelFileSafety } from '../src/checks/model-file-safety.js';
import { readOnnx } from '../src/formats/onnx.js';
import { ProtoError } from '../src/formats/protobuf/stream.js';
import { bufferAccess, type RandomAccess } from '../src/formats/pickle/source.js';
import { makeRepo, runRuleOn, runRuleOnDir, summarise } from './helpers/repo.js';
import { lenField, onnxModel, varint, type OnnxNodeSpec , assertReadsOrRefuses } from './proto-fixtures.js';

const M = 'models/net/model.onnx';
const run = async (bytes: Buffer, params: Record<string, unknown> = {}, extra: Record<string, string> = {}) => runRuleOn(modelFileSafety, { [M]: bytes, ...extra }, { params });

describe('ONNX models', () => {
  it('reads IR version, opsets, node domains and external data without reading tensor bytes', async () => {
    const bytes = onnxModel({ tensors: [{ name: 'w', raw: Buffer.alloc(4096, 7) }, { name: 'big', location: 'model.onnx.data' }], opsets: [['', 17], ['ai.onnx.ml', 3]] });
    let read = 0;
    const ra = bufferAccess(bytes);
    const counting: RandomAccess = { size: ra.size, readAt: async (b, o, l, p) => ((read += Math.min(l, 65536)), ra.readAt(b, o, l, p)) };
    const m = await readOnnx(counting);
    expect(m.irVersion).toBe(9);
    expect(m.opsets).toEqual([{ domain: '', version: 17 }, { domain: 'ai.onnx.ml', version: 3 }]);
    expect(m.ops.map((o) => o.opType)).toEqual(['MatMul', 'Add', 'Relu']);
    expect(m.externals).toEqual([{ tensor: 'big', location: 'model.onnx.data', offset: expect.any(Number) }]);
    expect(m.nodeCount).toBe(3);
    expect(read).toBeLessThan(bytes.length + 65536);
  });

  it('a model with only standard ops and data next to it passes', async () => {
    const bytes = onnxModel({ tensors: [{ name: 'w', location: 'model.onnx.data' }, { name: 'b', location: 'weights/b.bin' }, { name: 'c', raw: Buffer.alloc(16) }], opsets: [['', 17], ['ai.onnx.ml', 3]], nodes: [{ op: 'Conv' }, { op: 'TreeEnsembleClassifier', domain: 'ai.onnx.ml' }] });
    expect(await run(bytes, {}, { 'models/net/model.onnx.data': 'x', 'models/net/weights/b.bin': 'y' })).toEqual([]);
  });

  const escapes: Array<[string, string, RegExp]> = [
    ['an absolute location', '/etc/passwd', /"\/etc\/passwd" is absolute, so the runtime reads a file outside the model's directory/],
    ['a Windows drive', 'C:\\Users\\runner\\.aws\\credentials', /is absolute/],
    ['a location climbing out', '../../../home/runner/.ssh/id_rsa', /climbs out with '\.\.'/],
    ['a backslash climb', 'data\\..\\..\\secret', /climbs out/],
    ['a URL', 'file:///etc/shadow', /is a URL/],
  ];
  it.each(escapes)('%s is an error', async (_n, location, says) => {
    const found = await run(onnxModel({ tensors: [{ name: 'w', location }] }));
    expect(summarise(found)).toEqual([`onnx-external-data@${M}`]);
    expect(found[0]!.message).toMatch(says);
    expect(found[0]!.message).toMatch(/tensor "w" \(at byte \d+\)/);
  });

  it('external data without a location is an error', async () => {
    expect(summarise(await run(onnxModel({ tensors: [{ name: 'w', external: true }] })))).toEqual([`onnx-external-data@${M}`]);
  });

  it('a location through a symlink in the repository is an error', async () => {
    const dir = await makeRepo({ [M]: onnxModel({ tensors: [{ name: 'w', location: 'shared/w.bin' }] }) });
    await symlink('/etc', join(dir, 'models/net/shared'));
    const found = await runRuleOnDir(modelFileSafety, dir);
    expect(summarise(found)).toEqual([`onnx-external-data@${M}`]);
    expect(found[0]!.message).toMatch(/goes through models\/net\/shared, a symbolic link/);
  });

  it('a location naming a real directory inside the model directory passes', async () => {
    const dir = await makeRepo({ [M]: onnxModel({ tensors: [{ name: 'w', location: 'shared/w.bin' }] }), 'models/net/shared/w.bin': 'x' });
    await mkdir(join(dir, 'models/net/shared/sub'), { recursive: true });
    expect(await runRuleOnDir(modelFileSafety, dir)).toEqual([]);
  });

  it('custom operator domains are warnings, listed once per domain with counts', async () => {
    const nodes: OnnxNodeSpec[] = [{ op: 'MatMul' }, { op: 'Backdoor', domain: 'com.evil' }, { op: 'Backdoor', domain: 'com.evil' }, { op: 'Exfil', domain: 'com.evil' }];
    const found = await run(onnxModel({ nodes, opsets: [['', 17], ['com.evil', 1]] }));
    expect(summarise(found)).toEqual([`onnx-custom-op@${M}`]);
    expect(found[0]!.maxLevel).toBe('warning');
    expect(found[0]!.message).toMatch(/custom domain "com\.evil" \(Backdoor ×2, Exfil\).*allow-onnx-domains/);
  });

  it('custom operators inside a control-flow subgraph are found', async () => {
    const found = await run(onnxModel({ nodes: [{ op: 'If', body: [{ op: 'Hidden', domain: 'org.custom' }] }], opsets: [['', 17], ['org.custom', 1]] }));
    expect(summarise(found)).toEqual([`onnx-custom-op@${M}`]);
  });

  it('com.microsoft (ONNX Runtime contrib ops) is allowed by default; allow-onnx-domains replaces the list', async () => {
    const bytes = onnxModel({ nodes: [{ op: 'FusedMatMul', domain: 'com.microsoft' }, { op: 'X', domain: 'ai.mine' }], opsets: [['', 17], ['com.microsoft', 1], ['ai.mine', 1]] });
    expect((await run(bytes)).map((f) => f.message.match(/domain "([^"]+)"/)?.[1])).toEqual(['ai.mine']);
    expect(await run(bytes, { 'allow-onnx-domains': ['com.microsoft', 'ai.mine'] })).toEqual([]);
    expect((await run(bytes, { 'allow-onnx-domains': [] })).length).toBe(2);
  });

  it('ai.onnx.contrib (onnxruntime-extensions) is custom; ONNX Runtime PythonOp is an error even in an allowed domain', async () => {
    const contrib = await run(onnxModel({ nodes: [{ op: 'StringSplit', domain: 'ai.onnx.contrib' }, { op: 'LinearRegressor', domain: 'ai.onnx.ml' }, { op: 'X', domain: 'ai.onnx.preview.training' }], opsets: [['', 17], ['ai.onnx.contrib', 1], ['ai.onnx.ml', 3], ['ai.onnx.preview.training', 1]] }));
    expect(contrib.map((f) => f.message.match(/domain "([^"]+)"/)?.[1])).toEqual(['ai.onnx.contrib']);
    const py = await run(onnxModel({ nodes: [{ op: 'PythonOp', domain: 'com.microsoft' }], opsets: [['', 17], ['com.microsoft', 1]] }));
    expect(summarise(py)).toEqual([`onnx-custom-op@${M}`]);
    expect(py[0]!.maxLevel).toBeUndefined();
    expect(py[0]!.message).toMatch(/uses PythonOp from "com\.microsoft" \(first at byte \d+\), which calls a Python function/);
  });

  it('strict raises the custom-domain warning to the rule level', async () => {
    const found = await run(onnxModel({ nodes: [{ op: 'X', domain: 'ai.mine' }], opsets: [['', 17], ['ai.mine', 1]] }), { strict: true });
    expect(found[0]!.maxLevel).toBeUndefined();
  });

  it('nodes calling a model-local function are not custom ops; the function body is checked', async () => {
    const bytes = onnxModel({ nodes: [{ op: 'Gelu2', domain: 'local' }], opsets: [['', 17], ['local', 1]], functions: [{ domain: 'local', name: 'Gelu2', nodes: [{ op: 'Mul' }, { op: 'Tanh' }] }] });
    expect(await run(bytes)).toEqual([]);
    const evil = onnxModel({ nodes: [{ op: 'Gelu2', domain: 'local' }], opsets: [['', 17], ['local', 1], ['com.evil', 1]], functions: [{ domain: 'local', name: 'Gelu2', nodes: [{ op: 'Sys', domain: 'com.evil' }] }] });
    expect(summarise(await run(evil))).toEqual([`onnx-custom-op@${M}`]);
  });

  const versions: Array<[string, Parameters<typeof onnxModel>[0], RegExp, 'error' | 'warning']> = [
    ['no IR version', { irVersion: 0 }, /sets no valid ir_version/, 'error'],
    ['an IR version from the future', { irVersion: 99 }, /ir_version 99, newer than the 11/, 'warning'],
    ['no opset import', { opsets: [] }, /imports no opset/, 'error'],
    ['opset 0', { opsets: [['', 0]] }, /opset 0, which does not exist/, 'error'],
    ['opset 99', { opsets: [['', 99]] }, /opset 99, newer than/, 'warning'],
    ['a node domain no opset declares', { nodes: [{ op: 'Y', domain: 'ai.onnx.ml' }] }, /domain "ai\.onnx\.ml" that opset_import does not declare/, 'error'],
  ];
  it.each(versions)('%s is onnx-version', async (_n, spec, says, level) => {
    const found = await run(onnxModel(spec));
    expect(summarise(found)).toEqual([`onnx-version@${M}`]);
    expect(found[0]!.message).toMatch(says);
    expect(found[0]!.maxLevel).toBe(level === 'warning' ? 'warning' : undefined);
  });

  it('a pickle named .onnx is still caught by the pickle scan', async () => {
    const found = await run(Buffer.from("cos\nsystem\n(S'id'\ntR."));
    expect(summarise(found)).toContain(`dangerous-global@${M}`);
  });
});

describe('hostile and broken ONNX files', () => {
  const good = onnxModel({ tensors: [{ name: 'w', raw: Buffer.alloc(32, 1) }, { name: 'e', location: 'model.onnx.data' }], nodes: [{ op: 'If', body: [{ op: 'Relu' }] }, { op: 'Add' }] });

  it('every truncation is a finding or a valid shorter model, never a crash', async () => {
    for (let n = 1; n < good.length; n++) {
      const found = await run(good.subarray(0, n));
      // A cut inside the model is malformed; one between top-level fields leaves a model without its graph or opsets.
      for (const f of found) expect(['malformed', 'onnx-version', 'onnx-external-data']).toContain(f.code);
      expect(found.length, `truncated to ${n}`).toBeGreaterThan(0);
    }
  }, 120_000);

  it('subgraphs nested past the depth cap are budget-exceeded', async () => {
    // NodeProto{attribute: AttributeProto{g: GraphProto{node: …}}}, 200 levels deep.
    let graph: Buffer = Buffer.alloc(0);
    for (let i = 0; i < 200; i++) graph = lenField(1, lenField(5, lenField(6, graph)));
    const bytes = Buffer.concat([Buffer.from([0x08, 0x09]), lenField(7, graph)]);
    const found = await run(bytes);
    expect(summarise(found)).toEqual([`budget-exceeded@${M}`]);
    expect(found[0]!.message).toMatch(/nest deeper than 64/);
  });

  it('a graph over the message budget is budget-exceeded', async () => {
    const e = await readOnnx(bufferAccess(good), { limits: { maxMessages: 3 } }).catch((x: unknown) => x);
    expect((e as ProtoError).budget).toBe(true);
  });

  it('a raw_data length beyond the file is malformed, without allocating it', async () => {
    const tensor = Buffer.concat([Buffer.from([0x4a]), varint(2 ** 45)]);
    const bytes = Buffer.concat([Buffer.from([0x08, 0x09]), lenField(7, lenField(5, tensor))]);
    expect(summarise(await run(bytes))).toEqual([`malformed@${M}`]);
  });

  it('reads are bounded by the file, whatever the lengths inside claim', async () => {
    // A hostile file whose length prefixes claim up to 2^50 bytes: no read asks for more than the file holds.
    const claims = fc.array(fc.tuple(fc.constantFrom(1, 5, 7, 8, 9, 13, 25), fc.nat({ max: 2 ** 50 })), { minLength: 1, maxLength: 20 });
    await fc.assert(
      fc.asyncProperty(claims, fc.uint8Array({ maxLength: 200 }), async (fields, tail) => {
        const b = Buffer.concat([...fields.map(([id, n]) => Buffer.concat([varint(id * 8 + 2), varint(n)])), Buffer.from(tail)]);
        const ra = bufferAccess(b);
        let largest = 0;
        let total = 0;
        const watched: RandomAccess = { size: ra.size, readAt: async (buf, o, l, p) => ((largest = Math.max(largest, l)), (total += l), ra.readAt(buf, o, l, p)) };
        await readOnnx(watched).catch((e: unknown) => expect(e).toBeInstanceOf(ProtoError));
        expect(largest).toBeLessThanOrEqual(b.length);
        expect(total).toBeLessThanOrEqual(64 * b.length + 64);
      }),
      { numRuns: 1000 },
    );
  });

  it('arbitrary and mutated bytes only ever give a result or a ProtoError', async () => {
    await assertReadsOrRefuses(good, (file) => readOnnx(file));
  });
});
