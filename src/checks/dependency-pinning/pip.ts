import { normalizeName, parseRequirements, type ParsedRequirements, type RequirementEntry, type RequirementSpec } from '../../formats/requirements.js';
import { mixedIndexes, vcsAtCommit } from '../../formats/shell.js';
import type { RuleFinding } from '../rule.js';
import { dirOf, joinRepoPath, type PinningContext } from './context.js';

/** Requirement files checked on their own; `.in` files are pip-compile inputs and meant to hold ranges. */
export const REQUIREMENTS_GLOBS = ['**/*requirements*.txt', '**/requirements/**/*.txt', '**/*constraints*.txt'];

const MAX_INCLUDE_DEPTH = 8;

/** One requirements file and everything it pulls in through `-r`/`-c`, judged together as pip would. */
export interface RequirementsTree {
  root: string;
  /** Every file the tree reached. */
  files: string[];
  /** Findings on the files of the tree (each on its own file and line). */
  findings: RuleFinding[];
}

function specFix(spec: RequirementSpec, raw: string): string {
  const named = spec.name ? `${spec.name} @ ` : '';
  if (spec.kind === 'vcs') return `pin it to a commit: ${named}${vcsAtCommit(raw)}`;
  if (spec.kind === 'url') return `add the archive's digest: ${named}${raw.split('#')[0]}#sha256=<digest>`;
  return `pin it: ${spec.name}==<version> (pip-compile or \`uv pip compile\` writes exact pins)`;
}

function extraIndexes(out: RuleFinding[], path: string, entries: readonly RequirementEntry[]): void {
  const option = (...names: string[]): RequirementEntry[] => entries.filter((e) => e.kind === 'option' && names.includes(e.target ?? '') && e.value);
  const mixed = new Set(mixedIndexes(option('-i', '--index-url')[0]?.value, option('--extra-index-url').map((e) => e.value!)));
  for (const e of option('--extra-index-url')) if (mixed.has(e.value!)) extraIndex(out, path, e);
}

function extraIndex(out: RuleFinding[], path: string, e: RequirementEntry): void {
  out.push({
    code: 'extra-index',
    path,
    line: e.line,
    maxLevel: 'warning',
    message: `\`--extra-index-url ${e.value}\` makes pip choose between that index and PyPI by version number, so a package of the same name published on PyPI with a higher version is installed instead (dependency confusion, as in the 2022 torchtriton attack); use --index-url alone when one index serves everything, or add --hash to every line so only the reviewed files install`,
  });
}

/** Findings of a requirements tree that mean "not pinned" to a command or environment that installs it. */
export const isPinningProblem = (f: RuleFinding): boolean => f.code !== 'missing-hash' && f.code !== 'extra-index';

/** Reads a tree of requirement files (bounded depth, cycles cut) and judges every entry. */
export class RequirementsLoader {
  private readonly parsed = new Map<string, Promise<ParsedRequirements>>();
  private readonly trees = new Map<string, Promise<RequirementsTree>>();

  constructor(private readonly d: PinningContext) {}

  parsedFile(path: string): Promise<ParsedRequirements> {
    let p = this.parsed.get(path);
    if (!p) {
      p = this.d.read(path).then((text) => parseRequirements(text, this.d.rule.signal));
      this.parsed.set(path, p);
    }
    return p;
  }

  /** Normalised names a constraints file pins exactly. */
  async pinnedNames(path: string): Promise<Set<string>> {
    const parsed = await this.parsedFile(path);
    const names = new Set<string>();
    for (const e of parsed.entries) if (e.kind === 'requirement' && e.spec?.pinned && e.spec.name) names.add(normalizeName(e.spec.name));
    return names;
  }

  tree(root: string): Promise<RequirementsTree> {
    let t = this.trees.get(root);
    if (!t) {
      t = this.build(root);
      this.trees.set(root, t);
    }
    return t;
  }

