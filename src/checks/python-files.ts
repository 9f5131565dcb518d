import type { RuleContext, RuleFinding } from './rule.js';
import { LEVEL_RANK } from '../core/types.js';
import { FileProblem } from '../core/errors.js';
import { matchesAny } from '../inventory/inventory.js';
import type { Inventory } from '../inventory/types.js';
import { NotebookError } from '../formats/notebook.js';
import { analysePython, codeWithoutStrings, PythonParseError, type PythonCall, type PythonFile, type PythonFunction } from '../formats/python/index.js';

export const DEFAULT_PYTHON_GLOBS = ['**/*.py', '**/*.ipynb'];

/** The `files` parameter every Python-reading rule takes. */
export const PYTHON_FILES_PARAM = {
  type: 'array',
  items: { type: 'string', format: 'glob' },
  default: DEFAULT_PYTHON_GLOBS,
  description: 'Globs of the Python files and notebooks to check (default: **/*.py and **/*.ipynb).',
};

/**
 * The last identifier of every callee the Python rules judge (`load` for
 * `torch.load`, `from_pretrained`, …). A file whose code, strings and comments
 * aside, mentions none of them cannot hold a finding, so it is not parsed: on a
 * large library that is most model and utility code. A test holds every rule's
 * tables to this list.
 */
export const PYTHON_CALL_WORDS: ReadonlySet<string> = new Set([
  // unsafe-deserialization
  'load', 'loads', 'Unpickler', 'load_state_dict_from_url', 'load_url', 'read_pickle', 'load_all', 'unsafe_load', 'unsafe_load_all',
  'full_load', 'full_load_all', 'load_model', 'enable_unsafe_deserialization',
  // model-hub-pinning
  'from_pretrained', 'from_pretrained_keras', 'hf_hub_download', 'snapshot_download', 'SentenceTransformer', 'CrossEncoder', 'SparseEncoder',
  'load_dataset', 'load_dataset_builder', 'pipeline', 'hub.list', 'hub.help', 'create_model',
  // unsafe-deserialization's default unsafe-loaders
  'torch_load', 'torch_safe_load', 'load_checkpoint', 'load_checkpoint_to_cpu', 'load_model_ensemble', 'load_model_ensemble_and_task', 'unpickle', 'PackageImporter',
]);

/** Keywords and dictionary keys judged on any call: searched in the raw text, since they also travel as string keys. */
export const PYTHON_KEY_WORDS: readonly string[] = ['trust_remote_code'];

/**
 * Calls kept in the shared summary besides the judged ones, because they tell
 * what a test does around a load: it wrote the file itself, in a temporary place.
 */
export const PYTHON_CONTEXT_WORDS: ReadonlySet<string> = new Set(['save', 'savez', 'dump', 'dumps', 'to_pickle', 'mkdtemp', 'mkstemp', 'TemporaryDirectory', 'NamedTemporaryFile', 'TemporaryFile', 'gettempdir']);

/** Notebooks carry outputs (images, tables) besides code, so they may be larger than the code limit. */
const MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024;
/**
 * Python read for the pre-filter: beyond the 2 MiB parse limit, so a large
 * generated file (tables, vocabularies) that names nothing judged is skipped
 * rather than reported as too large to analyse; one that does still is.
 */
const MAX_PYTHON_READ_BYTES = 16 * 1024 * 1024;

/**
 * Estimated bytes of summaries kept across rules per inventory. Summaries hold
 * only the calls some rule judges (a few per file), so a whole large library
 * fits many times over; a hostile repository of millions of calls stops being
 * shared and is parsed again by the next rule instead of filling memory.
 */
const MAX_CACHED_BYTES = 64 * 1024 * 1024;
const BYTES_PER_ENTRY = 600;

/** What a file is to the Python rules: its judged calls, or null when it mentions none of `words`. */
interface Summary {
  /** Pending while the first rule to reach the file analyses it: rules run concurrently and walk files in the same order. */
  file: Promise<PythonFile | null>;
  words: ReadonlySet<string>;
}

