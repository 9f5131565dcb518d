import type { Rule } from '../checks/rule.js';
import { ConfigurationError, formatLocated } from '../core/errors.js';
import type { PolicyProvider, RemotePolicyRef } from './provider.js';
import { closest, didYouMean } from '../core/suggest.js';
import { loadYaml, YamlError } from '../formats/yaml.js';
import { normaliseRepoPath } from '../inventory/scan.js';
import { baselineExceptions, parseBaseline } from './baseline.js';
import { BUILTIN_NAMES, builtinPolicyText } from './builtin/index.js';
import { mergeLayers } from './merge.js';
import { formatRemoteRef, isPinnedRef, parseRemoteRef } from './remote.js';
import type { LayerOrigin, PolicyLayer, PolicyNoticeDecl, ResolvedPolicy } from './types.js';
import { dottedKey, validatePolicy } from './validate.js';

export const DEFAULT_POLICY_PATH = '.github/mlgate.yml';
/** A policy is a small file; anything larger is refused before parsing. */
export const MAX_POLICY_BYTES = 256 * 1024;
const MAX_LAYERS = 32;
const MAX_DEPTH = 8;
const DAY_MS = 86_400_000;

export interface LoadPolicyOptions {
  provider: PolicyProvider;
  rules: readonly Rule[];
  now: Date;
  /** Repository-relative path of the policy (default `.github/mlgate.yml`). */
  policyPath?: string;
}

/** Parses and validates one policy text; every problem is a located ConfigurationError. */
export function parsePolicyLayer(text: string, name: string, path: string, origin: LayerOrigin, rules: readonly Rule[]): PolicyLayer {
  if (text.length > MAX_POLICY_BYTES) {
    throw new ConfigurationError(formatLocated(name, 1, 1, '', `the policy is ${text.length} bytes, over the ${MAX_POLICY_BYTES}-byte limit for a policy file`));
  }
  let yaml;
  try {
    yaml = loadYaml(text, { maxChars: MAX_POLICY_BYTES, maxNodes: 50_000, maxAliases: 200, maxDepth: 32 });
  } catch (e) {
    if (e instanceof YamlError) throw new ConfigurationError(formatLocated(name, e.line ?? 1, e.column ?? 1, '', `invalid YAML: ${e.message}`));
    throw e;
  }
  const doc = validatePolicy(yaml.value, yaml, name, rules);
  return { name, path, origin, doc, yaml };
}

const isoDay = (d: Date): string => d.toISOString().slice(0, 10);

/** `recommended` or `mlgate-strict` in `extends` were meant as built-in sets, not files. */
function builtinHint(entry: string): string {
  const bare = closest(entry.replace(/^mlgate[^a-z]?/i, ''), BUILTIN_NAMES.map((n) => n.slice('mlgate:'.length)));
  return bare === undefined ? '' : ` (did you mean "mlgate:${bare}"?)`;
}

/**
 * Loads the policy at `policyPath` (or `mlgate:recommended` when there is none),
 * resolves its `extends` depth-first, inlines the policy-side files rules ask
 * for (keys, trusted roots), and merges the layers (DESIGN §3).
 */
