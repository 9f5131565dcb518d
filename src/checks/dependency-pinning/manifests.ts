import { FileProblem } from '../../core/errors.js';
import {
  isPylockName,
  ManifestError,
  pipfileLockNames,
  PYTHON_LOCKS,
  readPipfile,
  readPyproject,
  tomlLockNames,
  type ManifestDependencies,
} from '../../formats/pyproject.js';
import { normalizeName } from '../../formats/requirements.js';
import { dirOf, MAX_LOCK_BYTES, type PinningContext } from './context.js';

const asFileProblem = (path: string, e: unknown): unknown =>
  e instanceof ManifestError ? new FileProblem(path, `${path}: ${e.message}; fix it so its dependencies can be checked`, 'malformed', e.line) : e;

const join = (dir: string, name: string): string => (dir ? `${dir}/${name}` : name);

/** Lock files for a pyproject: beside it, or at a workspace root above it (uv, PDM). */
function pyprojectLock(d: PinningContext, path: string): string | null {
  for (let dir = dirOf(path); ; dir = dirOf(dir)) {
    for (const name of Object.keys(PYTHON_LOCKS)) if (d.exists(join(dir, name))) return join(dir, name);
    const pylock = d.namesIn(dir).find(isPylockName);
    if (pylock) return join(dir, pylock);
    if (!dir) return null;
  }
}

/** Lock names beside `path` that a change may have added, modified or deleted. */
const lockTouched = (d: PinningContext, dir: string, names: string[]): boolean => d.rule.changed !== null && names.some((n) => d.rule.changed!.touches(join(dir, n)));

interface Manifest {
  path: string;
  deps: ManifestDependencies;
  lock: string | null;
  lockCommand: string;
  lockNames: (text: string) => Set<string>;
  inScope: boolean;
}

async function judge(d: PinningContext, m: Manifest): Promise<void> {
  const { path, deps, lock } = m;
  if (deps.dependencies.length === 0 || !m.inScope) return;
  if (lock === null) {
    d.report({
      code: 'missing-lockfile',
      path,
      line: deps.line,
      message: `${path} declares ${deps.dependencies.length} dependencies but no lock file records the exact versions installed; generate and commit one: ${m.lockCommand}`,
    });
    return;
  }
  const changed = d.rule.changed;
  if (changed !== null && changed.changed.has(path) && !changed.touches(lock)) {
    d.report({
      code: 'stale-lockfile',
      path,
      line: deps.line,
      maxLevel: 'warning',
      message: `${path} changed in this pull request but ${lock} did not; if the dependencies changed, refresh the lock (${m.lockCommand}) and commit it`,
    });
  }
  let names: Set<string> | undefined;
  await d.rule.guard(lock, async () => {
    names = new Set([...m.lockNames(await d.read(lock, MAX_LOCK_BYTES))].map(normalizeName));
  });
  if (!names) return;
  for (const dep of deps.dependencies) {
    if (names.has(normalizeName(dep.name))) continue;
    d.report({
      code: 'stale-lockfile',
      path,
      line: dep.line,
      message: `${dep.name} is declared in ${path} but ${lock} has no entry for it, so the lock is out of date; refresh it (${m.lockCommand}) and commit it`,
    });
  }
}

function lockCommandFor(text: string): string {
  if (text.includes('[tool.poetry')) return 'poetry lock';
  if (text.includes('[tool.pdm')) return 'pdm lock';
  return 'uv lock';
}

export async function checkPyproject(d: PinningContext, path: string): Promise<void> {
  const lock = pyprojectLock(d, path);
  const inScope = d.inScope(path) || (lock !== null && d.inScope(lock)) || lockTouched(d, dirOf(path), Object.keys(PYTHON_LOCKS));
  if (!inScope) return;
  await d.rule.guard(path, async () => {
    const text = await d.read(path);
    let deps: ManifestDependencies;
    try {
      deps = readPyproject(text);
    } catch (e) {
      throw asFileProblem(path, e);
    }
    const lockCommand = lock ? (PYTHON_LOCKS[lock.slice(lock.lastIndexOf('/') + 1)] ?? PYTHON_LOCKS['pylock.toml']!) : lockCommandFor(text);
    await judge(d, { path, deps, lock, lockCommand, lockNames: tomlLockNames, inScope });
  });
}

export async function checkPipfile(d: PinningContext, path: string): Promise<void> {
  const candidate = join(dirOf(path), 'Pipfile.lock');
  const lock = d.exists(candidate) ? candidate : null;
  const inScope = d.inScope(path) || lockTouched(d, dirOf(path), ['Pipfile.lock']);
  if (!inScope) return;
  await d.rule.guard(path, async () => {
    let deps: ManifestDependencies;
    try {
      deps = readPipfile(await d.read(path));
    } catch (e) {
      throw asFileProblem(path, e);
    }
    await judge(d, {
      path,
      deps,
      lock,
      lockCommand: 'pipenv lock',
      inScope,
      lockNames: (text) => {
        try {
          return pipfileLockNames(text);
        } catch (e) {
          throw asFileProblem(candidate, e);
        }
      },
    });
  });
}
