import { InflateSource, rangeSource, readRange, type ByteSource, type RandomAccess } from './pickle/source.js';
import { zipfileEndAt, minizEndAt, fittingEndAt, declaredComment, readTail, zipfileView, minizView, EOCD_SIZE, type LoaderView } from './zip-loaders.js';
import { DEFAULT_ZIP_LIMITS, LOADER_NAMES, ZipError, type ZipEntry, type ZipLimits, type ZipLoader } from './zip-types.js';

export { DEFAULT_ZIP_LIMITS, LOADER_NAMES, ZipError, type ZipEntry, type ZipLimits, type ZipLoader };

/**
 * A bounded zip reader that sees an archive the way each loader of model
 * files does — Python's zipfile (Keras, NumPy) and miniz (PyTorch) — and
 * returns every member either sees. General-purpose flags, CRCs and the names
 * in local headers are ignored (a local header only says where the data
 * starts). ZIP64 is supported. Nothing is extracted to disk.
 */

const SIG_LOCAL = 0x04034b50;

/** True when the first bytes are a local file header or an empty archive's end record. */
export function looksLikeZipStart(head: Buffer): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
}

export interface ZipListing {
  /** Every member some loader sees (the same member seen by both appears once). */
  entries: ZipEntry[];
  /**
   * Why the archive is not one unambiguous zip: a loader that cannot read it
   * while another can, several end records, a count that disagrees with the
   * directory, shifted offsets, duplicate names. Empty for a well-formed zip.
   * When `entries` is empty, these say why nothing could be read.
   */
  problems: ZipError[];
  /** Where the archive ends by the end record the loaders use (record and declared comment), when one was read. */
  endOfArchive?: number;
}

const key = (e: ZipEntry): string => `${e.name}\0${e.localHeaderOffset}\0${e.compressedSize}\0${e.size}\0${e.method}`;

async function view(load: () => Promise<LoaderView>): Promise<LoaderView | ZipError> {
  try {
    return await load();
  } catch (e) {
    if (e instanceof ZipError) return e;
    throw e;
  }
}

