import { performance } from 'node:perf_hooks';
import type { Rule, RuleFinding } from '../checks/rule.js';
import { RULES } from '../checks/registry.js';
import { createChangedSet, type ChangeList } from '../inventory/changed.js';
import { ContentCache } from '../inventory/content-cache.js';
import { createDependencyIndex } from '../inventory/dependency-index.js';
import { createInventory, matchesAny } from '../inventory/inventory.js';
import { scanRepository } from '../inventory/scan.js';
import type { ChangedSet, Inventory } from '../inventory/types.js';
import { MAX_BASELINE_BYTES, pendingBaselineNotices } from '../policies/baseline.js';
import { DEFAULT_POLICY_PATH, loadPolicy } from '../policies/load.js';
import type { ResolvedPolicy, ResolvedRule } from '../policies/types.js';
import type { Report } from '../report/types.js';
import { ConfigurationError } from '../core/errors.js';
import { applyExceptions } from './exceptions.js';
import type { EvaluateOptions } from './options.js';
import { fingerprint } from '../core/fingerprint.js';
import { applyInlineWaivers, MAX_WAIVER_FILE_BYTES } from './inline-waivers.js';
import { bytesHashed } from '../core/hash.js';
import { runRule } from './rule-context.js';
import { LEVEL_RANK, minLevel, type Finding, type Level, type Reference } from '../core/types.js';
import { conclude, countFindings, sortFindings } from './verdict.js';
import { helpUrl } from '../core/version.js';

const INVENTORY_LEVELS: Record<string, Level> = { symlink: 'warning', truncated: 'error', 'unsafe-path': 'warning', 'submodule-not-checked-out': 'warning' };

/** The level a rule's finding gets: per-code level or the rule's, capped by the finding, and by `enforce-from`. */
export function findingLevel(rule: ResolvedRule, f: RuleFinding, now: Date): Level | undefined {
  const configured = (f.code !== undefined ? rule.codeLevels[f.code] : undefined) ?? rule.level;
  if (configured === 'off') return undefined;
  let level: Level = f.maxLevel ? minLevel(configured, f.maxLevel) : configured;
  if (rule.enforceFrom && now.toISOString().slice(0, 10) < rule.enforceFrom) level = minLevel(level, 'warning');
  return level;
}

function makeFinding(ruleId: string, code: string | undefined, level: Level, f: Omit<RuleFinding, 'code' | 'maxLevel'>, references: Reference[], version: string): Finding {
  const finding: Finding = {
    rule: ruleId,
    ...(code !== undefined ? { code } : {}),
    level,
    message: f.message,
    ...(f.path !== undefined ? { path: f.path } : {}),
    ...(f.line !== undefined ? { line: f.line } : {}),
    ...(f.endLine !== undefined ? { endLine: f.endLine } : {}),
    ...(f.column !== undefined ? { column: f.column } : {}),
    help: helpUrl(ruleId, version),
    references,
    fingerprint: fingerprint(ruleId, code, f.path, f.message),
    waived: null,
  };
  return finding;
}

/** Rules see the inventory through this wrapper so a progress line can count the files they open. */
function countingReads(inv: Inventory, opened: Set<string>, onOpen?: (path: string) => void): Inventory {
  const seen = onOpen ? { add: (p: string) => (onOpen(p), opened.add(p)) } : opened;
  return {
    ...inv,
    abs: (p) => {
      seen.add(p);
      return inv.abs(p);
    },
    readBytes: (p, max) => {
      seen.add(p);
      return inv.readBytes(p, max);
    },
    readText: (p, max) => {
      seen.add(p);
      return inv.readText(p, max);
    },
    readHead: (p, n) => {
      seen.add(p);
      return inv.readHead(p, n);
    },
  };
}

/**
 * `inventory/nothing-evaluated`: files exist but none reached the rules (every
 * path excluded, or a change list naming only files the listing does not have).
 * A gate that checked nothing must not read as a gate that found nothing.
 */
function nothingEvaluated(files: Inventory['files'], exclude: readonly string[], changed: ChangedSet | null): string | undefined {
  if (files.length === 0) return undefined;
  // Stops at the first file that reaches the rules: on a large repository this is one glob test, not one per file.
  const kept = (f: Inventory['files'][number]): boolean => !matchesAny(f.path, exclude);
  if (!changed) {
    if (files.some(kept)) return undefined;
    return `none of the repository's ${files.length} files was evaluated: paths.exclude in the policy (${exclude.join(', ')}) matches every one of them, so the gate checked nothing. Narrow the exclude globs to the generated or vendored trees they are meant for.`;
  }
  const asked = [...changed.changed];
  if (asked.length === 0 || files.some((f) => changed.changed.has(f.path) && kept(f))) return undefined;
  const listed = new Set(files.map((f) => f.path));
  const excluded = asked.filter((p) => listed.has(p));
  const unlisted = asked.filter((p) => !listed.has(p));
  const sample = (ps: string[]) => `${ps.slice(0, 3).join(', ')}${ps.length > 3 ? ` and ${ps.length - 3} more` : ''}`;
  const why = [
    ...(excluded.length ? [`${sample(excluded)} ${excluded.length === 1 ? 'is' : 'are'} excluded by paths.exclude`] : []),
    ...(unlisted.length ? [`${sample(unlisted)} ${unlisted.length === 1 ? 'is' : 'are'} not in the repository's file list (missing, ignored by git, or not a regular file)`] : []),
  ];
  return `none of the ${asked.length} changed or named file${asked.length === 1 ? '' : 's'} was evaluated: ${why.join('; ')}. Only checks of the repository as a whole ran.`;
}

