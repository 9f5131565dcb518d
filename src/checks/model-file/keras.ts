import { kerasConfigIssues } from '../../formats/keras-issues.js';
import type { AllowList } from '../../formats/pickle/classify.js';
import { readRange } from '../../formats/pickle/source.js';
import { withFile, type FormatIssue } from './types.js';

export { kerasConfigIssues };

/**
 * Keras v3 configs outside a `.keras` zip: a `config.json` saved next to
 * `model.weights.h5` (how the Hugging Face Hub stores Keras models), checked
 * for everything Keras would import or run when it rebuilds the model.
 */

const CONFIG_MAX = 64 * 1024 * 1024;

/** Whether parsed JSON is a Keras model config rather than another `config.json` (transformers, diffusers…). */
export function looksLikeKerasConfig(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return typeof o.class_name === 'string' && typeof o.config === 'object' && o.config !== null && ('module' in o || 'registered_name' in o || 'keras_version' in o);
}

/** A standalone `config.json`: nothing when it is not a Keras config. */
export async function checkKerasConfigFile(abs: string, allow: AllowList): Promise<FormatIssue[]> {
  return withFile(abs, async (ra) => {
    const head = (await readRange(ra, 0, Math.min(ra.size, 4096))).toString('utf8');
    // Keras writes the model's class near the top (first or second key, sorted or not); other config.json
    // files (transformers, diffusers' `_class_name`) do not have the key, and are not read further.
    const kerasLike = /"class_name"\s*:/.test(head);
    if (!kerasLike) return [];
    if (ra.size > CONFIG_MAX) {
      return [{ code: 'budget-exceeded', severity: 'error', message: `is a Keras config of ${ra.size} bytes, over the ${CONFIG_MAX}-byte cap, so it was not checked and fails closed` }];
    }
    let config: unknown;
    try {
      config = JSON.parse((await readRange(ra, 0, ra.size)).toString('utf8'));
    } catch (e) {
      return [{ code: 'malformed', severity: 'error', message: `starts like a Keras model config but is not valid JSON (${(e as Error).message}); Keras could not load it and mlgate cannot check it, so it fails closed. Re-save the model` }];
    }
    return looksLikeKerasConfig(config) ? kerasConfigIssues(config, allow) : [];
  });
}
