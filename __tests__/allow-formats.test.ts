import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RULES } from '../src/checks/registry.js';
import { modelFileSafety } from '../src/checks/model-file-safety.js';
import { MODEL_FORMATS, formatByName, formatOf, formatPolicyProblem } from '../src/checks/model-file/formats.js';
import { loadPolicy } from '../src/policies/load.js';
import { loosening, tighter } from '../src/policies/tighten.js';
import { configError, memoryProvider } from './helpers/policy.js';
import { runRuleOn, runRuleOnDir, makeRepo, summarise } from './helpers/repo.js';
import { callPickle, makeZip, npy, torchZip } from './pickle-fixtures.js';
import { tar } from './tar-fixtures.js';
import { onnxModel, savedModel, ARITHMETIC } from './proto-fixtures.js';

const now = new Date('2026-11-28T12:00:00Z');
/** A well-formed safetensors file: one F32 tensor of one element. */
const SAFETENSORS = (() => {
  const header = Buffer.from('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header, Buffer.alloc(4)]);
})();
/** A safetensors header length whose low byte reads as PROTO 2: must still be safetensors. */
const SAFETENSORS_PROTO_LOOKALIKE = Buffer.concat([Buffer.from([0x80, 0x02, 0, 0, 0, 0, 0, 0]), Buffer.from(`{${' '.repeat(638)}}`)]);
const GGUF = Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(16)]);
const HDF5 = Buffer.concat([Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)]);
const TFLITE = Buffer.concat([Buffer.from([0x18, 0, 0, 0]), Buffer.from('TFL3'), Buffer.alloc(16)]);
const PICKLE = callPickle('collections', 'OrderedDict');

describe('format names', () => {
  const cases: Array<[string, Buffer, string | undefined]> = [
    ['m/model.safetensors', SAFETENSORS, 'safetensors'],
    ['m/weird.bin', SAFETENSORS_PROTO_LOOKALIKE, 'safetensors'],
    ['m/model.gguf', GGUF, 'gguf'],
    ['m/model.bin', GGUF, 'gguf'],
    ['m/model.onnx', onnxModel(), 'onnx'],
    ['m/sm/saved_model.pb', savedModel(ARITHMETIC), 'savedmodel'],
    ['m/sm/keras_metadata.pb', Buffer.from([0x0a, 0x00]), 'savedmodel'],
    ['m/model.tflite', TFLITE, 'tflite'],
    ['m/model.h5', HDF5, 'keras-h5'],
    ['m/model.keras', makeZip([{ name: 'config.json', data: Buffer.from('{}') }]), 'keras'],
    ['m/x.npy', npy("'<f4'", '(1,)', Buffer.alloc(4)), 'numpy'],
    ['m/x.npz', makeZip([{ name: 'x.npy', data: npy("'<f4'", '(1,)', Buffer.alloc(4)) }]), 'numpy'],
    ['m/pytorch_model.bin', torchZip(), 'pytorch'],
    ['m/model.pt', PICKLE, 'pytorch'],
    ['m/model.pkl', PICKLE, 'pickle'],
    ['m/blob', PICKLE, 'pickle'],
    ['m/clf.joblib', PICKLE, 'joblib'],
    ['m/model.safetensors', PICKLE, 'pickle'],
    ['m/bundle.tar', tar([{ name: 'a', data: Buffer.from('x') }]), 'tar'],
    ['m/bundle.zip', makeZip([{ name: 'a', data: Buffer.from('x') }]), 'zip'],
    ['m/data.gz', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), 'compressed'],
    ['m/README.md', Buffer.from('# model\n'), undefined],
    ['m/config.json', Buffer.from('{"a": 1}'), undefined],
    ['m/empty.pt', Buffer.alloc(0), undefined],
  ];
  it.each(cases)('%s', (path, head, want) => {
    expect(formatOf(path, head.subarray(0, 512), head.length)).toBe(want);
  });

  it('every format has a name-only fallback or a signature, and the list is what the schema offers', () => {
    const schema = modelFileSafety.paramsSchema as { properties: Record<string, { additionalProperties?: { items?: { enum?: string[] } } }> };
    expect(schema.properties['allow-formats']!.additionalProperties!.items!.enum).toEqual([...MODEL_FORMATS]);
    expect(schema.properties['deny-formats']!.additionalProperties!.items!.enum).toEqual([...MODEL_FORMATS]);
    expect(formatByName('models/x.pt')).toBe('pytorch');
    expect(formatByName('models/x.safetensors')).toBe('safetensors');
    expect(formatByName('models/notes.txt')).toBeUndefined();
  });

  it('never throws on arbitrary or mutated heads and sizes, and only names listed formats', () => {
    const heads = fc.oneof(
      fc.uint8Array({ maxLength: 600 }).map((u) => Buffer.from(u)),
      fc.tuple(fc.constantFrom(...cases.map(([, b]) => b)), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, at, v]) => {
        const c = Buffer.from(b.subarray(0, 512));
        if (c.length) c[at % c.length] = v;
        return c;
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...cases.map(([p]) => p), 'x/noext'), heads, fc.nat({ max: 2 ** 40 }), (path, head, extra) => {
        const f = formatOf(path, head, head.length + extra);
        return f === undefined || (MODEL_FORMATS as readonly string[]).includes(f);
      }),
      { numRuns: 3000 },
    );
  });

  it('deny wins; every matching allow glob applies', () => {
    expect(formatPolicyProblem('models/a.pt', 'pytorch', { 'models/**': ['pytorch'] }, { '**': ['pytorch'] })).toMatch(/deny-formats forbids under "\*\*"/);
    expect(formatPolicyProblem('models/a/b.onnx', 'onnx', { 'models/**': ['onnx', 'gguf'], 'models/a/**': ['gguf'] }, {})).toMatch(/allows only gguf under "models\/a\/\*\*"/);
    expect(formatPolicyProblem('other/b.onnx', 'onnx', { 'models/**': ['gguf'] }, {})).toBeUndefined();
  });
});

