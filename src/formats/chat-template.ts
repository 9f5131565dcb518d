import { parse, tokenize } from '@huggingface/jinja';

/**
 * Chat templates (Jinja) as inference servers render them. Several servers
 * rendered them with an unsandboxed Jinja2 environment (llama-cpp-python
 * CVE-2024-34359, vLLM, SGLang), where a template reaches Python internals
 * through attribute access (`''.__class__.__mro__[1].__subclasses__()`), the
 * globals of Jinja's helper callables (`cycler.__init__.__globals__.os`), or
 * names assembled at render time so no dunder appears literally. The template
 * is parsed with @huggingface/jinja and its syntax tree walked: nothing is
 * rendered, and text outside tags is never read as code.
 */

/** Templates above this size are not analysed (real ones are a few KiB; the largest tool-use templates ~30 KiB). */
export const TEMPLATE_MAX_CHARS = 1 << 20;
const MAX_NODES = 500_000;
const MAX_FOLD_DEPTH = 64;
const MAX_FOLDED_CHARS = 4096;
const MAX_HITS = 16;

export interface TemplateHit {
  /** What the template does, for the finding's message. */
  what: string;
  /** Text of the template to locate the hit by (a name or literal piece), when there is one. */
  needle?: string;
}

export type TemplateVerdict =
  | { kind: 'ok' }
  | { kind: 'injection'; hits: TemplateHit[] }
  | { kind: 'unparsable'; reason: string }
  | { kind: 'too-large'; chars: number };

/** Jinja's globals and helpers whose own attributes lead to Python's (`lipsum.__globals__`, `cycler.__init__`). */
const GADGETS = new Set(['cycler', 'joiner', 'namespace', 'lipsum', 'range', 'dict', 'self', 'config', 'request', 'url_for', 'get_flashed_messages', 'raise_exception', 'strftime_now']);
/** Attributes Jinja2's sandbox refuses besides `_`-prefixed ones: frame, code and generator internals, and the MRO walk. */
const UNSAFE_ATTRS = new Set(['mro', 'gi_frame', 'gi_code', 'gi_yieldfrom', 'cr_frame', 'cr_code', 'cr_await', 'ag_frame', 'ag_code', 'ag_await', 'f_globals', 'f_locals', 'f_builtins', 'f_back', 'f_code', 'tb_frame', 'tb_next', 'func_globals', 'func_code', 'func_closure', 'im_func', 'im_self', 'im_class']);
/** Filters that read an attribute named by a string argument (positional index, or the `attribute=` keyword). */
const ATTRIBUTE_FILTERS: Record<string, number | undefined> = { attr: 0, selectattr: 0, rejectattr: 0, groupby: 0, map: undefined, sort: undefined, sum: undefined, unique: undefined, min: undefined, max: undefined, dictsort: undefined };
/** Filters whose result is a string built from their operand. */
const STRING_FILTERS = new Set(['join', 'format', 'replace', 'reverse', 'lower', 'upper', 'string', 'trim', 'title', 'capitalize', 'center', 'urlencode', 'safe']);

/** A name Python would resolve to an interpreter internal: a dunder, a mangled private, or a sandbox-refused attribute. */
function internalName(name: string, dotted: boolean): boolean {
  const parts = dotted ? name.split('.') : [name];
  return parts.some((p) => /^__.*__$/.test(p) || /^_[A-Za-z0-9]+__[A-Za-z]/.test(p) || UNSAFE_ATTRS.has(p) || /^__[A-Za-z]/.test(p));
}

/** `.attr` access: Jinja2's sandbox refuses every `_`-prefixed attribute, and no chat template needs one. */
function internalAttribute(name: string): boolean {
  return name.startsWith('_') || internalName(name, false);
}

// The AST's classes are not exported as types one can narrow on; nodes are read structurally.
type Node = { type: string } & Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';

function children(n: Node): Node[] {
  const out: Node[] = [];
  for (const v of Object.values(n)) {
    if (isNode(v)) out.push(v);
    else if (Array.isArray(v)) out.push(...v.filter(isNode));
    else if (v instanceof Map) for (const [k, x] of v as Map<unknown, unknown>) out.push(...[k, x].filter(isNode));
  }
  return out;
}

