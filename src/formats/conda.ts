import { loadYaml } from './yaml.js';

/** Conda `environment.yml` files and MatchSpec pins. */

export interface CondaDependency {
  spec: string;
  line: number;
}

export interface CondaEnvironment {
  /** False when the YAML has no `dependencies` list (not an environment file). */
  isEnvironment: boolean;
  conda: CondaDependency[];
  /** Lines of the `pip:` section, as pip reads them (requirements, `-r file`, options). */
  pip: CondaDependency[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads an environment file; throws YamlError on invalid YAML. */
export function readCondaEnvironment(text: string): CondaEnvironment {
  const doc = loadYaml(text);
  const env: CondaEnvironment = { isEnvironment: false, conda: [], pip: [] };
  const root = doc.value;
  if (!isRecord(root) || !Array.isArray(root.dependencies)) return env;
  env.isEnvironment = true;
  root.dependencies.forEach((dep, i) => {
    if (typeof dep === 'string' || typeof dep === 'number') {
      env.conda.push({ spec: String(dep), line: doc.locate(['dependencies', i]).line });
    } else if (isRecord(dep) && Array.isArray(dep.pip)) {
      dep.pip.forEach((p, j) => {
        if (typeof p === 'string') env.pip.push({ spec: p, line: doc.locate(['dependencies', i, 'pip', j]).line });
      });
    }
  });
  return env;
}

/** The package name of a MatchSpec (`conda-forge::numpy>=1.2` → `numpy`). */
export function condaName(spec: string): string {
  const channel = spec.lastIndexOf('::');
  const s = channel === -1 ? spec : spec.slice(channel + 2);
  let end = 0;
  while (end < s.length && /[A-Za-z0-9._-]/.test(s[end]!)) end++;
  return end > 0 ? s.slice(0, end) : spec;
}

/**
 * A MatchSpec with a version and no wildcard or range: `numpy=1.26.4`,
 * `numpy==1.26.4`, `numpy=1.26.4=py311h_0`, `conda-forge::numpy=1.26.4`.
 * (`=1.26` also matches 1.26.x; `==` or a build string makes it exact.)
 */
export function isExactCondaSpec(spec: string): boolean {
  const trimmed = spec.trim();
  const channel = trimmed.lastIndexOf('::');
  let body = channel === -1 ? trimmed : trimmed.slice(channel + 2);
  const bracket = body.indexOf('[');
  if (bracket !== -1) body = body.slice(0, bracket);
  body = body.trim();
  const name = condaName(body);
  const rest = body.slice(name.length);
  let version: string;
  // MatchSpec also allows `numpy 1.26.4 py311h_0`.
  if (rest.startsWith(' ') || rest.startsWith('\t')) version = rest.trim().split(/\s+/)[0] ?? '';
  else if (rest.startsWith('=')) version = rest.replace(/^==?/, '').split('=')[0] ?? '';
  else return false;
  return version !== '' && !/[*<>|,!~=]/.test(version);
}

/** Lock files conda-lock and `conda list --explicit` write beside an environment. */
export function isCondaLockName(name: string): boolean {
  const n = name.toLowerCase();
  return (
    n === 'conda-lock.yml' || n === 'conda-lock.yaml' || n.endsWith('.conda-lock.yml') || n.endsWith('.conda-lock.yaml') ||
    (n.startsWith('conda-') && n.endsWith('.lock'))
  );
}
