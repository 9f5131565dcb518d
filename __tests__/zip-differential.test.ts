import { createHash } from 'node:crypto';
import { crc32, deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { looksLikeZipStart, openMember, readZip, type ZipEntry } from '../src/formats/zip.js';
import { Window } from '../src/formats/pickle/window.js';
import { bufferAccess } from '../src/formats/pickle/source.js';
import { scanModelBytes } from '../src/formats/pickle/model-file.js';
import { compileAllowList } from '../src/formats/pickle/classify.js';
import { pythonBatch } from './helpers/python-stdlib.js';
import { callPickle } from './pickle-fixtures.js';

/**
 * Differential test against CPython's zipfile: over the same bytes, every
 * member zipfile lists is a member mlgate reads and scans, and an archive
 * zipfile refuses is one mlgate cannot read that way either (and, when the
 * bytes begin as a zip, reports as malformed). zipfile only lists the
 * central directory here; nothing is extracted, nothing is executed.
 */

interface Member {
  name: string;
  method: 0 | 8;
  /** Sizes and CRC after the data (flag bit 3), zeros in the local header. */
  descriptor: boolean;
}

interface Variant {
  members: Member[];
  zip64: boolean;
  comment: string;
  /** Bytes before the archive; `relative`: offsets written as if the archive started at 0 (zipfile corrects them). */
  prefix: Buffer;
  relative: boolean;
  mutation: 'none' | 'count-low' | 'count-high' | 'size-short' | 'size-long' | 'comment-lie' | 'trailing' | 'second-archive' | 'second-archive-lying' | 'offset-lie';
}

const le16 = (n: number): Buffer => Buffer.from([n & 0xff, (n >> 8) & 0xff]);
const le32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const le64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};

/** Each member holds a pickle that imports os.system with the member's name, so a scan of it is visible by name. */
const payload = (name: string): Buffer => callPickle('os', 'system', name);

/** An archive written field by field; `base` is the offset its own offsets count from. */
function archive(members: Member[], o: { zip64: boolean; comment: string; base: number }): Buffer {
  const out: Buffer[] = [];
  const central: Buffer[] = [];
  let at = 0;
  const push = (b: Buffer): void => {
    out.push(b);
    at += b.length;
  };
  const version = o.zip64 ? 45 : 20;
  for (const m of members) {
    const raw = payload(m.name);
    const data = m.method === 8 ? deflateRawSync(raw) : raw;
    const crc = crc32(raw);
    const name = Buffer.from(m.name, 'utf8');
    const offset = o.base + at;
    const flags = m.descriptor ? 0x8 : 0;
    const sizes = m.descriptor ? [0, 0, 0] : [crc, data.length, raw.length];
    push(Buffer.concat([le32(0x04034b50), le16(version), le16(flags), le16(m.method), le32(0), le32(sizes[0]!), le32(sizes[1]!), le32(sizes[2]!), le16(name.length), le16(0), name, data]));
    if (m.descriptor) push(Buffer.concat([le32(0x08074b50), le32(crc), ...(o.zip64 ? [le64(data.length), le64(raw.length)] : [le32(data.length), le32(raw.length)])]));
    const extra = o.zip64 ? Buffer.concat([le16(1), le16(24), le64(raw.length), le64(data.length), le64(offset)]) : Buffer.alloc(0);
    const [cs, us, off] = o.zip64 ? [0xffffffff, 0xffffffff, 0xffffffff] : [data.length, raw.length, offset];
    central.push(Buffer.concat([le32(0x02014b50), le16(version), le16(version), le16(flags), le16(m.method), le32(0), le32(crc), le32(cs), le32(us), le16(name.length), le16(extra.length), le16(0), le16(0), le16(0), le32(0), le32(off), name, extra]));
  }
  const cdStart = o.base + at;
  for (const c of central) push(c);
  const cdSize = o.base + at - cdStart;
  if (o.zip64) {
    const e64At = o.base + at;
    push(Buffer.concat([le32(0x06064b50), le64(44), le16(45), le16(45), le32(0), le32(0), le64(members.length), le64(members.length), le64(cdSize), le64(cdStart)]));
    push(Buffer.concat([le32(0x07064b50), le32(0), le64(e64At), le32(1)]));
  }
  const comment = Buffer.from(o.comment, 'latin1');
  const n = o.zip64 ? 0xffff : members.length;
  push(Buffer.concat([le32(0x06054b50), le16(0), le16(0), le16(n), le16(n), le32(o.zip64 ? 0xffffffff : cdSize), le32(o.zip64 ? 0xffffffff : cdStart), le16(comment.length), comment]));
  return Buffer.concat(out);
}

/** The offset of the last end record's field `f` (8/10 counts, 12 size, 16 offset, 20 comment length). */
const endField = (b: Buffer, f: number): number => b.lastIndexOf(Buffer.from('PK\x05\x06', 'latin1')) + f;
const eocd64Field = (b: Buffer, f: number): number => b.lastIndexOf(Buffer.from('PK\x06\x06', 'latin1')) + f;

