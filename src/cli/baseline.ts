import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dump } from 'js-yaml';
import { RULES } from '../checks/registry.js';
import { ConfigurationError } from '../core/errors.js';
import { evaluate } from '../engine/evaluate.js';
import type { PolicyProvider } from '../policies/provider.js';
import type { Logger } from '../core/logger.js';
import type { Finding } from '../core/types.js';
import { schemaUrl, VERSION } from '../core/version.js';
import { loadYaml } from '../formats/yaml.js';
import { normaliseRepoPath } from '../inventory/scan.js';
import { DEFAULT_BASELINE_PATH, parseBaseline, type BaselineEntry } from '../policies/baseline.js';
import { DEFAULT_POLICY_PATH, loadPolicy, MAX_POLICY_BYTES } from '../policies/load.js';
import { locatePolicy } from '../policies/locate.js';
import { tamperingCodes } from '../policies/tampering.js';
import type { ResolvedPolicy } from '../policies/types.js';
import type { Report } from '../report/types.js';
import { isFile } from './check.js';
import { cliPolicyProvider } from './provider.js';

export interface BaselineArgs {
  /** Repository root. */
  root: string;
  owner?: string;
  reason?: string;
  expires?: string;
  prune: boolean;
  /** Repository-relative baseline path (default: the policy's `baseline`, else .github/mlgate-baseline.yml). */
  file?: string;
  policyDir?: string;
  now: Date;
  logger: Logger;
}

export interface BaselineResult {
  file: string;
  added: number;
  kept: number;
  removed: number;
  /** Set when the policy gained the `baseline` key (or was created). */
  policyEdited?: string;
  /** Unwaived findings the baseline may not accept, with why. */
  refused: { finding: Finding; why: string }[];
  /** Findings whose entry has expired: renewing one is an edit made on purpose, never a side effect. */
  expired: Finding[];
}

const EMPTY_BASELINE = 'version: 1\nentries: []\n';
const MINIMAL_POLICY = `# yaml-language-server: $schema=${schemaUrl('policy.schema.json')}\n# mlgate policy: https://github.com/mlgate/mlgate#policy\nversion: 1\nextends:\n  - mlgate:recommended\n`;
const HEADER = `# yaml-language-server: $schema=${schemaUrl('baseline.schema.json')}
# mlgate baseline: findings accepted when mlgate was switched on, one entry each.
# Written by \`mlgate baseline\`; each entry waives the one finding with its fingerprint until it expires.
# Fix a finding and run \`mlgate baseline --prune\` to drop its entry. See docs/adopting.md.
`;

/** The key added to a policy that does not name its baseline yet: appended, so the rest of the file (comments too) is untouched. */
function withBaselineKey(policyText: string | undefined, rel: string): string {
  const text = policyText ?? MINIMAL_POLICY;
  return `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}# Findings accepted when mlgate was adopted; each has an owner, a reason and an expiry (mlgate baseline).\nbaseline: ${rel}\n`;
}

const sub = (f: Finding): string | undefined => (f.code?.startsWith(`${f.rule}/`) ? f.code.slice(f.rule.length + 1) : f.code);

/** Why a finding may not go into the baseline, or undefined when it may. */
function refusal(f: Finding, policy: ResolvedPolicy): string | undefined {
  const code = sub(f);
  const rule = policy.rules.get(f.rule);
  if (code !== undefined && tamperingCodes(f.rule).includes(code)) {
    return `${f.code} means the file may be malicious or was changed after it was vouched for; a baseline never accepts it: fix it, or write an exception naming the code with its own reason`;
  }
  if (rule?.lockedBy && !rule.exceptionsAllowed) return `${rule.lockedBy} locks ${f.rule} without exceptions: allowed`;
  if (rule?.waivableCodes && (code === undefined || !rule.waivableCodes.includes(code))) return `${rule.lockedBy} locks ${f.rule} and allows exceptions for ${rule.waivableCodes.join(', ')} only`;
  return undefined;
}

/** Takes one from the count of `key`; false when none is left. */
function take(counts: Map<string, number>, key: string): boolean {
  const n = counts.get(key) ?? 0;
  if (n === 0) return false;
  counts.set(key, n - 1);
  return true;
}

const order = (a: BaselineEntry, b: BaselineEntry): number =>
  (a.path ?? '').localeCompare(b.path ?? '') || a.rule.localeCompare(b.rule) || (a.code ?? '').localeCompare(b.code ?? '') || a.fingerprint.localeCompare(b.fingerprint);

function checkOptions(args: BaselineArgs, maxDays: number): { owner: string; reason: string; expires: string } {
  const missing = (['owner', 'reason', 'expires'] as const).filter((k) => !args[k]?.trim());
  if (missing.length > 0) throw new ConfigurationError(`mlgate baseline needs ${missing.map((k) => `--${k}`).join(', ')}: every accepted finding has an owner, a reason and an expiry`);
  const expires = args.expires!;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(expires) ? new Date(`${expires}T00:00:00Z`) : undefined;
  if (!day || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== expires) throw new ConfigurationError(`--expires ${expires}: expected a date YYYY-MM-DD`);
  const today = args.now.toISOString().slice(0, 10);
  const latest = new Date(args.now.getTime() + maxDays * 86_400_000).toISOString().slice(0, 10);
  if (expires < today) throw new ConfigurationError(`--expires ${expires} is in the past`);
  if (expires > latest) throw new ConfigurationError(`--expires ${expires} is more than ${maxDays} days ahead (max-exception-days); the latest allowed date is ${latest}`);
  return { owner: args.owner!.trim(), reason: args.reason!.trim(), expires };
}

