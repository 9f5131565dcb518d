import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanModelBytes } from '../src/formats/pickle/model-file.js';
import { compileAllowList } from '../src/formats/pickle/classify.js';
import { OP } from '../src/formats/pickle/opcodes.js';
import { callPickle, joblibWrapper, makeZip, npy, p, torchDataPkl, torchZip } from './pickle-fixtures.js';

const opts = { allow: compileAllowList([]), maxBytes: 16 * 1024 * 1024 };
const KNOWN_CODES = new Set(['dangerous-global', 'unknown-global', 'dynamic-import', 'global-mutation', 'malformed', 'lambda-layer', 'keras-custom-object', 'budget-exceeded', 'unscannable']);

/** Scans and checks the result is well formed; never throws, finishes within the time limit of the test. */
async function scanOk(data: Buffer, mode: 'strict' | 'sniff' = 'strict') {
  const r = await scanModelBytes(data, mode, opts);
  for (const i of r.issues) {
    expect(KNOWN_CODES.has(i.code)).toBe(true);
    expect(i.message.length).toBeGreaterThan(0);
  }
  return r;
}

const seeds = [
  torchDataPkl(),
  torchZip(),
  callPickle('os', 'system'),
  p().proto(4).frame(30).str('collections').memoize().str('OrderedDict').memoize().stackGlobal().emptyTuple().reduce().stop().build_(),
  joblibWrapper(p().proto(4), 2).data(Buffer.from([15, ...Array(15).fill(0xff)])).data(Buffer.alloc(16)).stop().build_(),
  npy("'|O'", '(1,)', p().proto(2).none().stop().build_()),
  makeZip([{ name: 'a.npy', data: npy("'<f8'", '(1,)', Buffer.alloc(8)), method: 8 }]),
];

/** Bytes that are mostly opcodes, so random streams get deep into the machine. */
const opcodeBytes = fc.array(fc.oneof(fc.constantFrom(...Object.values(OP)), fc.integer({ min: 0, max: 255 })), { maxLength: 400 }).map((a) => Buffer.from(a));

describe('property: the scanner never throws, hangs or grows on hostile input', () => {
  it('arbitrary bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.constantFrom('strict' as const, 'sniff' as const), async (a, mode) => void (await scanOk(Buffer.from(a), mode))), { numRuns: 400 });
  });

  it('opcode soup, with and without a PROTO header', async () => {
    await fc.assert(fc.asyncProperty(opcodeBytes, fc.integer({ min: 0, max: 6 }), async (b, proto) => void (await scanOk(Buffer.concat([Buffer.from([OP.PROTO, proto]), b])))), { numRuns: 400 });
  });

  it('mutated valid files (flipped, inserted and deleted bytes)', async () => {
    const mutation = fc.record({
      seed: fc.integer({ min: 0, max: seeds.length - 1 }),
      edits: fc.array(fc.record({ at: fc.nat(), kind: fc.constantFrom('flip', 'insert', 'delete'), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ seed, edits }) => {
        const bytes = [...seeds[seed]!];
        for (const e of edits) {
          const i = e.at % Math.max(1, bytes.length);
          if (e.kind === 'flip') bytes[i] = e.byte;
          else if (e.kind === 'insert') bytes.splice(i, 0, e.byte);
          else bytes.splice(i, 1);
        }
        await scanOk(Buffer.from(bytes));
      }),
      { numRuns: 400 },
    );
  });

  it('arbitrary bytes behind zip, .npy and HDF5 signatures', async () => {
    const heads = [Buffer.from('PK\x03\x04', 'latin1'), Buffer.from('\x93NUMPY\x01\x00', 'latin1'), Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'), Buffer.from([0x1f, 0x8b])];
    await fc.assert(fc.asyncProperty(fc.constantFrom(...heads), fc.uint8Array({ maxLength: 400 }), async (h, tail) => void (await scanOk(Buffer.concat([h, Buffer.from(tail)])))), { numRuns: 300 });
  });

  it('every proper prefix of a valid pickle is malformed (truncated streams fail closed)', async () => {
    for (const full of [torchDataPkl(), callPickle('collections', 'OrderedDict'), p().proto(4).binunicode8('abc').stop().build_()]) {
      for (let n = 1; n < full.length; n++) {
        const codes = (await scanOk(full.subarray(0, n))).issues.map((i) => i.code);
        expect(codes, `prefix of ${n} bytes`).toContain('malformed');
      }
    }
  });

  it('deeply nested marks and huge declared lengths stay bounded', async () => {
    const marks = Buffer.concat([Buffer.from([OP.PROTO, 2]), Buffer.alloc(200_000, OP.MARK), Buffer.from([OP.STOP])]);
    const r1 = await scanOk(marks);
    expect(r1.issues.map((i) => i.code)).toContain('budget-exceeded');
    const huge = Buffer.from([OP.PROTO, 4, OP.BINBYTES8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00]);
    expect((await scanOk(huge)).issues.map((i) => i.code)).toEqual(['malformed']);
    const stack = p().proto(2);
    for (let i = 0; i < 1_100_000; i++) stack.none();
    expect((await scanOk(stack.stop().build_())).issues.map((i) => i.code)).toContain('budget-exceeded');
  });
});
