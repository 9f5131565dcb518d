import { loadYaml, YamlError, type LoadedYaml, type YamlLimits } from './yaml.js';

/** Fields a provenance record can state (DESIGN §4.3). */
export const PROVENANCE_FIELDS = ['source', 'license', 'collected', 'collection-process', 'sha256'] as const;
export type ProvenanceField = (typeof PROVENANCE_FIELDS)[number];

/** Optional documentation keys; anything else (except `x-…`) is reported, since a typo would hide a field. */
const EXTRA_KEYS = new Set(['description', 'datasheet', 'contact', 'notes', 'version', 'files']);

export const PROVENANCE_YAML_LIMITS: Partial<YamlLimits> = { maxChars: 8 * 1024 * 1024, maxNodes: 500_000, maxDepth: 16, maxAliases: 100 };

/** Values that mean "not filled in yet" (what `mlgate init` writes). */
const PLACEHOLDER = /^\s*(todo|tbd|fixme|unknown|\?+|n\/a)?\s*$/i;
export const isPlaceholder = (value: string): boolean => PLACEHOLDER.test(value);

const SHA256 = /^(?:sha256:)?([0-9a-f]{64})$/i;
const DATE = String.raw`\d{4}(?:-\d{2}(?:-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)?)?`;
const COLLECTED = new RegExp(`^${DATE}(?:\\s*(?:/|\\.\\.|\\bto\\b)\\s*${DATE})?$`);

export interface StatedValue {
  values: string[];
  /** 1-based line of the value in the record. */
  line: number;
}

/** What one record (or one `files:` entry) states. */
export interface ProvenanceFields {
  stated: Partial<Record<ProvenanceField, StatedValue>>;
  /** Fields written but still a placeholder such as `TODO`. */
  placeholders: ProvenanceField[];
}

export interface ProvenanceRecord extends ProvenanceFields {
  /** `files:` entries by path relative to the record's directory (PROVENANCE.yml). */
  files: Map<string, ProvenanceFields & { line: number }>;
  /** 1-based line of the `files:` key, when present. */
  filesLine?: number;
  /** Values that are present but wrong; each makes the record invalid at that line. */
  problems: { message: string; line: number }[];
}

export class ProvenanceError extends Error {
  override name = 'ProvenanceError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/**
 * Parses an mlgate provenance record: a sidecar `<file>.provenance.yml` (one
 * dataset: `sha256` is its digest) or a `PROVENANCE.yml` (shared fields plus
 * per-file entries under `files:`). Throws ProvenanceError when the text is not
 * a YAML mapping; returns wrong values as located problems.
 */
export function parseProvenance(text: string, kind: 'sidecar' | 'directory'): ProvenanceRecord {
  let doc: LoadedYaml;
  try {
    doc = loadYaml(text, PROVENANCE_YAML_LIMITS);
  } catch (e) {
    if (e instanceof YamlError) throw new ProvenanceError(e.message, e.line);
    throw e;
  }
  if (doc.value === null || typeof doc.value !== 'object' || Array.isArray(doc.value)) {
    throw new ProvenanceError('a provenance record must be a YAML mapping (source:, license:, collected:, …)', 1);
  }
  const top = doc.value as Record<string, unknown>;
  const problems: ProvenanceRecord['problems'] = [];
  const at = (path: (string | number)[], key = false): number => doc.locate(path, { key }).line;
  const lines = text.split('\n');
  // A plain scalar of digits (and one `e`) loads as a number; a digest is read from the source text instead.
  const raw = (path: (string | number)[]): string | undefined => {
    const pos = doc.locate(path);
    return /^(?:sha256:)?[0-9a-fA-F]{64}\b/.exec(lines[pos.line - 1]?.slice(pos.column - 1) ?? '')?.[0];
  };

  for (const key of Object.keys(top)) {
    if ((PROVENANCE_FIELDS as readonly string[]).includes(key) || EXTRA_KEYS.has(key) || key.startsWith('x-')) continue;
    problems.push({ message: `unknown key \`${key}\` (expected ${PROVENANCE_FIELDS.join(', ')}, files)`, line: at([key], true) });
  }
  if (kind === 'sidecar' && 'files' in top) problems.push({ message: '`files:` belongs in a PROVENANCE.yml; a sidecar describes one file (use `sha256:`)', line: at(['files'], true) });
  if (kind === 'directory' && 'sha256' in top) problems.push({ message: 'a PROVENANCE.yml covers several files: put each digest under `files: {<path>: {sha256: …}}`', line: at(['sha256'], true) });

  const fields = readFields(top, [], at, raw, problems);
  const files = new Map<string, ProvenanceFields & { line: number }>();
  let filesLine: number | undefined;
  if (kind === 'directory' && top.files !== undefined && top.files !== null) {
    filesLine = at(['files'], true);
    if (typeof top.files !== 'object' || Array.isArray(top.files)) {
      problems.push({ message: '`files:` must map relative paths to `{sha256: …}`', line: filesLine });
    } else {
      for (const [rel, entry] of Object.entries(top.files as Record<string, unknown>)) {
        const line = at(['files', rel], true);
        const norm = normaliseRelative(rel);
        if (!norm) {
          problems.push({ message: `\`${rel}\` is not a relative path inside this directory`, line });
          continue;
        }
        if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
          problems.push({ message: `\`${rel}\` must map to \`{sha256: <64 hex digits>}\``, line });
          continue;
        }
        for (const k of Object.keys(entry)) {
          if (!(PROVENANCE_FIELDS as readonly string[]).includes(k) && !k.startsWith('x-'))
            problems.push({ message: `unknown key \`${k}\` in the entry for ${rel}`, line: at(['files', rel, k], true) });
        }
        files.set(norm, { ...readFields(entry as Record<string, unknown>, ['files', rel], at, raw, problems), line });
      }
    }
  }
  return { ...fields, files, filesLine, problems };
}