/**
 * `mlgate baseline`: accept every current unwaived finding as a baseline entry
 * (owner, reason, expiry), or with `--prune` drop the entries whose finding is
 * gone. The policy gains `baseline: <file>` when it does not name one.
 */
export async function runBaseline(args: BaselineArgs): Promise<BaselineResult> {
  const { root } = args;
  const choice = await locatePolicy((p) => isFile(path.join(root, ...p.split('/'))), { option: '--policy' });
  const policyPath = choice.path ?? DEFAULT_POLICY_PATH;
  const policyAbs = path.join(root, ...policyPath.split('/'));
  const policyText = choice.path ? await readFile(policyAbs, 'utf8') : undefined;
  let named: string | undefined;
  if (policyText !== undefined) {
    let value: unknown;
    try {
      value = loadYaml(policyText, { maxChars: MAX_POLICY_BYTES }).value;
    } catch {
      // The policy loader reports a broken policy, located in the file as it is.
      await loadPolicy({ provider: cliPolicyProvider(root, args.policyDir ? path.resolve(args.policyDir) : undefined), rules: RULES, now: args.now, policyPath });
    }
    if (value !== null && typeof value === 'object' && typeof (value as { baseline?: unknown }).baseline === 'string') named = (value as { baseline: string }).baseline;
  }
  const wanted = args.file !== undefined ? normaliseRepoPath(args.file) : undefined;
  if (args.file !== undefined && !wanted) throw new ConfigurationError(`--file ${args.file}: must be a path inside the repository`);
  if (wanted && named && normaliseRepoPath(named) !== wanted) {
    throw new ConfigurationError(`--file ${wanted}: the policy ${policyPath} names the baseline ${named}; drop --file, or change the policy's baseline key first`);
  }
  const rel = wanted ?? (named ? normaliseRepoPath(named) : undefined) ?? DEFAULT_BASELINE_PATH;
  const abs = path.join(root, ...rel.split('/'));
  const existingText = (await isFile(abs)) ? await readFile(abs, 'utf8') : undefined;
  const existing = existingText !== undefined ? parseBaseline(existingText, rel, RULES).doc.entries : [];
  const newPolicy = named === undefined ? withBaselineKey(policyText, rel) : undefined;

  // The run sees the repository as it will be: the policy naming the baseline
  // (rules such as artifact-ownership look at the policy file itself) and the
  // entries already accepted. The policy edit is undone if the run fails.
  const provider = cliPolicyProvider(root, args.policyDir ? path.resolve(args.policyDir) : undefined);
  const reading: PolicyProvider = { ...provider, readLocal: async (p) => (p === rel && existingText === undefined ? EMPTY_BASELINE : provider.readLocal(p)) };
  if (newPolicy !== undefined) {
    await mkdir(path.dirname(policyAbs), { recursive: true });
    await writeFile(policyAbs, newPolicy);
  }
  let policy: ResolvedPolicy;
  let report: Report;
  try {
    policy = await loadPolicy({ provider: reading, rules: RULES, now: args.now, policyPath });
    report = await evaluate({ root, policyPath, provider: reading, mode: 'full', logger: args.logger, toolVersion: VERSION, now: args.now });
    if (!args.prune) checkOptions(args, policy.maxExceptionDays);
  } catch (e) {
    if (newPolicy !== undefined) await (policyText === undefined ? rm(policyAbs, { force: true }) : writeFile(policyAbs, policyText));
    throw e;
  }
  const ruleIds = new Set(RULES.map((r) => r.id));

  // Entries and findings are counted per fingerprint: one entry stands for one finding.
  const present = new Map<string, number>();
  for (const f of report.findings) present.set(f.fingerprint, (present.get(f.fingerprint) ?? 0) + 1);
  const kept = args.prune ? existing.filter((e) => take(present, e.fingerprint)) : existing;
  const today = args.now.toISOString().slice(0, 10);
  // An expired entry is renewed by editing it, on purpose, never by running baseline again.
  const expired = new Set(existing.filter((e) => e.expires < today).map((e) => e.fingerprint));
  const added: BaselineEntry[] = [];
  const refused: BaselineResult['refused'] = [];
  const stale: Finding[] = [];
  if (!args.prune) {
    const who = checkOptions(args, policy.maxExceptionDays);
    for (const f of report.findings) {
      if (f.waived || f.rule === 'policy') continue;
      if (expired.has(f.fingerprint)) {
        stale.push(f);
        continue;
      }
      const why = ruleIds.has(f.rule) ? refusal(f, policy) : `${f.code ?? f.rule} is about the repository's file listing, not a rule; fix it (see mlgate rules ${f.code ?? f.rule})`;
      if (why) {
        refused.push({ finding: f, why });
        continue;
      }
      const code = sub(f);
      added.push({ fingerprint: f.fingerprint, rule: f.rule, ...(code !== undefined ? { code } : {}), ...(f.path !== undefined ? { path: f.path } : {}), message: f.message, ...who });
    }
  }
  const entries = [...kept, ...added].sort(order);
  await mkdir(path.dirname(abs), { recursive: true });
  await writeFile(abs, `${HEADER}${dump({ version: 1, entries }, { lineWidth: -1, noRefs: true })}`);
  return { file: rel, added: added.length, kept: kept.length, removed: existing.length - kept.length, ...(newPolicy !== undefined ? { policyEdited: policyPath } : {}), refused, expired: stale };
}