describe('allow-formats and deny-formats', () => {
  const repo = {
    'models/llm.safetensors': SAFETENSORS,
    'models/llm.gguf': GGUF,
    'models/net.onnx': onnxModel(),
    'models/README.md': '# models\n',
    'models/old.pt': torchZip(),
    'models/clf.pkl': PICKLE,
    'notebooks/scratch.pkl': PICKLE,
  };
  const ONLY_SAFE = { 'allow-formats': { 'models/**': ['safetensors', 'onnx', 'gguf'] } };

  it('allow only safetensors, ONNX and GGUF in models/**', async () => {
    const found = await runRuleOn(modelFileSafety, repo, { params: ONLY_SAFE });
    expect(summarise(found)).toEqual(['format-not-allowed@models/clf.pkl', 'format-not-allowed@models/old.pt']);
    const pt = found.find((f) => f.path === 'models/old.pt')!;
    expect(pt.message).toBe('models/old.pt is a PyTorch checkpoint: a pickle or zip named .pt, .pth, .ckpt or .bin, but allow-formats allows only safetensors, onnx, gguf under "models/**". Convert the weights to an allowed format (for PyTorch: safetensors.torch.save_file; for other frameworks: export to ONNX or safetensors), or move the file to a path whose policy allows it');
    expect(pt.maxLevel).toBeUndefined();
  });

  it('no new pickle-family files anywhere, in changed mode', async () => {
    const dir = await makeRepo(repo);
    const params = { 'deny-formats': { '**': ['pickle', 'pytorch', 'joblib'] }, 'deny-new-pickle': false };
    const found = await runRuleOnDir(modelFileSafety, dir, { params, changed: { added: ['notebooks/scratch.pkl', 'models/llm.gguf'] } });
    expect(summarise(found)).toEqual(['format-not-allowed@notebooks/scratch.pkl']);
    expect(found[0]!.message).toMatch(/is a raw pickle .*, a format deny-formats forbids under "\*\*"/);
  });

  it('a Git LFS pointer is judged by its name, and still reported as not scanned', async () => {
    const lfs = 'version https://git-lfs.github.com/spec/v1\noid sha256:' + 'a'.repeat(64) + '\nsize 123456\n';
    const found = await runRuleOn(modelFileSafety, { 'models/big.ckpt': lfs }, { params: ONLY_SAFE });
    expect(summarise(found)).toEqual(['format-not-allowed@models/big.ckpt', 'lfs-pointer-not-scanned@models/big.ckpt']);
    expect(found.find((f) => f.code === 'format-not-allowed')!.message).toMatch(/judged by its name/);
  });

  it('a pickle named .safetensors is judged by what it is', async () => {
    const found = await runRuleOn(modelFileSafety, { 'models/w.safetensors': PICKLE }, { params: ONLY_SAFE });
    expect(summarise(found)).toContain('format-not-allowed@models/w.safetensors');
  });
});

