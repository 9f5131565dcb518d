import { Query, type Language, type Node, type Tree } from 'web-tree-sitter';

/** An argument's value as far as it can be known without running the code. */
export type RawValue =
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'none' }
  /** A dotted name as written (`yaml.SafeLoader`, `rev`); resolved through imports later. */
  | { kind: 'name'; written: string }
  /** A call (`kwargs.get("x", False)`, `os.path.join(d, "m")`), its arguments read one level deep. */
  | { kind: 'call'; callee: string | null; method: string | null; args: RawValue[] }
  /** `a / b`: a pathlib join when it stands for a path. */
  | { kind: 'division' }
  | { kind: 'other' };

export interface RawArg {
  value: RawValue;
  /** 0-based row and column in the parsed source. */
  row: number;
  column: number;
}

export interface RawCall {
  /** The callee as a dotted name when it is one (`torch.load`, `load`); null for `f()()`, `x[0]()`. */
  callee: string | null;
  /** The last identifier of the callee (`from_pretrained` in `get_cls().from_pretrained`). */
  method: string | null;
  positional: RawArg[];
  keywords: Map<string, RawArg>;
  starArgs: boolean;
  starKwargs: boolean;
  /** The name in `**name` when it is a plain identifier. */
  kwargsName: string | null;
  /** Index of the innermost enclosing function in `RawModule.functions`, -1 at module level. */
  scope: number;
  row: number;
  column: number;
  endRow: number;
}

/** A function definition: its parameters with their defaults (read only around the calls read), so pass-through arguments can be read. */
export interface RawFunction {
  name: string;
  params: { name: string; default: RawValue | null }[];
  /** Enclosing function, -1 at module level. */
  scope: number;
}

/** `name = {"key": value}` or `name = dict(key=value)`: keyword arguments built before a `**name` call. */
export interface RawDictAssign {
  name: string;
  scope: number;
  keys: Map<string, RawValue>;
}

/** A dictionary entry `"name": True/False`, the way keyword flags travel in `model_kwargs={…}` or `**config`. */
export interface RawDictFlag {
  key: string;
  value: boolean;
  row: number;
  column: number;
}

/** `local` is bound to `target` (`import torch as t` → t ↦ torch); a star import has local `*`. */
export interface RawImport {
  local: string;
  target: string;
}

export interface RawModule {
  calls: RawCall[];
  functions: RawFunction[];
  dictAssigns: RawDictAssign[];
  dictFlags: RawDictFlag[];
  imports: RawImport[];
  /** Names the source defines itself (def, class), which shadow conventional aliases and star imports. */
  definitions: string[];
  /** Characters inside ERROR nodes the parser could not place (outermost only). */
  errorChars: number;
  /** 0-based row of the first ERROR node, when there is one. */
  firstErrorRow: number | null;
}

/** The node kinds read from a tree, found by one query that runs inside the parser (visiting every node from JS costs more than the parse). */
const PATTERNS = `
(call) @call
(import_statement) @import
(import_from_statement) @import
(function_definition) @function
(class_definition) @class
(assignment left: (identifier) right: [(dictionary) (call)]) @assign
(pair key: (string) value: [(true) (false)]) @pair
(ERROR) @error
`;

const queries = new WeakMap<Language, Query>();

function queryFor(language: Language): Query {
  let q = queries.get(language);
  if (!q) queries.set(language, (q = new Query(language, PATTERNS)));
  return q;
}

/** The last identifier of a call's callee (`load` in `torch.load(…)`), without reading the rest of the call. */
function calleeMethod(node: Node): string | null {
  const fn = node.childForFieldName('function');
  if (fn?.type === 'identifier') return fn.text;
  if (fn?.type === 'attribute') return fn.childForFieldName('attribute')?.text ?? null;
  return null;
}

/**
 * Reads calls and imports from a parsed tree. `wanted`, when given, names the
 * callees (last identifier) whose calls are read in full; other calls are
 * skipped, except through an import alias of a wanted name
 * (`from torch import load as tl`).
 */
