// Issue 19, containers and coverage: each bypass passed the gate under mlgate:recommended before; each
// now fails it with an unwaived error, and a near miss of the same shape still passes.
import { runGate } from './helpers/gate.js';
import { execFileSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { SNIFF_LIMIT, modelFileSafety } from '../src/checks/model-file-safety.js';
import type { Finding } from '../src/core/types.js';
import { compileAllowList } from '../src/formats/pickle/classify.js';
import { scanModelBytes } from '../src/formats/pickle/model-file.js';
import { scanRepository } from '../src/inventory/scan.js';
import { gitIn, makeRepo, runRuleOn, summarise, type FileTree } from './helpers/repo.js';
import { pythonBatch } from './helpers/python-stdlib.js';
import { callPickle, p, torchDataPkl, torchZip } from './pickle-fixtures.js';
import { tar, type TarEntry } from './tar-fixtures.js';

const EVIL = callPickle('os', 'system', 'echo pwned');
const EVIL0 = Buffer.from("cos\nsystem\n(S'echo pwned'\ntR.", 'latin1');
const BENIGN = torchDataPkl();

async function gate(files: FileTree, opts: { git?: boolean; root?: string } = {}): Promise<{ conclusion: string; errors: string[]; all: Finding[] }> {
  const report = await runGate(files, { ...opts, policy: 'version: 1\nextends: [mlgate:recommended]\n', now: new Date('2026-11-28T12:00:00Z') });
  const errors = report.findings.filter((f) => f.level === 'error' && !f.waived).map((f) => `${f.code}@${f.path ?? ''}`);
  return { conclusion: report.conclusion, errors: [...new Set(errors)].sort(), all: report.findings };
}

const scan = async (data: Buffer, mode: 'strict' | 'sniff' = 'sniff') => (await scanModelBytes(data, mode, { allow: compileAllowList([]), maxBytes: 1 << 30 })).issues;

/** A protocol 0 pickle whose first opcode is a STRING longer than any fixed probe. */
const longStringFirst = (n: number): Buffer => Buffer.concat([Buffer.from(`S'${'a'.repeat(n)}'\n0`, 'latin1'), EVIL0]);

/** What torch.save wrote before 1.6 without the zip format: five pickles, then each storage's element count and bytes. */
function legacyRaw(model: Buffer, storageBytes: Buffer): Buffer {
  const magic = Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
  const protocol = p().proto(2).int(1001).stop().build_();
  const sysInfo = p().proto(2).emptyDict().str('little_endian').bool(true).setitem().stop().build_();
  const keys = p().proto(2).emptyList().str('0').append().stop().build_();
  const count = Buffer.alloc(8);
  count.writeBigUInt64LE(BigInt(storageBytes.length / 4));
  return Buffer.concat([magic, protocol, sysInfo, model, keys, count, storageBytes]);
}

/** Raw float bytes that read as pickle opcodes: a loader never parses them, so neither may the scanner complain. */
const OPCODE_LOOKING_FLOATS = Buffer.from('('.repeat(64), 'latin1');

/** A legacy tar checkpoint (torch.save with the tar format): storages, tensors and pickle members. */
function legacyTar(pickle: Buffer, opts: { afterStorage?: Buffer } = {}): Buffer {
  const floats = Buffer.from(new Float32Array([1.5, -2, 3.25, 0.125]).buffer);
  const count = Buffer.alloc(8);
  count.writeBigUInt64LE(4n);
  const storageArgs = p().proto(2).str('0').str('cpu').global('torch', 'FloatStorage').tuple3().stop().build_();
  const views = opts.afterStorage ?? p().proto(2).emptyList().stop().build_();
  const storages = Buffer.concat([p().proto(2).int(1).stop().build_(), storageArgs, count, floats, views]);
  const tensors = Buffer.concat([p().proto(2).int(0).stop().build_(), Buffer.from([1, 2, 3, 4, 0x80, 0x02])]);
  const entries: TarEntry[] = [
    { name: 'sys_info', data: p().proto(2).emptyDict().stop().build_() },
    { name: 'storages', data: storages },
    { name: 'tensors', data: tensors },
    { name: 'pickle', data: pickle },
  ];
  return tar(entries);
}

describe('item 1: sniffing reads as far as the pickle goes', () => {
  it.each(['models/pytorch_model.bin', 'models/model.sav', 'weights.data'])('a protocol 0 pickle opening with a 10 KiB STRING, as %s, fails the gate', async (name) => {
    const { conclusion, errors } = await gate({ [name]: longStringFirst(10_000) });
    expect(errors).toEqual([`model-file-safety/dangerous-global@${name}`]);
    expect(conclusion).toBe('failure');
  });

  it('a 1 MiB STRING does not hide it either', async () => {
    expect((await scan(longStringFirst(1 << 20))).map((i) => i.code)).toEqual(['dangerous-global']);
  });

  it('near miss: data that opens with a long STRING and then is not a pickle passes', async () => {
    const data = Buffer.concat([Buffer.from(`S'${'a'.repeat(10_000)}'\n`, 'latin1'), Buffer.alloc(4096)]);
    const { conclusion, errors } = await gate({ 'weights.data': data, 'models/m.sav': data });
    expect(errors).toEqual([]);
    expect(conclusion).toBe('success');
  });
});

describe('item 2: compressed pickles and legacy archives, whatever the extension', () => {
  const [lzmaAlone, xz, bz2] = pythonBatch<string[]>(
    `import lzma, bz2, base64
for s in samples:
    out.append([base64.b64encode(lzma.compress(s, format=lzma.FORMAT_ALONE)).decode(), base64.b64encode(lzma.compress(s)).decode(), base64.b64encode(bz2.compress(s)).decode()])
`,
    [EVIL],
  )[0]!.map((b) => Buffer.from(b, 'base64'));

  it.each([
    ['gzip', 'models/model.sav', gzipSync(EVIL), 'dangerous-global'],
    ['zlib', 'models/clf.model', deflateSync(EVIL), 'dangerous-global'],
    ['gzip', 'models/pytorch_model.bin', gzipSync(EVIL0), 'dangerous-global'],
    ['zlib', 'weights/blob', deflateSync(EVIL, { level: 3 }), 'dangerous-global'],
    ['lzma (joblib compress="lzma")', 'models/model.sav', lzmaAlone!, 'unscannable'],
    ['xz', 'models/pytorch_model.bin', xz!, 'unscannable'],
    ['bz2', 'models/clf.model', bz2!, 'unscannable'],
    ['zstd', 'data/cache.bin', Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(32, 7)]), 'unscannable'],
    ['lz4', 'data/cache', Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18]), Buffer.alloc(32, 7)]), 'unscannable'],
  ])('%s as %s fails the gate', async (_kind, name, data, code) => {
    const { conclusion, errors } = await gate({ [name]: data });
    expect(errors).toContain(`model-file-safety/${code}@${name}`);
    expect(conclusion).toBe('failure');
  });

  it('says which decompressed content holds the import', async () => {
    const [issue] = await scan(gzipSync(EVIL));
    expect(issue?.message).toMatch(/^the gzip-decompressed content: imports os\.system at byte \d+ \(GLOBAL\)/);
  });

  it('a decompression bomb is budget-exceeded', async () => {
    const bomb = gzipSync(Buffer.concat([p().proto(2).mark().build_(), Buffer.alloc(64 << 20, 0x4e)]));
    const r = await scanModelBytes(bomb, 'sniff', { allow: compileAllowList([]), maxBytes: 8 << 20 });
    expect(r.issues.map((i) => i.code)).toContain('budget-exceeded');
  });

  it('a corrupt gzip stream fails closed after scanning what came before', async () => {
    const noise = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251));
    const gz = gzipSync(p().proto(2).global('os', 'system').bytes(noise).tuple1().reduce().stop().build_());
    const cut = gz.subarray(0, Math.floor(gz.length * 0.6));
    expect([...new Set((await scan(cut)).map((i) => i.code))].sort()).toEqual(['dangerous-global', 'malformed']);
  });

  it('a legacy tar checkpoint named pytorch_model.bin with a malicious pickle member fails the gate', async () => {
    const { conclusion, errors, all } = await gate({ 'models/pytorch_model.bin': legacyTar(EVIL) });
    expect(errors).toEqual(['model-file-safety/dangerous-global@models/pytorch_model.bin']);
    expect(all.find((f) => f.code === 'model-file-safety/dangerous-global')?.message).toMatch(/^tar member "pickle": imports os\.system/);
    expect(conclusion).toBe('failure');
  });

  it('the storages member is read as torch reads it: a pickle after the raw storage is scanned', async () => {
    const issues = await scan(legacyTar(BENIGN, { afterStorage: EVIL }), 'strict');
    expect(issues.map((i) => i.code)).toEqual(['dangerous-global']);
    expect(issues[0]!.message).toMatch(/^tar member "storages", the 3rd pickle \(from byte \d+\): imports os\.system/);
  });

  it('a tar whose header opens like a pickle is scanned from byte 0 too (torch falls back to a raw load)', async () => {
    const t = tar([{ name: "cos\nsystem\n(S'id'\ntR.", data: Buffer.from('x') }]);
    expect((await scan(t, 'strict')).map((i) => i.code)).toContain('dangerous-global');
  });

  it('archives nested hundreds deep fail closed instead of exhausting memory', async () => {
    let data = EVIL;
    for (let i = 0; i < 300; i++) data = tar([{ name: `l${i}`, data }]).subarray(0, 512 + Math.ceil(data.length / 512) * 512);
    const issues = await scan(data, 'strict');
    expect(issues.map((i) => i.code)).toContain('budget-exceeded');
    expect(issues.find((i) => i.code === 'budget-exceeded')?.message).toMatch(/nested more than 16 archives/);
  });

  it('near misses pass: a legacy tar of allow-listed globals, a gzip of CSV outside model paths, an xz-compressed CSV', async () => {
    const csv = Buffer.from('id,label\n1,cat\n2,dog\n'.repeat(100));
    const [csvXz] = pythonBatch<string>('import lzma, base64\nfor s in samples:\n    out.append(base64.b64encode(lzma.compress(s)).decode())\n', [csv]).map((b) => Buffer.from(b, 'base64'));
    const { conclusion, errors } = await gate({ 'models/pytorch_model.bin': legacyTar(BENIGN), 'exports/data.csv.gz': gzipSync(csv), 'exports/data.csv.xz': csvXz!, 'exports/blob.z': deflateSync(csv) });
    expect(errors).toEqual([]);
    expect(conclusion).toBe('success');
  });
});

