import { FileProblem } from '../../core/errors.js';
import { condaName, isCondaLockName, isExactCondaSpec, readCondaEnvironment, type CondaEnvironment } from '../../formats/conda.js';
import { parseRequirements } from '../../formats/requirements.js';
import { YamlError } from '../../formats/yaml.js';
import { dirOf, joinRepoPath, type PinningContext } from './context.js';
import { isPinningProblem, type RequirementsLoader } from './pip.js';

export const CONDA_GLOBS = ['**/environment*.yml', '**/environment*.yaml', '**/conda*.yml', '**/conda*.yaml'];

function condaLocks(d: PinningContext, dir: string): string[] {
  return d.namesIn(dir).filter(isCondaLockName).map((n) => (dir ? `${dir}/${n}` : n));
}

async function checkPipSection(d: PinningContext, loader: RequirementsLoader, path: string, env: CondaEnvironment): Promise<void> {
  for (const dep of env.pip) {
    for (const e of parseRequirements(dep.spec).entries) {
      if (e.kind === 'include' && e.target !== undefined) {
        const target = joinRepoPath(dirOf(path), e.target);
        if (target === null || !d.exists(target)) {
          d.report({ code: 'unresolved-include', path, line: dep.line, maxLevel: 'warning', message: `\`-r ${e.target}\` names a file that is not in the repository, so its pins cannot be checked` });
          continue;
        }
        const tree = await loader.tree(target);
        const bad = tree.findings.filter(isPinningProblem);
        if (bad.length > 0) {
          d.report({ code: 'unpinned-requirement', path, line: dep.line, message: `the pip section installs ${target}, whose requirements are not all pinned (${bad.slice(0, 3).map((f) => `${f.path}:${f.line ?? 1}`).join(', ')}); pin them with ==` });
        }
      } else if ((e.kind === 'requirement' || e.kind === 'editable') && e.spec && !e.spec.pinned) {
        const name = e.spec.name ?? dep.spec;
        d.report({ code: 'unpinned-requirement', path, line: dep.line, message: `pip dependency \`${dep.spec}\` is not pinned; pin it: ${name}==<version>, or commit a conda-lock.yml (conda-lock -f ${path})` });
      }
    }
  }
}

/** An environment file pins every package (conda `=version`, pip `==version`) or has a conda-lock file beside it. */
export async function checkCondaEnvironment(d: PinningContext, loader: RequirementsLoader, path: string): Promise<void> {
  const locks = condaLocks(d, dirOf(path));
  const changed = d.rule.changed;
  const inScope = d.inScope(path) || (changed !== null && locks.some((l) => changed.touches(l)));
  if (!inScope) return;
  await d.rule.guard(path, async () => {
    let env: CondaEnvironment;
    try {
      env = readCondaEnvironment(await d.read(path));
    } catch (e) {
      if (e instanceof YamlError) throw new FileProblem(path, `${path} is not valid YAML (${e.message}); fix it so its dependencies can be checked`, 'malformed', e.line);
      throw e;
    }
    if (!env.isEnvironment) return;
    if (locks.length > 0) {
      if (changed !== null && changed.changed.has(path) && !locks.some((l) => changed.touches(l))) {
        d.report({ code: 'stale-lockfile', path, line: env.conda[0]?.line ?? 1, maxLevel: 'warning', message: `${path} changed in this pull request but ${locks.join(', ')} did not; if the dependencies changed, re-run conda-lock -f ${path} and commit the lock` });
      }
      return;
    }
    for (const dep of env.conda) {
      if (isExactCondaSpec(dep.spec)) continue;
      const name = condaName(dep.spec);
      d.report({ code: 'unpinned-requirement', path, line: dep.line, message: `conda dependency \`${dep.spec}\` is not pinned; pin it: ${name}=<version> (or ${name}==<version>=<build>), or commit a conda-lock.yml (conda-lock -f ${path})` });
    }
    await checkPipSection(d, loader, path, env);
  });
}