export function extractModule(tree: Tree, wanted?: (name: string) => boolean): RawModule {
  const out: RawModule = { calls: [], functions: [], dictAssigns: [], dictFlags: [], imports: [], definitions: [], errorChars: 0, firstErrorRow: null };
  const captures = queryFor(tree.language).captures(tree.rootNode);
  for (const { name, node } of captures) if (name === 'import') out.imports.push(...readImport(node));
  const aliases = new Set(out.imports.filter((i) => i.local !== '*' && wanted?.(i.target.slice(i.target.lastIndexOf('.') + 1))).map((i) => i.local));
  const want = (node: Node): boolean => {
    if (!wanted) return true;
    const method = calleeMethod(node);
    return method !== null && (wanted(method) || aliases.has(method));
  };
  const functionNodes: Node[] = [];
  let errorEnd = -1;
  // Enclosing functions as [index, end offset]; captures come in document order, so a function is left once a capture starts past its end.
  const scopes: [number, number][] = [];
  for (const { name, node } of captures) {
    const start = node.startIndex;
    while (scopes.length > 0 && scopes[scopes.length - 1]![1] <= start) scopes.pop();
    const scope = scopes.length > 0 ? scopes[scopes.length - 1]![0] : -1;
    switch (name) {
      case 'error':
        if (start >= errorEnd) {
          out.errorChars += node.endIndex - start;
          out.firstErrorRow ??= node.startPosition.row;
          errorEnd = node.endIndex;
        }
        break;
      case 'call':
        if (want(node)) out.calls.push(readCall(node, scope));
        break;
      case 'pair': {
        const flag = readDictFlag(node);
        if (flag) out.dictFlags.push(flag);
        break;
      }
      case 'class':
      case 'function': {
        const id = node.childForFieldName('name');
        if (id) out.definitions.push(id.text);
        if (name === 'function') {
          out.functions.push({ name: id?.text ?? '', params: [], scope });
          functionNodes.push(node);
          scopes.push([out.functions.length - 1, node.endIndex]);
        }
        break;
      }
      case 'assign': {
        const assign = readDictAssign(node, scope);
        if (assign) out.dictAssigns.push(assign);
        break;
      }
    }
  }
  // Parameters only of the functions a read call sits in (or one around them): most functions need none.
  const needed = new Set<number>();
  for (const c of out.calls) for (let f = c.scope; f !== -1 && !needed.has(f); f = out.functions[f]!.scope) needed.add(f);
  for (const f of needed) out.functions[f]!.params = readParams(functionNodes[f]!);
  return out;
}

/** `a.b.c` when the node is an identifier or a chain of attribute accesses on one. */
function dottedName(node: Node | null): string | null {
  const parts: string[] = [];
  let n = node;
  while (n?.type === 'attribute') {
    const attr = n.childForFieldName('attribute');
    if (!attr) return null;
    parts.push(attr.text);
    n = n.childForFieldName('object');
  }
  if (n?.type !== 'identifier') return null;
  parts.push(n.text);
  return parts.reverse().join('.');
}

function readCall(node: Node, scope: number): RawCall {
  const fn = node.childForFieldName('function');
  const callee = dottedName(fn);
  let method: string | null = null;
  if (fn?.type === 'identifier') method = fn.text;
  else if (fn?.type === 'attribute') method = fn.childForFieldName('attribute')?.text ?? null;
  const call: RawCall = {
    callee,
    method,
    positional: [],
    keywords: new Map(),
    starArgs: false,
    starKwargs: false,
    kwargsName: null,
    scope,
    row: node.startPosition.row,
    column: node.startPosition.column,
    endRow: node.endPosition.row,
  };
  const args = node.childForFieldName('arguments');
  if (args?.type === 'generator_expression') {
    call.positional.push(argAt(args, { kind: 'other' }));
    return call;
  }
  for (const arg of args?.namedChildren ?? []) {
    if (!arg) continue;
    switch (arg.type) {
      case 'comment':
        break;
      case 'list_splat':
        call.starArgs = true;
        break;
      case 'dictionary_splat': {
        call.starKwargs = true;
        const inner = arg.namedChildren.find((c) => c?.type !== 'comment');
        if (inner?.type === 'identifier') call.kwargsName = inner.text;
        break;
      }
      case 'keyword_argument': {
        const name = arg.childForFieldName('name')?.text;
        const value = arg.childForFieldName('value');
        if (name && value) call.keywords.set(name, argAt(value, readValue(value)));
        break;
      }
      default:
        call.positional.push(argAt(arg, readValue(arg)));
    }
  }
  return call;
}