describe('item 2: weak magic in data stays data', () => {
  it('tensor data that happens to open like zlib (78 9c) is not a finding', async () => {
    const noise = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24));
    const members = [0x01, 0x5e, 0x9c, 0xda].map((b, i) => ({ name: `archive/data/${i + 1}`, data: Buffer.concat([Buffer.from([0x78, b]), noise.subarray(i)]) }));
    expect(await scan(torchZip(BENIGN, members), 'strict')).toEqual([]);
  });
});

describe('item 6: what follows a pickle', () => {
  it('a legacy raw checkpoint: five pickles, then storages that look like opcodes, is clean', async () => {
    expect(await scan(legacyRaw(BENIGN, OPCODE_LOOKING_FLOATS), 'strict')).toEqual([]);
  });

  it('a legacy raw checkpoint with a malicious object pickle fails', async () => {
    expect((await scan(legacyRaw(EVIL, OPCODE_LOOKING_FLOATS), 'strict')).map((i) => i.code)).toEqual(['dangerous-global']);
  });

  it('unexplained bytes after a pickle that read as a broken pickle are malformed, naming the offset', async () => {
    const broken = p().proto(2).global('collections', 'OrderedDict').mark().build_();
    const data = Buffer.concat([BENIGN, broken, Buffer.from([0xff])]);
    const { conclusion, errors, all } = await gate({ 'models/model.pkl': data });
    expect(errors).toEqual(['model-file-safety/malformed@models/model.pkl']);
    expect(all.find((f) => f.code === 'model-file-safety/malformed')?.message).toMatch(new RegExp(`^the bytes from byte ${BENIGN.length}, after the pickle before them, read as pickle opcodes but do not parse`));
    expect(conclusion).toBe('failure');
  });

  it('near miss: a trailing newline or zero padding after the pickle is data', async () => {
    const { conclusion, errors } = await gate({ 'models/a.pkl': Buffer.concat([BENIGN, Buffer.from('\n')]), 'models/b.pkl': Buffer.concat([BENIGN, Buffer.alloc(512)]) });
    expect(errors).toEqual([]);
    expect(conclusion).toBe('success');
  });
});