const ident = (n: unknown): string | undefined => (isNode(n) && n.type === 'Identifier' ? (n.value as string) : undefined);
const op = (n: Node): string => (n.operator as { value: string }).value;
const filterName = (f: Node): string | undefined => ident(f) ?? (isNode(f) && f.type === 'CallExpression' ? ident(f.callee) : undefined);
const filterArgs = (f: Node): Node[] => (f.type === 'CallExpression' ? (f.args as Node[]) : []);

class Analyzer {
  readonly hits: TemplateHit[] = [];
  /** Constant string values `{% set %}` gives each name anywhere in the template (flow-insensitive, so no branch hides one). */
  private readonly consts = new Map<string, Set<string>>();
  /** Names some `{% set %}` gives a value the template does not fix: never folded. */
  private readonly varying = new Set<string>();
  private readonly statements = new Set<Node>();
  /** Names bound to strings the template assembles at render time (`{% set n = u * 2 ~ 'class' %}`, block sets): never a safe key. */
  private readonly built = new Set<string>();
  private readonly macros = new Set<string>();
  /** Identifiers that name an attribute or keyword (reported by their member or keyword), not a variable. */
  private readonly names = new Set<Node>();

  constructor(private readonly root: Node) {}

  run(): void {
    const nodes = this.collect();
    for (const n of nodes) if (n.type === 'Macro') this.macros.add(ident(n.name) ?? '');
    // Twice: a constant may be built from another set later in the text.
    for (let pass = 0; pass < 2; pass++) {
      for (const n of nodes) {
        if (n.type === 'For' && [n.iterable].some((it) => isNode(it) && (it.type === 'ArrayLiteral' || it.type === 'TupleLiteral') && (it.value as Node[]).some((x) => this.builtString(x)))) {
          for (const v of isNode(n.loopvar) && n.loopvar.type === 'TupleLiteral' ? (n.loopvar.value as Node[]) : [n.loopvar as Node]) if (ident(v)) this.built.add(ident(v)!);
        }
        if (n.type !== 'Set') continue;
        const name = ident(n.assignee);
        if (name === undefined) continue;
        const v = this.setValue(n);
        if (v === undefined) this.varying.add(name);
        else (this.consts.get(name) ?? this.consts.set(name, new Set()).get(name)!).add(v);
        if (!n.value || this.builtString(n.value as Node)) this.built.add(name);
      }
    }
    for (const n of nodes) this.visit(n);
  }

  /** The value a `{% set %}` gives, when fixed; `{% set x %}text{% endset %}` gives its body's text. */
  private setValue(n: Node): string | undefined {
    if (n.value) return this.fold(n.value as Node, 0);
    const body = n.body as Node[];
    return body.every((x) => x.type === 'StringLiteral') ? body.map((x) => x.value as string).join('') : undefined;
  }

  /** Every node, iteratively (a deep template cannot overflow the stack here); marks the statements of bodies, whose text literals are output. */
  private collect(): Node[] {
    const out: Node[] = [];
    const stack = [this.root];
    while (stack.length) {
      const n = stack.pop()!;
      out.push(n);
      if (out.length > MAX_NODES) throw new RangeError(`the template has over ${MAX_NODES} syntax nodes`);
      if (n.type === 'MemberExpression' && !n.computed && isNode(n.property)) this.names.add(n.property);
      if (n.type === 'KeywordArgumentExpression' && isNode(n.key)) this.names.add(n.key);
      for (const k of ['body', 'alternate', 'defaultBlock']) if (Array.isArray(n[k])) for (const x of (n[k] as unknown[]).filter(isNode)) this.statements.add(x);
      stack.push(...children(n));
    }
    return out;
  }

  private hit(what: string, needle?: string): void {
    // A few hits make the case; a hostile template with thousands must not cost thousands of comparisons each.
    if (this.hits.length < MAX_HITS && !this.hits.some((h) => h.what === what)) this.hits.push({ what, needle });
  }

