import { LAMBDA_CLASSES, findCustomObjects, findLambdaLayers, type CustomObject, type LambdaLayer } from './keras.js';
import type { AllowList } from './pickle/classify.js';
import type { Window } from './pickle/window.js';

/**
 * Finds the JSON text of a Keras HDF5 file's `model_config` attribute without
 * parsing HDF5: wherever HDF5 stored the attribute (compact, dense, global
 * heap), its value is one contiguous JSON object among binary bytes. A single
 * linear pass over the bytes isolates every complete JSON object (outside
 * strings only JSON's own characters may appear, inside them no control
 * bytes), so each can be handed to JSON.parse and walked like a `.keras`
 * config, whatever spelling (escapes, spaces) the attacker chose.
 */

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
/** Bytes allowed outside strings besides whitespace and brackets: numbers, true/false/null, separators. */
const BARE = new Set([...Buffer.from('0123456789-+.eEtrufalsn:,')]);
/** Nesting a run may reach, and complete objects it may hold before its outer object closes. */
const MAX_NESTING = 512;
const MAX_PENDING = 200_000;
/** Shorter objects cannot name a layer class (`{"class_name":"X"}` is 18 bytes). */
const MIN_OBJECT = 16;

/** A complete JSON object found in the bytes, at file offset `at`. */
export interface JsonCandidate {
  at: number;
  text: Buffer;
}

export class JsonObjectFinder {
  /** Bytes of the current run from earlier chunks (copied: a chunk's buffer is reused). */
  private run: Buffer[] = [];
  private runLen = 0;
  /** File offset where the current run (a `{` not yet closed) started; -1 outside a run. */
  private runAt = -1;
  /** Open brackets of the run: whether each is `{`, and the run-relative offset of each. */
  private readonly curly = new Uint8Array(MAX_NESTING);
  private readonly openAt = new Float64Array(MAX_NESTING);
  private depth = 0;
  private inString = false;
  private escape = false;
  /** Complete objects inside the current run, outermost only: run-relative starts and ends. */
  private readonly doneStart: number[] = [];
  private readonly doneEnd: number[] = [];
  /** Set when a run grew past `maxRun` bytes or held too many objects: its objects could not be isolated. */
  oversized = false;

  constructor(
    private readonly emit: (c: JsonCandidate) => void,
    private readonly maxRun: number,
  ) {}

  /** Feeds the next bytes of the file, which start at file offset `at`. */
  push(chunk: Buffer, at: number): void {
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (this.runAt < 0) {
        i = chunk.indexOf(0x7b, i);
        if (i < 0) return;
        this.runAt = at + i;
        from = i;
        this.curly[0] = 1;
        this.openAt[0] = 0;
        this.depth = 1;
        continue;
      }
      const b = chunk[i]!;
      const rel = at + i - this.runAt;
      let ok = true;
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (b === 0x5c) this.escape = true;
        else if (b === 0x22) this.inString = false;
        else if (b < 0x20) ok = false;
      } else if (b === 0x22) this.inString = true;
      else if (b === 0x7b || b === 0x5b) {
        // Deeper than any config Keras writes: not a config (the spelling search still covers it).
        if (this.depth >= MAX_NESTING) ok = false;
        else {
          this.curly[this.depth] = b === 0x7b ? 1 : 0;
          this.openAt[this.depth++] = rel;
        }
      } else if (b === 0x7d || b === 0x5d) {
        const d = --this.depth;
        if (this.curly[d] !== (b === 0x7d ? 1 : 0)) ok = false;
        else if (b === 0x7d) {
          const start = this.openAt[d]!;
          while (this.doneStart.length && this.doneStart[this.doneStart.length - 1]! > start) {
            this.doneStart.pop();
            this.doneEnd.pop();
          }
          // Too short to be a config, and so is everything inside it.
          if (rel + 1 - start >= MIN_OBJECT) {
            this.doneStart.push(start);
            this.doneEnd.push(rel + 1);
          }
          if (this.doneStart.length > MAX_PENDING) {
            this.oversized = true;
            this.reset();
            continue;
          }
        }
      } else if (!WS.has(b) && !BARE.has(b)) ok = false;
      if (!ok || this.depth === 0) {
        this.end(chunk, from, ok ? i + 1 : i);
        continue;
      }
      if (rel + 1 > this.maxRun) {
        this.oversized = true;
        this.reset();
      }
    }
    if (this.runAt >= 0) {
      const rest = chunk.subarray(from);
      this.run.push(Buffer.from(rest));
      this.runLen += rest.length;
    }
  }

  /** Call at the end of the bytes: objects completed inside a run that never closed are still emitted. */
  finish(): void {
    if (this.runAt >= 0) this.end(Buffer.alloc(0), 0, 0);
  }

  /** Ends the run, whose last bytes are `chunk[from, to)`, handing on its complete objects long enough to be a config. */
  private end(chunk: Buffer, from: number, to: number): void {
    let all: Buffer | undefined;
    for (let k = 0; k < this.doneStart.length; k++) {
      const s = this.doneStart[k]!;
      const e = this.doneEnd[k]!;
      all ??= this.runLen ? Buffer.concat([...this.run, chunk.subarray(from, to)]) : chunk.subarray(from, to);
      this.emit({ at: this.runAt + s, text: all.subarray(s, e) });
    }
    this.reset();
  }

  private reset(): void {
    if (this.runLen) this.run = [];
    if (this.doneStart.length) {
      this.doneStart.length = 0;
      this.doneEnd.length = 0;
    }
    this.runLen = 0;
    this.runAt = -1;
    this.depth = 0;
    this.inString = false;
    this.escape = false;
  }
}

