import { CORE_SCHEMA, EVENT_ID, constructFromEvents, getScalarValue, parseEvents, type Event } from 'js-yaml';
import type { Position } from '../core/types.js';
import { LineIndex } from './text-position.js';

export interface YamlLimits {
  /** Characters of source accepted at all. */
  maxChars: number;
  /** Nodes after alias expansion (defeats "billion laughs"). */
  maxNodes: number;
  maxDepth: number;
  maxAliases: number;
}

export const DEFAULT_YAML_LIMITS: YamlLimits = { maxChars: 1024 * 1024, maxNodes: 100_000, maxDepth: 64, maxAliases: 1_000 };

/** Why a YAML text was refused, with its 1-based position when known. */
export class YamlError extends Error {
  override name = 'YamlError';
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
  }
}

export type YamlPath = readonly (string | number)[];

export interface LoadedYaml {
  value: unknown;
  /** Position of the value at a path (of the key, for `key: true`); the nearest known ancestor otherwise. */
  locate(path: YamlPath, opts?: { key?: boolean }): Position;
}

interface Frame {
  kind: 'map' | 'seq' | 'doc';
  path: (string | number)[];
  index: number;
  expectingKey: boolean;
  pendingKey: string | number;
  nodes: number;
  anchor?: string;
}

const pathKey = (path: YamlPath): string => JSON.stringify(path);

/**
 * Loads one YAML document safely: core schema only (no custom tags, dates stay
 * strings), duplicate keys rejected, and bounded in size, depth, aliases and
 * expanded node count before anything is constructed. Keeps the position of
 * every key and value so errors can name `file:line:col`.
 */
export function loadYaml(text: string, limits: Partial<YamlLimits> = {}): LoadedYaml {
  const lim = { ...DEFAULT_YAML_LIMITS, ...limits };
  if (text.length > lim.maxChars) throw new YamlError(`YAML is ${text.length} characters, over the limit of ${lim.maxChars}`, 1, 1);
  const lines = new LineIndex(text);
  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth: lim.maxDepth });
  } catch (e) {
    throw fromJsYaml(e);
  }

  const valuePos = new Map<string, number>();
  const keyPos = new Map<string, number>();
  const anchorNodes = new Map<string, number>();
  let total = 0;
  let aliases = 0;
  let documents = 0;
  const stack: Frame[] = [];

  const countNodes = (n: number, offset: number): void => {
    total += n;
    if (total > lim.maxNodes) {
      const p = lines.position(offset);
      throw new YamlError(`YAML expands to more than ${lim.maxNodes} nodes (alias bomb?)`, p.line, p.column);
    }
    const top = stack[stack.length - 1];
    if (top) top.nodes += n;
  };

  /** Records a node's position and returns its path. */
  const place = (offset: number, scalarKey: string | undefined): (string | number)[] | undefined => {
    const top = stack[stack.length - 1];
    if (!top) return [];
    if (top.kind === 'doc') return [];
    if (top.kind === 'seq') {
      const path = [...top.path, top.index++];
      valuePos.set(pathKey(path), offset);
      return path;
    }
    if (top.expectingKey) {
      top.expectingKey = false;
      top.pendingKey = scalarKey ?? '<complex key>';
      keyPos.set(pathKey([...top.path, top.pendingKey]), offset);
      return undefined;
    }
    top.expectingKey = true;
    const path = [...top.path, top.pendingKey];
    valuePos.set(pathKey(path), offset);
    return path;
  };

  for (const ev of events) {
    switch (ev.type) {
      case EVENT_ID.DOCUMENT:
        if (++documents > 1) throw new YamlError('expected a single YAML document', undefined, undefined);
        stack.push({ kind: 'doc', path: [], index: 0, expectingKey: false, pendingKey: '', nodes: 0 });
        break;
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const path = place(ev.start, undefined) ?? [...(stack[stack.length - 1]?.path ?? []), '<complex key>'];
        const anchor = ev.anchorStart >= 0 ? text.slice(ev.anchorStart, ev.anchorEnd) : undefined;
        stack.push({ kind: ev.type === EVENT_ID.MAPPING ? 'map' : 'seq', path, index: 0, expectingKey: true, pendingKey: '', nodes: 0, anchor });
        break;
      }
      case EVENT_ID.SCALAR: {
        const raw = getScalarValue(text, ev);
        place(ev.valueStart, raw);
        if (ev.anchorStart >= 0) anchorNodes.set(text.slice(ev.anchorStart, ev.anchorEnd), 1);
        countNodes(1, ev.valueStart);
        break;
      }
      case EVENT_ID.ALIAS: {
        if (++aliases > lim.maxAliases) {
          const p = lines.position(ev.anchorStart);
          throw new YamlError(`more than ${lim.maxAliases} YAML aliases`, p.line, p.column);
        }
        place(ev.anchorStart, undefined);
        countNodes(anchorNodes.get(text.slice(ev.anchorStart, ev.anchorEnd)) ?? 1, ev.anchorStart);
        break;
      }
      case EVENT_ID.POP: {
        const frame = stack.pop();
        if (frame && frame.kind !== 'doc') {
          const n = frame.nodes + 1;
          if (frame.anchor) anchorNodes.set(frame.anchor, n);
          const parent = stack[stack.length - 1];
          total += 1;
          if (parent) parent.nodes += n;
        }
        break;
      }
    }
  }

  let docs: unknown[];
  try {
    docs = constructFromEvents(events, { source: text, schema: CORE_SCHEMA, maxAliases: lim.maxAliases });
  } catch (e) {
    throw fromJsYaml(e);
  }
  const value = docs.length === 0 ? null : docs[0];

  return {
    value,
    locate(path, opts) {
      for (let n = path.length; n >= 0; n--) {
        const k = pathKey(path.slice(0, n));
        const off = (opts?.key && n === path.length ? keyPos.get(k) : undefined) ?? valuePos.get(k) ?? keyPos.get(k);
        if (off !== undefined) return lines.position(off);
      }
      return { line: 1, column: 1 };
    },
  };
}

