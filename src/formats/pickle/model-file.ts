import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { classifyGlobal, isPlausibleGlobal, type AllowList } from './classify.js';
import { IS_OPCODE, OP, HIGHEST_PROTOCOL } from './opcodes.js';
import { PickleMachine, type ImportRef, type ScanIssue } from './scanner.js';
import { DecompressError, InflateSource, bufferAccess, fileAccess, rangeSource, readRange, type ByteSource, type RandomAccess } from './source.js';
import { Window } from './window.js';
import { ZipError, looksLikeZipStart, openMember, readCentralDirectory, type ZipEntry } from '../zip.js';
import { NPY_MAX_HEADER, NpyError, looksLikeNpy, parseNpyHeader, npyPrefixLength } from '../npy.js';
import { HDF5_MAGIC, H5_LAMBDA_MARKERS, findLambdaLayers, lambdaNameAfter } from '../keras.js';

/**
 * Scans one model file by content: raw pickles (several in a row), legacy and
 * zip PyTorch checkpoints, joblib (with interleaved arrays), .npy/.npz with
 * object arrays, gzip/zlib-compressed pickles, Keras .keras and .h5, and
 * pickles or archives embedded as bytes in a pickle. Nothing is executed.
 */

export type ModelIssueCode = 'dangerous-global' | 'unknown-global' | 'dynamic-import' | 'global-mutation' | 'malformed' | 'lambda-layer' | 'budget-exceeded' | 'unscannable';

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