/** Reads the archive as every loader would, and says where they would disagree. */
export async function readZip(ra: RandomAccess, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<ZipListing> {
  const tail = await readTail(ra);
  const at: Record<ZipLoader, number | undefined> = { zipfile: zipfileEndAt(tail), miniz: minizEndAt(tail) };
  const views: Record<ZipLoader, LoaderView | ZipError> = {
    zipfile: at.zipfile === undefined ? new ZipError('no end-of-central-directory record') : await view(() => zipfileView(ra, at.zipfile!, limits)),
    miniz: at.miniz === undefined ? new ZipError('no end-of-central-directory record') : await view(() => minizView(ra, at.miniz!, limits)),
  };
  const ok = (['zipfile', 'miniz'] as const).filter((l) => !(views[l] instanceof ZipError)).map((l) => views[l] as LoaderView);
  const problems: ZipError[] = [];
  if (!ok.length) {
    const [z, m] = [views.zipfile as ZipError, views.miniz as ZipError];
    problems.push(z.message === m.message ? z : new ZipError(`${LOADER_NAMES.miniz}: ${m.message}; ${LOADER_NAMES.zipfile}: ${z.message}`, z.budget || m.budget));
    return { entries: [], problems };
  }
  const byKey = new Map<string, ZipEntry>();
  for (const v of ok) {
    for (const e of v.entries) {
      const prev = byKey.get(key(e));
      if (prev) prev.seenBy.push(...e.seenBy.filter((l) => !prev.seenBy.includes(l)));
      else byKey.set(key(e), { ...e, seenBy: [...e.seenBy] });
    }
  }
  const entries = [...byKey.values()];
  for (const l of ['zipfile', 'miniz'] as const) {
    const v = views[l];
    if (v instanceof ZipError) problems.push(new ZipError(`${LOADER_NAMES[l]} cannot read it (${v.message}) while ${LOADER_NAMES[l === 'zipfile' ? 'miniz' : 'zipfile']} can`, v.budget));
  }
  for (const endAt of new Set(ok.map((v) => v.endAt))) {
    const comment = declaredComment(tail, endAt);
    const after = ra.size - endAt - EOCD_SIZE;
    if (comment !== after) {
      const fitting = fittingEndAt(tail);
      const other = fitting !== undefined && fitting !== endAt ? `; another end record, at byte ${fitting}, does fit and describes a different archive` : '';
      problems.push(new ZipError(`its end-of-central-directory record at byte ${endAt} declares a ${comment}-byte comment but ${after} bytes follow it${other}`));
    }
  }
  const [a, b] = ok;
  if (a && b && a.endAt !== b.endAt) problems.push(new ZipError(`${LOADER_NAMES[a.loader]} takes the end record at byte ${a.endAt}, ${LOADER_NAMES[b.loader]} the one at byte ${b.endAt}`));
  for (const v of ok) {
    if (v.loader === 'zipfile' && v.shift !== 0) problems.push(new ZipError(`its central directory is ${Math.abs(v.shift)} bytes ${v.shift > 0 ? 'after' : 'before'} where its end record says: ${LOADER_NAMES.zipfile} shifts every offset to compensate, ${LOADER_NAMES.miniz} does not`));
    if (v.entries.length !== v.declaredCount) problems.push(new ZipError(`its end record lists ${v.declaredCount} members but its central directory holds ${v.entries.length} (${LOADER_NAMES.zipfile} reads by size, ${LOADER_NAMES.miniz} by count)`));
    const names = new Map<string, number>();
    for (const e of v.entries) names.set(e.name, (names.get(e.name) ?? 0) + 1);
    const dup = [...names].filter(([, n]) => n > 1).map(([n]) => JSON.stringify(n));
    if (dup.length) problems.push(new ZipError(`${LOADER_NAMES[v.loader]} sees the name${dup.length > 1 ? 's' : ''} ${dup.slice(0, 5).join(', ')} more than once, and loaders differ in which copy they load`));
  }
  if (a && b && !problems.length && entries.some((e) => e.seenBy.length < 2)) problems.push(new ZipError(`${LOADER_NAMES.zipfile} and ${LOADER_NAMES.miniz} see different members`));
  const end = ok[0]!.endAt;
  return { entries, problems, endOfArchive: Math.min(ra.size, end + EOCD_SIZE + declaredComment(tail, end)) };
}

/** The members of an archive every loader reads alike; throws ZipError when it cannot be read unambiguously. */
export async function readCentralDirectory(ra: RandomAccess, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<ZipEntry[]> {
  const { entries, problems } = await readZip(ra, limits);
  if (problems.length) throw new ZipError(problems.map((p) => p.message).join('; '), problems.some((p) => p.budget));
  return entries;
}

/** Where a member's data starts: after its local header, whose name and extra field lengths are taken as written. */
export async function dataOffset(ra: RandomAccess, e: ZipEntry): Promise<number> {
  if (e.localHeaderOffset < 0) throw new ZipError(`member ${JSON.stringify(e.name)} would start before the file does`);
  const h = await readRange(ra, e.localHeaderOffset, 30);
  if (h.length < 30 || h.readUInt32LE(0) !== SIG_LOCAL) throw new ZipError(`member ${JSON.stringify(e.name)} has no local header at offset ${e.localHeaderOffset}`);
  const start = e.localHeaderOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
  if (start + e.compressedSize > ra.size) throw new ZipError(`member ${JSON.stringify(e.name)} runs past the end of the file (truncated archive)`);
  return start;
}

export interface MemberStream {
  source: ByteSource;
  /** Random access to the member's bytes when it is stored (uncompressed). */
  access?: RandomAccess;
  /** After reading: true when a deflated member produced more than its declared size. */
  overflowed(): boolean;
  close(): void;
}

/** Opens a member for streaming: stored members directly, deflated ones through zlib with a size cap. */
export async function openMember(ra: RandomAccess, e: ZipEntry, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<MemberStream> {
  const start = await dataOffset(ra, e);
  if (e.method === 0) {
    const access: RandomAccess = {
      size: e.compressedSize,
      readAt: (buf, off, len, pos) => ra.readAt(buf, off, Math.max(0, Math.min(len, e.compressedSize - pos)), start + pos),
    };
    return { source: rangeSource(ra, start, e.compressedSize), access, overflowed: () => false, close: () => {} };
  }
  if (e.method === 8) {
    if (e.size > 1024 * 1024 && e.size / Math.max(1, e.compressedSize) > limits.maxRatio) {
      throw new ZipError(`member ${JSON.stringify(e.name)} claims ${e.size} bytes from ${e.compressedSize} compressed (ratio over ${limits.maxRatio}: a decompression bomb)`, true);
    }
    const src = new InflateSource(ra, start, e.compressedSize, 'deflate-raw', e.size);
    return { source: src, overflowed: () => src.overflow, close: () => src.close() };
  }
  throw new ZipError(`member ${JSON.stringify(e.name)} uses compression method ${e.method}, which mlgate cannot read`);
}
