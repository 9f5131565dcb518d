import { getNodeValue, parseTree, type Node, type ParseError } from 'jsonc-parser';
import { LineIndex } from './text-position.js';

/** Croissant files are small metadata; anything beyond these is hostile or broken. */
export const CROISSANT_MAX_DEPTH = 64;
export const CROISSANT_MAX_DISTRIBUTION = 100_000;

export interface Located<T> {
  value: T;
  line: number;
}

export interface CroissantFileObject {
  /** `contentUrl` as written (a relative path or a URL). */
  contentUrl: string;
  line: number;
  sha256?: Located<string>;
  md5?: Located<string>;
}

export interface CroissantRecord {
  license?: Located<string[]>;
  url?: Located<string>;
  datePublished?: Located<string>;
  files: CroissantFileObject[];
  problems: { message: string; line: number }[];
}

export class CroissantError extends Error {
  override name = 'CroissantError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

const PREFIXES = ['sc:', 'schema:', 'cr:', 'http://schema.org/', 'https://schema.org/'];
const bare = (key: string): string => {
  for (const p of PREFIXES) if (key.startsWith(p)) return key.slice(p.length);
  return key;
};

/** Deepest bracket nesting, measured without recursion so a hostile file cannot exhaust the stack. */
export function jsonDepth(text: string, stopAt = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) {
        max = depth;
        if (max > stopAt) return max;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/**
 * Reads what provenance needs from a Croissant (ML Commons) JSON-LD dataset
 * description: `license`, `url`, `datePublished` and the `distribution`
 * FileObjects with their `contentUrl` and `sha256`/`md5`. Keys may carry the
 * `sc:`/`cr:` prefixes of the Croissant context.
 */
export function parseCroissant(text: string): CroissantRecord {
  const lines = new LineIndex(text);
  if (jsonDepth(text, CROISSANT_MAX_DEPTH) > CROISSANT_MAX_DEPTH) throw new CroissantError(`JSON nested deeper than ${CROISSANT_MAX_DEPTH} levels`);
  const errors: ParseError[] = [];
  const root = parseTree(text.replace(/^\uFEFF/, ''), errors, { disallowComments: true, allowTrailingComma: false });
  if (errors.length > 0 || !root) throw new CroissantError('not valid JSON', errors[0] ? lines.position(errors[0].offset).line : 1);
  if (root.type !== 'object') throw new CroissantError('a Croissant file must be a JSON object (a schema.org Dataset)', 1);
  const lineOf = (n: Node): number => lines.position(n.offset).line;
  const props = properties(root);
  const problems: CroissantRecord['problems'] = [];
  const record: CroissantRecord = { files: [], problems };

  const license = props.get('license');
  if (license) {
    const values = licenseValues(getNodeValue(license));
    if (values.length > 0) record.license = { value: values, line: lineOf(license) };
    else problems.push({ message: '`license` must be a URL, an SPDX id, or a list of them', line: lineOf(license) });
  }
  const url = props.get('url');
  if (url?.type === 'string') record.url = { value: url.value as string, line: lineOf(url) };
  const published = props.get('datePublished') ?? props.get('dateCreated');
  if (published?.type === 'string') record.datePublished = { value: published.value as string, line: lineOf(published) };

  const dist = props.get('distribution');
  const items = dist?.type === 'array' ? (dist.children ?? []) : dist ? [dist] : [];
  if (items.length > CROISSANT_MAX_DISTRIBUTION) throw new CroissantError(`more than ${CROISSANT_MAX_DISTRIBUTION} distribution entries`, dist ? lineOf(dist) : 1);
  for (const item of items) {
    if (item.type !== 'object') continue;
    const p = properties(item);
    const content = p.get('contentUrl');
    if (content?.type !== 'string') continue;
    const file: CroissantFileObject = { contentUrl: content.value as string, line: lineOf(item) };
    for (const [algo, len] of [['sha256', 64], ['md5', 32]] as const) {
      const n = p.get(algo);
      if (!n) continue;
      const v = typeof n.value === 'string' ? n.value.toLowerCase() : '';
      if (new RegExp(`^[0-9a-f]{${len}}$`).test(v)) file[algo] = { value: v, line: lineOf(n) };
      else problems.push({ message: `\`${algo}\` of ${file.contentUrl} must be ${len} hexadecimal digits`, line: lineOf(n) });
    }
    record.files.push(file);
  }
  return record;
}

function properties(obj: Node): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const prop of obj.children ?? []) {
    const [k, v] = prop.children ?? [];
    if (k?.type === 'string' && v) out.set(bare(k.value as string), v);
  }
  return out;
}

function licenseValues(v: unknown): string[] {
  const list = Array.isArray(v) ? v : [v];
  const out: string[] = [];
  for (const item of list) {
    if (typeof item === 'string' && item.trim()) out.push(item.trim());
    else if (item && typeof item === 'object') {
      const o = item as Record<string, unknown>;
      const s = o['@id'] ?? o.url ?? o['sc:url'] ?? o.identifier ?? o.name;
      if (typeof s === 'string' && s.trim()) out.push(s.trim());
    }
  }
  return out;
}