function fromJsYaml(e: unknown): YamlError {
  const err = e as { reason?: string; mark?: { line?: number; column?: number }; message?: string };
  if (err.mark && typeof err.mark.line === 'number') {
    return new YamlError(err.reason ?? String(err.message), err.mark.line + 1, (err.mark.column ?? 0) + 1);
  }
  return new YamlError(err.reason ?? (e instanceof Error ? e.message : String(e)));
}

/** Lines re-indented before giving up; each costs one more parse. */
const MAX_FLOW_REPAIRS = 16;
const MAX_REPAIR_LINES = 10_000;
/** Characters parsed again in all, so a large hostile file costs a few parses, not sixteen. */
const MAX_REPAIR_CHARS = 4 * 1024 * 1024;

/**
 * The line holding the bracket that closes the flow collection open at line
 * `k` (quoted text skipped); `k` itself when it does not close within reach.
 */
function closingLine(lines: readonly string[], k: number): number {
  let depth = 1;
  let quote = '';
  for (let l = k; l < lines.length && l < k + MAX_REPAIR_LINES; l++) {
    const line = lines[l]!;
    for (let c = 0; c < line.length; c++) {
      const ch = line[c]!;
      if (quote) {
        if (ch === quote && !(quote === '"' && line[c - 1] === '\\')) quote = '';
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '#' && (c === 0 || line[c - 1] === ' ')) break;
      else if (ch === '[' || ch === '{') depth++;
      else if ((ch === ']' || ch === '}') && --depth === 0) return l;
    }
  }
  return k;
}

const indentOf = (line: string): number => line.length - line.trimStart().length;

/**
 * Loads YAML as GitHub's workflow parser (and PyYAML) accept it: inside a flow
 * collection or a multi-line quoted scalar they ignore indentation, so
 * `branches: [` … `]` may close, or list its items, at the key's own column.
 * js-yaml refuses that with "deficient indentation", an error it raises only
 * in flow context, where leading spaces are not content; the line is indented
 * further and the text read again. Lines keep their numbers, so positions
 * stay right. Everything else is `loadYaml`, limits included.
 *
 * eemeli's `yaml` was evaluated for this and not used: it accepts a closing
 * bracket at the key's column but not items there, and its duplicate-key check
 * is quadratic (16 s for a 190 KB mapping) and 50,000 `[` exhaust the heap.
 */
export function loadYamlLenient(text: string, limits: Partial<YamlLimits> = {}): LoadedYaml {
  let first: YamlError | undefined;
  let current = text;
  for (let attempt = 0; ; attempt++) {
    try {
      return loadYaml(current, limits);
    } catch (e) {
      if (!(e instanceof YamlError)) throw e;
      first ??= e;
      if (e.message !== 'deficient indentation' || e.line === undefined || attempt >= MAX_FLOW_REPAIRS || (attempt + 1) * text.length > MAX_REPAIR_CHARS) throw first;
      const lines = current.split('\n');
      const k = e.line - 1;
      let prev = k - 1;
      while (prev >= 0 && lines[prev]!.trim() === '') prev--;
      const want = Math.max(prev >= 0 ? indentOf(lines[prev]!) + 1 : 1, indentOf(lines[k] ?? '') + 1 + attempt);
      // The rest of the collection is likely as far left: indent every line up to the bracket that closes it.
      const end = closingLine(lines, k);
      for (let l = k; l <= end; l++) {
        const line = lines[l]!;
        if (line.trim() !== '' && indentOf(line) < want) lines[l] = ' '.repeat(want - indentOf(line)) + line;
      }
      current = lines.join('\n');
    }
  }
}