  /** The string an expression always evaluates to, when the template fixes it; undefined when it depends on the input. */
  private fold(n: Node, depth: number): string | undefined {
    if (depth > MAX_FOLD_DEPTH) return undefined;
    const r = this.foldRaw(n, depth + 1);
    return r !== undefined && r.length <= MAX_FOLDED_CHARS ? r : undefined;
  }

  private foldRaw(n: Node, d: number): string | undefined {
    switch (n.type) {
      case 'StringLiteral':
        return n.value as string;
      case 'IntegerLiteral':
      case 'FloatLiteral':
        return String(n.value);
      case 'Identifier': {
        const vs = this.consts.get(n.value as string);
        return vs?.size === 1 && !this.varying.has(n.value as string) ? [...vs][0] : undefined;
      }
      case 'BinaryExpression': {
        const o = op(n);
        const l = this.fold(n.left as Node, d);
        const r = this.fold(n.right as Node, d);
        if ((o === '~' || o === '+') && l !== undefined && r !== undefined) return l + r;
        if (o === '*' && l !== undefined && r !== undefined && /^\d{1,4}$/.test(r)) return l.repeat(Number(r));
        if (o === '%' && l !== undefined && r !== undefined) return l.replace(/%[sdc%]/, (m) => (m === '%c' ? String.fromCharCode(Number(r)) : m === '%%' ? '%' : r));
        return undefined;
      }
      case 'FilterExpression': {
        const v = this.fold(n.operand as Node, d);
        const f = n.filter as Node;
        const name = filterName(f);
        const args = filterArgs(f).map((a) => this.fold(a, d));
        const operand = n.operand as Node;
        if (name === 'join' && (operand.type === 'ArrayLiteral' || operand.type === 'TupleLiteral')) {
          const parts = (operand.value as Node[]).map((x) => this.fold(x, d));
          return parts.every((p) => p !== undefined) ? parts.join(args[0] ?? '') : undefined;
        }
        if (v === undefined) return undefined;
        if (name === 'lower') return v.toLowerCase();
        if (name === 'upper') return v.toUpperCase();
        if (name === 'reverse') return [...v].reverse().join('');
        if (name === 'string' || name === 'safe') return v;
        if (name === 'trim') return v.trim();
        if (name === 'replace' && args[0] !== undefined && args[1] !== undefined) return v.split(args[0]).join(args[1]);
        if (name === 'format' && args.every((a) => a !== undefined)) {
          let i = 0;
          return v.replace(/%[sdc%]/g, (m) => (m === '%%' ? '%' : m === '%c' ? String.fromCharCode(Number(args[i++])) : (args[i++] ?? '')));
        }
        return undefined;
      }
      case 'MemberExpression': {
        // `'__ssalc__'[::-1]`
        const p = n.property as Node;
        if (n.computed && p.type === 'SliceExpression' && !p.start && !p.stop && isNode(p.step) && p.step.type === 'IntegerLiteral' && p.step.value === -1) {
          const v = this.fold(n.object as Node, d);
          return v === undefined ? undefined : [...v].reverse().join('');
        }
        return undefined;
      }
      case 'CallExpression': {
        const c = n.callee as Node;
        if (c.type !== 'MemberExpression' || c.computed) return undefined;
        const m = ident(c.property);
        const v = this.fold(c.object as Node, d);
        const args = (n.args as Node[]).map((a) => this.fold(a, d));
        if (v === undefined || args.some((a) => a === undefined)) return undefined;
        if (m === 'lower') return v.toLowerCase();
        if (m === 'upper') return v.toUpperCase();
        if (m === 'replace' && args.length >= 2) return v.split(args[0]!).join(args[1]!);
        if (m === 'join' && (n.args as Node[])[0]?.type === 'ArrayLiteral') {
          const parts = (((n.args as Node[])[0]!.value as Node[]) ?? []).map((x) => this.fold(x, d));
          return parts.every((p) => p !== undefined) ? parts.join(v) : undefined;
        }
        if (m === 'format') {
          let i = 0;
          return v.replace(/\{\}/g, () => args[i++] ?? '');
        }
        return undefined;
      }
      default:
        return undefined;
    }
  }