/** `"key" : "value"` with any spacing and JSON escapes, keys and values up to 100 characters. */
const PAIR = /"((?:[^"\\\x00-\x1f]|\\[^\x00-\x1f]){1,100})"[ \t\r\n]*:[ \t\r\n]*"((?:[^"\\\x00-\x1f]|\\[^\x00-\x1f]){1,100})"/g;

function unescape(s: string): string | undefined {
  try {
    return JSON.parse(`"${s}"`) as string;
  } catch {
    return undefined;
  }
}

/**
 * Offsets in `text` (latin1 view of the bytes) where a `"class_name": "Lambda"`
 * pair is spelled in any JSON way. Used when no JSON object around it parses,
 * so that a broken or cleverly truncated config still fails closed.
 */
export function lambdaSpellings(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(PAIR)) {
    if (unescape(m[1]!) !== 'class_name') continue;
    const v = unescape(m[2]!);
    if (v !== undefined && LAMBDA_CLASSES.has(v)) out.push(m.index);
  }
  return out;
}

/** Modules a `"module": …` pair may name without being reported when no object around it parses. */
const KERAS_MODULE_TEXT = /^(keras|tf_keras|tensorflow\.keras|tensorflow\.python\.keras)(\.|$)/;

/**
 * Offsets of `"module": "<not Keras>"` pairs in `text`, however spelled. Like
 * {@link lambdaSpellings}, the net under configs that do not parse.
 */
export function foreignModuleSpellings(text: string): Array<{ at: number; module: string }> {
  const out: Array<{ at: number; module: string }> = [];
  for (const m of text.matchAll(PAIR)) {
    if (unescape(m[1]!) !== 'module') continue;
    const v = unescape(m[2]!);
    if (v !== undefined && !KERAS_MODULE_TEXT.test(v)) out.push({ at: m.index, module: v });
  }
  return out;
}

export interface H5Findings {
  lambdas: Array<LambdaLayer & { at: number }>;
  custom: Array<CustomObject & { at: number }>;
  /** Lambda spellings outside every JSON object that parsed. */
  looseLambdas: number[];
  /** Foreign `module` pairs outside every JSON object that parsed. */
  looseModules: Array<{ at: number; module: string }>;
  /** A JSON object too large to isolate, or a config too deep or large to walk. */
  overflow?: string;
}

export interface H5Scan {
  /** File offsets to search: [start, stop) ranges in increasing order (the head and the tail of the file). */
  ranges: Array<[number, number]>;
  allow: AllowList;
  /** Largest JSON object isolated (the model_config attribute). */
  maxObject: number;
  /** Called between reads (abort signal). */
  check: () => void;
}

/** Longest text the spelling search must see whole: kept across reads so a pair split between two is found. */
const OVERLAP = 512;
const MAX_LOOSE = 1000;

/** Searches the given ranges of an HDF5 file for Keras configs: parsed where possible, by spelling where not. */
export async function scanKerasH5(w: Window, opts: H5Scan): Promise<H5Findings> {
  const found: H5Findings = { lambdas: [], custom: [], looseLambdas: [], looseModules: [] };
  const parsed: Array<[number, number]> = [];
  const looseLambda = new Set<number>();
  const looseModule = new Map<number, string>();
  const onObject = (c: JsonCandidate): void => {
    if (!c.text.includes(0x22)) return;
    let config: unknown;
    try {
      config = JSON.parse(c.text.toString('utf8'));
    } catch {
      return;
    }
    parsed.push([c.at, c.at + c.text.length]);
    try {
      for (const l of findLambdaLayers(config)) found.lambdas.push({ ...l, at: c.at });
      for (const o of findCustomObjects(config, opts.allow)) found.custom.push({ ...o, at: c.at });
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      found.overflow = e.message;
    }
  };
  for (const [start, stop] of opts.ranges) {
    if (w.offset < start && !(await w.skip(start - w.offset))) break;
    const finder = new JsonObjectFinder(onObject, opts.maxObject);
    let fed = w.offset;
    while (w.offset < stop && (await w.fill(1))) {
      opts.check();
      const end = Math.min(w.end, w.pos + (stop - w.offset));
      const chunk = w.buf.subarray(w.pos, end);
      finder.push(chunk.subarray(fed - w.offset), fed);
      fed = w.offset + chunk.length;
      const text = chunk.toString('latin1');
      for (const at of lambdaSpellings(text)) if (looseLambda.size < MAX_LOOSE) looseLambda.add(w.offset + at);
      for (const m of foreignModuleSpellings(text)) if (looseModule.size < MAX_LOOSE) looseModule.set(w.offset + m.at, m.module);
      if (fed >= stop) break;
      // Keep an overlap so a pair split across two reads is still found by its spelling.
      const keep = Math.min(chunk.length, OVERLAP);
      w.pos = end - keep;
      if (!(await w.fill(keep + 1))) break;
    }
    finder.finish();
    if (finder.oversized) found.overflow = `a JSON object in it is over ${opts.maxObject} bytes`;
  }
  const covered = (at: number): boolean => parsed.some(([s, e]) => at >= s && at < e);
  found.looseLambdas = [...looseLambda].filter((at) => !covered(at));
  found.looseModules = [...looseModule].filter(([at]) => !covered(at)).map(([at, module]) => ({ at, module }));
  return found;
}
