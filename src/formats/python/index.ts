import { setImmediate as nextTurn } from 'node:timers/promises';
import { extractModule, type RawArg, type RawCall, type RawFunction, type RawImport, type RawValue } from './extract.js';
import { notebookUnits, type PythonUnit } from './notebook-source.js';
import { withPythonTree } from './parser.js';

export { MAX_PYTHON_SOURCE_CHARS, PythonParseError } from './parser.js';
export { pythonOfCell, type PythonUnit } from './notebook-source.js';
export { codeWithoutStrings } from './code-text.js';

/** An argument value; names carry every module-qualified name they may stand for. */
export type PythonValue =
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'none' }
  | { kind: 'name'; written: string; names: string[] }
  /** A call as a value; `names` as for PythonCall, `args` its positional arguments. */
  | { kind: 'call'; names: string[]; written: string | null; method: string | null; args: PythonValue[] }
  /** `a / b`, which a path join (`Path(d) / "model"`) is. */
  | { kind: 'division' }
  | { kind: 'other' };

export interface PythonArg {
  value: PythonValue;
  /** 1-based line and column in the file (the .ipynb line for a notebook). */
  line: number;
  column: number;
}

export interface PythonCall {
  /**
   * Qualified names the callee may resolve to through the file's imports
   * (`t.load` after `import torch as t` → `torch.load`); several when a name is
   * imported in more than one way (try/except imports). Empty when the callee
   * is not a dotted name.
   */
  names: string[];
  /** The callee as written. */
  written: string | null;
  /** The last identifier of the callee, even on an expression (`get().from_pretrained`). */
  method: string | null;
  positional: PythonArg[];
  keywords: ReadonlyMap<string, PythonArg>;
  /** `*args` / `**kwargs` present: absent arguments may still be passed. */
  starArgs: boolean;
  starKwargs: boolean;
  /** The name in `**name`, when it is a plain identifier. */
  kwargsName: string | null;
  /** Index of the innermost enclosing function in `PythonFile.functions`, -1 at module level (per notebook cell). */
  scope: number;
  line: number;
  endLine: number;
  column: number;
}

export interface PythonFunction {
  name: string;
  /** Parameters with their default values (null: no default); `*args`/`**kwargs` not listed. */
  params: { name: string; default: PythonValue | null }[];
  scope: number;
}

/** `name = {…}` / `name = dict(…)` in a scope: what `**name` passes. */
export interface PythonDictAssign {
  name: string;
  scope: number;
  keys: ReadonlyMap<string, PythonValue>;
}

/** A dictionary entry with a string key and a boolean value (`{"trust_remote_code": True}`). */
export interface PythonDictFlag {
  key: string;
  value: boolean;
  /** 1-based line and column of the value. */
  line: number;
  column: number;
}

export interface PythonFile {
  calls: PythonCall[];
  functions: PythonFunction[];
  dictAssigns: PythonDictAssign[];
  dictFlags: PythonDictFlag[];
  /** Set when most of the source is syntax the parser could not place: the calls list is unreliable. */
  unparsable: { line: number; errorShare: number } | null;
}

/** Share of non-blank source inside ERROR nodes above which a file is reported as unparsable. */
const UNPARSABLE_ERROR_SHARE = 0.5;

/** Conventional import aliases, assumed when a notebook or snippet uses them without importing. */
const CONVENTIONAL_ALIASES: Record<string, string> = { np: 'numpy', pd: 'pandas', tf: 'tensorflow' };

/** The argument at `keyword`, else at 0-based `position` among the positional ones. */
export function argument(call: PythonCall, position: number | null, keyword: string): PythonArg | undefined {
  return call.keywords.get(keyword) ?? (position === null ? undefined : call.positional[position]);
}

/** True when the callee may be one of `qualified` (exact module-qualified names). */
export function isCallTo(call: PythonCall, qualified: ReadonlySet<string>): boolean {
  return call.names.some((n) => qualified.has(n));
}

/** The units of a file: the whole file for `.py`, the Python code cells for `.ipynb`. */
function pythonUnitsOf(path: string, text: string): PythonUnit[] {
  return path.toLowerCase().endsWith('.ipynb') ? notebookUnits(text) : [{ source: text }];
}

/**
 * Parses a Python file or notebook and lists its calls with callees resolved
 * through the file's imports (all cells of a notebook share one namespace).
 * Resolution is flow-insensitive: an import anywhere in the file counts.
 * `wanted` narrows the calls read to those whose callee (or an alias of it) ends in a wanted name.
 */
