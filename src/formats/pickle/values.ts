/**
 * What the static machine knows about a stack or memo value. Scalars stay
 * unboxed (numbers and short strings are JS primitives) so opcode-dense
 * pickles allocate little; containers keep only their first few items.
 */
export type Value = number | string | Obj;

export type Obj =
  | { k: 'none' }
  | { k: 'bool' }
  | { k: 'float' }
  | { k: 'bigint' }
  /** A str too long (or too many) to keep: its content is unknown. */
  | { k: 'lstr' }
  | { k: 'bytes'; data?: Buffer }
  | { k: 'tuple'; items: Value[] | null }
  | { k: 'list'; items: Value[] | null }
  | { k: 'dict'; entries: Value[] | null }
  | { k: 'set' }
  | { k: 'global'; module: string; name: string; offset: number }
  /** The result of calling something: REDUCE, NEWOBJ(_EX), OBJ, INST. */
  | { k: 'inst'; cls: Value; args: Value | null; state: Value | null }
  /** Persistent ids, out-of-band buffers, frozensets: nothing a later opcode can turn into code. */
  | { k: 'opaque' };

export const NONE: Obj = { k: 'none' };
export const BOOL: Obj = { k: 'bool' };
export const FLOAT: Obj = { k: 'float' };
export const BIGINT: Obj = { k: 'bigint' };
export const LSTR: Obj = { k: 'lstr' };
export const BYTES: Obj = { k: 'bytes' };
export const OPAQUE: Obj = { k: 'opaque' };

export function isGlobal(v: Value | undefined): v is Extract<Obj, { k: 'global' }> {
  return typeof v === 'object' && v.k === 'global';
}

export function isInst(v: Value | undefined): v is Extract<Obj, { k: 'inst' }> {
  return typeof v === 'object' && v.k === 'inst';
}

export function tupleItems(v: Value | null | undefined): Value[] | null {
  return typeof v === 'object' && v !== null && (v.k === 'tuple' || v.k === 'list') ? v.items : null;
}

/** Looks a str key up in a retained dict; undefined when absent or not retained. */
export function dictGet(v: Value | null | undefined, key: string): Value | undefined {
  if (typeof v !== 'object' || v === null || v.k !== 'dict' || !v.entries) return undefined;
  for (let i = 0; i + 1 < v.entries.length; i += 2) if (v.entries[i] === key) return v.entries[i + 1];
  return undefined;
}

/**
 * What BINPERSID leaves on the stack. PyTorch's legacy loader answers a
 * `('module', cls, source_file, source)` id (how `torch.save` of a whole
 * model writes each nn.Module class) with `cls` itself: the class is then
 * checked like any global it imports. Every other id is opaque.
 */
export function persistentLoad(pid: Value): Value {
  const items = typeof pid === 'object' && pid.k === 'tuple' ? pid.items : null;
  if (items && items.length >= 2 && items[0] === 'module' && isGlobal(items[1])) return items[1];
  return OPAQUE;
}

const KIND_NAMES: Record<Exclude<Obj['k'], 'global' | 'inst'>, string> = {
  none: 'None',
  bool: 'a bool',
  float: 'a float',
  bigint: 'an int too large to resolve',
  lstr: 'a str too long to resolve',
  bytes: 'a bytes object',
  tuple: 'a tuple',
  list: 'a list',
  dict: 'a dict',
  set: 'a set',
  opaque: 'an object mlgate cannot see into (a persistent id, an out-of-band buffer or an entry of an overfull memo)',
};

/** A value as a phrase that fits after a verb: "calls a tuple", "imports from the str \"os\"". */
export function describe(v: Value): string {
  if (typeof v === 'number') return 'an int';
  if (typeof v === 'string') return `the str ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  switch (v.k) {
    case 'global':
      return `the global ${v.module}.${v.name}`;
    case 'inst':
      return isGlobal(v.cls) ? `the result of calling ${v.cls.module}.${v.cls.name}` : 'the result of a call';
    default:
      return KIND_NAMES[v.k];
  }
}