/**
 * Summaries already made (or being made) for an inventory, so rules that
 * share Python files (unsafe-deserialization, model-hub-pinning) read and
 * parse each file once. Failures are dropped: a rule whose own budget is left
 * retries a file another rule's budget cut short.
 */
const analysed = new WeakMap<Inventory, { files: Map<string, Summary>; bytes: number }>();

const isAbort = (e: unknown): boolean => e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError');

const wordPatterns = new WeakMap<ReadonlySet<string>, RegExp>();

/** `\b(?:load|from_pretrained|hub\s*\.\s*list|…)\b`: dotted words match across the dot. */
function wordPattern(words: ReadonlySet<string>): RegExp {
  let re = wordPatterns.get(words);
  if (!re) {
    const alternatives = [...words].map((w) => w.split('.').map((part) => part.replace(/\W/g, '\\$&')).join('\\s*\\.\\s*'));
    re = new RegExp(`\\b(?:${alternatives.join('|')})\\b`);
    wordPatterns.set(words, re);
  }
  return re;
}

/**
 * `load`, `loads` and `load_all` are judged only as functions of these modules
 * (`pickle.load`, `torch.load`, `yaml.load_all`, `gensim…Word2Vec.load`), and a
 * file cannot reach them without naming the module (an import, an alias, a
 * qualified call). `json.load` and `self.store.load` — most of the `load`s of a
 * large code base — are not. The raw text is searched, strings included, so
 * `__import__("pickle")` counts too.
 */
const GENERIC_LOAD_WORDS: ReadonlySet<string> = new Set(['load', 'loads', 'load_all']);
const LOAD_MODULES = /\b(?:pickle|cPickle|_pickle|cloudpickle|dill|torch|joblib|sklearn|numpy|np|yaml|gensim)\b/;
const SPECIFIC_CALL_WORDS: ReadonlySet<string> = new Set([...PYTHON_CALL_WORDS].filter((w) => !GENERIC_LOAD_WORDS.has(w)));

/** Whether a rule could find anything: the code names a judged callee, or the text a judged key (always, for a notebook). */
function mentionsAny(path: string, text: string, words: ReadonlySet<string>): boolean {
  // Notebooks are few, and their JSON must be read to be judged at all.
  if (path.toLowerCase().endsWith('.ipynb') || PYTHON_KEY_WORDS.some((k) => text.includes(k))) return true;
  const code = codeWithoutStrings(text);
  // The default words only: a rule's own extra callees (unsafe-loaders) may be a `load` of any module.
  if (words !== PYTHON_CALL_WORDS) return wordPattern(words).test(code);
  return wordPattern(SPECIFIC_CALL_WORDS).test(code) || (wordPattern(GENERIC_LOAD_WORDS).test(code) && LOAD_MODULES.test(text));
}

const lastWordSets = new WeakMap<ReadonlySet<string>, ReadonlySet<string>>();

/** The last identifiers of `words` (`list` for `hub.list`). */
function lastWords(words: ReadonlySet<string>): ReadonlySet<string> {
  let set = lastWordSets.get(words);
  if (!set) lastWordSets.set(words, (set = new Set([...words].map((w) => w.slice(w.lastIndexOf('.') + 1)))));
  return set;
}

/** Whether a call is named by `words`: its last identifier, or for a dotted word (`hub.list`) the end of its qualified name. */
function named(c: PythonCall, words: ReadonlySet<string>): boolean {
  if (c.method === null) return false;
  if (words.has(c.method)) return true;
  for (const n of c.names) {
    // An alias (`from torch import load as tl`): the imported name is the judged one.
    if (words.has(n.slice(n.lastIndexOf('.') + 1))) return true;
    for (const w of words) if (w.includes('.') && (n === w || n.endsWith(`.${w}`))) return true;
  }
  return false;
}

