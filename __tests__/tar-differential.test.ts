// mlgate's tar reader against CPython's tarfile (what torch.load's legacy path uses) over the same bytes:
// every member tarfile would hand to a loader, mlgate lists at the same offset and size, and scans.
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compileAllowList } from '../src/formats/pickle/classify.js';
import { scanModelBytes } from '../src/formats/pickle/model-file.js';
import { bufferAccess, rangeSource, sparseSource } from '../src/formats/pickle/source.js';
import { TarError, readTar, type TarMember } from '../src/formats/tar.js';
import { pythonBatch } from './helpers/python-stdlib.js';
import { callPickle } from './pickle-fixtures.js';
import { gnuLongName, paxHeader, tarHeader, tarMember } from './tar-fixtures.js';

const EVIL = callPickle('os', 'system', 'id');

/** For each sample: null when tarfile cannot open it, else [name, offset_data, size, sparse, sha256 of what extractfile reads] per member. */
const LIST = `
import hashlib, io, tarfile
def content(tf, m):
    try:
        return hashlib.sha256(tf.extractfile(m).read()).hexdigest()
    except Exception:
        return None
def listing(s, mode):
    try:
        tf = tarfile.open(fileobj=io.BytesIO(s), mode=mode)
    except Exception:
        return None
    got = []
    while True:
        try:
            m = tf.next()
        except Exception:
            break
        if m is None:
            break
        if m.isreg() or m.type not in tarfile.SUPPORTED_TYPES:
            got.append([m.name, m.offset_data, m.size, [list(r) for r in m.sparse] if m.sparse else None, content(tf, m)])
    return got
`;

type Listed = [name: string, offset: number, size: number, sparse: number[][] | null, sha256: string | null];

const listWithPython = (samples: Buffer[], mode = 'r:'): Array<Listed[] | null> =>
  pythonBatch(`${LIST}\nfor s in samples:\n    out.append(listing(s, ${JSON.stringify(mode)}))\n`, samples);

const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

/** An old GNU sparse ('S') member: the map in the header, the runs stored back to back. */
function sparseMember(name: string, runs: Array<[number, number]>, realSize: number, fill: Buffer): Buffer {
  const stored = Buffer.concat(runs.map(([, len], i) => Buffer.alloc(len, fill[i % fill.length]!)));
  const h = tarHeader({ name, data: stored, type: 'S', magic: 'gnu' });
  runs.slice(0, 4).forEach(([off, len], i) => {
    h.write(`${off.toString(8).padStart(11, '0')}\0`, 386 + i * 24, 'latin1');
    h.write(`${len.toString(8).padStart(11, '0')}\0`, 386 + i * 24 + 12, 'latin1');
  });
  h.write(`${realSize.toString(8).padStart(11, '0')}\0`, 483, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of h) sum += c;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return Buffer.concat([h, pad(stored)]);
}

