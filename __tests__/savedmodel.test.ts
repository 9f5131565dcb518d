import { describe, expect, it } from 'vitest';
import { modelFileSafety } from '../src/checks/model-file-safety.js';
import { readKerasMetadata, readSavedModel } from '../src/formats/savedmodel.js';
import { ProtoError } from '../src/formats/protobuf/stream.js';
import { bufferAccess } from '../src/formats/pickle/source.js';
import { compileAllowList } from '../src/formats/pickle/classify.js';
import { savedModelAccessIssues } from '../src/checks/model-file/savedmodel.js';
import { runRuleOn, summarise } from './helpers/repo.js';
import { ARITHMETIC, SAVE_FUNCTION, kerasMetadata, savedModel, varint , assertReadsOrRefuses } from './proto-fixtures.js';

const SM = 'models/sm/saved_model.pb';
const run = async (bytes: Buffer, params: Record<string, unknown> = {}, path = SM) => runRuleOn(modelFileSafety, { [path]: bytes }, { params });

describe('SavedModel graphs', () => {
  it('decodes graph and function nodes with their first input and Const strings', async () => {
    const bytes = savedModel(ARITHMETIC, { __inference__traced_save_42: SAVE_FUNCTION });
    const { graphs, nodeCount } = await readSavedModel(bufferAccess(bytes));
    expect(nodeCount).toBe(ARITHMETIC.length + SAVE_FUNCTION.length);
    expect(graphs.map((g) => g.where)).toEqual(['meta graph 0 (tags serve)', 'meta graph 0 (tags serve), function __inference__traced_save_42']);
    expect(graphs[0]!.nodes.map((n) => n.op)).toEqual(ARITHMETIC.map((n) => n.op));
    expect(graphs[1]!.nodes.find((n) => n.name === 'Const')?.constString).toBe('_temp/part');
    expect(graphs[1]!.nodes.find((n) => n.name === 'RestoreV2')?.inputs).toEqual(['file_prefix:0', 'tensor_names', 'shape_and_slices']);
  });

  it('a SavedModel with only arithmetic ops and the standard saver functions passes', async () => {
    expect(summarise(await run(savedModel(ARITHMETIC, { __inference__traced_save_42: SAVE_FUNCTION, __inference__traced_restore_43: SAVE_FUNCTION })))).toEqual([]);
  });

  const attacks: Array<[string, Buffer, RegExp]> = [
    ['ReadFile in the graph', savedModel([...ARITHMETIC, { name: 'leak', op: 'ReadFile', input: ['path'] }]), /op ReadFile \("leak", first at byte \d+\), which reads files/],
    ['WriteFile in a library function', savedModel(ARITHMETIC, { __inference_call_7: [{ name: 'drop', op: 'WriteFile' }] }), /function __inference_call_7 has a node of op WriteFile/],
    ['MatchingFiles', savedModel([{ name: 'ls', op: 'MatchingFiles' }]), /op MatchingFiles/],
    ['PyFunc', savedModel([{ name: 'py', op: 'PyFunc' }]), /calls back into Python/],
    ['EagerPyFunc in a function', savedModel([], { f: [{ name: 'py', op: 'EagerPyFunc' }] }), /EagerPyFunc/],
    ['PyFuncStateless', savedModel([{ name: 'py', op: 'PyFuncStateless' }]), /PyFuncStateless/],
    ['SaveV2 to an absolute path', savedModel([{ name: 'p', op: 'Const', str: '/home/runner/.ssh/authorized_keys' }, { name: 'SaveV2', op: 'SaveV2', input: ['p', 'names', 'slices', 'w'] }]), /SaveV2 node "SaveV2".*"\/home\/runner\/\.ssh\/authorized_keys", which is absolute/],
    ['RestoreV2 climbing out', savedModel([], { f: [{ name: 'p', op: 'Const', str: 'variables/../../../../etc/shadow' }, { name: 'r', op: 'RestoreV2', input: ['p:0'] }] }), /climbs out with '\.\.'/],
    ['a vocabulary table from a URL', savedModel([{ name: 'p', op: 'Const', str: 'gs://bucket/vocab.txt' }, { name: 't', op: 'InitializeTableFromTextFileV2', input: ['table', 'p'] }]), /is a URL/],
  ];
  it.each(attacks)('%s is an error', async (_name, bytes, says) => {
    const found = await run(bytes);
    expect(summarise(found)).toEqual([`savedmodel-unsafe-op@${SM}`]);
    expect(found[0]!.message).toMatch(says);
    expect(found[0]!.maxLevel).toBeUndefined();
  });

  it('groups nodes of one op in one finding', async () => {
    const nodes = Array.from({ length: 9 }, (_, i) => ({ name: `r${i}`, op: 'ReadFile' }));
    const found = await run(savedModel(nodes));
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toMatch(/has 9 nodes of op ReadFile \("r0", "r1", "r2", "r3", "r4" and 4 more/);
  });

  it('the TF1 saver with its relative "model" filename Const passes', async () => {
    const tf1 = savedModel([{ name: 'save/Const', op: 'Const', str: 'model' }, { name: 'save/SaveV2', op: 'SaveV2', input: ['save/Const'] }, { name: 'save/RestoreV2', op: 'RestoreV2', input: ['save/Const'] }]);
    expect(await run(tf1)).toEqual([]);
  });

  it('allow-tf-ops accepts a reviewed op and nothing else', async () => {
    const bytes = savedModel([{ name: 'r', op: 'ReadFile' }, { name: 'w', op: 'WriteFile' }]);
    const found = await run(bytes, { 'allow-tf-ops': ['ReadFile'] });
    expect(found.map((f) => f.message.match(/op (\w+)/)?.[1])).toEqual(['WriteFile']);
  });

  it('the same ops in a file not named saved_model.pb are not read as a SavedModel', async () => {
    expect(await run(savedModel([{ name: 'r', op: 'ReadFile' }]), {}, 'models/other.pb')).toEqual([]);
  });

  it('Keras metadata with a Lambda layer is reported as for Keras, once per layer', async () => {
    const lambda = { class_name: 'Lambda', config: { name: 'evil', function: ['4wEAAAAAAAAA', null, null], function_type: 'lambda' } };
    const meta = kerasMetadata([
      { path: 'root', metadata: { class_name: 'Functional', config: { layers: [lambda, { class_name: 'Dense', config: { name: 'd' } }] } } },
      { path: 'root.layer-0', metadata: lambda },
      { path: 'root.layer-1', metadata: { class_name: 'Dense', config: { name: 'd' } } },
    ]);
    const found = await run(meta, {}, 'models/sm/keras_metadata.pb');
    expect(summarise(found)).toEqual(['lambda-layer@models/sm/keras_metadata.pb']);
    expect(found[0]!.message).toMatch(/^object root has a Keras Lambda layer "evil"/);
  });

  it('Keras metadata of standard layers passes; objects are all read', async () => {
    const meta = kerasMetadata([{ path: 'root', metadata: { class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { name: 'd' } }] } } }, { path: 'root.layer-0', metadata: { class_name: 'Dense', config: {} } }]);
    expect(await readKerasMetadata(bufferAccess(meta))).toHaveLength(2);
    expect(await run(meta, {}, 'models/sm/keras_metadata.pb')).toEqual([]);
  });
});