export async function loadPolicy(opts: LoadPolicyOptions): Promise<ResolvedPolicy> {
  const { provider, rules, now } = opts;
  const policyPath = opts.policyPath ?? DEFAULT_POLICY_PATH;
  const notices: PolicyNoticeDecl[] = [];
  const layers: PolicyLayer[] = [];
  /** Layers by extends key, so that one reached again is still recorded as extended by the second policy. */
  const visited = new Map<string, PolicyLayer>();
  const describe = (p: string) => provider.describeLocal?.(p) ?? p;

  const rootText = await provider.readLocal(policyPath);
  let root: PolicyLayer;
  if (rootText === undefined) {
    root = parsePolicyLayer(builtinPolicyText('mlgate:recommended', rules)!, 'mlgate:recommended', '', { kind: 'builtin' }, rules);
  } else {
    root = parsePolicyLayer(rootText, describe(policyPath), policyPath, { kind: 'local' }, rules);
  }

  const expand = async (layer: PolicyLayer, chain: string[]): Promise<void> => {
    if (chain.length > MAX_DEPTH) throw new ConfigurationError(`${layer.name}: extends nests deeper than ${MAX_DEPTH} levels`);
    const entries = layer.doc.extends ?? [];
    layer.extended = [];
    const seen = (key: string): boolean => {
      const known = visited.get(key);
      if (known) layer.extended!.push(known);
      return known !== undefined;
    };
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const pos = layer.yaml.locate(['extends', i]);
      const fail = (message: string): never => {
        throw new ConfigurationError(formatLocated(layer.name, pos.line, pos.column, dottedKey(['extends', i]), message));
      };
      let child: PolicyLayer;
      const builtin = entry.startsWith('mlgate:') ? builtinPolicyText(entry, rules) : undefined;
      const remote = parseRemoteRef(entry);
      let key: string;
      if (entry.startsWith('mlgate:')) {
        if (builtin === undefined) fail(`unknown built-in policy ${JSON.stringify(entry)}${didYouMean(entry, BUILTIN_NAMES) || ` (known: ${BUILTIN_NAMES.join(', ')})`}`);
        key = entry;
        if (seen(key)) continue;
        child = parsePolicyLayer(builtin!, entry, '', { kind: 'builtin' }, rules);
      } else if (remote) {
        key = formatRemoteRef(remote);
        if (chain.includes(key)) fail(`extends cycle: ${[...chain, key].join(' → ')}`);
        if (seen(key)) continue;
        if (!isPinnedRef(remote.ref)) {
          notices.push({
            code: 'policy/unpinned-extends',
            level: 'warning',
            message: `${entry} is read at ${JSON.stringify(remote.ref)}, which is neither a full commit SHA nor a tag: the policy can change under you; pin it to a tag or commit`,
            path: layer.origin.kind === 'local' ? layer.path : undefined,
            line: layer.origin.kind === 'local' ? pos.line : undefined,
            column: layer.origin.kind === 'local' ? pos.column : undefined,
          });
        }
        child = parsePolicyLayer(await provider.readRemote(remote), key, remote.path, { kind: 'remote', ref: remote }, rules);
      } else {
        const rel = normaliseRepoPath(entry);
        if (!rel) fail(`${JSON.stringify(entry)} is not mlgate:<name>, owner/repo/path@ref, or a path inside the repository${builtinHint(entry)}`);
        if (layer.origin.kind === 'remote') {
          // A relative extends inside a remote policy refers to that policy's own repository, at the same ref.
          const ref: RemotePolicyRef = { ...layer.origin.ref, path: rel! };
          key = formatRemoteRef(ref);
          if (chain.includes(key)) fail(`extends cycle: ${[...chain, key].join(' → ')}`);
          if (seen(key)) continue;
          child = parsePolicyLayer(await provider.readRemote(ref), key, rel!, { kind: 'remote', ref }, rules);
        } else {
          key = rel!;
          if (chain.includes(key) || key === policyPath) fail(`extends cycle: ${[...chain, key].join(' → ')}`);
          if (seen(key)) continue;
          const text = await provider.readLocal(rel!);
          if (text === undefined) fail(`${rel} does not exist in this repository${builtinHint(entry)}`);
          child = parsePolicyLayer(text!, describe(rel!), rel!, { kind: 'local' }, rules);
        }
      }
      visited.set(key, child);
      layer.extended.push(child);
      await expand(child, [...chain, key]);
      layers.push(child);
      if (layers.length > MAX_LAYERS) throw new ConfigurationError(`${root.name}: more than ${MAX_LAYERS} policy layers through extends`);
    }
  };
  await expand(root, [root.origin.kind === 'local' ? policyPath : root.name]);
  layers.push(root);

  for (const layer of layers) await inlinePolicyFiles(layer, rules, provider);
  const merged = mergeLayers(layers, rules);

  const problems: string[] = [];
  const baseline = await loadBaseline(root, provider, rules, merged.locksById, problems);
  const exceptions = [...merged.exceptions, ...(baseline?.exceptions ?? [])];

  // Exceptions must be time-boxed: at most max-exception-days ahead.
  const limit = isoDay(new Date(now.getTime() + merged.maxExceptionDays * DAY_MS));
  for (const ex of exceptions) {
    if (ex.expires > limit) {
      const yaml = ex.source === 'baseline' ? baseline!.yaml : layers.find((l) => l.name === ex.layer)!.yaml;
      const key = [ex.source === 'baseline' ? 'entries' : 'exceptions', ex.index, 'expires'];
      const pos = yaml.locate(key);
      problems.push(formatLocated(ex.layer, pos.line, pos.column, dottedKey(key), `expires ${ex.expires}, more than ${merged.maxExceptionDays} days ahead (max-exception-days); the latest allowed date is ${limit}`));
    }
  }
  if (problems.length > 0) throw new ConfigurationError(problems[0]!, problems);

  return {
    layers: layers.map((l) => l.name),
    rules: merged.rules,
    exclude: merged.exclude,
    excludeFor: merged.excludeFor,
    testsFor: merged.testsFor,
    maxExceptionDays: merged.maxExceptionDays,
    inlineExceptions: merged.inlineExceptions,
    exceptions,
    notices,
    policyPath: rootText === undefined ? undefined : policyPath,
    ...(baseline ? { baselinePath: baseline.path } : {}),
  };
}

