import { FileProblem } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { DependencyIndex, Rule, RuleContext, RuleFinding } from '../checks/rule.js';
import { createDependencyIndex } from '../inventory/dependency-index.js';
import { matchesAny } from '../inventory/inventory.js';
import type { ChangedSet, Inventory } from '../inventory/types.js';
import { invalidatedBy } from './invalidation.js';

export const DEFAULT_RULE_MS = 60_000;
export const DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024;

export interface RuleRunInput {
  rule: Rule;
  params: Record<string, unknown>;
  inventory: Inventory;
  changed: ChangedSet | null;
  now: Date;
  logger: Logger;
  policyPath?: string;
  /** `paths.tests` globs for this rule (none: no file is test code). */
  tests?: readonly string[];
  /** Changed mode: the run's lookups, shared by the rules (built here when absent). */
  index?: DependencyIndex;
  /** Overrides the rule's own budget (tests use tiny budgets). */
  budget?: { ms?: number; maxFileBytes?: number };
}

const isAbort = (e: unknown): boolean => e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError');

/**
 * Runs one rule with its time and byte budget and returns what it reported.
 * A budget that runs out, or a failure while reading a file, ends as an error
 * finding (fail closed): never a silent pass, never a crash of the whole run.
 */
export async function runRule(input: RuleRunInput): Promise<RuleFinding[]> {
  const { rule } = input;
  const ms = input.budget?.ms ?? rule.budget?.ms ?? DEFAULT_RULE_MS;
  const maxFileBytes = input.budget?.maxFileBytes ?? rule.budget?.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const findings: RuleFinding[] = [];
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`rule ${rule.id} ran out of its ${ms} ms budget`, 'TimeoutError')), ms);
  timer.unref?.();
  let current: string | undefined;
  const tests = input.tests ?? [];
  const { changed } = input;
  const dependents = changed && rule.invalidates ? invalidatedBy(rule, input.params, changed, input.index ?? createDependencyIndex(input.inventory)).dependents : new Set<string>();
  const ctx: RuleContext<Record<string, unknown>> = {
    params: input.params,
    inventory: input.inventory,
    changed: input.changed,
    now: input.now,
    policyPath: input.policyPath,
    logger: input.logger,
    signal: controller.signal,
    maxFileBytes,
    isTest: (path) => tests.length > 0 && matchesAny(path, tests),
    inScope: (p) => changed === null || changed.changed.has(p) || dependents.has(p),
    report: (f) => {
      findings.push(f);
    },
    guard: async (path, fn) => {
      current = path;
      try {
        await fn();
      } catch (e) {
        if (isAbort(e) || controller.signal.aborted) throw e;
        if (e instanceof FileProblem) {
          findings.push({ code: e.code, path: e.path || path, line: e.line, message: e.message });
        } else {
          findings.push({ code: 'unreadable', path, message: `${path} could not be analysed: ${e instanceof Error ? e.message : String(e)}` });
        }
      } finally {
        current = undefined;
      }
    },
  };
  const timeout = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  try {
    await Promise.race([rule.run(ctx), timeout]);
  } catch (e) {
    if (isAbort(e) || controller.signal.aborted) {
      findings.push({
        code: 'budget-exceeded',
        path: current,
        message: `${rule.id} ran out of its ${ms} ms time budget${current ? ` while analysing ${current}` : ''}; the result is incomplete, so the rule fails closed`,
      });
    } else if (e instanceof FileProblem) {
      findings.push({ code: e.code, path: e.path, line: e.line, message: e.message });
    } else {
      throw e;
    }
  } finally {
    clearTimeout(timer);
  }
  return findings;
}