const ROOT = '.github/mlgate.yml';
const load = (local: Record<string, string>) => loadPolicy({ provider: memoryProvider(local), rules: RULES, now });

describe('the policy side', () => {
  it('a format name that does not exist is a located error with a suggestion', async () => {
    const errors = await configError(() => load({ [ROOT]: 'version: 1\nrules:\n  model-file-safety:\n    allow-formats:\n      "models/**": [safetensor, onnx]\n' }));
    expect(errors[0]).toMatch(/^\.github\/mlgate\.yml:5:\d+: rules\.model-file-safety\.allow-formats\.models\/\*\*\[0\]: must be one of: .*\(did you mean "safetensors"\?\)/);
  });

  it('a bad glob key and a misspelt parameter are located errors', async () => {
    const bad = await configError(() => load({ [ROOT]: 'version: 1\nrules:\n  model-file-safety:\n    deny-formats:\n      "/models/**": [pickle]\n' }));
    expect(bad.join('\n')).toMatch(/:5:\d+: rules\.model-file-safety\.deny-formats\.\/models\/\*\*: is not a valid glob: it must be relative to the repository root/);
    const typo = await configError(() => load({ [ROOT]: 'version: 1\nrules:\n  model-file-safety:\n    allow-format:\n      "**": [onnx]\n' }));
    expect(typo[0]).toMatch(/:4:5: rules\.model-file-safety\.allow-format: unknown key \(did you mean "allow-formats"\?\)/);
  });

  const LOCK = 'version: 1\nrules:\n  model-file-safety:\n    locked: true\n    allow-formats:\n      "models/**": [safetensors, onnx, gguf]\n    deny-formats:\n      "**": [pickle]\n';
  const withLock = (mine: string) => ({ 'ci/org.yml': LOCK, [ROOT]: `version: 1\nextends: [./ci/org.yml]\nrules:\n  model-file-safety:\n${mine}` });

  const loosenings: Array<[string, string, RegExp]> = [
    ['adding a format to an allow-list', '    allow-formats:\n      "models/**": [safetensors, onnx, gguf, pytorch]\n', /allow-formats adds "pytorch" under "models\/\*\*"/],
    ['dropping an allowed path', '    allow-formats:\n      "weights/**": [safetensors]\n', /allow-formats drops "models\/\*\*"/],
    ['dropping a denied format', '    deny-formats:\n      "**": []\n', /deny-formats drops "pickle" under "\*\*"/],
    ['dropping a denied path', '    deny-formats:\n      "data/**": [pickle]\n', /deny-formats drops "\*\*"/],
  ];
  it.each(loosenings)('a lock refuses %s', async (_n, mine, says) => {
    const errors = await configError(() => load(withLock(mine)));
    expect(errors.join('\n')).toMatch(says);
    expect(errors.join('\n')).toMatch(/ci\/org\.yml locks rule model-file-safety/);
  });

  it('a lock accepts narrowing allow-lists, growing deny-lists and new paths', async () => {
    const mine = '    allow-formats:\n      "models/**": [safetensors]\n      "models/onnx/**": [onnx]\n    deny-formats:\n      "**": [pickle, joblib]\n      "data/**": [zip]\n';
    const policy = await load(withLock(mine));
    expect(policy.rules.get('model-file-safety')!.params).toMatchObject({
      'allow-formats': { 'models/**': ['safetensors'], 'models/onnx/**': ['onnx'] },
      'deny-formats': { '**': ['pickle', 'joblib'], 'data/**': ['zip'] },
    });
  });

  it('joining two locks keeps the stricter of each map', () => {
    expect(tighter('allow-map', { a: ['x', 'y'], b: ['z'] }, { a: ['y', 'w'], c: ['v'] })).toEqual({ a: ['y'], b: ['z'], c: ['v'] });
    expect(tighter('deny-map', { a: ['x'] }, { a: ['y'], b: ['z'] })).toEqual({ a: ['x', 'y'], b: ['z'] });
    expect(loosening('allow-map', {}, { a: ['x'] })).toBeUndefined();
    expect(loosening('deny-map', { a: ['x'] }, { a: ['x', 'y'], b: [] })).toBeUndefined();
  });
});