function build(v: Variant): Buffer {
  let b = Buffer.concat([v.prefix, archive(v.members, { zip64: v.zip64, comment: v.comment, base: v.relative ? 0 : v.prefix.length })]);
  const count = (delta: number): void => {
    if (v.zip64) for (const f of [24, 32]) b.writeBigUInt64LE(BigInt(Math.max(0, v.members.length + delta)), eocd64Field(b, f));
    else for (const f of [8, 10]) b.writeUInt16LE(Math.max(0, v.members.length + delta), endField(b, f));
  };
  const size = (delta: number): void => {
    if (v.zip64) b.writeBigUInt64LE(b.readBigUInt64LE(eocd64Field(b, 40)) + BigInt(delta), eocd64Field(b, 40));
    else b.writeUInt32LE(Math.max(0, b.readUInt32LE(endField(b, 12)) + delta), endField(b, 12));
  };
  switch (v.mutation) {
    case 'count-low':
      count(-1);
      break;
    case 'count-high':
      count(1);
      break;
    case 'size-short':
      size(-46);
      break;
    case 'size-long':
      size(46);
      break;
    case 'comment-lie':
      b.writeUInt16LE(b.readUInt16LE(endField(b, 20)) + 50, endField(b, 20));
      break;
    case 'trailing':
      b = Buffer.concat([b, Buffer.from('trailing bytes after the archive', 'latin1')]);
      break;
    case 'offset-lie':
      if (!v.zip64) b.writeUInt32LE(b.readUInt32LE(endField(b, 16)) + 7, endField(b, 16));
      break;
    case 'second-archive':
    case 'second-archive-lying': {
      const second = archive([{ name: 'second/hidden.pkl', method: 0, descriptor: false }], { zip64: false, comment: '', base: b.length });
      b = Buffer.concat([b, second]);
      if (v.mutation === 'second-archive-lying') b.writeUInt16LE(64, endField(b, 20));
      break;
    }
  }
  return b;
}

// Plain names, a name zipfile decodes as code page 437, and one it cuts at a NUL.
const NAMES = ['archive/data.pkl', 'archive/data/0', 'config.json', 'x.npy', 'a', 'dir/b.bin', 'caf\u00e9.bin', 'config.json\0.txt'];
const member: fc.Arbitrary<Member> = fc.record({ name: fc.constantFrom(...NAMES), method: fc.constantFrom(0 as const, 8 as const), descriptor: fc.boolean() });
const variant: fc.Arbitrary<Variant> = fc.record({
  members: fc.array(member, { minLength: 1, maxLength: 4 }),
  zip64: fc.boolean(),
  comment: fc.oneof(fc.constant(''), fc.string({ maxLength: 12 }).map((s) => s.replace(/[^\x20-\x7e]/g, '.'))),
  prefix: fc.oneof(
    { arbitrary: fc.constant(Buffer.alloc(0)), weight: 2 },
    { arbitrary: fc.uint8Array({ minLength: 1, maxLength: 8 }).map((a) => Buffer.from(a)), weight: 1 },
    { arbitrary: fc.constant(Buffer.from('N.', 'latin1')), weight: 1 },
  ),
  relative: fc.boolean(),
  // Well-formed archives often enough to show none of them is called ambiguous.
  mutation: fc.oneof(
    { arbitrary: fc.constant('none' as const), weight: 3 },
    { arbitrary: fc.constantFrom('count-low', 'count-high', 'size-short', 'size-long', 'comment-lie', 'trailing', 'second-archive', 'second-archive-lying', 'offset-lie'), weight: 7 },
  ),
});

async function memberDigest(data: Buffer, e: ZipEntry): Promise<string> {
  const m = await openMember(bufferAccess(data), e);
  const w = new Window(m.source);
  try {
    return createHash('sha256').update((await w.take(e.size)) ?? Buffer.alloc(0)).digest('hex');
  } finally {
    m.close();
  }
}

interface PyAnswer {
  ok: boolean;
  /** BadZipFile (as opposed to another refusal, e.g. an unsupported feature). */
  bad?: boolean;
  error?: string;
  /** Name, size, local header offset, SHA-256 of what `read()` inflates (null when zipfile cannot read it). */
  members?: Array<[string, number, number, string | null]>;
}

const ZIPFILE_LIST = `
import hashlib, io, zipfile
for b in samples:
    try:
        z = zipfile.ZipFile(io.BytesIO(b))
        members = []
        for i in z.infolist():
            try:
                digest = hashlib.sha256(z.read(i)).hexdigest()
            except Exception:
                digest = None
            members.append([i.filename, i.file_size, i.header_offset, digest])
        out.append({'ok': True, 'members': members})
    except zipfile.BadZipFile as e:
        out.append({'ok': False, 'bad': True, 'error': str(e)})
    except Exception as e:
        out.append({'ok': False, 'bad': False, 'error': type(e).__name__ + ': ' + str(e)})
`;