/**
 * The baseline file the root policy names, read like the policy (from the base
 * commit on a pull request, so a change cannot accept its own findings). Only
 * the root policy's key counts: a shared policy cannot know each repository's file.
 */
async function loadBaseline(root: PolicyLayer, provider: PolicyProvider, rules: readonly Rule[], locksById: Parameters<typeof baselineExceptions>[5], problems: string[]) {
  const named = root.doc.baseline;
  if (named === undefined || root.origin.kind !== 'local') return undefined;
  const pos = root.yaml.locate(['baseline']);
  const rel = normaliseRepoPath(named);
  if (!rel) throw new ConfigurationError(formatLocated(root.name, pos.line, pos.column, 'baseline', 'must be a path inside the repository, e.g. .github/mlgate-baseline.yml'));
  const text = await provider.readLocal(rel);
  if (text === undefined) {
    throw new ConfigurationError(
      formatLocated(root.name, pos.line, pos.column, 'baseline', `${rel} does not exist; write it with \`mlgate baseline --owner … --reason … --expires …\`, or remove this key`),
    );
  }
  const name = provider.describeLocal?.(rel) ?? rel;
  const { doc, yaml } = parseBaseline(text, name, rules);
  return { path: rel, yaml, exceptions: baselineExceptions(doc, yaml, name, rel, rules, locksById, problems) };
}

/** Dotted parameter paths with `*` wildcards (e.g. `signers.*.public-key`) → every concrete location in `params`. */
function expandParamPath(params: unknown, parts: string[], prefix: (string | number)[] = []): (string | number)[][] {
  if (parts.length === 0) return [prefix];
  if (params === null || typeof params !== 'object') return [];
  const [head, ...rest] = parts;
  if (head === '*') {
    const keys = Array.isArray(params) ? params.map((_, i) => i) : Object.keys(params);
    return keys.flatMap((k) => expandParamPath((params as Record<string | number, unknown>)[k], rest, [...prefix, k]));
  }
  if (!(head! in (params as object))) return [];
  return expandParamPath((params as Record<string, unknown>)[head!], rest, [...prefix, head!]);
}

const looksInline = (v: string): boolean => v.includes('-----BEGIN') || v.trimStart().startsWith('{');

/**
 * Replaces policy-side file references (keys, trusted roots) with their text,
 * read from the repository that holds the layer, so a rule never has to know
 * where a policy came from.
 */
async function inlinePolicyFiles(layer: PolicyLayer, rules: readonly Rule[], provider: PolicyProvider): Promise<void> {
  for (const rule of rules) {
    const cfg = layer.doc.rules?.[rule.id];
    if (!cfg || !rule.policyFiles) continue;
    for (const pattern of rule.policyFiles) {
      for (const loc of expandParamPath(cfg, pattern.split('.'))) {
        const parent = loc.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], cfg) as Record<string | number, unknown>;
        const last = loc[loc.length - 1]!;
        const value = parent[last];
        if (typeof value !== 'string' || looksInline(value)) continue;
        const pos = layer.yaml.locate(['rules', rule.id, ...loc]);
        const key = dottedKey(['rules', rule.id, ...loc]);
        const rel = normaliseRepoPath(value);
        if (!rel) throw new ConfigurationError(formatLocated(layer.name, pos.line, pos.column, key, 'must be a path inside the policy\'s repository or inline PEM/JSON'));
        let text: string | undefined;
        if (layer.origin.kind === 'remote') text = await provider.readRemote({ ...layer.origin.ref, path: rel }, rel);
        else if (layer.origin.kind === 'local') text = await provider.readLocal(rel);
        if (text === undefined) throw new ConfigurationError(formatLocated(layer.name, pos.line, pos.column, key, `${rel} does not exist in the policy's repository`));
        parent[last] = text;
      }
    }
  }
}