/** A pax sparse member, GNU format 0.1 (map in a pax record) or 1.0 (map at the start of the data). */
function paxSparseMember(name: string, runs: Array<[number, number]>, realSize: number, version: '0.1' | '1.0'): Buffer {
  const stored = Buffer.concat(runs.map(([, len], i) => Buffer.alloc(len, 0x61 + i)));
  const flat = runs.flat();
  if (version === '0.1') {
    const pax = paxHeader({ 'GNU.sparse.size': String(realSize), 'GNU.sparse.numblocks': String(runs.length), 'GNU.sparse.map': flat.join(','), 'GNU.sparse.name': name });
    return Buffer.concat([pax, tarMember({ name: 'GNUSparseFile.0/x', data: stored })]);
  }
  const map = pad(Buffer.from(`${runs.length}\n${flat.join('\n')}\n`));
  const pax = paxHeader({ 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': name, 'GNU.sparse.realsize': String(realSize) });
  return Buffer.concat([pax, tarMember({ name: 'GNUSparseFile.0/x', data: Buffer.concat([map, stored]) })]);
}

const name = fc.stringMatching(/^[a-z][a-z0-9_.]{0,20}$/);
const longName = fc.stringMatching(/^[a-z]{1,8}$/).map((s) => `${'d'.repeat(90)}/${s}/${'f'.repeat(30)}.pkl`);
const payload = fc.oneof(fc.constant(EVIL), fc.uint8Array({ maxLength: 700 }).map((b) => Buffer.from(b)));

const piece: fc.Arbitrary<Buffer> = fc.oneof(
  fc.record({ name, data: payload, type: fc.constantFrom('0', '\0', '7', '5', '1', '2', '3', '6', 'Z', 'V', 'A'), magic: fc.constantFrom('ustar' as const, 'gnu' as const, 'v7' as const) }).map((e) => tarMember(e)),
  fc.record({ name: longName, data: payload }).map((e) => Buffer.concat([gnuLongName(e.name), tarMember({ name: e.name.slice(0, 99), data: e.data, magic: 'gnu' })])),
  fc.record({ name: longName, data: payload }).map((e) => Buffer.concat([paxHeader({ path: e.name }), tarMember({ name: 'short', data: e.data })])),
  // A pax size that overrides the header's: the next header moves with it.
  fc.record({ name, data: payload, extra: fc.nat({ max: 1024 }) }).map((e) => Buffer.concat([paxHeader({ size: String(e.data.length) }), tarMember({ name: e.name, data: Buffer.concat([e.data, Buffer.alloc(e.extra)]) }).subarray(0, 512), pad(e.data)])),
  fc.record({ name, data: payload }).map((e) => Buffer.concat([paxHeader({ comment: 'global' }, 'g'), tarMember({ name: e.name, data: e.data })])),
  fc.record({ name, prefix: fc.stringMatching(/^[a-z]{1,20}$/), data: payload }).map((e) => tarMember(e)),
  fc.record({ name, data: payload }).map((e) => tarMember({ ...e, badChecksum: true })),
  fc.record({ name, a: fc.nat({ max: 300 }), b: fc.integer({ min: 1, max: 300 }), gap: fc.nat({ max: 600 }) }).map((e) => sparseMember(e.name, [[e.a, e.b], [e.a + e.b + e.gap, 7]], e.a + e.b + e.gap + 7 + 20, Buffer.from('xyz'))),
  fc.record({ name, a: fc.nat({ max: 300 }), b: fc.integer({ min: 1, max: 300 }), gap: fc.nat({ max: 600 }), v: fc.constantFrom('0.1' as const, '1.0' as const) }).map((e) => paxSparseMember(e.name, [[e.a, e.b], [e.a + e.b + e.gap, 9]], e.a + e.b + e.gap + 9 + 30, e.v)),
);

const archive = fc
  .record({
    pieces: fc.array(piece, { minLength: 0, maxLength: 6 }),
    end: fc.constantFrom('zeros', 'none', 'garbage'),
    garbage: fc.uint8Array({ maxLength: 600 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
  })
  .map(({ pieces, end, garbage, cut }) => {
    const tail = end === 'zeros' ? Buffer.alloc(1024) : end === 'garbage' ? Buffer.from(garbage) : Buffer.alloc(0);
    const whole = Buffer.concat([...pieces, tail]);
    return cut === undefined ? whole : whole.subarray(0, cut % (whole.length + 1));
  });

/** What a member's source hands the scanner, hashed; null when it ends early (extractfile raises there). */
async function memberHash(data: Buffer, m: TarMember): Promise<string | null> {
  const ra = bufferAccess(data);
  const src = m.sparse ? sparseSource(ra, m.dataOffset, m.sparse, m.size) : rangeSource(ra, m.dataOffset, m.size);
  const buf = Buffer.alloc(m.size);
  let got = 0;
  while (got < m.size) {
    const n = await src.read(buf, got, m.size - got);
    if (n === 0) return null;
    got += n;
  }
  return createHash('sha256').update(buf).digest('hex');
}

async function listWithMlgate(data: Buffer): Promise<Listed[] | null> {
  try {
    const { members } = await readTar(bufferAccess(data));
    const files = members.filter((m) => m.isFile);
    return Promise.all(files.map(async (m): Promise<Listed> => [m.name, m.dataOffset, m.size, m.sparse ?? null, await memberHash(data, m)]));
  } catch (e) {
    if (e instanceof TarError) return null;
    throw e;
  }
}

const opts = { allow: compileAllowList([]), maxBytes: 1 << 26 };

describe('tar reader against CPython tarfile', () => {
  it('lists every member tarfile would extract, at the same offset, size and sparse map', async () => {
    const samples = fc.sample(archive, { numRuns: 400, seed: 19 });
    const python = listWithPython(samples);
    for (let i = 0; i < samples.length; i++) {
      const ours = await listWithMlgate(samples[i]!);
      const theirs = python[i];
      if (theirs === null || theirs === undefined) continue;
      expect(ours, `sample ${i}: ${samples[i]!.toString('base64')}`).not.toBeNull();
      for (const m of theirs) {
        // Where extractfile fails (data cut short) only the listing is compared.
        const mine = ours!.filter((o) => o[0] === m[0] && o[1] === m[1] && o[2] === m[2] && JSON.stringify(o[3]) === JSON.stringify(m[3]));
        expect(mine.length, `sample ${i}: ${JSON.stringify(m)} ours ${JSON.stringify(ours)}`).toBeGreaterThan(0);
        if (m[4] !== null) expect(mine.map((o) => o[4]), `sample ${i}: ${JSON.stringify(m)}`).toContain(m[4]);
      }
    }
  }, 120_000);

  it('scans every member tarfile lists: a pickle in any of them is found (plain and gzip-compressed)', async () => {
    const complete = fc.array(fc.record({ name, type: fc.constantFrom('0', '\0', '7', 'Z') }), { minLength: 1, maxLength: 5 }).map((ms) => Buffer.concat([...ms.map((m) => tarMember({ ...m, data: EVIL })), Buffer.alloc(1024)]));
    const samples = fc.sample(complete, { numRuns: 60, seed: 7 });
    const zipped = samples.map((s) => gzipSync(s));
    const python = [...listWithPython(samples), ...listWithPython(zipped, 'r:gz')];
    const all = [...samples, ...zipped];
    for (let i = 0; i < all.length; i++) {
      const issues = (await scanModelBytes(all[i]!, 'sniff', opts)).issues;
      for (const [memberName] of python[i] ?? []) {
        expect(issues.some((x) => x.code === 'dangerous-global' && x.message.includes(`tar member ${JSON.stringify(memberName)}: imports os.system`)), `${memberName} in sample ${i}`).toBe(true);
      }
    }
  }, 120_000);

  it('agrees with the gzip and lzma modules on what is compressed: gzip is opened, lzma and xz fail closed', async () => {
    const inner = Buffer.concat([tarMember({ name: 'pickle', data: EVIL }), Buffer.alloc(1024)]);
    const [alone, xz] = pythonBatch<string[]>('import lzma, base64\nfor s in samples:\n    out.append([base64.b64encode(lzma.compress(s, format=lzma.FORMAT_ALONE)).decode(), base64.b64encode(lzma.compress(s)).decode()])\n', [inner])[0]!.map((b) => Buffer.from(b, 'base64'));
    const decodable = pythonBatch<boolean>('import lzma, gzip\nfor s in samples:\n    try:\n        lzma.decompress(s) if s[:1] != b"\\x1f" else gzip.decompress(s)\n        out.append(True)\n    except Exception:\n        out.append(False)\n', [alone!, xz!, gzipSync(inner)]);
    expect(decodable).toEqual([true, true, true]);
    expect((await scanModelBytes(alone!, 'sniff', opts)).issues.map((i) => i.code)).toEqual(['unscannable']);
    expect((await scanModelBytes(xz!, 'sniff', opts)).issues.map((i) => i.code)).toEqual(['unscannable']);
    expect((await scanModelBytes(gzipSync(inner), 'sniff', opts)).issues.map((i) => i.code)).toEqual(['dangerous-global']);
  });

  it('never throws on arbitrary bytes behind a valid first header', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), async (rest) => {
        const data = Buffer.concat([tarMember({ name: 'a', data: Buffer.from('x') }), Buffer.from(rest)]);
        await scanModelBytes(data, 'strict', opts);
        await listWithMlgate(data);
      }),
      { numRuns: 300 },
    );
  });
});
