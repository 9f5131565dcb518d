import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { classifyGlobal, isPlausibleGlobal, type AllowList } from './classify.js';
import { IS_OPCODE, OP, HIGHEST_PROTOCOL } from './opcodes.js';
import { PickleMachine, type ImportRef, type ScanIssue } from './scanner.js';
import { DecompressError, InflateSource, bufferAccess, fileAccess, prefixedSource, rangeSource, sparseSource, subAccess, type ByteSource, type RandomAccess } from './source.js';
import { Window } from './window.js';
import { LOADER_NAMES, ZipError, looksLikeZipStart, openMember, readZip, type ZipEntry, type ZipListing } from '../zip.js';
import { NPY_MAX_HEADER, NpyError, looksLikeNpy, parseNpyHeader, npyPrefixLength } from '../npy.js';
import { HDF5_MAGIC, customObjectMessage } from '../keras.js';
import { scanKerasH5 } from '../keras-h5.js';
import { kerasConfigIssues } from '../keras-issues.js';
import { archiveSpan, isNestedPayload } from './zip-tail.js';
import { TAR_BLOCK, TarError, looksLikeTar, readTar, type TarMember } from '../tar.js';
import { compressionOf, type Compression } from './compression.js';
import { memberNameEscape, tarMemberEscape } from '../archive-members.js';

/**
 * Scans one model file by content: raw pickles (several in a row), legacy
 * (raw and tar) and zip PyTorch checkpoints, joblib (with interleaved arrays),
 * .npy/.npz with object arrays, gzip/zlib-compressed content, tar archives,
 * Keras .keras and .h5, and pickles or archives embedded as bytes in a
 * pickle. Nothing is executed.
 */

export type ModelIssueCode = 'dangerous-global' | 'unknown-global' | 'dynamic-import' | 'global-mutation' | 'malformed' | 'lambda-layer' | 'keras-custom-object' | 'budget-exceeded' | 'unscannable' | 'archive-member-escape' | 'tf-op-lambda' | 'keras-bytecode';

export interface ModelIssue {
  code: ModelIssueCode;
  message: string;
  /** `warning` for what is unknown but not known to be dangerous; the rule may raise it. */
  severity: 'error' | 'warning';
}

export interface ModelScanOptions {
  allow: AllowList;
  signal?: AbortSignal;
  /** Bytes read (not skipped) per file before the scan gives up with budget-exceeded. */
  maxBytes: number;
  /** Nested byte strings and archives inside archives. */
  maxDepth?: number;
}

/** How sure we are the bytes are a pickle: `strict` must parse; `tentative` may be data. */
export type Mode = 'strict' | 'tentative';
/**
 * `sniff`: a file found by content; its first pickle is parsed as far as it
 * goes (bounded by the file's budget) and reported if it parses or reads as
 * pickle opcodes for long enough. `after`: bytes after a pickle's STOP that no
 * format explains.
 */
type PickleMode = Mode | 'sniff' | 'after';