/** The summary keeps the calls a rule judges or reads as context, and the functions and dictionaries they refer to. */
function summarise(file: PythonFile, words: ReadonlySet<string>): PythonFile {
  const keep = (c: PythonCall): boolean =>
    named(c, words) || (c.method !== null && PYTHON_CONTEXT_WORDS.has(c.method)) || PYTHON_KEY_WORDS.some((k) => c.keywords.has(k));
  const calls = file.calls.filter(keep);
  const needed = new Set<number>();
  for (const c of calls) for (let s = c.scope; s !== -1 && !needed.has(s); s = file.functions[s]?.scope ?? -1) needed.add(s);
  const splats = new Set(calls.map((c) => c.kwargsName).filter((n): n is string => n !== null));
  return {
    calls,
    functions: file.functions.map((f, i) => (needed.has(i) ? f : UNUSED_FUNCTION)),
    dictAssigns: file.dictAssigns.filter((d) => splats.has(d.name)),
    dictFlags: file.dictFlags.filter((f) => PYTHON_KEY_WORDS.includes(f.key)),
    unparsable: file.unparsable,
  };
}

/** Stands in for functions no kept call is inside, so scope indexes stay valid. */
const UNUSED_FUNCTION: PythonFunction = Object.freeze({ name: '', params: [], scope: -1 });

// A summary made under the default words may have skipped a file by its modules (see mentionsAny): it answers only for them.
const covers = (have: ReadonlySet<string>, want: ReadonlySet<string>): boolean => have === want || (have !== PYTHON_CALL_WORDS && [...want].every((w) => have.has(w)));

async function analyseEntry(ctx: RuleContext<unknown>, path: string, words: ReadonlySet<string>): Promise<PythonFile | null> {
  let done = analysed.get(ctx.inventory);
  if (!done) analysed.set(ctx.inventory, (done = { files: new Map(), bytes: 0 }));
  const cached = done.files.get(path);
  if (cached && covers(cached.words, words)) {
    try {
      return await cached.file;
    } catch (e) {
      // Another rule's budget ran out on this file: analyse it under ours.
      if (!isAbort(e) || ctx.signal.aborted) throw e;
    }
  }
  const entry: Summary = { file: summaryOf(ctx, path, words), words };
  const shared = done;
  shared.files.set(path, entry);
  let file: PythonFile | null;
  try {
    file = await entry.file;
  } catch (e) {
    if (shared.files.get(path) === entry) shared.files.delete(path);
    throw e;
  }
  const size = BYTES_PER_ENTRY * (1 + (file ? file.calls.length + file.dictAssigns.length + file.functions.length / 8 : 0));
  if (shared.bytes + size <= MAX_CACHED_BYTES) shared.bytes += size;
  else if (shared.files.get(path) === entry) shared.files.delete(path);
  return file;
}

async function summaryOf(ctx: RuleContext<unknown>, path: string, words: ReadonlySet<string>): Promise<PythonFile | null> {
  const notebook = path.toLowerCase().endsWith('.ipynb');
  const cap = Math.min(ctx.maxFileBytes, notebook ? MAX_NOTEBOOK_BYTES : MAX_PYTHON_READ_BYTES);
  const text = await ctx.inventory.readText(path, cap);
  if (!mentionsAny(path, text, words)) return null;
  try {
    // A file that passes trust_remote_code anywhere has every call read: the keyword is judged on any callee.
    const wanted = PYTHON_KEY_WORDS.some((k) => text.includes(k)) ? undefined : (name: string) => lastWords(words).has(name) || PYTHON_CONTEXT_WORDS.has(name);
    return summarise(await analysePython(path, text, ctx.signal, wanted), words);
  } catch (e) {
    if (e instanceof NotebookError) throw new FileProblem(path, `${path} is not a readable notebook: ${e.message}`, 'unparsable', e.line);
    if (e instanceof PythonParseError) throw new FileProblem(path, `${path} was not analysed: ${e.message}`, 'budget-exceeded');
    throw e;
  }
}

/**
 * Runs `visit` on every Python file and notebook matching `globs` (only the
 * changed ones in changed mode) whose code mentions one of `words` (default:
 * PYTHON_CALL_WORDS; a rule's extra callees are added to them), each inside
 * `ctx.guard` so a hostile file becomes a finding on itself. A file too broken
 * to analyse is reported as `unparsable` (capped at warning: the parser may lag
 * new Python syntax). `file.calls` holds only the calls named by `words` and
 * the context calls (saves, temporary directories).
 */