  /** Whether an expression builds a string in the template (concatenation, formatting, joining) rather than reading one. */
  private builtString(n: Node): boolean {
    if (n.type === 'Identifier') return this.built.has(n.value as string);
    // Characters picked out of a built string, or of an object's text (`(()|select|string)[24]` is '_').
    if (n.type === 'MemberExpression') return n.computed === true && this.builtString(n.object as Node);
    if (n.type === 'BinaryExpression') {
      const o = op(n);
      if (o === '~') return true;
      if (o === '+' || o === '%' || o === '*') return [n.left, n.right].some((x) => isNode(x) && (x.type === 'StringLiteral' || this.builtString(x)));
      return false;
    }
    if (n.type === 'FilterExpression') return STRING_FILTERS.has(filterName(n.filter as Node) ?? '');
    if (n.type === 'CallExpression') {
      const c = n.callee as Node;
      const callee = ident(c);
      // A macro's or caller's output is text the template writes.
      if (callee !== undefined) return this.macros.has(callee) || callee === 'caller';
      return c.type === 'MemberExpression' && ['format', 'format_map', 'join', 'replace', 'lower', 'upper', 'strip', 'title'].includes(ident(c.property) ?? '') && this.builtOrLiteral(c.object as Node);
    }
    return false;
  }

  private builtOrLiteral(n: Node): boolean {
    return n.type === 'StringLiteral' || this.builtString(n);
  }

  /** A name used to reach an attribute: literal, foldable, or computed at render time. */
  private checkName(n: Node, how: string, dotted: boolean): void {
    if (n.type === 'StringLiteral') {
      if (internalName(n.value as string, dotted) || (how.startsWith('|attr') && internalAttribute(n.value as string))) this.hit(`uses ${how} to reach the Python internal '${n.value as string}'`, n.value as string);
      return;
    }
    const v = this.fold(n, 0);
    if (v !== undefined) {
      if (internalName(v, dotted) || v.startsWith('_')) this.hit(`uses ${how} to reach '${v}', a Python internal whose name is assembled from pieces so that it never appears literally`, this.firstLiteral(n));
      return;
    }
    this.hit(`uses ${how} with a name computed at render time, which can name any Python internal`, this.firstLiteral(n));
  }

  private firstLiteral(n: Node): string | undefined {
    const queue = [n];
    for (let i = 0; i < queue.length && i < 10_000; i++) {
      const x = queue[i]!;
      if (x.type === 'StringLiteral' && (x.value as string).length) return x.value as string;
      queue.push(...children(x));
    }
    return undefined;
  }

