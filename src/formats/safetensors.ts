import type { ByteSource } from './byte-source.js';

/**
 * safetensors: an 8-byte little-endian header length N, N bytes of JSON
 * (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, …,
 * "__metadata__": {string: string}}`), then the tensor bytes. Only the
 * header is read. The checks are those the reference loader makes before it
 * trusts an offset (every tensor inside the data section, tensors back to
 * back with no gap or overlap, a size that matches dtype × shape), so a file
 * mlgate passes is one the loader reads as mlgate read it: nothing hides in
 * bytes no tensor owns.
 */

/** The format's own limit on the header. */
export const SAFETENSORS_HEADER_MAX = 100_000_000;
/**
 * What mlgate parses: real headers are kilobytes (a few hundred bytes per
 * tensor, a thousand tensors in a large shard); above this the file fails
 * closed as budget-exceeded. Parsed JSON costs ~25 times its size in memory,
 * and the rule keeps to 256 MiB.
 */
export const SAFETENSORS_SCAN_MAX = 4 * 1024 * 1024;
const MAX_DIMS = 64;

/** Bits per element of each dtype the reference implementation knows. */
const DTYPE_BITS: Record<string, number> = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8,
  F4: 4, F6_E2M3: 6, F6_E3M2: 6,
  I16: 16, U16: 16, F16: 16, BF16: 16,
  I32: 32, U32: 32, F32: 32,
  I64: 64, U64: 64, F64: 64, C64: 64,
};

export type SafetensorsResult =
  | { ok: true; tensors: number; headerBytes: number; dataBytes: number; metadata: Record<string, string> }
  | { ok: false; code: 'malformed' | 'budget-exceeded'; reason: string };

const fail = (reason: string): SafetensorsResult => ({ ok: false, code: 'malformed', reason });
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Whether the first bytes begin a safetensors file, possibly truncated: a
 * header length within the format's limit, then `{`. Anything else is
 * another format under a safetensors name.
 */
export function startsLikeSafetensors(head: Buffer): boolean {
  if (head.length < 8) return false;
  const n = head.readBigUInt64LE(0);
  return n >= 2n && n <= BigInt(SAFETENSORS_HEADER_MAX) && (head.length < 9 || head[8] === 0x7b);
}

/**
 * The first top-level key of a JSON object text that appears twice, or
 * undefined. JSON.parse keeps the last; a reader that keeps the first sees
 * another tensor at the same name, so a duplicate is refused (writers never
 * emit one). The text is already known to parse.
 */
function duplicateTopLevelKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x22) {
      const start = i;
      for (i++; text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
      if (depth !== 1) continue;
      let j = i + 1;
      while (/\s/.test(text[j] ?? '')) j++;
      if (text[j] !== ':') continue;
      const key = JSON.parse(text.slice(start, i + 1)) as string;
      if (seen.has(key)) return key;
      seen.add(key);
    }
  }
  return undefined;
}

export function readSafetensorsHeader(src: ByteSource): SafetensorsResult {
  if (src.size < 8) return fail(`the file is ${src.size} bytes, shorter than the 8-byte header length`);
  const n = src.read(0, 8).readBigUInt64LE(0);
  if (n > BigInt(SAFETENSORS_HEADER_MAX)) return fail(`the header length ${n} is over the format's ${SAFETENSORS_HEADER_MAX}-byte limit`);
  if (n > BigInt(src.size - 8)) return fail(`the header length ${n} runs past the end of the ${src.size}-byte file (truncated)`);
  const len = Number(n);
  if (len > SAFETENSORS_SCAN_MAX) return { ok: false, code: 'budget-exceeded', reason: `the ${len}-byte header is over the ${SAFETENSORS_SCAN_MAX}-byte limit mlgate parses` };
  const raw = src.read(8, len);
  if (raw.length < len) return fail('the header could not be read whole (truncated)');
  if (raw[0] !== 0x7b) return fail("the header does not start with '{'");
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return fail('the header is not valid UTF-8');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('the header is not a JSON object');
  const dup = duplicateTopLevelKey(text);
  if (dup !== undefined) return fail(`the header names '${dup}' twice; readers disagree on which entry wins`);
  const dataBytes = src.size - 8 - len;
  const spans: Array<{ name: string; begin: number; end: number }> = [];
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(doc as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) return fail('__metadata__ is not an object of strings');
      const bad = Object.entries(info).find(([, v]) => typeof v !== 'string');
      if (bad) return fail(`__metadata__ value '${bad[0]}' is a ${bad[1] === null ? 'null' : Array.isArray(bad[1]) ? 'list' : typeof bad[1]}, not a string (the format allows only strings, so a loader may read it differently)`);
      metadata = info as Record<string, string>;
      continue;
    }
    if (typeof info !== 'object' || info === null || Array.isArray(info)) return fail(`tensor '${name}' is not an object`);
    const t = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t.dtype !== 'string' || !(t.dtype in DTYPE_BITS)) return fail(`tensor '${name}' has the unknown dtype ${JSON.stringify(t.dtype)}`);
    if (!Array.isArray(t.shape) || t.shape.length > MAX_DIMS || !t.shape.every(isCount)) return fail(`tensor '${name}' has a shape that is not a list of at most ${MAX_DIMS} non-negative integers`);
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !isCount(off[0]) || !isCount(off[1])) return fail(`tensor '${name}' has data_offsets that are not two non-negative integers`);
    const [begin, end] = off as [number, number];
    if (end < begin) return fail(`tensor '${name}' ends (${end}) before it begins (${begin})`);
    if (end > dataBytes) return fail(`tensor '${name}' ends at data byte ${end}, past the ${dataBytes}-byte data section (truncated or forged offsets)`);
    const bits = (t.shape as number[]).reduce((a, d) => a * BigInt(d), 1n) * BigInt(DTYPE_BITS[t.dtype]!);
    if (bits % 8n !== 0n || bits / 8n !== BigInt(end - begin)) return fail(`tensor '${name}' holds ${end - begin} bytes but ${t.dtype} × [${(t.shape as number[]).join(', ')}] needs ${bits % 8n === 0n ? `${bits / 8n} bytes` : `${bits} bits, not a whole number of bytes`}`);
    spans.push({ name, begin, end });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev = '';
  for (const s of spans) {
    if (s.begin < at) return fail(`tensor '${s.name}' overlaps tensor '${prev}' (data bytes ${s.begin}–${at})`);
    if (s.begin > at) return fail(`data bytes ${at}–${s.begin} before tensor '${s.name}' belong to no tensor`);
    at = s.end;
    prev = s.name;
  }
  if (at !== dataBytes) return fail(`the last ${dataBytes - at} bytes of the data section belong to no tensor`);
  return { ok: true, tensors: spans.length, headerBytes: len, dataBytes, metadata };
}
