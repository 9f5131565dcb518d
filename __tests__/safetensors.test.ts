import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { modelFileSafety } from '../src/checks/model-file-safety.js';
import { bufferSource, withFileSource, type ByteSource } from '../src/formats/byte-source.js';
import { readSafetensorsHeader, SAFETENSORS_SCAN_MAX } from '../src/formats/safetensors.js';
import { callPickle, makeZip } from './pickle-fixtures.js';
import { runRuleOn, summarise } from './helpers/repo.js';

/** A safetensors file: length, JSON header (padded with spaces as the writer does), data. */
function st(header: unknown, dataBytes: number, opts: { rawHeader?: string; pad?: number } = {}): Buffer {
  const json = Buffer.from((opts.rawHeader ?? JSON.stringify(header)) + ' '.repeat(opts.pad ?? 0));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.alloc(dataBytes)]);
}

const t = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] });
const BENIGN = { 'w.weight': t('F32', [2, 2], 0, 16), 'w.bias': t('BF16', [2], 16, 20), mask: t('BOOL', [4], 20, 24), __metadata__: { format: 'pt' } };
const read = (b: Buffer) => readSafetensorsHeader(bufferSource(b));

describe('safetensors header', () => {
  it('keys nested in entries, and strings holding quotes and braces, are not top-level duplicates', () => {
    const header = { 'a "{b}"': t('U8', [1], 0, 1), c: t('U8', [1], 1, 2), __metadata__: { a: 'x', 'a "{b}"': '}{"c":' } };
    expect(read(st(header, 2)).ok).toBe(true);
  });

  it('a valid file passes, header padding and all dtypes included', () => {
    expect(read(st(BENIGN, 24, { pad: 5 }))).toMatchObject({ ok: true, tensors: 3, dataBytes: 24, metadata: { format: 'pt' } });
    expect(read(st({ a: t('F4', [4], 0, 2), b: t('F6_E2M3', [4], 2, 5), c: t('C64', [1], 5, 13), e: t('F8_E4M3', [0], 13, 13) }, 13)).ok).toBe(true);
    expect(read(st({}, 0)).ok).toBe(true);
  });

  const bad: Array<[string, Buffer, RegExp]> = [
    ['a header length over 100 MB', (() => { const b = Buffer.alloc(16); b.writeBigUInt64LE(100_000_001n); return b; })(), /over the format's 100000000-byte limit/],
    ['a header length past the file', st(BENIGN, 24).subarray(0, 40), /runs past the end/],
    ['a header that is not JSON', st(null, 0, { rawHeader: '{"a": ' }), /not valid JSON/],
    ['a header that is not UTF-8', Buffer.concat([Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([0x7b, 0xff, 0x7d])]), /not valid UTF-8/],
    ['an unknown dtype', st({ a: t('F128', [1], 0, 16) }, 16), /unknown dtype "F128"/],
    ['a negative dimension', st({ a: t('F32', [-1], 0, 4) }, 4), /shape/],
    ['a fractional offset', st({ a: { dtype: 'U8', shape: [1], data_offsets: [0, 1.5] } }, 2), /data_offsets/],
    ['an offset beyond 2^53', st(null, 4, { rawHeader: '{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,18446744073709551615]}}' }), /data_offsets/],
    ['a tensor past the data section', st({ a: t('F32', [4], 0, 16) }, 8), /past the 8-byte data section/],
    ['a size that does not match dtype × shape', st({ a: t('F32', [3], 0, 16) }, 16), /needs 12 bytes/],
    ['sub-byte elements that are not whole bytes', st({ a: t('F4', [3], 0, 2) }, 2), /not a whole number of bytes/],
    ['an end before the begin', st({ a: t('U8', [0], 4, 2) }, 4), /ends \(2\) before it begins/],
    ['overlapping tensors', st({ a: t('F32', [2], 0, 8), b: t('F32', [2], 4, 12) }, 12), /overlaps tensor 'a'/],
    ['a gap no tensor owns', st({ a: t('F32', [1], 0, 4), b: t('F32', [1], 8, 12) }, 12), /data bytes 4–8 before tensor 'b' belong to no tensor/],
    ['trailing bytes after the last tensor (a hidden payload)', st(BENIGN, 24 + 100), /last 100 bytes of the data section belong to no tensor/],
    ['non-string metadata', st({ __metadata__: { format: 'pt', n: 3 } }, 0), /'n' is a number/],
    ['metadata that is a list', st({ __metadata__: ['x'] }, 0), /__metadata__ is not an object/],
    ['a header that is a list', st(null, 0, { rawHeader: '{}' }).fill(0x5b, 8, 9).fill(0x5d, 9, 10), /start with '\{'/],
    ['a tensor entry that is not an object', st({ a: [1, 2] }, 0), /tensor 'a' is not an object/],
    ['a tensor named twice', st(null, 8, { rawHeader: '{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}, "a" :{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}' }), /names 'a' twice/],
    ['a tensor named twice through an escape', st(null, 8, { rawHeader: '{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},"\\u0061":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}' }), /names 'a' twice/],
  ];
  it.each(bad)('%s is malformed', (_name, b, reason) => {
    const res = read(b);
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.code).toBe('malformed');
      expect(res.reason).toMatch(reason);
    }
  });

  it('a header over what mlgate parses fails closed as budget-exceeded, without reading it', () => {
    const len = Buffer.alloc(9);
    len.writeBigUInt64LE(BigInt(SAFETENSORS_SCAN_MAX + 1));
    len[8] = 0x7b;
    let asked = 0;
    const src: ByteSource = { size: SAFETENSORS_SCAN_MAX + 100, read: (pos, n) => ((asked += n), len.subarray(pos, pos + n)) };
    expect(readSafetensorsHeader(src)).toMatchObject({ ok: false, code: 'budget-exceeded' });
    expect(asked).toBe(8);
  });

  it('every truncation, at every byte of the header and data, is a finding', () => {
    const file = st(BENIGN, 24, { pad: 3 });
    for (let n = 0; n < file.length; n++) expect(read(file.subarray(0, n)).ok, `prefix of ${n} bytes`).toBe(false);
    expect(read(file).ok).toBe(true);
  });

  it('a 10 GiB sparse file costs its header only', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mlgate-st-'));
    try {
      const half = 5 * 2 ** 30;
      const header = st({ a: t('F32', [half / 4], 0, half), b: t('F16', [half / 2], half, 2 * half), __metadata__: { format: 'pt' } }, 0);
      const file = path.join(dir, 'big.safetensors');
      const fd = openSync(file, 'w');
      writeSync(fd, header);
      ftruncateSync(fd, header.length + 2 * half);
      closeSync(fd);
      const t0 = performance.now();
      const res = withFileSource(file, (src) => readSafetensorsHeader(src));
      expect(performance.now() - t0).toBeLessThan(50);
      expect(res).toMatchObject({ ok: true, tensors: 2, dataBytes: 2 * half });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('safetensors properties', () => {
  it('every well-formed file is accepted, whatever the order of its entries and its padding', () => {
    const dtypes: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I64: 8, U8: 1, BOOL: 1 };
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...Object.keys(dtypes)), fc.array(fc.nat(4), { maxLength: 3 })), { maxLength: 8 }), fc.nat(16), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })), (specs, pad, meta) => {
        const header: Record<string, unknown> = {};
        let at = 0;
        specs.forEach(([dtype, shape], i) => {
          const n = shape.reduce((a, b) => a * b, 1) * dtypes[dtype]!;
          header[`layer.${i}`] = t(dtype, shape, at, at + n);
          at += n;
        });
        // Entries in reverse order: offsets, not key order, lay out the data.
        const reversed = Object.fromEntries(Object.entries(header).reverse());
        reversed.__metadata__ = meta;
        expect(read(st(reversed, at, { pad }))).toMatchObject({ ok: true, tensors: specs.length, dataBytes: at });
      }),
      { numRuns: 1500 },
    );
  });

  it('arbitrary bytes and arbitrary JSON headers never throw', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 256 }).map((u) => Buffer.from(u)), fc.tuple(fc.json(), fc.nat(64)).map(([j, n]) => st(null, n, { rawHeader: j }))), (b) => {
        expect(typeof read(b).ok).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid files never throw and never read past the header', () => {
    const base = st(BENIGN, 24);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (muts) => {
        const b = Buffer.from(base);
        for (const [i, x] of muts) b[i] = x;
        let furthest = 0;
        const src: ByteSource = { size: b.length, read: (pos, n) => ((furthest = Math.max(furthest, pos + n)), b.subarray(pos, pos + n)) };
        expect(typeof readSafetensorsHeader(src).ok).toBe('boolean');
        expect(furthest).toBeLessThanOrEqual(b.length);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('model-file-safety on safetensors files', () => {
  it('passes a valid file, reports a forged one, and a pickle or zip under the name is format confusion that is still scanned', async () => {
    const found = await runRuleOn(modelFileSafety, {
      'models/ok.safetensors': st(BENIGN, 24),
      'models/hidden.safetensors': st(BENIGN, 24 + 64),
      'models/pickle.safetensors': callPickle('os', 'system'),
      'models/zip.safetensors': makeZip([{ name: 'archive/data.pkl', data: callPickle('os', 'system') }]),
    });
    expect(summarise(found)).toEqual([
      'dangerous-global@models/pickle.safetensors',
      'dangerous-global@models/zip.safetensors',
      'format-mismatch@models/pickle.safetensors',
      'format-mismatch@models/zip.safetensors',
      'malformed@models/hidden.safetensors',
    ]);
    expect(found.find((f) => f.code === 'malformed')!.message).toMatch(/^models\/hidden\.safetensors is not a valid safetensors file: the last 64 bytes .*save_file/);
  });

  it('a valid file under a files: glob is not mistaken for a broken pickle', async () => {
    const header = Buffer.alloc(640, 0x20);
    header.write(JSON.stringify(BENIGN));
    const len = Buffer.from([0x80, 0x02, 0, 0, 0, 0, 0, 0]); // 640: the length starts like a protocol-2 pickle
    const file = Buffer.concat([len, header, Buffer.alloc(24)]);
    expect(read(file).ok).toBe(true);
    expect(summarise(await runRuleOn(modelFileSafety, { 'models/m.safetensors': file }, { params: { files: ['models/**'] } }))).toEqual([]);
    expect(summarise(await runRuleOn(modelFileSafety, { 'models/m.safetensors': file }))).toEqual([]);
  });

  it('is checked with sniffing off too', async () => {
    const found = await runRuleOn(modelFileSafety, { 'm/x.safetensors': callPickle('os', 'system'), 'm/y.safetensors': st(BENIGN, 20) }, { params: { 'sniff-other-files': false } });
    expect(summarise(found)).toEqual(['format-mismatch@m/x.safetensors', 'malformed@m/y.safetensors']);
  });
});