/** Offsets at which a prefix of the message is itself a complete message: the ends of top-level fields. */
function topLevelEnds(b: Buffer): Set<number> {
  const ends = new Set<number>([0]);
  let pos = 0;
  while (pos < b.length) {
    let key = 0;
    let mul = 1;
    while (b[pos]! & 0x80) {
      key += (b[pos++]! & 0x7f) * mul;
      mul *= 128;
    }
    key += b[pos++]! * mul;
    if ((key & 7) === 0) while (b[pos++]! & 0x80);
    else {
      let len = 0;
      mul = 1;
      while (b[pos]! & 0x80) {
        len += (b[pos++]! & 0x7f) * mul;
        mul *= 128;
      }
      len += b[pos++]! * mul;
      pos += len;
    }
    ends.add(pos);
  }
  return ends;
}

describe('hostile and broken saved_model.pb', () => {
  const good = savedModel(ARITHMETIC, { f: SAVE_FUNCTION });

  it('every truncation is a malformed finding: inside a field, or a file left without its meta graph', async () => {
    const ends = topLevelEnds(good);
    // This SavedModel has two top-level fields: the schema version, then its one meta graph.
    expect([...ends].sort((a, b) => a - b)).toEqual([0, 2, good.length]);
    const opts = { allow: compileAllowList([]), allowTfOps: new Set<string>(), allowOnnxDomains: new Set<string>(), maxBytes: 1 << 20 };
    for (let n = 1; n < good.length; n++) {
      const codes = (await savedModelAccessIssues(bufferAccess(good.subarray(0, n)), opts)).map((i) => i.code);
      expect(codes, `truncated to ${n} bytes`).toEqual(['malformed']);
    }
    // And through the rule, at a few cuts.
    for (const n of [1, 2, 7, Math.floor(good.length / 2), good.length - 1]) expect(summarise(await run(good.subarray(0, n)))).toEqual([`malformed@${SM}`]);
  }, 60_000);

  it('a length prefix claiming gigabytes is refused before anything is allocated', async () => {
    // meta_graphs (field 2) claiming 2^40 bytes, in a 16-byte file.
    const bytes = Buffer.concat([Buffer.from([0x12]), varint(2 ** 40), Buffer.alloc(8)]);
    const found = await run(bytes);
    expect(summarise(found)).toEqual([`malformed@${SM}`]);
    expect(found[0]!.message).toMatch(/runs past the end of its message/);
  });

  it('proto2 groups, which only recursion could skip, are refused', async () => {
    // 100,000 nested start-group tags (field 9, wire type 3) in an unknown field.
    const e = await readSavedModel(bufferAccess(Buffer.alloc(100_000, 0x4b))).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProtoError);
    expect((e as Error).message).toMatch(/wire type 3 at byte 0/);
  });

  it('a graph over the message budget is budget-exceeded', async () => {
    const e = await readSavedModel(bufferAccess(good), { limits: { maxMessages: 5 } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProtoError);
    expect((e as ProtoError).budget).toBe(true);
  });

  it('a string over the cap is budget-exceeded', async () => {
    const e = await readSavedModel(bufferAccess(good), { limits: { maxString: 4 } }).catch((x: unknown) => x);
    expect((e as ProtoError).budget).toBe(true);
  });

  it('arbitrary and mutated bytes only ever give a result or a ProtoError', async () => {
    await assertReadsOrRefuses(good, (file) => readSavedModel(file));
  });
});
