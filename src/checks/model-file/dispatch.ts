import type { RuleContext } from '../rule.js';
import { matchesAny } from '../../inventory/inventory.js';
import type { FileEntry } from '../../inventory/types.js';
import type { AllowList } from '../../formats/pickle/classify.js';
import { TAR_BLOCK } from '../../formats/tar.js';
import { checkKerasConfigFile } from './keras.js';
import { checkKerasMetadata, checkSavedModel } from './savedmodel.js';
import { checkOnnx } from './onnx.js';
import { checkBundle } from './bundle.js';
import { formatByName, formatFix, formatOf, formatPolicyProblem, type FormatMap } from './formats.js';
import type { FormatIssue } from './types.js';

/**
 * The model formats beyond the pickle family that model-file-safety reads by
 * name (Keras v3 config.json, SavedModel, ONNX), and the per-path
 * allow-formats / deny-formats policy. Runs before the pickle scan of the
 * same file, which still happens: a `.onnx` that is really a pickle is caught
 * there too.
 */

export interface OtherFormatParams {
  'allow-tf-ops'?: string[];
  'allow-onnx-domains'?: string[];
  'allow-formats'?: Record<string, string[]>;
  'deny-formats'?: Record<string, string[]>;
}

export const DEFAULT_ONNX_DOMAINS = ['com.microsoft'];

type Check = (path: string) => Promise<FormatIssue[]>;

export function otherFormats(ctx: RuleContext<OtherFormatParams & { strict?: boolean }>, allow: AllowList): (f: FileEntry) => Promise<void> {
  const p = ctx.params;
  const opts = {
    allow,
    allowTfOps: new Set(p['allow-tf-ops'] ?? []),
    allowOnnxDomains: new Set(p['allow-onnx-domains'] ?? DEFAULT_ONNX_DOMAINS),
    signal: ctx.signal,
    maxBytes: ctx.maxFileBytes,
  };
  const allowFormats: FormatMap = p['allow-formats'] ?? {};
  const denyFormats: FormatMap = p['deny-formats'] ?? {};
  const globs = [...Object.keys(allowFormats), ...Object.keys(denyFormats)];
  const abs = (path: string): string => ctx.inventory.abs(path);
  const byName = (path: string): Check | undefined => {
    const base = path.slice(path.lastIndexOf('/') + 1);
    if (base === 'saved_model.pb') return (x) => checkSavedModel(abs(x), opts);
    if (base === 'keras_metadata.pb') return (x) => checkKerasMetadata(abs(x), opts);
    if (base === 'config.json') return (x) => checkKerasConfigFile(abs(x), allow);
    if (/\.onnx$/i.test(base)) return (x) => checkOnnx(x, ctx.inventory.root, opts);
    if (/\.(tar|zip)$/i.test(base)) return (x) => checkBundle(abs(x), opts);
    return undefined;
  };
  const strict = p.strict ?? false;
  return async (f) => {
    if (globs.length && matchesAny(f.path, globs)) {
      const format = f.lfs ? formatByName(f.path) : f.size === 0 ? undefined : formatOf(f.path, await ctx.inventory.readHead(f.path, TAR_BLOCK), f.size);
      const why = format && formatPolicyProblem(f.path, format, allowFormats, denyFormats);
      if (format && why) ctx.report({ code: 'format-not-allowed', path: f.path, message: `${f.path} ${why}${f.lfs ? ' (judged by its name: only its Git LFS pointer is checked out)' : ''}. ${formatFix(format)}` });
    }
    const check = f.lfs ? undefined : byName(f.path);
    if (!check) return;
    for (const i of await check(f.path)) {
      ctx.report({ code: i.code, path: f.path, message: i.message, ...(i.severity === 'warning' && !strict ? { maxLevel: 'warning' as const } : {}) });
    }
  };
}
