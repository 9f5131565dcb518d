import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { modelFileSafety } from '../src/checks/model-file-safety.js';
import { checkGguf } from '../src/checks/model-file/gguf.js';
import { bufferSource, withFileSource, type ByteSource } from '../src/formats/byte-source.js';
import { readGgufHeader } from '../src/formats/gguf.js';
import { benignGguf, gguf, type GgufSpec } from './gguf-fixtures.js';
import { callPickle } from './pickle-fixtures.js';
import { runRuleOn, summarise } from './helpers/repo.js';

const read = (b: Buffer) => readGgufHeader(bufferSource(b));
const codes = (b: Buffer) => checkGguf('m.gguf', bufferSource(b)).map((f) => f.code);
const SSTI = "{{ cycler.__init__.__globals__.os.popen('id').read() }}";

describe('GGUF header', () => {
  it.each([1, 2, 3] as const)('reads version %i, little- and big-endian', (version) => {
    for (const bigEndian of [false, true]) {
      const res = read(benignGguf(undefined, { version, bigEndian }));
      expect(res).toMatchObject({ ok: true, version, bigEndian, tensors: 2, kvs: 9 });
      expect(res.templates.map((t) => t.key)).toEqual(['tokenizer.chat_template']);
    }
  });

  it('a benign model with an ordinary chat template has no findings', () => {
    expect(codes(benignGguf())).toEqual([]);
    expect(codes(gguf())).toEqual([]);
  });

  it('a chat template that reaches Python internals is template-injection, in any endianness and version', () => {
    for (const version of [1, 3] as const) {
      for (const bigEndian of [false, true]) {
        const [f] = checkGguf('m.gguf', bufferSource(benignGguf(SSTI, { version, bigEndian })));
        expect(f?.code).toBe('template-injection');
        expect(f?.message).toMatch(/GGUF metadata 'tokenizer\.chat_template'.*cycler.*CVE-2024-34359/);
      }
    }
  });

  it('named templates (tokenizer.chat_template.<name>) are checked too', () => {
    const b = gguf({ kv: [['tokenizer.chat_template', '{{ messages[0].content }}'], ['tokenizer.chat_template.tool_use', "{{ x|attr('__class__') }}"]] });
    expect(codes(b)).toEqual(['template-injection']);
  });

  it('a chat template that is not a string, or does not parse, fails closed', () => {
    expect(codes(gguf({ kv: [['tokenizer.chat_template', { u32: 7 }]] }))).toEqual(['malformed']);
    expect(codes(gguf({ kv: [['tokenizer.chat_template', '{% for m in messages %}']] }))).toEqual(['template-unparsable']);
  });

  const forged: Array<[string, GgufSpec | Buffer, RegExp]> = [
    ['version 0', Buffer.from('GGUF\x00\x00\x00\x00' + '\x00'.repeat(16), 'latin1'), /version is 0/],
    ['version 4', Buffer.from('GGUF\x04\x00\x00\x00' + '\x00'.repeat(16), 'latin1'), /version is 4/],
    ['a tensor count no file can hold', { tensorCount: 1n << 40n }, /tensors/],
    ['a tensor count past the remaining bytes', { tensorCount: 1000n }, /1000 tensors, more than/],
    ['a key count past the remaining bytes', { kvCount: 5000n }, /5000 metadata keys, more than/],
    ['a count beyond 2^53', { kvCount: 1n << 60n }, /larger than any file/],
    ['a string length past the end', { kv: [['k', { type: 8, raw: Buffer.from([0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]) }]] }, /claims 2147483647 bytes/],
    ['an array length past the end', { kv: [['k', { type: 9, raw: Buffer.concat([Buffer.from([4, 0, 0, 0]), Buffer.from([0, 0, 0, 0, 1, 0, 0, 0])]) }]] }, /claims 4294967296 elements/],
    ['arrays nested too deep', { kv: [['k', { elem: 9, arr: [{ elem: 9, arr: [{ elem: 9, arr: [{ elem: 9, arr: [{ elem: 9, arr: [] }] }] }] }] }]] }, /deeper than 4/],
    ['an unknown value type', { kv: [['k', { type: 13, raw: Buffer.alloc(8) }]] }, /unknown value type 13/],
    ['a duplicate key', { kv: [['general.name', 'a'], ['general.name', 'b']] }, /appears twice/],
    ['a chat template that is not UTF-8', { kv: [['tokenizer.chat_template', { type: 8, raw: Buffer.from([2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe]) }]] }, /not valid UTF-8/],
    ['an alignment that is not a power of two', { kv: [['general.alignment', { u32: 24 }]] }, /not a power of two/],
    ['an alignment of the wrong type', { kv: [['general.alignment', { u64: 32n }]] }, /not a uint32/],
    ['too many dimensions', { tensors: [{ name: 't', dims: [1, 1, 1, 1, 1], type: 0 }] }, /5 dimensions/],
    ['an unknown ggml type', { tensors: [{ name: 't', dims: [4], type: 200 }] }, /unknown ggml type 200/],
    ['a misaligned offset', { tensors: [{ name: 't', dims: [4], type: 0, offset: 4n }] }, /not a multiple of the alignment/],
    ['a tensor past the end of the file', { tensors: [{ name: 't', dims: [4], type: 0 }], dataBytes: 8 }, /past the 8-byte data section/],
    ['an offset far past the end', { tensors: [{ name: 't', dims: [4], type: 0, offset: 1n << 62n }], dataBytes: 16 }, /past the/],
    ['overlapping tensors', { tensors: [{ name: 'a', dims: [64], type: 0 }, { name: 'b', dims: [8], type: 0, offset: 32n }] }, /overlaps tensor 'a'/],
    ['a duplicate tensor name', { tensors: [{ name: 'a', dims: [8], type: 0 }, { name: 'a', dims: [8], type: 0 }] }, /appears twice/],
    ['a quantized row that is not whole blocks', { tensors: [{ name: 'q', dims: [16], type: 2 }], dataBytes: 64 }, /not a multiple of its type's 32-element block/],
    ['an element count ggml cannot index', { tensors: [{ name: 'h', dims: [1 << 30, 1 << 30, 1 << 30], type: 0, offset: 0n }], dataBytes: 32 }, /more than ggml can index/],
  ];
  it.each(forged)('%s is malformed', (_name, spec, reason) => {
    const b = Buffer.isBuffer(spec) ? spec : gguf(spec);
    const res = read(b);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.reason).toMatch(reason);
    expect(codes(b).length).toBeGreaterThan(0);
  });

  it('every truncation of a valid file, at every byte of the header and data, is a finding', () => {
    for (const file of [benignGguf(), benignGguf(undefined, { version: 1, bigEndian: true })]) {
      for (let n = 0; n < file.length; n++) {
        const res = read(file.subarray(0, n));
        expect(res.ok, `prefix of ${n} bytes`).toBe(false);
        if (!res.ok) expect(res.code).toBe('malformed');
      }
      expect(read(file).ok).toBe(true);
    }
  });

  it('a template before the point where the header breaks is still judged', () => {
    const file = gguf({ kv: [['tokenizer.chat_template', SSTI], ['general.name', 'x']], tensors: [{ name: 't', dims: [8], type: 0 }] });
    expect(codes(file.subarray(0, file.length - 40)).sort()).toEqual(['malformed', 'template-injection']);
  });

  it('reads only the header: tensor data is never requested', () => {
    const file = benignGguf();
    const seen: Array<[number, number]> = [];
    const src: ByteSource = { size: 10 * 2 ** 30, read: (pos, len) => (seen.push([pos, len]), file.subarray(pos, pos + len)) };
    expect(readGgufHeader(src).ok).toBe(true);
    expect(seen.every(([pos]) => pos < file.length)).toBe(true);
  });

  it('a 10 GiB sparse GGUF is read in its header only, in milliseconds', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mlgate-gguf-'));
    try {
      const big = 10n * 2n ** 30n;
      const elems = Number(big / 4n / 2n);
      const header = gguf({ kv: [['general.architecture', 'llama'], ['tokenizer.chat_template', '{{ messages[0].content }}']], tensors: [{ name: 'a', dims: [elems], type: 0 }, { name: 'b', dims: [elems], type: 0 }], dataBytes: 0 });
      const file = path.join(dir, 'big.gguf');
      const fd = openSync(file, 'w');
      writeSync(fd, header);
      ftruncateSync(fd, header.length + elems * 8);
      closeSync(fd);
      const t0 = performance.now();
      const res = withFileSource(file, (src) => readGgufHeader(src));
      expect(performance.now() - t0).toBeLessThan(50);
      expect(res).toMatchObject({ ok: true, tensors: 2 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('GGUF parser properties', () => {
  const scalar = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.nat(2 ** 32 - 1).map((u32) => ({ u32 })),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((i32) => ({ i32 })),
    fc.float({ noNaN: true }).map((f32) => ({ f32 })),
    fc.boolean().map((bool) => ({ bool })),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((u64) => ({ u64 })),
  );
  const value = fc.oneof(scalar, fc.array(fc.string({ maxLength: 6 }), { maxLength: 5 }).map((arr) => ({ elem: 8, arr })), fc.array(fc.nat(255).map((u8) => ({ u8 })), { maxLength: 9 }).map((arr) => ({ elem: 0, arr })));
  const tensor = fc.record({ type: fc.constantFrom(0, 1, 2, 8, 30), rows: fc.integer({ min: 1, max: 3 }), cols: fc.integer({ min: 1, max: 3 }) });

  it('every well-formed file the builder writes is read, in every version and endianness', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z][a-z_.]{0,15}$/), value), { selector: ([k]) => k, maxLength: 8 }),
        fc.array(tensor, { maxLength: 5 }),
        fc.constantFrom(1, 2, 3),
        fc.boolean(),
        (kv, ts, version, bigEndian) => {
          const tensors = ts.map((t, i) => ({ name: `t${i}`, dims: [t.type === 2 || t.type === 8 ? 32 * t.cols : t.cols, t.rows], type: t.type }));
          const res = read(gguf({ kv: kv.filter(([k]) => !k.startsWith('tokenizer.chat_template') && k !== 'general.alignment') as Array<[string, never]>, tensors, version: version as 1 | 2 | 3, bigEndian }));
          expect(res).toMatchObject({ ok: true, tensors: tensors.length, version, bigEndian });
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('arbitrary bytes after the magic never throw and never hang', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.constantFrom(1, 2, 3), fc.boolean(), (tail, v, be) => {
        const head = Buffer.alloc(8);
        head.write('GGUF', 'latin1');
        if (be) head.writeUInt32BE(v, 4);
        else head.writeUInt32LE(v, 4);
        const res = read(Buffer.concat([head, Buffer.from(tail)]));
        expect(typeof res.ok).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid files never throw, and reads stay inside the file', () => {
    const base = benignGguf(SSTI);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (muts) => {
        const b = Buffer.from(base);
        for (const [i, x] of muts) b[i] = x;
        let maxRead = 0;
        const src: ByteSource = { size: b.length, read: (pos, len) => ((maxRead = Math.max(maxRead, Math.min(len, b.length - pos))), b.subarray(pos, pos + len)) };
        const res = readGgufHeader(src);
        expect(typeof res.ok).toBe('boolean');
        // Window reads are capped by the file, never by a forged length.
        expect(maxRead).toBeLessThanOrEqual(b.length);
        checkGguf('m.gguf', bufferSource(b));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('model-file-safety on GGUF files', () => {
  it('finds an injected template in a .gguf, passes a benign one, and reports forgeries', async () => {
    const found = await runRuleOn(modelFileSafety, {
      'models/ok.gguf': benignGguf(),
      'models/evil.gguf': benignGguf(SSTI),
      'models/broken.gguf': benignGguf().subarray(0, 100),
    });
    expect(summarise(found)).toEqual(['malformed@models/broken.gguf', 'template-injection@models/evil.gguf']);
  });

  it('is checked with sniffing off too, and a pickle named .gguf is format confusion and scanned', async () => {
    expect(summarise(await runRuleOn(modelFileSafety, { 'm/evil.gguf': benignGguf(SSTI) }, { params: { 'sniff-other-files': false } }))).toEqual(['template-injection@m/evil.gguf']);
    expect(summarise(await runRuleOn(modelFileSafety, { 'm/x.gguf': callPickle('os', 'system') }))).toEqual(['dangerous-global@m/x.gguf', 'format-mismatch@m/x.gguf']);
  });

  it('header formats under a files: glob are read by their own checker, not as pickles', async () => {
    const files = { 'models/ok.gguf': benignGguf(), 'models/evil.gguf': benignGguf(SSTI), 'models/tokenizer_config.json': '{"chat_template": "{{ messages[0].content }}"}', 'models/x.gguf': callPickle('os', 'system') };
    expect(summarise(await runRuleOn(modelFileSafety, files, { params: { files: ['models/**'] } }))).toEqual(['dangerous-global@models/x.gguf', 'format-mismatch@models/x.gguf', 'template-injection@models/evil.gguf']);
  });

  it('a GGUF file named .bin (as llama.cpp once wrote them) is read as GGUF', async () => {
    const found = await runRuleOn(modelFileSafety, { 'models/ggml-model-q4_0.bin': benignGguf(SSTI), 'models/ok.bin': benignGguf() });
    expect(summarise(found)).toEqual(['template-injection@models/ggml-model-q4_0.bin']);
  });

  it('an LFS pointer .gguf is reported as not scanned', async () => {
    const lfs = 'version https://git-lfs.github.com/spec/v1\noid sha256:' + 'b'.repeat(64) + '\nsize 4368439072\n';
    expect(summarise(await runRuleOn(modelFileSafety, { 'models/llama.Q4_K_M.gguf': lfs }))).toEqual(['lfs-pointer-not-scanned@models/llama.Q4_K_M.gguf']);
  });
});