describe('item 9: every file is opened, and a known format must look like itself', () => {
  it.each(['models/model.safetensors', 'models/model.onnx', 'models/model.gguf', 'config.json', 'notes.txt', 'docs/figure.png'])('a pickle named %s fails the gate', async (name) => {
    const { conclusion, errors } = await gate({ [name]: EVIL });
    expect(errors).toContain(`model-file-safety/dangerous-global@${name}`);
    expect(conclusion).toBe('failure');
  });

  it('format confusion is an error of its own', async () => {
    const found = await runRuleOn(modelFileSafety, { 'models/model.safetensors': Buffer.from('not a safetensors file at all'), 'docs/figure.png': Buffer.from('plain text under an image name') });
    expect(summarise(found)).toEqual(['format-mismatch@docs/figure.png', 'format-mismatch@models/model.safetensors']);
    expect(found.every((f) => f.maxLevel === undefined)).toBe(true);
  });

  it('near misses pass: a real safetensors header, a GGUF file, a PNG, JSON and text', async () => {
    const header = Buffer.from('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"format":"pt"}}');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)]);
    const { conclusion, errors } = await gate({
      'models/model.safetensors': Buffer.concat([len, header, Buffer.alloc(8)]),
      'models/model.gguf': Buffer.from('GGUF\x03\x00\x00\x00' + '\x00'.repeat(64), 'latin1'),
      'docs/figure.png': png,
      'config.json': '{"hidden_size": 768}\n',
      'notes.txt': 'config\nvalue\ncos\nsystem\nnothing to see\n',
    });
    expect(errors).toEqual([]);
    expect(conclusion).toBe('success');
  });

  describe('the sniff cap fails closed', () => {
    const saved = SNIFF_LIMIT.files;
    afterEach(() => {
      SNIFF_LIMIT.files = saved;
    });
    it('decoys past the cap make the rule fail instead of hiding the last file', async () => {
      SNIFF_LIMIT.files = 5;
      const files: FileTree = {};
      for (let i = 0; i < 6; i++) files[`blobs/decoy${i}`] = BENIGN;
      files['blobs/zz-evil'] = EVIL;
      const found = await runRuleOn(modelFileSafety, files);
      const cap = found.filter((f) => f.code === 'budget-exceeded');
      expect(cap).toHaveLength(1);
      expect(cap[0]!.maxLevel).toBeUndefined();
      expect(cap[0]!.message).toMatch(/^7 files outside files: start like a pickle/);
    });
  });
});

