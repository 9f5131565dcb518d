import { normalizeName } from '../../formats/requirements.js';
import type { ShellIssue } from '../../formats/shell.js';
import { joinRepoPath, type PinningContext } from './context.js';
import { isPinningProblem, type RequirementsLoader } from './pip.js';

/**
 * Finds a file a command names, relative to each directory it may run in
 * (script dir, build context, root). A path outside the repository, such as
 * `/tmp/requirements.txt` after a Dockerfile `COPY`, is looked up by its name.
 */
function resolve(d: PinningContext, file: string, baseDirs: readonly string[]): string | null {
  const name = file.slice(file.lastIndexOf('/') + 1);
  for (const candidate of name === file ? [file] : [file, name]) {
    for (const dir of baseDirs) {
      const p = joinRepoPath(dir, candidate);
      if (p !== null && d.exists(p)) return p;
    }
  }
  return null;
}

async function judgePipFiles(d: PinningContext, loader: RequirementsLoader, path: string, issue: Extract<ShellIssue, { kind: 'pip-files' }>, baseDirs: readonly string[]): Promise<void> {
  const { line, command } = issue;
  for (const file of issue.requirementFiles) {
    const found = resolve(d, file, baseDirs);
    if (found === null) {
      d.report({
        code: 'unpinned-install',
        path,
        line,
        maxLevel: 'warning',
        message: `\`${command} -r ${file}\` installs from a file that is not in the repository, so its pins cannot be checked; commit a hash-locked requirements file and install it with \`${command} --require-hashes -r <file>\``,
      });
      continue;
    }
    let problems: string[];
    try {
      const tree = await loader.tree(found);
      problems = tree.findings.filter(isPinningProblem).map((f) => `${f.path}${f.line ? `:${f.line}` : ''}`);
    } catch (e) {
      problems = [`${found} (${e instanceof Error ? e.message : String(e)})`];
    }
    if (problems.length > 0) {
      d.report({
        code: 'unpinned-install',
        path,
        line,
        message: `\`${command} -r ${file}\` installs requirements that are not all pinned (${problems.slice(0, 3).join(', ')}${problems.length > 3 ? ', …' : ''}); pin every line with == (and hashes), or install a hash-locked file with \`${command} --require-hashes -r ${file}\``,
      });
    }
  }
  if (issue.unpinned.length === 0) return;
  const pinned = new Set<string>();
  for (const file of issue.constraintFiles) {
    const found = resolve(d, file, baseDirs);
    if (found === null) continue;
    try {
      for (const n of await loader.pinnedNames(found)) pinned.add(n);
    } catch {
      // An unreadable constraints file pins nothing; the names below are reported.
    }
  }
  for (const name of issue.unpinned) {
    if (pinned.has(normalizeName(name))) continue;
    d.report({ code: 'unpinned-install', path, line, message: `\`${command} ${name}\` is not pinned (no constraint file pins it either); pin it: ${name}==<version>` });
  }
}

/** Turns what the shell analyser found into findings on `path`. */
export async function reportShellIssues(d: PinningContext, loader: RequirementsLoader, path: string, issues: ShellIssue[], baseDirs: readonly string[]): Promise<void> {
  for (const issue of issues) {
    if (issue.kind === 'pip-files') await judgePipFiles(d, loader, path, issue, baseDirs);
    else d.report({ code: issue.kind, path, line: issue.line, message: issue.message, ...(issue.maxLevel ? { maxLevel: issue.maxLevel } : {}) });
  }
}
