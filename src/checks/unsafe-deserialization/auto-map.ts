import type { RuleContext, RuleFinding } from '../rule.js';
import { LineIndex } from '../../formats/text-position.js';

/** Hugging Face configuration files whose `auto_map` names custom classes for the Auto* loaders. */
export const AUTO_MAP_GLOBS = ['**/config.json', '**/tokenizer_config.json', '**/preprocessor_config.json', '**/processor_config.json'];

/** Configuration files are small; a larger one is not a model configuration worth parsing. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

type Problem = Omit<RuleFinding, 'path'>;

/** The class references of an `auto_map` value: strings, or `[slow, fast]` pairs (tokenizers) with null for a missing one. */
function references(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/**
 * A model directory whose configuration has an `auto_map` can only be loaded
 * with trust_remote_code=True, which imports the Python modules it names: from
 * the directory itself (`modeling_x.Class`), or from another hub repository
 * (`owner/repo--modeling_x.Class`), fetched at load time.
 */
export function autoMapProblem(path: string, text: string): Problem | null {
  const key = text.indexOf('"auto_map"');
  if (key === -1) return null;
  const where = new LineIndex(text).position(key);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return {
      code: 'auto-map',
      ...where,
      maxLevel: 'warning',
      message: `${path} mentions auto_map but is not valid JSON, so mlgate cannot tell which custom code loading this model runs; fix the JSON`,
    };
  }
  const map = doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>).auto_map : undefined;
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return null;
  const refs = Object.values(map as Record<string, unknown>).flatMap(references);
  if (refs.length === 0) return null;
  const remote = [...new Set(refs.filter((r) => r.includes('--')).map((r) => r.slice(0, r.indexOf('--'))))];
  const classes = [...new Set(refs.map((r) => (r.includes('--') ? r.slice(r.indexOf('--') + 2) : r)))].slice(0, 5).join(', ');
  const why = 'Loading it with from_pretrained requires trust_remote_code=True, which imports and runs that Python code with the loader\'s permissions';
  if (remote.length > 0) {
    return {
      code: 'auto-map',
      ...where,
      message: `${path} has an auto_map that takes custom modelling code (${classes}) from another hub repository (${remote.join(', ')}), downloaded from its default branch when the model loads. ${why}, and a push to that repository changes the code you run; copy the code into this model directory and review it, or use an architecture built into transformers`,
    };
  }
  return {
    code: 'auto-map',
    ...where,
    maxLevel: 'warning',
    message: `${path} has an auto_map naming custom modelling code in this directory (${classes}). ${why}: review those files as code, keep them pinned with the weights, or convert the model to an architecture built into transformers so it loads without trust_remote_code`,
  };
}

/** Reports auto_map in the configuration files of the listing (the changed ones in changed mode). */
export async function checkAutoMaps(ctx: RuleContext<unknown>, report: (path: string, problem: Problem) => void): Promise<void> {
  for (const entry of ctx.inventory.match(AUTO_MAP_GLOBS)) {
    if (ctx.changed && !ctx.changed.changed.has(entry.path)) continue;
    if (entry.size > MAX_CONFIG_BYTES) continue;
    ctx.signal.throwIfAborted();
    await ctx.guard(entry.path, async () => {
      const problem = autoMapProblem(entry.path, await ctx.inventory.readText(entry.path, MAX_CONFIG_BYTES));
      if (problem) report(entry.path, problem);
    });
  }
}