function readDictFlag(pair: Node): RawDictFlag | null {
  const key = pair.childForFieldName('key');
  const value = pair.childForFieldName('value');
  if (key?.type !== 'string' || (value?.type !== 'true' && value?.type !== 'false')) return null;
  const name = stringValue(key);
  return name === null ? null : { key: name, value: value.type === 'true', row: value.startPosition.row, column: value.startPosition.column };
}

const argAt = (node: Node, value: RawValue): RawArg => ({ value, row: node.startPosition.row, column: node.startPosition.column });

/** Parameters and their defaults (`def load(path, weights_only=True)`); `*args`/`**kwargs` are left out. */
function readParams(fn: Node): RawFunction['params'] {
  const out: RawFunction['params'] = [];
  for (const p of fn.childForFieldName('parameters')?.namedChildren ?? []) {
    if (!p) continue;
    if (p.type === 'identifier') out.push({ name: p.text, default: null });
    else if (p.type === 'typed_parameter') {
      const id = p.namedChildren.find((c) => c?.type === 'identifier');
      if (id) out.push({ name: id.text, default: null });
    } else if (p.type === 'default_parameter' || p.type === 'typed_default_parameter') {
      const name = p.childForFieldName('name');
      const value = p.childForFieldName('value');
      if (name?.type === 'identifier' && value) out.push({ name: name.text, default: readValue(value, 1) });
    }
  }
  return out;
}

function readDictAssign(node: Node, scope: number): RawDictAssign | null {
  const left = node.childForFieldName('left');
  const right = node.childForFieldName('right');
  if (left?.type !== 'identifier' || !right) return null;
  const keys = new Map<string, RawValue>();
  if (right.type === 'dictionary') {
    for (const pair of right.namedChildren) {
      if (pair?.type !== 'pair') continue;
      const key = pair.childForFieldName('key');
      const value = pair.childForFieldName('value');
      const name = key?.type === 'string' ? stringValue(key) : null;
      if (name !== null && value) keys.set(name, readValue(value, 1));
    }
  } else if (right.type === 'call' && right.childForFieldName('function')?.text === 'dict') {
    for (const arg of right.childForFieldName('arguments')?.namedChildren ?? []) {
      if (arg?.type !== 'keyword_argument') continue;
      const name = arg.childForFieldName('name')?.text;
      const value = arg.childForFieldName('value');
      if (name && value) keys.set(name, readValue(value, 1));
    }
  } else {
    return null;
  }
  return { name: left.text, scope, keys };
}