describe('item 10: Git LFS and submodules', () => {
  const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${'a'.repeat(64)}\nsize 123456\n`;

  it('a pickle stored in LFS fails the gate, with the fix in the message', async () => {
    const { conclusion, errors, all } = await gate({ '.gitattributes': '*.pkl filter=lfs diff=lfs merge=lfs -text\n', 'models/evil.pkl': pointer }, { git: true });
    expect(errors).toEqual(['model-file-safety/lfs-pointer-not-scanned@models/evil.pkl']);
    expect(all.find((f) => f.path === 'models/evil.pkl')?.message).toContain('lfs: true');
    expect(conclusion).toBe('failure');
  });

  async function superproject(): Promise<{ sub: string; top: string }> {
    const sub = await makeRepo({ 'evil.pkl': EVIL, 'README.md': '# weights\n' }, { git: true });
    const top = await makeRepo({ 'README.md': '# top\n' }, { git: true });
    gitIn(top, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', sub, 'vendor/weights');
    gitIn(top, 'commit', '-qm', 'add submodule');
    return { sub, top };
  }

  it('a checked-out submodule is scanned like the rest', async () => {
    const { top } = await superproject();
    const { inventory } = await scanRepository(top);
    expect(inventory.files.map((f) => f.path)).toContain('vendor/weights/evil.pkl');
    expect(inventory.submodules).toEqual([{ path: 'vendor/weights', checkedOut: true }]);
    const { conclusion, errors } = await gate({}, { root: top });
    expect(errors).toEqual(['model-file-safety/dangerous-global@vendor/weights/evil.pkl']);
    expect(conclusion).toBe('failure');
  });

  it('a submodule that is not checked out is a finding on its path, an error under model-file-safety', async () => {
    const { top } = await superproject();
    const clone = await makeRepo({});
    execFileSync('git', ['clone', '-q', top, clone]);
    expect(await readdir(path.join(clone, 'vendor/weights'))).toEqual([]);
    const { conclusion, errors, all } = await gate({}, { root: clone });
    expect(errors).toEqual(['model-file-safety/submodule-not-scanned@vendor/weights']);
    expect(all.find((f) => f.code === 'inventory/submodule-not-checked-out')?.level).toBe('warning');
    expect(all.find((f) => f.code === 'model-file-safety/submodule-not-scanned')?.message).toContain('submodules: true');
    expect(conclusion).toBe('failure');
  });
});