export async function analysePython(path: string, text: string, signal?: AbortSignal, wanted?: (name: string) => boolean): Promise<PythonFile> {
  const units = pythonUnitsOf(path, text);
  const rawCalls: { call: RawCall; unit: PythonUnit; offset: number }[] = [];
  const rawFunctions: RawFunction[] = [];
  const dictAssigns: { name: string; scope: number; keys: Map<string, RawValue> }[] = [];
  const dictFlags: PythonDictFlag[] = [];
  const imports: RawImport[] = [];
  const definitions = new Set<string>();
  let errorChars = 0;
  let codeChars = 0;
  let firstErrorLine: number | null = null;
  for (const unit of units) {
    // Parsing is synchronous: give timers (the rule's budget) a turn between sources.
    await nextTurn();
    signal?.throwIfAborted();
    const mod = await withPythonTree(unit.source, (tree) => extractModule(tree, wanted));
    // Function indexes are per unit; shift them so one list serves the whole file.
    const offset = rawFunctions.length;
    const shift = (scope: number): number => (scope === -1 ? -1 : scope + offset);
    for (const call of mod.calls) rawCalls.push({ call, unit, offset });
    for (const f of mod.functions) rawFunctions.push({ ...f, scope: shift(f.scope) });
    for (const d of mod.dictAssigns) dictAssigns.push({ ...d, scope: shift(d.scope) });
    for (const f of mod.dictFlags) dictFlags.push({ key: f.key, value: f.value, line: lineOf(unit, f.row), column: f.column + 1 });
    imports.push(...mod.imports);
    for (const d of mod.definitions) definitions.add(d);
    errorChars += mod.errorChars;
    codeChars += unit.source.replace(/\s+/g, '').length;
    if (mod.firstErrorRow !== null) firstErrorLine ??= lineOf(unit, mod.firstErrorRow);
  }
  const resolve = resolver(imports, definitions);
  const share = codeChars === 0 ? 0 : errorChars / codeChars;
  return {
    calls: rawCalls.map(({ call, unit, offset }) => toCall(call, unit, resolve, offset)),
    functions: rawFunctions.map((f) => ({ name: f.name, scope: f.scope, params: f.params.map((p) => ({ name: p.name, default: p.default && toValue(p.default, resolve) })) })),
    dictAssigns: dictAssigns.map((d) => ({ name: d.name, scope: d.scope, keys: new Map([...d.keys].map(([k, v]) => [k, toValue(v, resolve)])) })),
    dictFlags,
    unparsable: share > UNPARSABLE_ERROR_SHARE ? { line: firstErrorLine ?? 1, errorShare: Math.min(1, share) } : null,
  };
}

const lineOf = (unit: PythonUnit, row: number): number => unit.fileLines?.[row] ?? unit.fileLines?.at(-1) ?? row + 1;

type Resolve = (written: string) => string[];

function resolver(imports: readonly RawImport[], definitions: ReadonlySet<string>): Resolve {
  const bindings = new Map<string, Set<string>>();
  const stars: string[] = [];
  for (const { local, target } of imports) {
    if (local === '*') stars.push(target);
    else bindings.set(local, (bindings.get(local) ?? new Set()).add(target));
  }
  return (written) => {
    const dot = written.indexOf('.');
    const head = dot === -1 ? written : written.slice(0, dot);
    const rest = dot === -1 ? '' : written.slice(dot);
    const targets = bindings.get(head);
    if (targets) return [...targets].map((t) => t + rest);
    if (definitions.has(head)) return [written];
    const names = [written];
    const conventional = CONVENTIONAL_ALIASES[head];
    if (conventional) names.push(conventional + rest);
    for (const module of stars) names.push(`${module}.${written}`);
    return names;
  };
}

function toCall(raw: RawCall, unit: PythonUnit, resolve: Resolve, offset: number): PythonCall {
  const arg = (a: RawArg): PythonArg => ({ value: toValue(a.value, resolve), line: lineOf(unit, a.row), column: a.column + 1 });
  return {
    names: raw.callee === null ? [] : resolve(raw.callee),
    written: raw.callee,
    method: raw.method,
    positional: raw.positional.map(arg),
    keywords: new Map([...raw.keywords].map(([k, v]) => [k, arg(v)])),
    starArgs: raw.starArgs,
    starKwargs: raw.starKwargs,
    kwargsName: raw.kwargsName,
    scope: raw.scope === -1 ? -1 : raw.scope + offset,
    line: lineOf(unit, raw.row),
    endLine: lineOf(unit, raw.endRow),
    column: raw.column + 1,
  };
}

function toValue(v: RawValue, resolve: Resolve): PythonValue {
  if (v.kind === 'name') return { kind: 'name', written: v.written, names: resolve(v.written) };
  if (v.kind === 'call') return { kind: 'call', names: v.callee === null ? [] : resolve(v.callee), written: v.callee, method: v.method, args: v.args.map((a) => toValue(a, resolve)) };
  return v;
}