  private visit(n: Node): void {
    switch (n.type) {
      case 'StringLiteral': {
        // A name written as a string inside an expression (`for k in ['__class__']`, `x[k]`) is used as one; output text is not.
        const v = n.value as string;
        if (!this.statements.has(n) && /^[\w.]+$/.test(v) && internalName(v, true)) this.hit(`names the Python internal '${v}' in a string`, v);
        break;
      }
      case 'Set': {
        const name = ident(n.assignee);
        const v = name !== undefined ? this.setValue(n) : undefined;
        if (v !== undefined && (n.value as Node | null)?.type !== 'StringLiteral' && /^[\w.]+$/.test(v) && internalName(v, true)) this.hit(`sets '${name!}' to the Python internal name '${v}', assembled from pieces`, n.value ? this.firstLiteral(n.value as Node) : v);
        break;
      }
      case 'Identifier':
        if (!this.names.has(n) && /^__\w*__$/.test(n.value as string)) this.hit(`uses the Python internal name '${n.value as string}'`, n.value as string);
        break;
      case 'MemberExpression': {
        const p = n.property as Node;
        const obj = ident(n.object);
        if (obj !== undefined && GADGETS.has(obj)) this.hit(`reads an attribute of Jinja's '${obj}' helper, the usual way to reach Python's globals from a template`, obj);
        if (!n.computed) {
          const name = ident(p);
          if (name !== undefined && internalAttribute(name)) this.hit(`reads the attribute '.${name}', a Python internal`, name);
        } else if (p.type === 'StringLiteral') {
          if (internalName(p.value as string, false)) this.hit(`reads ['${p.value as string}'], a Python internal`, p.value as string);
        } else if (p.type !== 'SliceExpression') {
          const v = this.fold(p, 0);
          if (v !== undefined ? internalName(v, false) || v.startsWith('_') : this.builtString(p)) this.checkName(p, 'a subscript', false);
        }
        break;
      }
      case 'FilterExpression':
      case 'FilterStatement': {
        const f = n.filter as Node;
        const name = filterName(f);
        if (name === undefined || !(name in ATTRIBUTE_FILTERS)) break;
        const args = filterArgs(f);
        const pos = ATTRIBUTE_FILTERS[name];
        const positional = args.filter((a) => a.type !== 'KeywordArgumentExpression');
        if (pos !== undefined && positional[pos]) this.checkName(positional[pos], `|${name}()`, name !== 'attr');
        if (pos === undefined && name === 'map' && positional[0]?.type === 'StringLiteral' && positional[0].value === 'attr' && positional[1]) this.checkName(positional[1], '|map(\'attr\')', false);
        for (const a of args) if (a.type === 'KeywordArgumentExpression' && ident(a.key) === 'attribute') this.checkName(a.value as Node, `|${name}(attribute=)`, true);
        break;
      }
      case 'CallExpression': {
        const c = n.callee as Node;
        const m = c.type === 'MemberExpression' && !c.computed ? ident(c.property) : undefined;
        if (m !== 'format' && m !== 'format_map') break;
        const fmt = c.object as Node;
        if (fmt.type === 'StringLiteral') {
          // str.format resolves `{0.attr}` and `{0[key]}` fields with getattr/getitem.
          if (/\{[^{}]*[.[][^{}]*\}/.test(fmt.value as string)) this.hit(`calls .${m}() with a field that reads attributes ('${fmt.value as string}'), which walks Python objects outside the sandbox`, fmt.value as string);
        } else {
          this.hit(`calls .${m}() on a string built by the template, whose fields can read any attribute`, this.firstLiteral(fmt) ?? m);
        }
        break;
      }
      case 'BinaryExpression': {
        const o = op(n);
        const left = n.left as Node;
        if (o === '%' && left.type !== 'StringLiteral' && this.builtString(left)) this.hit("applies '%' formatting to a string built by the template", this.firstLiteral(left));
        if (o === '%' && left.type === 'StringLiteral' && /%c/.test(left.value as string)) this.hit(`builds characters from numbers with '%c' formatting ('${left.value as string}')`, left.value as string);
        if (o === '~' || o === '+' || o === '*' || o === '%') {
          const v = this.fold(n, 0);
          if (v !== undefined && v.split(/[^\w]+/).some((p) => p !== '' && internalName(p, false))) this.hit(`assembles the Python internal name '${v}' from pieces`, this.firstLiteral(n));
        }
        break;
      }
      case 'KeywordArgumentExpression': {
        const k = ident(n.key);
        if (k !== undefined && internalName(k, false)) this.hit(`passes the keyword '${k}', a Python internal name`, k);
        break;
      }
      default:
        break;
    }
  }
}

/** Parses and judges one chat template; never renders it. */
export function analyzeChatTemplate(source: string): TemplateVerdict {
  if (source.length > TEMPLATE_MAX_CHARS) return { kind: 'too-large', chars: source.length };
  let program: Node;
  try {
    program = parse(tokenize(source)) as unknown as Node;
  } catch (e) {
    const reason = e instanceof RangeError ? 'it nests too deeply to parse' : e instanceof Error ? e.message : String(e);
    return { kind: 'unparsable', reason };
  }
  const a = new Analyzer(program);
  try {
    a.run();
  } catch (e) {
    if (e instanceof RangeError) return { kind: 'unparsable', reason: e.message.startsWith('the template') ? e.message : 'it nests too deeply to analyse' };
    throw e;
  }
  return a.hits.length ? { kind: 'injection', hits: a.hits } : { kind: 'ok' };
}