describe("mlgate's zip reader against CPython's zipfile", () => {
  it('lists, reads alike and scans every member zipfile lists; what zipfile refuses, mlgate cannot read that way either', async () => {
    const variants = fc.sample(variant, { numRuns: 400, seed: 19 });
    const samples = variants.map(build);
    const answers = pythonBatch<PyAnswer>(ZIPFILE_LIST, samples);
    const seen = { listed: 0, refused: 0, ambiguous: 0, read: 0, wellFormed: 0 };
    for (let i = 0; i < samples.length; i++) {
      const data = samples[i]!;
      const py = answers[i]!;
      const context = JSON.stringify({ ...variants[i], prefix: variants[i]!.prefix.toString('hex'), python: py });
      const listing = await readZip(bufferAccess(data));
      const scan = await scanModelBytes(data, 'strict', { allow: compileAllowList([]), maxBytes: 1 << 26 });
      const messages = scan.issues.map((x) => x.message).join('\n');
      if (py.ok) {
        seen.listed++;
        for (const [name, size, offset, digest] of py.members!) {
          const mine = listing.entries.find((e) => e.name === name && e.size === size && e.localHeaderOffset === offset);
          expect(mine?.seenBy, `${name} @${offset}: ${context}`).toContain('zipfile');
          expect(messages, `${name} not scanned: ${context}`).toContain(`member ${JSON.stringify(name)}`);
          // Where zipfile can read the member, mlgate reads the same bytes.
          if (digest) {
            seen.read++;
            expect(await memberDigest(data, mine!), `${name} content: ${context}`).toBe(digest);
          }
        }
      } else if (py.bad) {
        seen.refused++;
        // mlgate's zipfile view fails too; and bytes that begin as a zip fail the scan.
        expect(listing.entries.filter((e) => e.seenBy.includes('zipfile')), context).toEqual([]);
        if (looksLikeZipStart(data)) expect(scan.issues.map((x) => x.code), context).toContain('malformed');
      }
      if (listing.problems.length) seen.ambiguous++;
      const v = variants[i]!;
      const plainNames = v.members.every((m) => !m.name.includes('\0')) && new Set(v.members.map((m) => m.name)).size === v.members.length;
      if (v.mutation === 'none' && !v.prefix.length && plainNames) {
        seen.wellFormed++;
        // A well-formed archive is never called ambiguous.
        expect(listing.problems.map((x) => x.message), context).toEqual([]);
        expect(scan.issues.filter((x) => /ambiguous|cannot be read as a zip/.test(x.message)), context).toEqual([]);
      }
    }
    // The generator must reach every outcome, or the comparison proves little.
    expect(seen.listed).toBeGreaterThan(100);
    expect(seen.refused).toBeGreaterThan(20);
    expect(seen.ambiguous).toBeGreaterThan(100);
    expect(seen.read).toBeGreaterThan(200);
    expect(seen.wellFormed).toBeGreaterThan(20);
  }, 240_000);

  it('agrees on the hand-written corner cases', async () => {
    const corner: Variant[] = [
      { members: [{ name: 'archive/data.pkl', method: 0, descriptor: false }], zip64: false, comment: '', prefix: Buffer.alloc(0), relative: false, mutation: 'none' },
      { members: [{ name: 'a', method: 8, descriptor: true }, { name: 'a', method: 0, descriptor: false }], zip64: true, comment: 'c', prefix: Buffer.alloc(0), relative: false, mutation: 'none' },
      { members: [{ name: 'config.json', method: 0, descriptor: false }], zip64: false, comment: '', prefix: Buffer.from([1, 2]), relative: true, mutation: 'none' },
      { members: [{ name: 'x.npy', method: 0, descriptor: false }, { name: 'a', method: 0, descriptor: false }], zip64: false, comment: '', prefix: Buffer.alloc(0), relative: false, mutation: 'count-low' },
      { members: [{ name: 'a', method: 0, descriptor: false }], zip64: false, comment: '', prefix: Buffer.alloc(0), relative: false, mutation: 'second-archive-lying' },
    ];
    const samples = corner.map(build);
    const answers = pythonBatch<PyAnswer>(ZIPFILE_LIST, samples);
    const problems = await Promise.all(samples.map(async (s) => (await readZip(bufferAccess(s))).problems.length));
    // Well-formed (with duplicates flagged), prefixed, short count, second archive.
    expect(answers.map((a) => a.ok)).toEqual([true, true, true, true, true]);
    expect(problems.map((n) => n > 0)).toEqual([false, true, true, true, true]);
    expect(answers[4]!.members!.map((m) => m[0])).toEqual(['second/hidden.pkl']);
  });
});