const COMPRESSED: Array<[Buffer, string]> = [
  [Buffer.from('BZh'), 'bzip2'],
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'xz'],
  [Buffer.from([0x04, 0x22, 0x4d, 0x18]), 'lz4'],
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'zstd'],
];
const PICKLE_MEMBER = /(^|\/)[^/]*\.(pkl|pickle)$/;
const CONFIG_JSON_MAX = 64 * 1024 * 1024;
const NESTED_ZIP_MAX = 64 * 1024 * 1024;
const SNIFF_BYTES = 4096;
const H5_HEAD = 64 * 1024 * 1024;
const H5_TAIL = 16 * 1024 * 1024;
const MAX_ISSUES = 200;

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

  /** Scans a blob by content. `access` gives random access (zip); `name` is used in messages. */
  async blob(where: string, open: () => Promise<{ source: ByteSource; access?: RandomAccess; close?: () => void }>, mode: Mode | 'sniff', depth: number): Promise<void> {
    this.check();
    const { source, access, close } = await open();
    const w = this.window(source);
    try {
      await w.fill(16);
      const head = w.buf.subarray(w.pos, Math.min(w.end, w.pos + 16));
      if (head.length === 0) {
        if (mode === 'strict') this.add('malformed', 'error', `${where}is empty, not a pickle`);
        return;
      }
      if (looksLikeZipStart(head)) return await this.zipFrom(where, access, w, depth);
      if (looksLikeNpy(head)) return await this.npy(where, w, depth);
      if (head.subarray(0, 8).equals(HDF5_MAGIC)) return await this.h5(where, w, access?.size);
      if (head[0] === 0x1f && head[1] === 0x8b && access && mode !== 'sniff') return await this.compressed(where, access, 'gzip', depth);
      if (head[0] === 0x78 && ((head[0]! << 8) | head[1]!) % 31 === 0 && access && mode !== 'sniff') return await this.compressed(where, access, 'zlib', depth);
      for (const [magic, kind] of COMPRESSED) {
        if (head.subarray(0, magic.length).equals(magic)) {
          if (mode === 'strict') this.add('unscannable', 'error', `${where}is compressed with ${kind}, which mlgate cannot decompress, so its pickle cannot be checked; save it uncompressed (or as safetensors)`);
          return;
        }
      }
      let pickleMode: Mode | undefined;
      if (isPickleStart(head)) pickleMode = mode === 'sniff' ? 'strict' : mode;
      else if (mode === 'sniff') pickleMode = (await this.sniffProtocol0(w)) ? 'strict' : undefined;
      else if (IS_OPCODE[head[0]!]) pickleMode = mode;
      else if (mode === 'strict') {
        this.add('malformed', 'error', `${where}does not start with a pickle opcode (first byte 0x${head[0]!.toString(16).padStart(2, '0')}) nor with the signature of a zip, .npy or HDF5 file`);
      }
      if (pickleMode) await this.pickles(where, w, pickleMode, depth);
      // A file that starts as a pickle (a legacy checkpoint, torch's non-zip path) may also end as a zip.
      if (depth === 0 && access && pickleMode) await this.zipTail(where, access, depth);
    } catch (e) {
      if (!(e instanceof DecompressError)) throw e;
      this.add('malformed', 'error', `${where}cannot be decompressed (${e.message}); a loader would fail on it, so it fails closed`);
    } finally {
      w.release();
      close?.();
    }
  }

  /** A protocol 0/1 pickle without the PROTO byte: does its start parse as one? */
  private async sniffProtocol0(w: Window): Promise<boolean> {
    if (!IS_OPCODE[w.buf[w.pos]!]) return false;
    await w.fill(SNIFF_BYTES);
    const head = Buffer.from(w.buf.subarray(w.pos, Math.min(w.end, w.pos + SNIFF_BYTES)));
    const probe = new Window(rangeSource(bufferAccess(head), 0, head.length), SNIFF_BYTES);
    const m = new PickleMachine(probe, { onImport: () => {}, onIssue: () => {} });
    const r = await m.parse();
    return r.ok || (r.error?.truncated === true && head.length === SNIFF_BYTES && m.opcodeCount >= 8);
  }

  /** One pickle after another until the data stops parsing as pickles. */
  private async pickles(where: string, w: Window, firstMode: Mode, depth: number): Promise<void> {
    let mode = firstMode;
    for (let n = 0; ; n++) {
      this.check();
      if (n > 0 && !(await w.fill(1))) return;
      const start = w.offset;
      const imports: ImportRef[] = [];
      const issues: ScanIssue[] = [];
      const importKeys = new Set<string>();
      const machine = new PickleMachine(w, {
        onImport: (ref) => {
          const key = `${ref.module}\n${ref.name}`;
          if (importKeys.has(key) || imports.length >= 10_000) return;
          importKeys.add(key);
          imports.push(ref);
        },
        onIssue: (i) => {
          if (issues.length < MAX_ISSUES) issues.push(i);
        },
        onNested: depth < (this.opts.maxDepth ?? 3) ? (offset, data) => this.nested(where, offset, data, depth + 1) : undefined,
        signal: this.opts.signal,
        boundedLines: mode === 'tentative',
      });
      const res = await machine.parse();
      const ordinal = n === 0 ? '' : `pickle #${n + 1} (from byte ${start}) of `;
      const label = `${where}${ordinal}`;
      const all = res.ok || mode === 'strict';
      for (const ref of imports) {
        if (!all && !isPlausibleGlobal(ref.module, ref.name)) continue;
        this.global(label, ref);
      }
      if (all) {
        for (const i of issues) this.add(i.kind === 'budget-exceeded' ? 'budget-exceeded' : i.kind, 'error', `${label}${i.message}`);
      }
      if (!res.ok) {
        if (mode === 'strict' && !issues.some((i) => i.kind === 'budget-exceeded')) this.add('malformed', 'error', `${label}does not parse as a pickle: ${res.error!.message}; the loader would fail there, possibly after running what came before, so the file fails closed`);
        return;
      }
      this.sawPickle = true;
      // Whatever follows the first STOP may be raw data (legacy torch storages, joblib) or another pickle.
      mode = 'tentative';
    }
  }

  private global(label: string, ref: ImportRef): void {
    const c = classifyGlobal(ref.module, ref.name, this.opts.allow);
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
    await this.blob(`${where}bytes embedded at byte ${offset}, `, async () => ({ source: rangeSource(ra, 0, data.length), access: ra }), 'tentative', depth);
  }

  private async compressed(where: string, access: RandomAccess, kind: 'gzip' | 'zlib', depth: number): Promise<void> {
    const src = new InflateSource(access, 0, access.size, kind, this.opts.maxBytes);
    try {
      await this.blob(`${where}(${kind}-decompressed) `, async () => ({ source: src }), 'strict', depth + 1);
      if (src.overflow) this.add('budget-exceeded', 'error', `${where}decompresses to over ${this.opts.maxBytes} bytes; the scan stopped there, so the file fails closed`);
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
    const longest = Math.max(...H5_LAMBDA_MARKERS.map((m) => m.length)) + 400;
    let reported = 0;
    const search = async (stop: number): Promise<void> => {
      for (;;) {
        this.check();
        const chunk = w.buf.subarray(w.pos, w.end);
        for (const marker of H5_LAMBDA_MARKERS) {
          for (let i = chunk.indexOf(marker); i >= 0; i = chunk.indexOf(marker, i + 1)) {
            const at = w.offset + i;
            if (at < reported) continue;
            reported = at + 1;
            const name = lambdaNameAfter(chunk, i + marker.length);
            this.add('lambda-layer', 'error', `${where}has a Keras Lambda layer${name ? ` "${name}"` : ''} in its model_config (byte ${at}); a Lambda layer carries Python bytecode that runs when the model is loaded. Replace it with a built-in or registered custom layer`);
          }
        }
        if (w.offset + chunk.length >= stop) return;
        // Keep an overlap so a marker split across two reads is still found.
        const keep = Math.min(chunk.length, longest);
        w.pos = w.end - keep;
        if (!(await w.fill(keep + 1))) return;
      }
    };
    await search(H5_HEAD);
    if (size !== undefined && size > H5_HEAD + H5_TAIL) {
      const tailAt = size - H5_TAIL;
      if (!(await w.skip(Math.max(0, tailAt - w.offset)))) return;
      if (await w.fill(1)) await search(size);
    }
  }

  private async zipTail(where: string, access: RandomAccess, depth: number): Promise<void> {
    let entries: ZipEntry[];
    try {
      entries = await readCentralDirectory(access);
    } catch {
      return; // no readable zip at the end: the pickle scan stands alone
    }
    await this.zipEntries(`${where}(as a zip) `, access, entries, depth);
  }

  private async zipFrom(where: string, access: RandomAccess | undefined, w: Window, depth: number): Promise<void> {
    if (!access) {
      // A deflated archive inside an archive: small ones are inflated in memory, big ones fail closed.
      const parts: Buffer[] = [];
      let total = 0;
      while (await w.fill(1)) {
        const chunk = Buffer.from(w.buf.subarray(w.pos, w.end));
        w.pos = w.end;
        total += chunk.length;
        if (total > NESTED_ZIP_MAX) {
          this.add('budget-exceeded', 'error', `${where}is a compressed zip inside a zip, over ${NESTED_ZIP_MAX} bytes; store the inner archive uncompressed so it can be scanned`);
          return;
        }
        parts.push(chunk);
      }
      access = bufferAccess(Buffer.concat(parts));
    }
    let entries: ZipEntry[];
    try {
      entries = await readCentralDirectory(access);
    } catch (e) {
      if (!(e instanceof ZipError)) throw e;
      this.add(e.budget ? 'budget-exceeded' : 'malformed', 'error', `${where}cannot be read as a zip the way PyTorch reads it: ${e.message}`);
      return;
    }
    await this.zipEntries(where, access, entries, depth);
  }

  private async zipEntries(where: string, access: RandomAccess, entries: ZipEntry[], depth: number): Promise<void> {
    const isKeras = entries.some((e) => e.name === 'config.json') && entries.some((e) => e.name === 'metadata.json' || e.name.endsWith('.weights.h5'));
    for (const e of entries) {
      this.check();
      if (e.name.endsWith('/') && e.size === 0) continue;
      const label = `${where}member ${JSON.stringify(e.name)}: `;
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
    let layers;
    try {
      layers = findLambdaLayers(config);
    } catch (err) {
      this.add('budget-exceeded', 'error', `${label}${(err as Error).message}`);
      return;
    }
    for (const l of layers) {
      this.add('lambda-layer', 'error', `${label}has a Keras Lambda layer${l.name ? ` "${l.name}"` : ''}; a Lambda layer carries Python bytecode that runs when the model is loaded with safe_mode off. Replace it with a built-in or registered custom layer`);
    }
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

/** The first bytes of a file, for deciding whether to scan it at all. */
export async function readHead(absPath: string, n = 16): Promise<Buffer> {
  const handle = await open(absPath, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const { size } = await handle.stat();
    return await readRange(fileAccess(handle, size), 0, Math.min(n, size));
  } finally {
    await handle.close();
  }
}