export async function forEachPythonFile(
  ctx: RuleContext<unknown>,
  globs: readonly string[],
  visit: (path: string, file: PythonFile) => void,
  words: ReadonlySet<string> = PYTHON_CALL_WORDS,
): Promise<void> {
  // In changed mode the change is the list: matching globs over a 100,000-file listing to keep ten would be the work.
  const entries = ctx.changed
    ? [...ctx.changed.changed].sort().flatMap((p) => {
        const entry = ctx.inventory.get(p);
        return entry && matchesAny(p, globs) ? [entry] : [];
      })
    : ctx.inventory.match(globs);
  for (const entry of entries) {
    ctx.signal.throwIfAborted();
    await ctx.guard(entry.path, async () => {
      const file = await analyseEntry(ctx, entry.path, words);
      if (!file) return;
      if (file.unparsable) {
        ctx.report({
          code: 'unparsable',
          path: entry.path,
          line: file.unparsable.line,
          maxLevel: 'warning',
          message: `${Math.round(file.unparsable.errorShare * 100)}% of ${entry.path} is not valid Python to the parser (first problem at line ${file.unparsable.line}), so calls in it could not be checked; fix the syntax or exclude the file with an exception`,
        });
      }
      visit(entry.path, file);
    });
  }
}

/** PYTHON_CALL_WORDS plus the last identifiers of `names` (a rule's configured callees). */
export function callWordsWith(names: readonly string[]): ReadonlySet<string> {
  const last = names.map((n) => n.slice(n.lastIndexOf('.') + 1));
  const extra = last.filter((w) => /^\w+$/.test(w) && !PYTHON_CALL_WORDS.has(w));
  // A configured `mylib.io.load` is a `load` of a module the default gate does not know: a set of its own turns the gate off.
  return extra.length === 0 && !last.some((w) => GENERIC_LOAD_WORDS.has(w)) ? PYTHON_CALL_WORDS : new Set([...PYTHON_CALL_WORDS, ...extra]);
}

type Problem = Omit<RuleFinding, 'path'>;
type TestLevel = 'off' | 'info' | 'warning' | 'error';

/**
 * The `test-levels` parameter: per sub-code, the highest level a finding in
 * test code (`paths.tests`) reaches. A code-levels-style mapping whose keys are
 * the rule's own codes, so a typo is an unknown-key error with a suggestion.
 */
export function testLevelsParam(codes: readonly string[], defaults: Readonly<Record<string, TestLevel>>): Record<string, unknown> {
  const level = { enum: ['off', 'info', 'warning', 'error'], description: 'off | info | warning | error' };
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(codes.map((c) => [c, level])),
    default: defaults,
    description: 'Highest level per sub-code for findings in test code (the policy\'s paths.tests): off drops them, error leaves them as configured. Merged over the rule\'s defaults.',
  };
}

/**
 * A problem as reported in test code: capped by `levels` (dropped for `off`),
 * and saying it is in test code so a reviewer reads it in that light.
 */
export function inTestCode(problem: Problem, levels: Readonly<Record<string, TestLevel>>, why: string): Problem | null {
  const cap = problem.code !== undefined ? levels[problem.code] : undefined;
  if (cap === 'off') return null;
  const maxLevel = cap === undefined || cap === 'error' ? problem.maxLevel : problem.maxLevel === undefined || LEVEL_RANK[cap] < LEVEL_RANK[problem.maxLevel] ? cap : problem.maxLevel;
  return { ...problem, ...(maxLevel ? { maxLevel } : {}), message: `${problem.message} (in test code: ${why})` };
}

/** The function a call sits in and those around it, innermost first. */
export function scopeChain(file: PythonFile, scope: number): number[] {
  const out: number[] = [];
  for (let s = scope; s !== -1 && out.length < 64; s = file.functions[s]?.scope ?? -1) out.push(s);
  return out;
}
