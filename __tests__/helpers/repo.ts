import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll } from 'vitest';
import type { Rule, RuleFinding } from '../../src/checks/rule.js';
import { silentLogger } from '../../src/core/logger.js';
import { runRule } from '../../src/engine/rule-context.js';
import { createChangedSet, type ChangeList } from '../../src/inventory/changed.js';
import { scanRepository } from '../../src/inventory/scan.js';

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

export type FileTree = Record<string, string | Uint8Array>;

/** Writes a throwaway repository (removed after the test file); optionally a git repo with one commit. */
export async function makeRepo(files: FileTree, opts: { git?: boolean } = {}): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mlgate-test-'));
  made.push(dir);
  await writeTree(dir, files);
  if (opts.git) {
    gitIn(dir, 'init', '-q', '-b', 'main');
    gitIn(dir, 'add', '-A');
    gitIn(dir, 'commit', '-q', '-m', 'initial');
  }
  return dir;
}

export async function writeTree(dir: string, files: FileTree): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(dir, rel);
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(abs, content);
  }
}

export function gitIn(dir: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' },
  });
}

export interface RunRuleOptions {
  params?: Record<string, unknown>;
  /** Changed mode; a list of paths means "modified". */
  changed?: ChangeList | string[];
  now?: Date;
  policyPath?: string;
  budget?: { ms?: number; maxFileBytes?: number };
  /** `paths.tests` globs (none: no file is test code). */
  tests?: readonly string[];
}

/** Runs one rule on a directory the way the engine does (inventory, budgets, guard), without a policy. */
export async function runRuleOnDir(rule: Rule, dir: string, opts: RunRuleOptions = {}): Promise<RuleFinding[]> {
  const { inventory } = await scanRepository(dir);
  const changed = opts.changed === undefined ? null : createChangedSet(Array.isArray(opts.changed) ? { modified: opts.changed } : opts.changed);
  return runRule({
    rule,
    params: opts.params ?? {},
    inventory,
    changed,
    now: opts.now ?? new Date('2026-11-28T12:00:00Z'),
    logger: silentLogger,
    policyPath: opts.policyPath,
    budget: opts.budget,
    tests: opts.tests,
  });
}

/** Writes `files` to a fresh directory and runs the rule on it. */
export async function runRuleOn(rule: Rule, files: FileTree, opts: RunRuleOptions = {}): Promise<RuleFinding[]> {
  return runRuleOnDir(rule, await makeRepo(files), opts);
}

/** Compact `code@path:line` strings, sorted, for table-driven assertions. */
export function summarise(findings: RuleFinding[]): string[] {
  return findings.map((f) => `${f.code ?? ''}@${f.path ?? ''}${f.line ? `:${f.line}` : ''}`).sort();
}
