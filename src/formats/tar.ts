import { readRange, type RandomAccess } from './pickle/source.js';

/**
 * Lists a tar archive the way CPython's `tarfile` does in read mode (`r:`):
 * v7, ustar, GNU (long names, old sparse) and pax (extended and global headers,
 * sparse 0.0/0.1/1.0). It is what `torch.load` reads a legacy checkpoint with,
 * so every member `tarfile` would hand to a loader must be listed here too.
 * Nothing is extracted; names are never used as paths.
 */

export const TAR_BLOCK = 512;

export class TarError extends Error {
  override name = 'TarError';
  constructor(
    message: string,
    readonly budget = false,
  ) {
    super(message);
  }
}

export interface TarMember {
  name: string;
  /** The typeflag byte as a character (`0`, `\0`, `5`, `x`…), after pax and GNU processing. */
  type: string;
  /** Offset of the member's header (of its first pax or GNU header, when it has one). */
  headerOffset: number;
  /** Where its stored data begins. */
  dataOffset: number;
  /** Bytes a reader gets from it (for a sparse member, the expanded size). */
  size: number;
  /** `[offset, length]` runs of a sparse member, stored back to back from `dataOffset`. */
  sparse?: Array<[number, number]>;
  linkname: string;
  /** `tarfile.extractfile` returns this member's own bytes: regular files and unknown types. */
  isFile: boolean;
}

export interface TarListing {
  members: TarMember[];
  /** Offset after the last header `tarfile` would read (where it stops listing). */
  end: number;
  /** Why listing stopped early (a header `tarfile` refuses after the first one), if it did. */
  stopped?: string;
}

const REGULAR = new Set(['0', '\0', '7', 'S']);
const GNU_TYPES = new Set(['L', 'K', 'S']);
const SUPPORTED = new Set([...REGULAR, '1', '2', '5', '6', '3', '4', 'L', 'K', 'x', 'g', 'X']);
const PY_SPACE = /^[\s\x1c-\x1f]+|[\s\x1c-\x1f]+$/g;
const OCTAL = /^[+-]?(?:0[oO]_?)?[0-7]+(?:_[0-7]+)*$/;
const DECIMAL = /^[+-]?[0-9]+(?:_[0-9]+)*$/;

/** A header field `tarfile` could not read: listing stops there. */
class BadHeader extends Error {}

function nts(b: Buffer): Buffer {
  const nul = b.indexOf(0);
  return nul === -1 ? b : b.subarray(0, nul);
}

const text = (b: Buffer): string => nts(b).toString('utf8');

/** tarfile's `nti`: NUL-terminated octal text (as Python's `int(s, 8)` reads it), or base-256 binary. */
function nti(b: Buffer): number {
  if (b[0] === 0o200 || b[0] === 0o377) {
    let n = 0n;
    for (let i = 1; i < b.length; i++) n = (n << 8n) | BigInt(b[i]!);
    if (b[0] === 0o377) n = -(256n ** BigInt(b.length - 1) - n);
    if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < -BigInt(Number.MAX_SAFE_INTEGER)) throw new BadHeader('a number field is out of range');
    return Number(n);
  }
  const raw = nts(b);
  if (raw.some((c) => c > 0x7f)) throw new BadHeader('a number field is not ASCII');
  const s = raw.toString('latin1').replace(PY_SPACE, '');
  if (s === '') return 0;
  if (!OCTAL.test(s)) throw new BadHeader('a number field is not octal');
  const v = parseInt(s.replace(/_/g, '').replace(/^([+-]?)0[oO]/, '$1'), 8);
  if (!Number.isSafeInteger(v)) throw new BadHeader('a number field is out of range');
  return v;
}

/** Python's `int(value)` for pax numbers; tarfile treats a bad one as 0. */
function paxInt(v: string): number {
  const s = v.replace(PY_SPACE, '');
  if (!DECIMAL.test(s)) return 0;
  const n = Number(s.replace(/_/g, ''));
  return Number.isSafeInteger(n) ? n : 0;
}