  private async build(root: string): Promise<RequirementsTree> {
    const findings: RuleFinding[] = [];
    const files: { path: string; parsed: ParsedRequirements; constraint: boolean }[] = [];
    const visited = new Set<string>();
    const visit = async (path: string, depth: number, constraint: boolean): Promise<void> => {
      if (visited.has(path)) return;
      visited.add(path);
      let parsed: ParsedRequirements;
      try {
        parsed = await this.parsedFile(path);
      } catch (e) {
        if (path === root) throw e;
        findings.push({ code: 'malformed', path, message: `${path} could not be read: ${e instanceof Error ? e.message : String(e)}` });
        return;
      }
      files.push({ path, parsed, constraint });
      for (const entry of parsed.entries) {
        if ((entry.kind !== 'include' && entry.kind !== 'constraint') || entry.target === undefined) continue;
        const target = joinRepoPath(dirOf(path), entry.target);
        if (target === null || !this.d.exists(target)) {
          findings.push({
            code: 'unresolved-include',
            path,
            line: entry.line,
            maxLevel: 'warning',
            message: `\`${entry.kind === 'include' ? '-r' : '-c'} ${entry.target}\` names a file that is not in the repository, so its pins cannot be checked; commit it next to ${path}`,
          });
        } else if (depth >= MAX_INCLUDE_DEPTH) {
          findings.push({ code: 'malformed', path, line: entry.line, message: `requirement includes nest deeper than ${MAX_INCLUDE_DEPTH} levels at ${entry.target}; flatten them` });
        } else await visit(target, depth + 1, constraint || entry.kind === 'constraint');
      }
    };
    await visit(root, 0, false);

    // pip applies every constraint file to the whole install.
    const constrained = new Set<string>();
    for (const f of files) {
      if (!f.constraint) continue;
      for (const e of f.parsed.entries) if (e.kind === 'requirement' && e.spec?.pinned && e.spec.name) constrained.add(normalizeName(e.spec.name));
    }
    const hashMode = this.d.requireHashes || files.some((f) => f.parsed.requireHashes || f.parsed.entries.some((e) => e.hashes.length > 0));
    for (const f of files) {
      if (f.constraint) continue;
      for (const e of f.parsed.entries) this.judge(findings, f.path, e, constrained, hashMode);
      // With hashes pip refuses any file but the reviewed one, whichever index serves it.
      if (!hashMode) extraIndexes(findings, f.path, f.parsed.entries);
    }
    return { root, files: [...visited], findings };
  }

  private judge(out: RuleFinding[], path: string, e: RequirementEntry, constrained: ReadonlySet<string>, hashMode: boolean): void {
    const spec = e.spec;
    if (!spec || (e.kind !== 'requirement' && e.kind !== 'editable')) return;
    const raw = spec.specifier;
    const label = spec.name ? `${spec.name}${spec.kind === 'named' ? raw : ''}` : raw;
    if (spec.invalid) {
      out.push({ code: 'malformed', path, line: e.line, endLine: e.endLine, message: `${spec.invalid}; pip would reject this line` });
      return;
    }
    if (spec.kind === 'path') return;
    const pinned = spec.pinned || (spec.name !== null && constrained.has(normalizeName(spec.name)));
    if (!pinned) {
      const what = spec.kind === 'vcs' ? 'follows a branch or tag, not a commit' : spec.kind === 'url' ? 'downloads an archive with no digest to check' : 'is not pinned to one version';
      const shown = spec.kind === 'named' ? label : `${spec.name ? `${spec.name} @ ` : ''}${raw}`;
      out.push({ code: 'unpinned-requirement', path, line: e.line, endLine: e.endLine, message: `\`${shown}\` ${what}; ${specFix(spec, raw)}` });
      return;
    }
    // A VCS checkout cannot be hashed; a URL's #sha256= fragment is a hash pip checks.
    if (hashMode && e.kind === 'requirement' && spec.kind === 'named' && e.hashes.length === 0) {
      out.push({
        code: 'missing-hash',
        path,
        line: e.line,
        endLine: e.endLine,
        message: `\`${label}\` has no --hash; add one: ${spec.name ?? raw}${spec.kind === 'named' ? raw : ''} --hash=sha256:<digest> (pip-compile --generate-hashes or \`uv pip compile --generate-hashes\` writes them)`,
      });
    }
  }
}

/**
 * Checks the requirement files of the repository. A file that another one
 * includes (`-r`/`-c`) is judged inside the including tree, where pip applies
 * the constraints that pin it, not on its own.
 */
export async function checkRequirementFiles(d: PinningContext, loader: RequirementsLoader, paths: readonly string[]): Promise<void> {
  const included = new Set<string>();
  const covered = new Set<string>();
  for (const path of paths) {
    covered.add(path); // a file that cannot be read is reported here, once
    await d.guard(path, async () => {
      const parsed = await loader.parsedFile(path);
      covered.delete(path);
      for (const e of parsed.entries) {
        if ((e.kind !== 'include' && e.kind !== 'constraint') || e.target === undefined) continue;
        const target = joinRepoPath(dirOf(path), e.target);
        if (target !== null && target !== path) included.add(target);
      }
    });
  }
  const check = (path: string): Promise<void> =>
    d.guard(path, async () => {
      const tree = await loader.tree(path);
      for (const f of tree.files) covered.add(f);
      for (const f of tree.findings) if (f.path && d.inScope(f.path)) d.report(f);
    });
  for (const path of paths) if (!included.has(path) && !covered.has(path)) await check(path);
  // Files only reachable through a cycle of includes have no root of their own.
  for (const path of paths) if (!covered.has(path)) await check(path);
}
