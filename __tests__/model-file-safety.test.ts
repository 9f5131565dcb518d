import { describe, expect, it } from 'vitest';
import { modelFileSafety } from '../src/checks/model-file-safety.js';
import { makeRepo, runRuleOn, runRuleOnDir, summarise, type FileTree } from './helpers/repo.js';
import { callPickle, makeZip, npy, p, torchDataPkl, torchZip } from './pickle-fixtures.js';

const EVIL = callPickle('os', 'system');
const EVIL0 = "cos\nsystem\n(S'echo pwned'\ntR.";
const UNKNOWN = callPickle('sklearn.linear_model', 'LogisticRegression');
const LFS = 'version https://git-lfs.github.com/spec/v1\noid sha256:' + 'a'.repeat(64) + '\nsize 123456\n';

describe('model-file-safety rule', () => {
  const cases: Array<[string, FileTree, Record<string, unknown>, string[]]> = [
    ['benign checkpoints of every kind', { 'models/a.pt': torchZip(), 'models/b.pkl': torchDataPkl(), 'models/c.npy': npy("'<f4'", '(1,)', Buffer.alloc(4)), 'models/d.bin': torchZip(), 'README.md': 'cos\nsystem\n' }, {}, []],
    ['malicious pickle by extension', { 'models/evil.pkl': EVIL }, {}, ['dangerous-global@models/evil.pkl']],
    ['malicious torch zip named .bin', { 'models/pytorch_model.bin': torchZip(EVIL) }, {}, ['dangerous-global@models/pytorch_model.bin']],
    ['found by content without an extension', { 'weights/blob': EVIL }, {}, ['dangerous-global@weights/blob']],
    ['protocol 0 found by content', { 'weights/blob0': EVIL0 }, {}, ['dangerous-global@weights/blob0']],
    ['zip found by content under another name', { 'weights/ckpt.tar': torchZip(EVIL) }, {}, ['dangerous-global@weights/ckpt.tar']],
    ['content sniffing can be turned off', { 'weights/blob': EVIL }, { 'sniff-other-files': false }, []],
    ['a pickle under a text or source name is found', { 'notes.txt': EVIL0, 'train.py': EVIL0 }, {}, ['dangerous-global@notes.txt', 'dangerous-global@train.py']],
    ['user globs add files', { 'weights/blob': EVIL }, { files: ['weights/*'], 'sniff-other-files': false }, ['dangerous-global@weights/blob']],
    ['a .bin that is not a pickle (GGUF) is fine', { 'models/m.bin': Buffer.from('GGUF\x03\x00\x00\x00' + '\x00'.repeat(64), 'latin1') }, {}, []],
    ['a .pt that is not a pickle is malformed', { 'models/m.pt': Buffer.from('{"not": "a pickle"}') }, {}, ['malformed@models/m.pt']],
    ['unknown globals', { 'models/clf.joblib': UNKNOWN }, {}, ['unknown-global@models/clf.joblib']],
    ['allow-globals', { 'models/clf.joblib': UNKNOWN }, { 'allow-globals': ['sklearn.*'] }, []],
    ['a Git LFS pointer is reported as not scanned', { 'models/big.pt': LFS, 'notes/big.bin.txt': LFS }, {}, ['lfs-pointer-not-scanned@models/big.pt']],
    ['Keras Lambda layer', { 'models/m.keras': makeZip([{ name: 'metadata.json', data: Buffer.from('{}') }, { name: 'config.json', data: Buffer.from('{"class_name":"Lambda","config":{"name":"l"}}') }]) }, {}, ['lambda-layer@models/m.keras']],
    ['npz with an object array payload', { 'data/x.npz': makeZip([{ name: 'x.npy', data: npy("'|O'", '(1,)', EVIL) }]) }, {}, ['dangerous-global@data/x.npz']],
  ];
  it.each(cases)('%s', async (_name, files, params, want) => {
    expect(summarise(await runRuleOn(modelFileSafety, files, { params }))).toEqual(want);
  });

  it('caps unknown globals at warning unless strict', async () => {
    const files = { 'models/clf.pkl': UNKNOWN };
    const [lax] = await runRuleOn(modelFileSafety, files);
    expect(lax?.maxLevel).toBe('warning');
    expect(lax?.message).toMatch(/^imports sklearn\.linear_model\.LogisticRegression at byte \d+ \(GLOBAL\)/);
    const [strict] = await runRuleOn(modelFileSafety, files, { params: { strict: true } });
    expect(strict?.maxLevel).toBeUndefined();
  });

  it('dangerous globals are never capped', async () => {
    const [f] = await runRuleOn(modelFileSafety, { 'm.pkl': EVIL });
    expect(f?.maxLevel).toBeUndefined();
    expect(f?.line).toBeUndefined();
  });

  it('changed mode scans only changed files and flags new pickles', async () => {
    const dir = await makeRepo({ 'models/old.pkl': EVIL, 'models/new.pkl': torchDataPkl(), 'models/new.safetensors': 'x', 'models/mod.pt': torchZip() });
    const changed = { added: ['models/new.pkl', 'models/new.safetensors'], modified: ['models/mod.pt'] };
    const found = await runRuleOnDir(modelFileSafety, dir, { changed });
    expect(summarise(found)).toEqual(['new-pickle@models/new.pkl']);
    expect(found[0]!.maxLevel).toBe('warning');
    expect(found[0]!.message).toMatch(/safetensors/);
    expect(summarise(await runRuleOnDir(modelFileSafety, dir, { changed, params: { 'deny-new-pickle': false } }))).toEqual([]);
  });

  it('reports the LFS shards of one model once, listing them; each model directory on its own', async () => {
    const shards = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`models/llm/model-0000${i + 1}-of-00007.bin`, LFS]));
    const found = await runRuleOn(modelFileSafety, { ...shards, 'models/other/model.pt': LFS, 'top.pt': LFS, 'big.bin': LFS });
    expect(summarise(found)).toEqual(['lfs-pointer-not-scanned@big.bin', 'lfs-pointer-not-scanned@models/llm/model-00001-of-00007.bin', 'lfs-pointer-not-scanned@models/other/model.pt']);
    const llm = found.find((f) => f.path?.startsWith('models/llm/'))!;
    expect(llm.message).toContain('7 files of model models/llm are stored in Git LFS');
    expect(llm.message).toContain('models/llm/model-00005-of-00007.bin and 2 more');
    expect(llm.message).toContain(`their ${7 * 123456} bytes`);
    expect(found.find((f) => f.path === 'models/other/model.pt')!.message).toMatch(/^models\/other\/model.pt is stored in Git LFS .* 123456-byte content/);
    expect(found.find((f) => f.path === 'big.bin')!.message).toContain('2 files of the model at the repository root');
  });

  it('a file over the read budget fails closed', async () => {
    const big = p().proto(2).mark();
    for (let i = 0; i < 20_000; i++) big.int(i);
    const found = await runRuleOn(modelFileSafety, { 'm.pkl': big.list().stop().build_() }, { budget: { maxFileBytes: 4096 } });
    expect(summarise(found)).toEqual(['budget-exceeded@m.pkl']);
  });

  it('runs its own examples as documented', async () => {
    for (const ex of [modelFileSafety.examples.pass, modelFileSafety.examples.fail]) {
      const found = await runRuleOn(modelFileSafety, ex.files, { params: ex.params ?? {} });
      expect(found.map((f) => f.code).sort()).toEqual([...ex.expect].sort());
    }
  });

  it('has a strict parameter schema', () => {
    const schema = modelFileSafety.paramsSchema as { additionalProperties: boolean; properties: Record<string, { description?: string }> };
    expect(schema.additionalProperties).toBe(false);
    for (const [k, v] of Object.entries(schema.properties)) expect(v.description, k).toBeTruthy();
    expect(Object.keys(modelFileSafety.tighten).sort()).toEqual(Object.keys(schema.properties).sort());
  });
});