/**
 * The whole pipeline (DESIGN §2): policy → inventory → checks → findings →
 * verdict. Throws ConfigurationError for a broken policy; a broken repository
 * file is a finding, never an exception.
 */
export async function evaluate(opts: EvaluateOptions, registry: readonly Rule[] = RULES): Promise<Report> {
  const started = performance.now();
  const hashedBefore = bytesHashed();
  const now = opts.now ?? new Date();
  const version = opts.toolVersion;
  const policyPath = opts.policyPath ?? DEFAULT_POLICY_PATH;
  // The listing needs no policy: git lists the repository while the policy is read and compiled.
  const cache = new ContentCache();
  // The change may still be in git's hands: the listing takes its untracked and dirty files when it has them, else asks itself.
  const changes = opts.changes === undefined ? undefined : Promise.resolve(opts.changes);
  const known = changes?.catch(() => undefined);
  const scanning = scanRepository(opts.root, { cache, ...(known ? { untracked: known.then((c) => c?.untracked), dirty: known.then((c) => c?.dirty) } : {}) });
  // A broken policy or change ends the run before the listing is awaited; its outcome is then nobody's.
  scanning.catch(() => undefined);
  const [changeList, loaded] = await Promise.allSettled([changes, loadPolicy({ provider: opts.provider, rules: registry, now, policyPath })]);
  // A bad change (say `--base` names no commit) is reported before the policy, whatever finished first.
  if (changeList.status === 'rejected') throw changeList.reason;
  if (loaded.status === 'rejected') throw loaded.reason;
  const policy: ResolvedPolicy = loaded.value;

  const progress: RunProgress = { opened: new Set(), filesTotal: 0, rulesDone: 0, running: [] };
  opts.progress?.start(() => ({
    filesRead: progress.opened.size,
    filesTotal: progress.filesTotal,
    bytesHashed: bytesHashed() - hashedBefore,
    rulesDone: progress.rulesDone,
    rulesTotal: progress.running.length + progress.rulesDone,
    running: [...progress.running],
  }));
  try {
    return await run({ ...opts, ...(changeList.value ? { changes: changeList.value } : {}) }, registry, policy, progress, { started, hashedBefore, now, version, cache, scanning });
  } finally {
    opts.progress?.stop();
  }
}

/** What a progress poll reads while the run goes on. */
interface RunProgress {
  opened: Set<string>;
  filesTotal: number;
  rulesDone: number;
  running: string[];
}

interface RunContext {
  started: number;
  hashedBefore: number;
  now: Date;
  version: string;
  /** One cache for the run: every rule's view of the inventory reads through it. */
  cache: ContentCache;
  scanning: ReturnType<typeof scanRepository>;
}