function readFields(
  obj: Record<string, unknown>,
  base: (string | number)[],
  at: (path: (string | number)[], key?: boolean) => number,
  raw: (path: (string | number)[]) => string | undefined,
  problems: ProvenanceRecord['problems'],
): ProvenanceFields {
  const stated: ProvenanceFields['stated'] = {};
  const placeholders: ProvenanceField[] = [];
  for (const field of PROVENANCE_FIELDS) {
    if (!(field in obj)) continue;
    const value = field === 'sha256' && typeof obj[field] === 'number' ? (raw([...base, field]) ?? obj[field]) : obj[field];
    const line = at([...base, field]);
    const list = Array.isArray(value) ? value : [value];
    if (list.some((v) => v !== null && typeof v === 'object')) {
      problems.push({ message: `\`${field}\` must be text${field === 'source' ? ' or a list of URLs' : ''}`, line });
      continue;
    }
    const values = list
      .filter((v) => v !== null && v !== undefined)
      .map((v) => String(v).trim())
      .filter((v) => !PLACEHOLDER.test(v));
    if (values.length === 0) {
      placeholders.push(field);
      continue;
    }
    if (Array.isArray(value) && field !== 'source') {
      problems.push({ message: `\`${field}\` must be a single value`, line });
      continue;
    }
    const problem = valueProblem(field, values[0]!);
    if (problem) {
      problems.push({ message: problem, line });
      continue;
    }
    stated[field] = { values: field === 'sha256' ? [SHA256.exec(values[0]!)![1]!.toLowerCase()] : values, line };
  }
  return { stated, placeholders };
}

function valueProblem(field: ProvenanceField, value: string): string | undefined {
  if (field === 'sha256' && !SHA256.test(value)) return '`sha256` must be 64 hexadecimal digits (the output of `sha256sum`)';
  if (field === 'collected' && !COLLECTED.test(value))
    return `\`collected: ${value}\` is not a date or a date range; write e.g. 2026-05-02 or 2026-01-01/2026-03-31`;
  return undefined;
}

/** A POSIX path relative to a directory, or undefined when it could escape it. */
export function normaliseRelative(p: string): string | undefined {
  if (p.includes('\0') || p.includes('\\') || p.startsWith('/')) return undefined;
  const segs = p.split('/').filter((s) => s !== '' && s !== '.');
  if (segs.length === 0 || segs.some((s) => s === '..')) return undefined;
  return segs.join('/');
}