/** The two checksums tarfile accepts: bytes summed unsigned or signed, the checksum field counted as spaces. */
function checksumOk(h: Buffer): boolean {
  let unsigned = 256;
  let signed = 256;
  for (let i = 0; i < TAR_BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    const c = h[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  let stored: number;
  try {
    stored = nti(h.subarray(148, 156));
  } catch {
    return false;
  }
  return stored === unsigned || stored === signed;
}

/** Whether a file starts with a tar header `tarfile` accepts (the first 512 bytes). */
export function looksLikeTar(head: Buffer): boolean {
  if (head.length < TAR_BLOCK) return false;
  const h = head.subarray(0, TAR_BLOCK);
  if (h.every((c) => c === 0)) return false;
  return checksumOk(h);
}

const roundUp = (n: number): number => Math.ceil(n / TAR_BLOCK) * TAR_BLOCK;

interface Header {
  name: string;
  type: string;
  size: number;
  linkname: string;
  offset: number;
  dataOffset: number;
  sparse?: Array<[number, number]>;
  /** Old GNU sparse: the expanded size. */
  origSize?: number;
}

export interface TarLimits {
  maxMembers: number;
  /** Bytes of pax and GNU long-name data read per header. */
  maxMetaBytes: number;
}

const DEFAULT_LIMITS: TarLimits = { maxMembers: 100_000, maxMetaBytes: 1024 * 1024 };

/** Reads the archive's member list; throws TarError when the first header is not one `tarfile` accepts. */
export async function readTar(ra: RandomAccess, limits: TarLimits = DEFAULT_LIMITS): Promise<TarListing> {
  const members: TarMember[] = [];
  const globalPax = new Map<string, string>();
  let pos = 0;
  let stopped: string | undefined;

  const block = async (at: number): Promise<Buffer> => readRange(ra, at, TAR_BLOCK);
  const meta = async (at: number, size: number): Promise<Buffer> => {
    if (size > limits.maxMetaBytes) throw new TarError(`a pax or GNU long-name header at byte ${at} is ${size} bytes, over the ${limits.maxMetaBytes}-byte cap`, true);
    return readRange(ra, at, roundUp(size));
  };

  /** tarfile's `frombuf` + `_proc_member`: one logical member from `at`; `cursor.next` is where the next header starts. */
  const member = async (at: number, cursor: { next: number }, depth: number): Promise<Header | 'eof'> => {
    if (depth > 64) throw new BadHeader('too many chained pax or GNU headers');
    const h = await block(at);
    if (h.length === 0) return 'eof';
    if (h.length < TAR_BLOCK) throw new BadHeader('truncated header');
    if (h.every((c) => c === 0)) return 'eof';
    if (!checksumOk(h)) throw new BadHeader('bad checksum');
    let type = String.fromCharCode(h[156]!);
    let name = text(h.subarray(0, 100));
    for (const [from, to] of [[100, 108], [108, 116], [116, 124], [136, 148], [329, 337], [337, 345]] as const) nti(h.subarray(from, to));
    const size = nti(h.subarray(124, 136));
    const linkname = text(h.subarray(157, 257));
    const prefix = text(h.subarray(345, 500));
    if (type === '\0' && name.endsWith('/')) type = '5';
    let sparse: Array<[number, number]> | undefined;
    let origSize: number | undefined;
    let extended = false;
    if (type === 'S') {
      sparse = [];
      for (let i = 0, p = 386; i < 4; i++, p += 24) sparse.push([nti(h.subarray(p, p + 12)), nti(h.subarray(p + 12, p + 24))]);
      extended = h[482] !== 0;
      origSize = nti(h.subarray(483, 495));
    }
    if (type === '5') name = name.replace(/\/+$/, '');
    if (prefix && !GNU_TYPES.has(type)) name = `${prefix}/${name}`;
    const hdr: Header = { name, type, size, linkname, offset: at, dataOffset: at + TAR_BLOCK };
    let after = at + TAR_BLOCK;

    if (type === 'L' || type === 'K') {
      const data = await meta(after, size);
      cursor.next = after + data.length;
      const next = await member(cursor.next, cursor, depth + 1);
      if (next === 'eof') throw new BadHeader('a GNU long-name header is the last one');
      next.offset = at;
      if (type === 'L') next.name = text(data);
      else next.linkname = text(data);
      if (next.type === '5') next.name = next.name.replace(/\/$/, '');
      return next;
    }
    if (type === 'S') {
      while (extended) {
        const ext = await block(after);
        if (ext.length < TAR_BLOCK) throw new BadHeader('truncated sparse header');
        after += TAR_BLOCK;
        for (let i = 0, p = 0; i < 21; i++, p += 24) {
          const off = nti(ext.subarray(p, p + 12));
          const len = nti(ext.subarray(p + 12, p + 24));
          if (off && len) sparse!.push([off, len]);
        }
        extended = ext[504] !== 0;
      }
      hdr.dataOffset = after;
      hdr.sparse = sparse;
      hdr.origSize = origSize;
      cursor.next = after + roundUp(size);
      return hdr;
    }
    if (type === 'x' || type === 'g' || type === 'X') {
      const data = await meta(after, size);
      const pax = type === 'g' ? globalPax : new Map(globalPax);
      const raw = data.toString('latin1');
      const record = /([0-9]+) ([^=]+)=/y;
      for (let p = 0; p < raw.length; ) {
        record.lastIndex = p;
        const m = record.exec(raw);
        if (!m) break;
        const length = Number(m[1]);
        if (length === 0) throw new BadHeader('a pax record of length 0');
        const valueStart = record.lastIndex;
        pax.set(Buffer.from(m[2]!, 'latin1').toString('utf8'), Buffer.from(raw.slice(valueStart, Math.max(valueStart, p + length - 1)), 'latin1').toString('utf8'));
        p += length;
      }
      cursor.next = after + data.length;
      const next = await member(cursor.next, cursor, depth + 1);
      if (next === 'eof') throw new BadHeader('a pax header is the last one');
      if (pax.has('GNU.sparse.map')) {
        const nums = pax.get('GNU.sparse.map')!.split(',').map((x) => paxInt(x));
        next.sparse = [];
        for (let i = 0; i + 1 < nums.length; i += 2) next.sparse.push([nums[i]!, nums[i + 1]!]);
      } else if (pax.has('GNU.sparse.size')) {
        const offsets = [...raw.matchAll(/[0-9]+ GNU\.sparse\.offset=([0-9]+)\n/g)].map((m) => Number(m[1]));
        const numbytes = [...raw.matchAll(/[0-9]+ GNU\.sparse\.numbytes=([0-9]+)\n/g)].map((m) => Number(m[1]));
        next.sparse = offsets.slice(0, numbytes.length).map((o, i) => [o, numbytes[i]!]);
      } else if (pax.get('GNU.sparse.major') === '1' && pax.get('GNU.sparse.minor') === '0') {
        // The map is text at the start of the data: a count, then offset and length pairs, one per line.
        const mapBytes = await meta(next.dataOffset, limits.maxMetaBytes);
        const lines = mapBytes.toString('latin1').split('\n');
        const number = (l: string | undefined): number => {
          const t = (l ?? '').replace(PY_SPACE, '');
          if (!DECIMAL.test(t)) throw new BadHeader('an unreadable sparse map');
          return Number(t.replace(/_/g, ''));
        };
        const count = number(lines[0]);
        if (!Number.isSafeInteger(count) || count < 0 || lines.length < 2 + count * 2) throw new BadHeader('an unreadable sparse map');
        const nums = lines.slice(1, 1 + count * 2).map(number);
        next.sparse = [];
        for (let i = 0; i < nums.length; i += 2) next.sparse.push([nums[i]!, nums[i + 1]!]);
        const mapLen = lines.slice(0, 1 + count * 2).reduce((a, l) => a + l.length + 1, 0);
        // tarfile reads the map a block at a time; at the end of a cut archive it stops at the end.
        next.dataOffset = Math.min(next.dataOffset + roundUp(mapLen), ra.size);
      }
      if (type === 'x' || type === 'X') {
        applyPax(next, pax);
        next.offset = at;
        if (pax.has('size') && (REGULAR.has(next.type) || !SUPPORTED.has(next.type))) cursor.next = next.dataOffset + roundUp(Math.max(0, next.size));
        else if (pax.has('size')) cursor.next = next.dataOffset;
      }
      return next;
    }
    cursor.next = after + (REGULAR.has(type) || !SUPPORTED.has(type) ? roundUp(size) : 0);
    applyPax(hdr, globalPax);
    if (hdr.type === '5') hdr.name = hdr.name.replace(/\/+$/, '');
    return hdr;
  };

  for (;;) {
    const cursor = { next: pos };
    let hdr: Header | 'eof';
    try {
      hdr = await member(pos, cursor, 0);
    } catch (e) {
      if (!(e instanceof BadHeader)) throw e;
      if (pos === 0) throw new TarError(`not a tar archive tarfile can read: ${e.message}`);
      stopped = `${e.message} at byte ${pos}`;
      break;
    }
    if (hdr === 'eof') break;
    if (members.length >= limits.maxMembers) throw new TarError(`the archive has more than ${limits.maxMembers} members`, true);
    const isFile = REGULAR.has(hdr.type) || !SUPPORTED.has(hdr.type);
    const size = hdr.origSize ?? hdr.size;
    members.push({ name: hdr.name, type: hdr.type, headerOffset: hdr.offset, dataOffset: hdr.dataOffset, size: Math.max(0, size), ...(hdr.sparse ? { sparse: hdr.sparse } : {}), linkname: hdr.linkname, isFile });
    if (cursor.next <= pos) throw new TarError(`a header at byte ${pos} points back into the archive`);
    pos = cursor.next;
    // tarfile checks that the previous member's data is all there before reading the next header.
    if (pos > ra.size) {
      stopped = `the data of the last member runs past the end of the file (byte ${ra.size})`;
      break;
    }
  }
  return { members, end: pos, ...(stopped ? { stopped } : {}) };
}

function applyPax(h: Header, pax: ReadonlyMap<string, string>): void {
  for (const [k, v] of pax) {
    if (k === 'GNU.sparse.name' || k === 'path') h.name = k === 'path' ? v.replace(/\/+$/, '') : v;
    else if (k === 'GNU.sparse.size' || k === 'GNU.sparse.realsize') h.size = paxInt(v);
    else if (k === 'linkpath') h.linkname = v;
    else if (k === 'size') h.size = paxInt(v);
  }
}