async function run(opts: EvaluateOptions & { changes?: ChangeList }, registry: readonly Rule[], policy: ResolvedPolicy, progress: RunProgress, ctx: RunContext): Promise<Report> {
  const { started, hashedBefore, now, version, cache } = ctx;
  const scan = await ctx.scanning;
  progress.filesTotal = scan.inventory.files.length;
  const changed = opts.mode === 'changed' ? createChangedSet(opts.changes ?? {}) : null;
  const findings: Finding[] = [];
  const idle = nothingEvaluated(scan.inventory.files, policy.exclude, changed);
  if (idle) findings.push(makeFinding('inventory', 'inventory/nothing-evaluated', 'warning', { message: idle }, [], version));

  for (const note of scan.notes) {
    // A symlink under `paths.exclude` (vendored trees) is nobody's concern.
    if (note.path && matchesAny(note.path, policy.exclude)) continue;
    // A pull request answers for what it changes: a symlink or skipped path it did not touch is a full-mode finding.
    if (changed && note.path && !changed.touches(note.path)) continue;
    const code = `inventory/${note.code}`;
    findings.push(makeFinding('inventory', code, INVENTORY_LEVELS[note.code] ?? 'warning', { message: note.message, path: note.path }, [], version));
  }
  for (const n of [...policy.notices, ...(opts.notices ?? [])]) {
    const ruleId = n.code.split('/')[0] ?? 'policy';
    findings.push(makeFinding(ruleId, n.code, n.level, n, [], version));
  }
  if (changed && policy.policyPath && changed.touches(policy.policyPath)) {
    findings.push(
      makeFinding('policy', 'policy/changed-in-pr', 'info', {
        path: policy.policyPath,
        message: `this change edits the policy ${policy.policyPath}; it was judged by the policy of the base commit, and the edit applies after merge`,
      }, [], version),
    );
  }

  const enabled = registry.filter((r) => {
    const level = policy.rules.get(r.id)?.level;
    return level !== undefined && level !== 'off';
  });
  progress.running.push(...enabled.map((r) => r.id));
  const index = changed ? createDependencyIndex(scan.inventory) : undefined;
  const ruleResults = await Promise.all(
    enabled.map(async (rule) => {
      const resolved = policy.rules.get(rule.id)!;
      const exclude = policy.excludeFor(rule.id);
      const kept = (p: string): boolean => !matchesAny(p, exclude);
      const { root, files, submodules = [], symlinks = [] } = scan.inventory;
      const listed = exclude.length > 0 ? createInventory(root, files.filter((f) => kept(f.path)), submodules.filter((s) => kept(s.path)), symlinks.filter(kept), { cache }) : scan.inventory;
      const inventory = opts.progress || opts.onOpen ? countingReads(listed, progress.opened, opts.onOpen) : listed;
      let raw: RuleFinding[];
      try {
        raw = await runRule({ rule, params: resolved.params, inventory, changed, now, logger: opts.logger, policyPath: policy.policyPath, tests: policy.testsFor(rule.id), ...(index && inventory === scan.inventory ? { index } : {}) });
      } catch (e) {
        // Signer keys and trust roots are checked when the rule reads them: still the policy's fault.
        if (e instanceof ConfigurationError) throw e;
        // A bug must not pass the gate: it becomes an error finding and the run goes on.
        opts.logger.error(`internal error in rule ${rule.id}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        raw = [{ code: 'internal-error', message: `mlgate failed while running ${rule.id} (${e instanceof Error ? e.message : String(e)}); the rule fails closed — please report this` }];
      } finally {
        progress.running.splice(progress.running.indexOf(rule.id), 1);
        progress.rulesDone++;
      }
      const out: Finding[] = [];
      for (const f of raw) {
        const level = f.code === 'internal-error' ? 'error' : findingLevel(resolved, f, now);
        if (level === undefined) continue;
        out.push(makeFinding(rule.id, f.code ? `${rule.id}/${f.code}` : undefined, level, f, rule.references, version));
      }
      return out;
    }),
  );
  for (const r of ruleResults) findings.push(...r);
  opts.logger.debug(`content cache: ${cache.hits} reads served from memory, ${cache.misses} from disk, ${cache.size} bytes held at the end`);

  const { inForce, notices } = applyExceptions(findings, policy.exceptions, now, opts.mode === 'full');
  for (const n of notices) findings.push(makeFinding('policy', n.code, n.level, n, [], version));
  if (changed && policy.baselinePath && changed.touches(policy.baselinePath)) {
    const head = await scan.inventory.readText(policy.baselinePath, MAX_BASELINE_BYTES + 1).catch(() => undefined);
    for (const n of pendingBaselineNotices(head, policy.baselinePath, findings, registry)) findings.push(makeFinding('policy', n.code, n.level, n, [], version));
  }
  const inline = await applyInlineWaivers(findings, {
    allowed: policy.inlineExceptions,
    registry,
    rules: policy.rules,
    maxExceptionDays: policy.maxExceptionDays,
    now,
    fullMode: opts.mode === 'full',
    files: scan.inventory.files.filter((f) => !matchesAny(f.path, policy.exclude)).map((f) => f.path),
    readText: (p) => {
      opts.onOpen?.(p);
      return scan.inventory.readText(p, MAX_WAIVER_FILE_BYTES);
    },
    ...(opts.baseFile ? { baseFile: opts.baseFile } : {}),
    changed,
  });
  for (const n of inline.notices) findings.push(makeFinding('policy', n.code, n.level, n, [], version));
  inForce.push(...inline.inForce);

  const seen = new Set<string>();
  const unique = findings.filter((f) => {
    const key = `${f.rule}|${f.code ?? ''}|${f.path ?? ''}|${f.line ?? ''}|${f.column ?? ''}|${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  sortFindings(unique);
  const failOn = opts.failOn ?? 'error';
  return {
    version: 1,
    tool: { name: 'mlgate', version },
    mode: opts.mode,
    conclusion: conclude(unique, failOn),
    counts: countFindings(unique),
    findings: unique,
    rules: registry.map((r) => {
      const level = policy.rules.get(r.id)?.level ?? 'off';
      return { id: r.id, level, evaluated: LEVEL_RANK[level] > 0 };
    }),
    stats: { files: scan.inventory.files.length, bytesHashed: bytesHashed() - hashedBefore, durationMs: Math.round(performance.now() - started) },
    exceptions: inForce,
    failOn,
  };
}