/** `depth` bounds how far call arguments are read: one level is enough for `pickle.loads(pickle.dumps(x))`. */
function readValue(node: Node, depth = 0): RawValue {
  switch (node.type) {
    case 'true':
      return { kind: 'bool', value: true };
    case 'false':
      return { kind: 'bool', value: false };
    case 'none':
      return { kind: 'none' };
    case 'parenthesized_expression': {
      const inner = node.namedChildren.filter((c) => c?.type !== 'comment');
      return inner.length === 1 && inner[0] ? readValue(inner[0], depth) : { kind: 'other' };
    }
    case 'call': {
      if (depth > 1) return { kind: 'other' };
      const fn = node.childForFieldName('function');
      const method = fn?.type === 'identifier' ? fn.text : fn?.type === 'attribute' ? (fn.childForFieldName('attribute')?.text ?? null) : null;
      const args: RawValue[] = [];
      for (const a of node.childForFieldName('arguments')?.namedChildren ?? []) {
        if (a && a.type !== 'comment' && a.type !== 'keyword_argument' && a.type !== 'list_splat' && a.type !== 'dictionary_splat') args.push(readValue(a, depth + 1));
      }
      return { kind: 'call', callee: dottedName(fn), method, args };
    }
    case 'binary_operator':
      return node.childForFieldName('operator')?.type === '/' ? { kind: 'division' } : { kind: 'other' };
    case 'string':
    case 'concatenated_string': {
      const value = stringValue(node);
      return value === null ? { kind: 'other' } : { kind: 'string', value };
    }
    default: {
      const written = dottedName(node);
      return written === null ? { kind: 'other' } : { kind: 'name', written };
    }
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', a: '\x07', b: '\b', f: '\f', v: '\v' };

/** The value of a string literal, or null when it has interpolations (an f-string with `{…}`). */
function stringValue(node: Node): string | null {
  if (node.type === 'concatenated_string') {
    let joined = '';
    for (const part of node.namedChildren) {
      if (part?.type !== 'string') continue;
      const v = stringValue(part);
      if (v === null) return null;
      joined += v;
    }
    return joined;
  }
  // string_start holds the prefix and the opening quote, e.g. `rb'`.
  const prefix = node.firstChild?.text.toLowerCase() ?? '';
  const raw = prefix.includes('r');
  let value = '';
  for (const child of node.namedChildren) {
    if (!child) continue;
    if (child.type === 'interpolation') return null;
    if (child.type !== 'string_content') continue;
    value += raw ? child.text : unescape(child);
  }
  return value;
}

function unescape(content: Node): string {
  const text = content.text;
  let out = '';
  let at = content.startIndex;
  for (const esc of content.namedChildren) {
    if (esc?.type !== 'escape_sequence') continue;
    out += text.slice(at - content.startIndex, esc.startIndex - content.startIndex);
    out += decodeEscape(esc.text);
    at = esc.endIndex;
  }
  return out + text.slice(at - content.startIndex);
}

function decodeEscape(esc: string): string {
  const c = esc[1] ?? '';
  if (c in SIMPLE_ESCAPES) return SIMPLE_ESCAPES[c]!;
  if (c === 'x' || c === 'u' || c === 'U') {
    const code = Number.parseInt(esc.slice(2), 16);
    return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : esc;
  }
  if (c === '\n') return '';
  // \\, \', \" and anything Python keeps as is.
  return esc.length === 2 && '\\\'"'.includes(c) ? c : esc;
}

function readImport(node: Node): RawImport[] {
  const out: RawImport[] = [];
  if (node.type === 'import_statement') {
    for (const name of node.childrenForFieldName('name')) {
      if (!name) continue;
      if (name.type === 'aliased_import') {
        const target = name.childForFieldName('name')?.text;
        const alias = name.childForFieldName('alias')?.text;
        if (target && alias) out.push({ local: alias, target });
      } else {
        // `import a.b.c` binds `a`, through which `a.b.c` stays reachable.
        const head = name.text.split('.')[0]!;
        out.push({ local: head, target: head });
      }
    }
    return out;
  }
  const module = node.childForFieldName('module_name')?.text;
  if (!module) return out;
  if (node.namedChildren.some((c) => c?.type === 'wildcard_import')) {
    out.push({ local: '*', target: module });
    return out;
  }
  for (const name of node.childrenForFieldName('name')) {
    if (!name) continue;
    if (name.type === 'aliased_import') {
      const target = name.childForFieldName('name')?.text;
      const alias = name.childForFieldName('alias')?.text;
      if (target && alias) out.push({ local: alias, target: `${module}.${target}` });
    } else {
      out.push({ local: name.text, target: `${module}.${name.text}` });
    }
  }
  return out;
}