/** The first of the five pickles of a legacy (pre-1.6, non-zip) torch.save: the magic number 0x1950a86a20f9469cfc6c. */
const TORCH_MAGIC_LONG1 = Buffer.from([0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);
const TORCH_MAGIC_TEXT = Buffer.from('L119547037146038801333356');
/** Legacy torch.save writes five pickles (magic, protocol, sys_info, object, storage keys); raw storages follow. */
const TORCH_LEGACY_PICKLES = 5;
/** Bytes per element of each storage class, to skip the raw storages of a legacy tar checkpoint. */
const STORAGE_ELEMENT_SIZE: Record<string, number> = {
  DoubleStorage: 8, FloatStorage: 4, HalfStorage: 2, BFloat16Storage: 2, LongStorage: 8, IntStorage: 4, ShortStorage: 2,
  CharStorage: 1, ByteStorage: 1, BoolStorage: 1, ComplexDoubleStorage: 16, ComplexFloatStorage: 8,
  QUInt8Storage: 1, QInt8Storage: 1, QInt32Storage: 4, QUInt4x2Storage: 1, QUInt2x4Storage: 1, UntypedStorage: 1,
};
/** Opcodes a failed parse of unexplained bytes must have read before the bytes count as a broken pickle rather than data. */
const PICKLE_LIKE_OPCODES = 32;
const PICKLE_MEMBER = /(^|\/)[^/]*\.(pkl|pickle)$/;
const CONFIG_JSON_MAX = 64 * 1024 * 1024;
const NESTED_ZIP_MAX = 64 * 1024 * 1024;
const H5_HEAD = 64 * 1024 * 1024;
const H5_TAIL = 16 * 1024 * 1024;
const MAX_ISSUES = 200;
/** Archives and compressed streams inside one another (a tar in a gzip in a zip is 3). */
const MAX_CONTAINER_DEPTH = 16;

const ESCAPE_WHY = '; unpacking the bundle (tar -x, tarfile.extractall without a filter, shutil.unpack_archive, many unzip tools) writes outside the target directory, e.g. over a shell profile or an installed Python module. Re-create the archive with relative member names and no links';

export class BudgetError extends Error {
  override name = 'BudgetError';
}

/** Counts the bytes actually read so a huge file fails closed instead of running on. */
function counted(src: ByteSource, state: { read: number; max: number }): ByteSource {
  return {
    read: async (buf, off, max) => {
      const n = await src.read(buf, off, max);
      state.read += n;
      if (state.read > state.max) throw new BudgetError(`over ${state.max} bytes had to be read to scan it`);
      return n;
    },
    skip: (n) => src.skip(n),
  };
}

export function isPickleStart(head: Buffer): boolean {
  return head.length >= 2 && head[0] === OP.PROTO && head[1]! <= HIGHEST_PROTOCOL;
}

/** A location inside the file, prefixed to a message: `gzip-decompressed content, tar member "pickle": …`. */
function within(where: string, phrase: string): string {
  return where.endsWith(': ') ? `${where.slice(0, -2)}, ${phrase}: ` : `${where}${phrase}: `;
}

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/** What a loader reads a tar member as, in a legacy torch checkpoint (torch/serialization.py `legacy_load`). */
function legacyRole(name: string, isLegacy: boolean): 'storages' | 'one-pickle' | undefined {
  if (!isLegacy) return undefined;
  if (name === 'storages') return 'storages';
  if (name === 'tensors' || name === 'pickle' || name === 'sys_info') return 'one-pickle';
  return undefined;
}

class Scan {
  readonly issues: ModelIssue[] = [];
  /** Whether any pickle parsed (for deny-new-pickle). */
  sawPickle = false;
  private readonly seen = new Map<string, { issue: ModelIssue; count: number }>();
  private readonly budget: { read: number; max: number };

  constructor(private readonly opts: ModelScanOptions) {
    this.budget = { read: 0, max: opts.maxBytes };
  }

  private add(code: ModelIssueCode, severity: ModelIssue['severity'], message: string, key = `${code}:${message}`): void {
    const prev = this.seen.get(key);
    if (prev) {
      prev.count++;
      return;
    }
    if (this.issues.length >= MAX_ISSUES) return;
    const issue = { code, severity, message };
    this.seen.set(key, { issue, count: 1 });
    this.issues.push(issue);
  }

  /** Adds "(n times)" to issues reported repeatedly. */
  finish(): ModelIssue[] {
    for (const { issue, count } of this.seen.values()) if (count > 1) issue.message += ` (${count} occurrences; the first is shown)`;
    return this.issues;
  }

  private check(): void {
    this.opts.signal?.throwIfAborted();
  }

  private window(src: ByteSource): Window {
    return new Window(counted(src, this.budget), 4 * 1024 * 1024, 16 * 1024 * 1024);
  }

  /** Scans a blob by content. `access` gives random access (zip, tar); `where` is used in messages. */
  async blob(where: string, open: () => Promise<{ source: ByteSource; access?: RandomAccess; close?: () => void }>, mode: Mode | 'sniff', depth: number): Promise<void> {
    this.check();
    if (depth > MAX_CONTAINER_DEPTH) {
      // Each level holds a window; archives nested thousands deep in a small file must not exhaust memory.
      this.add('budget-exceeded', 'error', `${where}is nested more than ${MAX_CONTAINER_DEPTH} archives or compressed streams deep; mlgate stops there, so the file fails closed`);
      return;
    }
    const { source, access, close } = await open();
    const w = this.window(source);
    try {
      await w.fill(TAR_BLOCK);
      const head = w.buf.subarray(w.pos, Math.min(w.end, w.pos + TAR_BLOCK));
      if (head.length === 0) {
        if (mode === 'strict') this.add('malformed', 'error', `${where}is empty, not a pickle`);
        return;
      }
      if (looksLikeZipStart(head)) return await this.zipFrom(where, access, w, depth);
      if (looksLikeNpy(head)) return await this.npy(where, w, depth);
      if (head.subarray(0, 8).equals(HDF5_MAGIC)) return await this.h5(where, w, access?.size);
      const packed = compressionOf(head, mode === 'strict');
      if (packed) return await this.compressed(where, w, packed, mode, depth);
      if (looksLikeTar(head)) {
        await this.tar(where, access, w, depth);
        // torch falls back to reading a file it cannot list as a tar as a raw pickle, from byte 0.
        if (depth === 0 && access && IS_OPCODE[head[0]!]) await this.rawStart(where, access, depth);
        return;
      }
      let pickleMode: PickleMode | undefined;
      if (isPickleStart(head)) pickleMode = mode === 'sniff' ? 'strict' : mode;
      else if (IS_OPCODE[head[0]!]) pickleMode = mode;
      else if (mode === 'strict') {
        this.add('malformed', 'error', `${where}does not start with a pickle opcode (first byte 0x${head[0]!.toString(16).padStart(2, '0')}) nor with the signature of a zip, tar, compressed stream, .npy or HDF5 file`);
      }
      if (pickleMode) await this.pickles(where, w, pickleMode, depth);
      // A file that starts as a pickle (or anything but a zip) may also end as a zip that Python's zipfile opens.
      if (depth === 0 && access) await this.zipTail(where, access, depth);
    } catch (e) {
      if (!(e instanceof DecompressError)) throw e;
      this.add('malformed', 'error', `${where}cannot be decompressed (${e.message}); a loader would fail on it, so it fails closed`);
    } finally {
      w.release();
      close?.();
    }
  }

  /** The file read from byte 0 as a pickle, besides what its tar listing held. */
  private async rawStart(where: string, access: RandomAccess, depth: number): Promise<void> {
    const w = this.window(rangeSource(access, 0, access.size));
    try {
      await this.pickles(within(where, 'read as a raw pickle from byte 0'), w, 'sniff', depth, 1);
    } finally {
      w.release();
    }
  }

  /**
   * Parses one pickle at the window and reports what it found. A parse that
   * fails is reported in full when the bytes had to be a pickle (`strict`),
   * and as `malformed` when unexplained bytes read as pickle opcodes for long
   * enough (or open with PROTO) that a loader would treat them as one.
   */
  private async onePickle(label: string, w: Window, mode: PickleMode, depth: number, where = label): Promise<{ ok: boolean; imports: ImportRef[]; end: number }> {
    const start = w.offset;
    await w.fill(2);
    const startsWithProto = isPickleStart(w.buf.subarray(w.pos, Math.min(w.end, w.pos + 2)));
    const imports: ImportRef[] = [];
    const issues: ScanIssue[] = [];
    const importKeys = new Set<string>();
    const machine = new PickleMachine(w, {
      onImport: (ref) => {
        const key = `${ref.module}\n${ref.name}\n${ref.proto < 3}`;
        if (importKeys.has(key) || imports.length >= 10_000) return;
        importKeys.add(key);
        imports.push(ref);
      },
      onIssue: (i) => {
        if (issues.length < MAX_ISSUES) issues.push(i);
      },
      onNested: depth < (this.opts.maxDepth ?? 3) ? (offset, data) => this.nested(label, offset, data, depth + 1) : undefined,
      signal: this.opts.signal,
      // Unexplained bytes may be gigabytes of data after a stray STRING opcode; a sniffed file is read as far as the loader would.
      boundedLines: mode === 'tentative' || mode === 'after',
    });
    const res = await machine.parse();
    const pickleLike = !res.ok && mode !== 'tentative' && (mode === 'strict' || startsWithProto || machine.opcodeCount >= PICKLE_LIKE_OPCODES);
    const all = res.ok || pickleLike;
    // A name Python could never import is noise from data that happened to parse, unless the bytes had to be a pickle.
    const everyImport = mode === 'strict' || startsWithProto || (res.ok && mode !== 'sniff');
    // Text that happens to open like a GLOBAL line ("config\nvalue\n…") ran nothing: a call needs a few more opcodes.
    const executed = machine.opcodeCount - (res.error && !res.error.truncated ? 1 : 0);
    const ranSomething = res.ok || mode !== 'sniff' || executed >= 3;
    for (const ref of imports) {
      if (!ranSomething || (!everyImport && !isPlausibleGlobal(ref.module, ref.name))) continue;
      this.global(label, ref);
    }
    if (all) {
      for (const i of issues) this.add(i.kind === 'budget-exceeded' ? 'budget-exceeded' : i.kind, 'error', `${label}${i.message}`);
    }
    if (pickleLike && !issues.some((i) => i.kind === 'budget-exceeded')) {
      this.add(
        'malformed',
        'error',
        mode === 'after'
          ? `${where}the bytes from byte ${start}, after the pickle before them, read as pickle opcodes but do not parse: ${res.error!.message}. Nothing in the file's format says they are data, and a second pickle.load would run them, so the file fails closed; remove them or store the data elsewhere`
          : `${label}does not parse as a pickle: ${res.error!.message}; the loader would fail there, possibly after running what came before, so the file fails closed`,
      );
    }
    return { ok: res.ok, imports, end: res.end };
  }

  /**
   * One pickle after another. The first decides what the file is; a legacy
   * torch checkpoint says how many pickles it holds (data follows them); in
   * other streams what follows the first STOP is scanned too, and reported
   * when it parses or reads as pickle opcodes.
   */
  private async pickles(where: string, w: Window, firstMode: PickleMode, depth: number, count?: number): Promise<void> {
    let limit = count;
    for (let n = 0; limit === undefined || n < limit; n++) {
      this.check();
      if (n > 0 && !(await w.fill(1))) return;
      const start = w.offset;
      const mode: PickleMode = n === 0 ? firstMode : limit !== undefined ? 'strict' : 'after';
      const label = n === 0 ? where : within(where, `the ${ordinal(n + 1)} pickle (from byte ${start})`);
      const headBytes = n === 0 && start >= w.base ? Buffer.from(w.buf.subarray(start - w.base, Math.min(w.end, start - w.base + 64))) : undefined;
      const r = await this.onePickle(label, w, mode, depth, where);
      if (!r.ok) return;
      this.sawPickle = true;
      if (n === 0 && limit === undefined && headBytes && r.end - start <= 64) {
        const first = headBytes.subarray(0, r.end - start);
        if (first.includes(TORCH_MAGIC_LONG1) || first.includes(TORCH_MAGIC_TEXT)) limit = TORCH_LEGACY_PICKLES;
      }
    }
  }

  /**
   * A legacy tar checkpoint's `storages` member: a pickled count, then per
   * storage a pickled (key, location, storage class) and its raw bytes (an
   * int64 element count, then the elements), then the pickled storage views.
   */
  private async legacyStorages(label: string, w: Window, depth: number): Promise<void> {
    const first = await this.onePickle(label, w, 'strict', depth);
    if (!first.ok) return;
    this.sawPickle = true;
    for (let n = 1; ; n++) {
      this.check();
      if (!(await w.fill(1))) return;
      const r = await this.onePickle(within(label, `the ${ordinal(n + 1)} pickle (from byte ${w.offset})`), w, 'strict', depth);
      if (!r.ok) return;
      const storage = r.imports.find((i) => i.module === 'torch' && i.name.endsWith('Storage'));
      // The storage views: the last pickle legacy_load reads from this member.
      if (!storage) return;
      const size = STORAGE_ELEMENT_SIZE[storage.name];
      if (size === undefined) {
        this.add('malformed', 'error', `${label}names the storage class torch.${storage.name}, whose element size mlgate does not know, so it cannot tell where the next pickle starts; the file fails closed`);
        return;
      }
      const at = w.offset;
      const countBytes = await w.take(8);
      const elements = countBytes?.readBigUInt64LE(0);
      if (elements === undefined || !(await w.skip(Number(elements) * size))) {
        this.add('malformed', 'error', `${label}ends inside the raw storage that starts at byte ${at}; torch would fail to load it`);
        return;
      }
    }
  }

  /** Every member tarfile lists that a loader can extract, scanned by content; legacy torch members as torch reads them. */
  private async tar(where: string, access: RandomAccess | undefined, w: Window, depth: number): Promise<void> {
    const ra = access ?? (await this.inMemory(within(where, 'the tar archive'), w, `is over ${NESTED_ZIP_MAX} bytes once decompressed, more than mlgate holds in memory to list it; store it uncompressed so it can be scanned`));
    if (!ra) return;
    let members: TarMember[];
    try {
      ({ members } = await readTar(ra));
    } catch (e) {
      if (!(e instanceof TarError)) throw e;
      this.add(e.budget ? 'budget-exceeded' : 'malformed', 'error', `${where}starts like a tar archive but cannot be listed the way Python's tarfile lists it: ${e.message}`);
      return;
    }
    const names = new Set(members.map((m) => m.name));
    const isLegacy = names.has('storages') && names.has('pickle');
    for (const m of members) {
      this.check();
      const label = within(where, `tar member ${JSON.stringify(m.name)}`);
      const escape = tarMemberEscape(m);
      if (escape) this.add('archive-member-escape', 'error', `${label}${escape}${ESCAPE_WHY}`);
      if (!m.isFile) continue;
      const role = legacyRole(m.name, isLegacy);
      const open = async (): Promise<{ source: ByteSource; access?: RandomAccess }> =>
        m.sparse ? { source: sparseSource(ra, m.dataOffset, m.sparse, m.size) } : { source: rangeSource(ra, m.dataOffset, m.size), access: subAccess(ra, m.dataOffset, m.size) };
      if (!role) {
        await this.blob(label, open, PICKLE_MEMBER.test(m.name) ? 'strict' : 'sniff', depth + 1);
        continue;
      }
      const mw = this.window((await open()).source);
      try {
        if (!(await mw.fill(1))) this.add('malformed', 'error', `${label}is empty; a legacy PyTorch checkpoint needs a pickle there`);
        else if (role === 'storages') await this.legacyStorages(label, mw, depth + 1);
        else await this.pickles(label, mw, 'strict', depth + 1, 1);
      } finally {
        mw.release();
      }
    }
  }

  /** The rest of a stream in memory, for formats that need random access (a tar or zip inside a compressed stream); over the cap it fails closed with `tooBig`. */
  private async inMemory(where: string, w: Window, tooBig: string): Promise<RandomAccess | undefined> {
    const parts: Buffer[] = [];
    let total = 0;
    while (await w.fill(1)) {
      const chunk = Buffer.from(w.buf.subarray(w.pos, w.end));
      w.pos = w.end;
      total += chunk.length;
      if (total > NESTED_ZIP_MAX) {
        this.add('budget-exceeded', 'error', `${where}${tooBig}`);
        return undefined;
      }
      parts.push(chunk);
    }
    return bufferAccess(Buffer.concat(parts));
  }

  private global(label: string, ref: ImportRef): void {
    const c = classifyGlobal(ref.module, ref.name, this.opts.allow, ref.proto);
    const what = `${ref.module}.${ref.name}`;
    const at = `at byte ${ref.offset} (${ref.opcode})`;
    if (c.verdict === 'dangerous') {
      this.add('dangerous-global', 'error', `${label}imports ${what} ${at}, which ${c.reason}; never load this file — replace it with safetensors or re-export it from trusted code`, `dangerous:${label}:${what}`);
    } else if (c.verdict === 'unknown') {
      this.add('unknown-global', 'warning', `${label}imports ${what} ${at}, which is not on the allow-list; loading it imports that module and calls it. If you reviewed it, add "${c.qualified}" to allow-globals; better, save the weights as safetensors`, `unknown:${label}:${what}`);
    }
  }

  private async nested(where: string, offset: number, data: Buffer, depth: number): Promise<void> {
    const ra = bufferAccess(data);
    await this.blob(within(where, `the byte string embedded at byte ${offset}`), async () => ({ source: rangeSource(ra, 0, data.length), access: ra }), 'tentative', depth);
  }

  /**
   * Loaders pick the decompressor by the first bytes, not the name (joblib,
   * `gzip.open` wrappers): whatever the extension, a compressed stream is
   * opened, or fails closed when mlgate has no decoder for it.
   */
  private async compressed(where: string, w: Window, kind: Compression, mode: Mode | 'sniff', depth: number): Promise<void> {
    if (kind !== 'gzip' && kind !== 'zlib') {
      this.add('unscannable', 'error', `${where}is compressed with ${kind}, which mlgate cannot decompress, so what it holds (a loader such as joblib decompresses it by its first bytes) cannot be checked; store it uncompressed or gzip-compressed, or save the weights as safetensors`);
      return;
    }
    const input = prefixedSource(Buffer.from(w.buf.subarray(w.pos, w.end)), w.src);
    w.pos = w.end;
    const src = new InflateSource(input, kind, this.opts.maxBytes);
    let failure: string | undefined;
    // A corrupt stream ends where it breaks: what came before is scanned (a loader would have run it), then judged below.
    const guarded: ByteSource = {
      read: async (buf, off, max) => {
        try {
          return await src.read(buf, off, max);
        } catch (e) {
          if (!(e instanceof DecompressError)) throw e;
          failure = e.message;
          return 0;
        }
      },
      skip: async (n) => {
        try {
          return await src.skip(n);
        } catch (e) {
          if (!(e instanceof DecompressError)) throw e;
          failure = e.message;
          return 0;
        }
      },
    };
    const issuesBefore = this.issues.length;
    const pickleBefore = this.sawPickle;
    try {
      await this.blob(within(where, `the ${kind}-decompressed content`), async () => ({ source: guarded }), mode, depth + 1);
      if (src.overflow) this.add('budget-exceeded', 'error', `${where}decompresses to over ${this.opts.maxBytes} bytes; the scan stopped there, so the file fails closed`);
      // Two bytes are weak evidence of zlib (one data member in 16,000 opens with them): unless the name
      // said so, a stream that breaks counts only when what came out of it was something.
      const heldSomething = this.issues.length > issuesBefore || (this.sawPickle && !pickleBefore);
      if (failure !== undefined && (mode === 'strict' || kind === 'gzip' || heldSomething)) {
        this.add('malformed', 'error', `${where}cannot be decompressed as ${kind} (${failure}); a loader would fail on it, possibly after running what came before, so it fails closed`);
      }
    } finally {
      src.close();
    }
  }

  private async npy(where: string, w: Window, depth: number): Promise<void> {
    try {
      if (!(await w.fill(12))) throw new NpyError('the .npy header is truncated');
      const prefix = npyPrefixLength(w.buf.subarray(w.pos, w.end));
      const len = prefix === 10 ? w.buf.readUInt16LE(w.pos + 8) : w.buf.readUInt32LE(w.pos + 8);
      if (len > NPY_MAX_HEADER) throw new NpyError(`the .npy header is ${len} bytes, over the ${NPY_MAX_HEADER}-byte cap`);
      if (!(await w.fill(prefix + len))) throw new NpyError('the .npy header is truncated');
      const header = parseNpyHeader(w.buf.subarray(w.pos, w.pos + prefix + len));
      if (!header.hasObject) return;
      w.pos += header.dataOffset;
      await this.pickles(`${where}object array (dtype ${header.descr}) `, w, 'strict', depth);
    } catch (e) {
      if (!(e instanceof NpyError)) throw e;
      this.add('malformed', 'error', `${where}is not a valid .npy file: ${e.message}. numpy would refuse to load it, and mlgate cannot tell whether its data is a pickle, so it fails closed; re-save the array with numpy.save`);
    }
  }

  /**
   * Keras writes model_config before the weights, so it sits near the start of
   * the file: the first H5_HEAD bytes are searched, and the last H5_TAIL.
   */
  private async h5(where: string, w: Window, size: number | undefined): Promise<void> {
    const ranges: Array<[number, number]> = [[0, H5_HEAD]];
    if (size !== undefined && size > H5_HEAD + H5_TAIL) ranges.push([size - H5_TAIL, size]);
    const f = await scanKerasH5(w, { ranges, allow: this.opts.allow, maxObject: CONFIG_JSON_MAX, check: () => this.check() });
    for (const l of f.lambdas) {
      this.add('lambda-layer', 'error', `${where}has a Keras Lambda layer${l.name ? ` "${l.name}"` : ''} in its model_config (JSON at byte ${l.at}); a Lambda layer carries Python bytecode that runs when the model is loaded. Replace it with a built-in or registered custom layer`);
    }
    for (const o of f.custom) this.add('keras-custom-object', 'error', `${where}${customObjectMessage(o)} (JSON at byte ${o.at})`);
    const [firstLoose] = f.looseLambdas;
    if (firstLoose !== undefined) {
      const more = f.looseLambdas.length > 1 ? ` (and ${f.looseLambdas.length - 1} more places)` : '';
      this.add('lambda-layer', 'error', `${where}spells a Keras Lambda layer at byte ${firstLoose}${more} in JSON that mlgate could not parse as a whole; a Lambda layer carries Python bytecode that runs when the model is loaded, so the file fails closed. Replace it with a built-in or registered custom layer`);
    }
    const modules = [...new Set(f.looseModules.map((m) => m.module))];
    if (modules.length) {
      const named = modules.slice(0, 5).map((m) => JSON.stringify(m)).join(', ') + (modules.length > 5 ? ` and ${modules.length - 5} more` : '');
      this.add('keras-custom-object', 'error', `${where}names the module${modules.length > 1 ? 's' : ''} ${named} (first at byte ${f.looseModules[0]!.at}) in JSON that mlgate could not parse as a whole; Keras imports the module a config names, so the file fails closed. Use only built-in Keras layers, or review the module and add it to allow-globals`);
    }
    if (f.overflow) this.add('budget-exceeded', 'error', `${where}could not be checked for Keras layers: ${f.overflow}; the scan is incomplete, so the file fails closed`);
  }

  private async zipTail(where: string, access: RandomAccess, depth: number): Promise<void> {
    const listing = await readZip(access);
    if (!listing.entries.length) return; // no readable zip at the end: the pickle scan stands alone
    const span = archiveSpan(listing, access.size);
    if (await isNestedPayload(access, span.start, span.end)) return; // a zip inside the pickle's bytes, already scanned as such
    this.zipProblems(`${where}ends in a zip that `, listing);
    await this.zipEntries(`${where}(as a zip) `, access, listing.entries, depth);
  }

  /** One finding for all the ways an archive is ambiguous: loaders would disagree on what it holds. */
  private zipProblems(subject: string, listing: ZipListing): void {
    if (!listing.problems.length) return;
    const budget = listing.problems.every((p) => p.budget);
    const why = listing.problems.map((p) => p.message).join('; ');
    this.add(
      budget ? 'budget-exceeded' : 'malformed',
      'error',
      `${subject}is ambiguous: ${why}. Different loaders would see different members, which can hide a payload from a scanner; mlgate scanned every member any of them sees and fails the file closed. Re-create the archive with a standard zip tool (or re-save the model) so it has one central directory that matches its end record`,
    );
  }

  private async zipFrom(where: string, access: RandomAccess | undefined, w: Window, depth: number): Promise<void> {
    if (!access) {
      // A deflated archive inside an archive: small ones are inflated in memory, big ones fail closed.
      access = await this.inMemory(where, w, `is a compressed zip inside a zip, over ${NESTED_ZIP_MAX} bytes; store the inner archive uncompressed so it can be scanned`);
      if (!access) return;
    }
    const listing = await readZip(access);
    if (!listing.entries.length && listing.problems.length) {
      const e = listing.problems[0]!;
      this.add(e.budget ? 'budget-exceeded' : 'malformed', 'error', `${where}cannot be read as a zip the way PyTorch reads it, nor the way Python's zipfile does: ${e.message}`);
      return;
    }
    this.zipProblems(`${where}is a zip that `, listing);
    await this.zipEntries(where, access, listing.entries, depth);
  }

  private async zipEntries(where: string, access: RandomAccess, entries: ZipEntry[], depth: number): Promise<void> {
    // Keras 3 loads config.json from any zip it is given as .keras, whatever else the archive holds.
    const isKeras = entries.some((e) => e.name === 'config.json');
    const loaders = new Set(entries.flatMap((e) => e.seenBy));
    for (const e of entries) {
      this.check();
      if (e.name.endsWith('/') && e.size === 0) continue;
      // A member only one loader sees is where a payload hides from the other: say so.
      const only = e.seenBy.length === 1 && loaders.size > 1 ? ` (only ${LOADER_NAMES[e.seenBy[0]!]} sees it)` : '';
      const label = `${where}member ${JSON.stringify(e.name)}${only}: `;
      const escape = memberNameEscape(e.name);
      if (escape) this.add('archive-member-escape', 'error', `${label}${escape}${ESCAPE_WHY}`);
      try {
        if (isKeras && e.name === 'config.json') {
          await this.kerasConfig(label, access, e);
          continue;
        }
        if (isKeras && e.name.endsWith('.h5')) continue; // weights only; the config is config.json
        const mode: Mode = PICKLE_MEMBER.test(e.name) ? 'strict' : 'tentative';
        let member: Awaited<ReturnType<typeof openMember>> | undefined;
        await this.blob(
          label,
          async () => {
            member = await openMember(access, e);
            return member;
          },
          mode,
          depth + 1,
        );
        if (member?.overflowed()) this.add('malformed', 'error', `${label}inflates to more than its declared ${e.size} bytes`);
      } catch (err) {
        if (!(err instanceof ZipError)) throw err;
        this.add(err.budget ? 'budget-exceeded' : 'malformed', 'error', `${label}${err.message}`);
      }
    }
  }

  private async kerasConfig(label: string, access: RandomAccess, e: ZipEntry): Promise<void> {
    if (e.size > CONFIG_JSON_MAX) {
      this.add('budget-exceeded', 'error', `${label}is ${e.size} bytes, over the ${CONFIG_JSON_MAX}-byte cap for a Keras config`);
      return;
    }
    const m = await openMember(access, e);
    let text: string;
    const w = this.window(m.source);
    try {
      const data = await w.take(e.size);
      if (!data) throw new ZipError('the member is shorter than its declared size');
      text = data.toString('utf8');
    } finally {
      w.release();
      m.close();
    }
    let config: unknown;
    try {
      config = JSON.parse(text);
    } catch (err) {
      this.add('malformed', 'error', `${label}is not valid JSON (${(err as Error).message}); Keras could not load it and mlgate cannot check it`);
      return;
    }
    for (const i of kerasConfigIssues(config, this.opts.allow, label)) this.add(i.code, i.severity, i.message);
  }
}

export interface ModelScanResult {
  issues: ModelIssue[];
  /** True when the file holds at least one pickle (raw, in an archive, or an object array). */
  hasPickle: boolean;
}

/** Scans a file on disk. `mode`: `strict` when the name says pickle, `sniff` for files found by content. */
export async function scanModelFile(absPath: string, mode: Mode | 'sniff', opts: ModelScanOptions): Promise<ModelScanResult> {
  const handle = await open(absPath, constants.O_RDONLY | constants.O_NOFOLLOW);
  const scan = new Scan(opts);
  try {
    const { size } = await handle.stat();
    const access = fileAccess(handle, size);
    await scan.blob('', async () => ({ source: rangeSource(access, 0, size), access }), mode, 0);
  } catch (e) {
    if (!(e instanceof BudgetError)) throw e;
    scan.issues.push({ code: 'budget-exceeded', severity: 'error', message: `${e.message}; the scan is incomplete, so the file fails closed` });
  } finally {
    await handle.close();
  }
  return { issues: scan.finish(), hasPickle: scan.sawPickle };
}

/** Scans bytes in memory (tests, nested data). */
export async function scanModelBytes(data: Buffer, mode: Mode | 'sniff', opts: ModelScanOptions): Promise<ModelScanResult> {
  const scan = new Scan(opts);
  const access = bufferAccess(data);
  try {
    await scan.blob('', async () => ({ source: rangeSource(access, 0, data.length), access }), mode, 0);
  } catch (e) {
    if (!(e instanceof BudgetError)) throw e;
    scan.issues.push({ code: 'budget-exceeded', severity: 'error', message: `${e.message}; the scan is incomplete, so the file fails closed` });
  }
  return { issues: scan.finish(), hasPickle: scan.sawPickle };
}

/**
 * Whether the first bytes of a sniffed file already prove it is no pickle: they
 * fail to parse before running anything, so the full scan would report nothing.
 * Most text files end here, without a second open.
 */
export async function headRulesOutPickle(head: Buffer): Promise<boolean> {
  if (isPickleStart(head) || !IS_OPCODE[head[0]!]) return false;
  // 'P' opens a zip, ']' an lzma stream, 'x' zlib: the container formats are checked before pickles.
  if (looksLikeZipStart(head) || looksLikeNpy(head) || head.subarray(0, 8).equals(HDF5_MAGIC) || compressionOf(head, false) || looksLikeTar(head)) return false;
  const w = new Window(rangeSource(bufferAccess(head), 0, head.length), TAR_BLOCK);
  try {
    const m = new PickleMachine(w, { onImport: () => {}, onIssue: () => {}, boundedLines: true });
    const r = await m.parse();
    return !r.ok && r.error !== undefined && !r.error.truncated && m.opcodeCount - 1 < 3;
  } finally {
    w.release();
  }
}
