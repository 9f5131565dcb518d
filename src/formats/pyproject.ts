import { parse as parseToml, TomlError } from 'smol-toml';
import { normalizeName, parseRequirementSpec } from './requirements.js';

/**
 * Dependencies declared in `pyproject.toml` (PEP 621 and PEP 735, Poetry, uv,
 * PDM) and `Pipfile`, with the line each is declared on, and the package names
 * their lock files record.
 */

export interface DeclaredDependency {
  name: string;
  line: number;
}

export interface ManifestDependencies {
  dependencies: DeclaredDependency[];
  /** Line of the first dependency table or key, for a finding about the file as a whole. */
  line: number;
}

/** A manifest that is not valid TOML; carries the 1-based line when known. */
export class ManifestError extends Error {
  override name = 'ManifestError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const get = (v: unknown, ...path: string[]): unknown => path.reduce<unknown>((o, k) => (isRecord(o) ? o[k] : undefined), v);

export function parseTomlDocument(text: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) throw new ManifestError(`invalid TOML: ${e.message.split('\n')[0]}`, e.line);
    throw new ManifestError(`invalid TOML: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Finds where a dependency is written: its quoted spec in an array, or its key in a table. */
class LineFinder {
  private readonly lines: string[];
  constructor(text: string) {
    this.lines = text.split('\n');
  }
  header(table: string): number {
    const i = this.lines.findIndex((l) => l.trim() === `[${table}]`);
    return i === -1 ? 0 : i + 1;
  }
  find(needles: string[], from: number): number {
    for (let i = Math.max(0, from - 1); i < this.lines.length; i++) {
      const l = this.lines[i]!;
      if (needles.some((n) => l.includes(n))) return i + 1;
    }
    return from || 1;
  }
}

function fromArray(out: DeclaredDependency[], lf: LineFinder, specs: unknown, from: number): void {
  if (!Array.isArray(specs)) return;
  for (const s of specs) {
    if (typeof s !== 'string') continue;
    const spec = parseRequirementSpec(s);
    if (!spec.name) continue;
    out.push({ name: spec.name, line: lf.find([`"${s}"`, `'${s}'`, `"${spec.name}`, `'${spec.name}`], from) });
  }
}

function fromTable(out: DeclaredDependency[], lf: LineFinder, table: unknown, from: number, skip: ReadonlySet<string> = new Set()): void {
  if (!isRecord(table)) return;
  for (const name of Object.keys(table)) {
    if (skip.has(name.toLowerCase())) continue;
    out.push({ name, line: lf.find([`${name} =`, `${name}=`, `"${name}"`], from) });
  }
}

/** Dependencies of a `pyproject.toml` (runtime, optional, groups, dev), any tool. */
export function readPyproject(text: string): ManifestDependencies {
  const doc = parseTomlDocument(text);
  const lf = new LineFinder(text);
  const deps: DeclaredDependency[] = [];
  fromArray(deps, lf, get(doc, 'project', 'dependencies'), lf.header('project'));
  const optional = get(doc, 'project', 'optional-dependencies');
  if (isRecord(optional)) for (const specs of Object.values(optional)) fromArray(deps, lf, specs, lf.header('project.optional-dependencies'));
  const groups = get(doc, 'dependency-groups');
  if (isRecord(groups)) for (const specs of Object.values(groups)) fromArray(deps, lf, specs, lf.header('dependency-groups'));
  const python = new Set(['python']);
  fromTable(deps, lf, get(doc, 'tool', 'poetry', 'dependencies'), lf.header('tool.poetry.dependencies'), python);
  fromTable(deps, lf, get(doc, 'tool', 'poetry', 'dev-dependencies'), lf.header('tool.poetry.dev-dependencies'), python);
  const poetryGroups = get(doc, 'tool', 'poetry', 'group');
  if (isRecord(poetryGroups)) {
    for (const [g, v] of Object.entries(poetryGroups)) fromTable(deps, lf, get(v, 'dependencies'), lf.header(`tool.poetry.group.${g}.dependencies`), python);
  }
  fromArray(deps, lf, get(doc, 'tool', 'uv', 'dev-dependencies'), lf.header('tool.uv'));
  const pdmDev = get(doc, 'tool', 'pdm', 'dev-dependencies');
  if (isRecord(pdmDev)) for (const specs of Object.values(pdmDev)) fromArray(deps, lf, specs, lf.header('tool.pdm.dev-dependencies'));
  // `all = ["clf[gpu,dev]"]` refers to the project itself, which a lock need not list.
  const own = [get(doc, 'project', 'name'), get(doc, 'tool', 'poetry', 'name')].filter((n): n is string => typeof n === 'string').map(normalizeName);
  const external = deps.filter((dep) => !own.includes(normalizeName(dep.name)));
  const line = external.length > 0 ? Math.min(...external.map((d) => d.line)) : 1;
  return { dependencies: external, line };
}

/** Dependencies of a Pipenv `Pipfile`. */
export function readPipfile(text: string): ManifestDependencies {
  const doc = parseTomlDocument(text);
  const lf = new LineFinder(text);
  const deps: DeclaredDependency[] = [];
  fromTable(deps, lf, doc.packages, lf.header('packages'));
  fromTable(deps, lf, doc['dev-packages'], lf.header('dev-packages'));
  const line = deps.length > 0 ? Math.min(...deps.map((d) => d.line)) : 1;
  return { dependencies: deps, line };
}

/** Python lock files, by the tool that writes them and the command that refreshes them. */
export const PYTHON_LOCKS: Record<string, string> = {
  'uv.lock': 'uv lock',
  'poetry.lock': 'poetry lock',
  'pdm.lock': 'pdm lock',
  'pylock.toml': 'regenerate pylock.toml (e.g. uv export --format pylock.toml -o pylock.toml)',
};

export function isPylockName(name: string): boolean {
  return name === 'pylock.toml' || (name.startsWith('pylock.') && name.endsWith('.toml'));
}

/**
 * Package names a TOML lock file records (`name = "…"` under `[[package]]` or
 * `[[packages]]`), read line by line so a multi-megabyte lock costs one pass.
 */
export function tomlLockNames(text: string): Set<string> {
  const names = new Set<string>();
  let inPackage = false;
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (l.startsWith('[')) inPackage = l === '[[package]]' || l === '[[packages]]';
    else if (inPackage && l.startsWith('name')) {
      const m = /^name\s*=\s*["']([^"']+)["']/.exec(l);
      if (m) names.add(m[1]!);
    }
  }
  return names;
}

/** Package names a `Pipfile.lock` records; throws ManifestError on invalid JSON. */
export function pipfileLockNames(text: string): Set<string> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const names = new Set<string>();
  for (const section of ['default', 'develop']) {
    const v = get(doc, section);
    if (isRecord(v)) for (const k of Object.keys(v)) names.add(k);
  }
  return names;
}
