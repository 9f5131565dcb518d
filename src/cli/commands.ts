import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dump } from 'js-yaml';
import { RULES } from '../checks/registry.js';
import { ConfigurationError } from '../core/errors.js';
import { schemaUrl } from '../core/version.js';
import { starterDatasets, starterHashes, starterProvenance } from '../checks/dataset-provenance/starter.js';
import { scanRepository } from '../inventory/scan.js';
import { DEFAULT_POLICY_PATH, loadPolicy } from '../policies/load.js';
import { cliPolicyProvider } from './provider.js';

/** `mlgate policy validate FILE` and `policy show`: the resolved policy, or located errors (exit 2). */
export async function resolvePolicyFile(file: string | undefined, dir: string, policyDir: string | undefined, now: Date) {
  const root = path.resolve(dir);
  const overrides = new Map<string, string>();
  let policyPath = DEFAULT_POLICY_PATH;
  if (file) {
    const abs = path.resolve(file);
    try {
      await access(abs);
    } catch {
      throw new ConfigurationError(`${file}: no such file`);
    }
    policyPath = abs;
    overrides.set(abs, abs);
  }
  const provider = cliPolicyProvider(root, policyDir ? path.resolve(policyDir) : undefined, overrides);
  return loadPolicy({ provider, rules: RULES, now, policyPath });
}

export async function showPolicy(file: string | undefined, dir: string, policyDir: string | undefined, now: Date): Promise<string> {
  const policy = await resolvePolicyFile(file, dir, policyDir, now);
  const rules: Record<string, unknown> = {};
  const declared = policy.exceptions.filter((e) => e.source === 'policy');
  for (const [id, r] of policy.rules) {
    rules[id] = {
      level: r.level,
      ...(r.enforceFrom ? { 'enforce-from': r.enforceFrom } : {}),
      ...(Object.keys(r.codeLevels).length ? { 'code-levels': r.codeLevels } : {}),
      ...(r.lockedBy ? { 'locked-by': r.lockedBy, exceptions: r.exceptionsAllowed ? (r.waivableCodes ? { allowed: true, codes: r.waivableCodes } : 'allowed') : 'denied' } : {}),
      ...r.params,
      'set-by': r.layers,
    };
  }
  const doc = {
    layers: policy.layers,
    ...(policy.exclude.length ? { paths: { exclude: policy.exclude } } : {}),
    'max-exception-days': policy.maxExceptionDays,
    rules,
    ...(declared.length
      ? {
          exceptions: declared.map(({ rule, paths, codes, fingerprints, reason, owner, expires, layer }) => ({
            rule,
            paths,
            ...(codes ? { codes } : {}),
            ...(fingerprints ? { fingerprints } : {}),
            reason,
            owner,
            expires,
            'declared-in': layer,
          })),
        }
      : {}),
    // The baseline can hold thousands of entries: its path and size, not its contents.
    ...(policy.baselinePath ? { baseline: { file: policy.baselinePath, entries: policy.exceptions.length - declared.length } } : {}),
  };
  return `# resolved policy (after extends)\n${dump(doc, { lineWidth: 120, noRefs: true })}`;
}

export const STARTER_POLICY = `# yaml-language-server: $schema=${schemaUrl('policy.schema.json')}
# mlgate policy: https://github.com/mlgate/mlgate#policy
version: 1
extends:
  - mlgate:recommended
# paths:
#   exclude: ["third_party/**"]
# rules:
#   model-signing:
#     level: error
#     signers:
#       - method: sigstore
#         identity: https://github.com/<org>/<repo>/.github/workflows/release.yml@refs/heads/main
#         issuer: https://token.actions.githubusercontent.com
# exceptions:
#   - rule: model-signing
#     paths: ["models/legacy/**"]
#     reason: "trained before signing was in place; tracked in <ticket>"
#     owner: "@<org>/<team>"
#     expires: <YYYY-MM-DD>
`;

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/**
 * `mlgate init`: a starter policy, and a starter PROVENANCE.yml (real digests,
 * TODO for what only a person knows) for each dataset directory without one.
 */
export async function initPolicy(dir: string, force: boolean): Promise<string[]> {
  const root = path.resolve(dir);
  const target = path.join(root, ...DEFAULT_POLICY_PATH.split('/'));
  if (!force && (await exists(target))) throw new ConfigurationError(`${DEFAULT_POLICY_PATH} already exists; pass --force to overwrite it`);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, STARTER_POLICY);
  const written = [DEFAULT_POLICY_PATH];

  const { inventory } = await scanRepository(root);
  const datasets = starterDatasets(inventory);
  const starters = starterProvenance(inventory, await starterHashes(inventory, datasets));
  for (const file of starters) {
    const abs = path.join(root, ...file.path.split('/'));
    if (!force && (await exists(abs))) continue;
    await writeFile(abs, file.text);
    written.push(file.path);
  }
  return written;
}
