import { CORE_SCHEMA, EVENT_ID, constructFromEvents, getScalarValue, parseEvents, type Event } from 'js-yaml';
import { isAlias, isMap, isNode, isScalar, isSeq, parseDocument, Scalar, type Document, type Node } from 'yaml';
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

/**
 * Loads YAML the way GitHub's workflow parser accepts it. js-yaml (above)
 * rejects a multi-line flow collection whose closing bracket sits at its key's
 * indentation (`branches: [` … `]`), which GitHub and PyYAML accept; eemeli's
 * `yaml` reads it. Same guarantees as `loadYaml`: YAML 1.2 core schema, one
 * document, duplicate keys refused, bounded size, depth, aliases and nodes.
 */
export function loadYamlLenient(text: string, limits: Partial<YamlLimits> = {}): LoadedYaml {
  const lim = { ...DEFAULT_YAML_LIMITS, ...limits };
  if (text.length > lim.maxChars) throw new YamlError(`YAML is ${text.length} characters, over the limit of ${lim.maxChars}`, 1, 1);
  const lines = new LineIndex(text);
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { version: '1.2', schema: 'core', uniqueKeys: true, merge: false, prettyErrors: false, strict: false, keepSourceTokens: false });
  } catch (e) {
    throw new YamlError(e instanceof RangeError ? `YAML nests too deeply to read` : e instanceof Error ? e.message : String(e));
  }
  const err = doc.errors[0];
  if (err) {
    const p = lines.position(err.pos[0]);
    throw new YamlError(err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''), p.line, p.column);
  }
  // Depth and node count before anything is built (aliases counted at their anchor's size).
  const sizes = new Map<unknown, number>();
  let aliases = 0;
  const measure = (node: unknown, depth: number): number => {
    if (depth > lim.maxDepth) throw new YamlError(`YAML nests deeper than ${lim.maxDepth} levels`);
    if (isAlias(node)) {
      if (++aliases > lim.maxAliases) throw new YamlError(`more than ${lim.maxAliases} YAML aliases`);
      return sizes.get(node.resolve(doc)) ?? 1;
    }
    let n = 1;
    if (isMap(node)) for (const pair of node.items) n += measure(pair.key, depth + 1) + measure(pair.value, depth + 1);
    else if (isSeq(node)) for (const item of node.items) n += measure(item, depth + 1);
    if (n > lim.maxNodes) throw new YamlError(`YAML expands to more than ${lim.maxNodes} nodes (alias bomb?)`);
    sizes.set(node, n);
    return n;
  };
  const total = measure(doc.contents, 0);
  if (total > lim.maxNodes) throw new YamlError(`YAML expands to more than ${lim.maxNodes} nodes (alias bomb?)`);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: lim.maxAliases });
  } catch (e) {
    throw new YamlError(e instanceof Error ? e.message : String(e));
  }

  /** A block scalar's value starts on the line after its `|`/`>` header, as js-yaml reports it. */
  const startOf = (node: Node): number | undefined => {
    const start = node.range?.[0];
    if (start === undefined) return undefined;
    if (isScalar(node) && (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED)) {
      const nl = text.indexOf('\n', start);
      return nl === -1 ? start : nl + 1;
    }
    return start;
  };

  return {
    value,
    locate(path, opts) {
      let node: unknown = doc.contents;
      let best = doc.contents && isNode(doc.contents) ? startOf(doc.contents) : undefined;
      for (let k = 0; k < path.length && node; k++) {
        const seg = path[k]!;
        const last = k === path.length - 1;
        if (isAlias(node)) node = node.resolve(doc);
        if (isMap(node)) {
          const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : p.key) === String(seg));
          if (!pair) break;
          const keyStart = isNode(pair.key) ? startOf(pair.key) : undefined;
          const valueStart = isNode(pair.value) ? startOf(pair.value) : undefined;
          best = (opts?.key && last ? keyStart : undefined) ?? valueStart ?? keyStart ?? best;
          node = pair.value;
        } else if (isSeq(node) && typeof seg === 'number') {
          const item = node.items[seg];
          if (!isNode(item)) break;
          best = startOf(item) ?? best;
          node = item;
        } else break;
      }
      return best === undefined ? { line: 1, column: 1 } : lines.position(best);
    },
  };
}
