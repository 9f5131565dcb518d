import { loadYamlLenient, type LoadedYaml, type YamlPath } from './yaml.js';

/**
 * The dependency-relevant parts of a GitHub Actions workflow or composite
 * action: `uses:` references, container images and `run:` scripts, each with
 * the line it sits on.
 */

export interface UsesRef {
  value: string;
  line: number;
  /** `step` for a step's action, `job` for a reusable workflow. */
  kind: 'step' | 'job';
}

export interface ImageRef {
  value: string;
  line: number;
  /**
   * For `image: ${{ matrix.x }}`: the images the matrix gives it, each checked
   * on its own; undefined when the value has no expression or it cannot be resolved.
   */
  resolved?: string[];
}

export interface RunScript {
  /** Job id (or `action` for a composite action); steps of one job share shell state. */
  group: string;
  text: string;
  /** 1-based file line of each 0-based line of `text`. */
  lines: number[];
  shell?: string;
  /** `working-directory` of the step (or the job's default), where relative paths resolve. */
  workingDirectory?: string;
  /** `env:` of the workflow, job and step merged (string values only; the step's win). */
  env: Record<string, string>;
}

export interface WorkflowDeps {
  uses: UsesRef[];
  images: ImageRef[];
  runs: RunScript[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const BLOCK_INDICATOR = /:\s*([|>])[+-]?\d*[+-]?\s*(?:#.*)?$/;

/**
 * Maps a `run:` value to file lines. A block scalar (`run: |`) is taken from the
 * source lines themselves so every command keeps its own line; in a folded one
 * (`run: >`) the line breaks YAML turns into spaces become shell line
 * continuations, which mean the same and keep the count. A flow scalar sits on
 * the line of its value.
 */
function scriptLines(source: string[], doc: LoadedYaml, path: YamlPath, value: string): { text: string; lines: number[] } {
  const pos = doc.locate(path);
  const keyLine = source[pos.line - 2] ?? '';
  const indicator = BLOCK_INDICATOR.exec(keyLine);
  if (pos.column === 1 && indicator) {
    const folded = indicator[1] === '>';
    const body: string[] = [];
    const lines: number[] = [];
    let indent = -1;
    for (let l = pos.line - 1; l < source.length; l++) {
      const raw = source[l]!.replace(/\r$/, '');
      const lead = raw.length - raw.trimStart().length;
      if (raw.trim() === '') {
        body.push('');
        lines.push(l + 1);
        continue;
      }
      if (indent === -1) indent = lead;
      if (lead < indent) break;
      const text = raw.slice(indent);
      const prev = body[body.length - 1];
      if (folded && prev && !prev.startsWith(' ') && !text.startsWith(' ')) body[body.length - 1] = `${prev} \\`;
      body.push(text);
      lines.push(l + 1);
    }
    while (body.length > 0 && body[body.length - 1] === '') {
      body.pop();
      lines.pop();
    }
    return { text: body.join('\n'), lines };
  }
  return { text: value, lines: value.split('\n').map((_, k) => pos.line + k) };
}

interface RunDefaults {
  shell?: string;
  workingDirectory?: string;
  env?: Record<string, string>;
}

function stringEnv(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string' || typeof x === 'number') out[k] = String(x);
  return out;
}

function collectSteps(deps: WorkflowDeps, source: string[], doc: LoadedYaml, steps: unknown, base: YamlPath, group: string, defaults: RunDefaults = {}): void {
  if (!Array.isArray(steps)) return;
  steps.forEach((step, i) => {
    if (!isRecord(step)) return;
    if (typeof step.uses === 'string') deps.uses.push({ value: step.uses.trim(), line: doc.locate([...base, i, 'uses']).line, kind: 'step' });
    if (typeof step.run === 'string') {
      const shell = typeof step.shell === 'string' ? step.shell : defaults.shell;
      const workingDirectory = typeof step['working-directory'] === 'string' ? step['working-directory'] : defaults.workingDirectory;
      const env = { ...defaults.env, ...stringEnv(step.env) };
      deps.runs.push({ group, shell, workingDirectory, env, ...scriptLines(source, doc, [...base, i, 'run'], step.run) });
    }
  });
}

const MATRIX_REF = /\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}/g;
const MAX_MATRIX_VALUES = 256;

/** The literal values a matrix gives one key: its list plus `include` entries. */
function matrixValues(matrix: unknown, key: string): string[] | null {
  if (!isRecord(matrix)) return null;
  const out: string[] = [];
  const own = matrix[key];
  if (own !== undefined) {
    if (!Array.isArray(own)) return null;
    for (const v of own) {
      if (typeof v !== 'string' && typeof v !== 'number') return null;
      out.push(String(v));
    }
  }
  if (Array.isArray(matrix.include)) {
    for (const inc of matrix.include) {
      if (!isRecord(inc) || inc[key] === undefined) continue;
      if (typeof inc[key] !== 'string' && typeof inc[key] !== 'number') return null;
      out.push(String(inc[key]));
    }
  }
  return out.length > 0 ? [...new Set(out)] : null;
}

/** Substitutes `${{ matrix.k }}` by each literal value the job's matrix gives it; null when anything stays unresolved. */
function expandMatrix(value: string, matrix: unknown): string[] | null {
  let results = [value];
  for (const m of value.matchAll(MATRIX_REF)) {
    const vals = matrixValues(matrix, m[1]!);
    if (!vals) return null;
    results = results.flatMap((r) => vals.map((v) => r.replace(m[0], v)));
    if (results.length > MAX_MATRIX_VALUES) return null;
  }
  return results.some((r) => r.includes('${{')) ? null : [...new Set(results)];
}

function collectImage(deps: WorkflowDeps, doc: LoadedYaml, v: unknown, path: YamlPath, matrix: unknown): void {
  const push = (value: string, at: YamlPath): void => {
    // GitHub skips a service whose image is empty (a matrix can switch one off that way).
    if (value.trim() === '') return;
    const ref: ImageRef = { value: value.trim(), line: doc.locate(at).line };
    if (ref.value.includes('${{')) {
      const resolved = expandMatrix(ref.value, matrix);
      if (resolved) ref.resolved = resolved.filter((r) => r.trim() !== '');
    }
    deps.images.push(ref);
  };
  if (typeof v === 'string') push(v, path);
  else if (isRecord(v) && typeof v.image === 'string') push(v.image, [...path, 'image']);
}

/** Reads a workflow (`jobs:`) or a composite action (`runs.steps`); throws YamlError on invalid YAML. */
export function readWorkflow(text: string): WorkflowDeps {
  const doc = loadYamlLenient(text);
  const source = text.split('\n');
  const deps: WorkflowDeps = { uses: [], images: [], runs: [] };
  const root = doc.value;
  if (!isRecord(root)) return deps;
  const runDefaults = (s: unknown, key: string): string | undefined => {
    const v = isRecord(s) && isRecord(s.defaults) && isRecord(s.defaults.run) ? s.defaults.run[key] : undefined;
    return typeof v === 'string' ? v : undefined;
  };
  if (isRecord(root.jobs)) {
    for (const [id, job] of Object.entries(root.jobs)) {
      if (!isRecord(job)) continue;
      if (typeof job.uses === 'string') deps.uses.push({ value: job.uses.trim(), line: doc.locate(['jobs', id, 'uses']).line, kind: 'job' });
      const matrix = isRecord(job.strategy) ? job.strategy.matrix : undefined;
      if (job.container !== undefined) collectImage(deps, doc, job.container, ['jobs', id, 'container'], matrix);
      if (isRecord(job.services)) for (const [name, svc] of Object.entries(job.services)) collectImage(deps, doc, svc, ['jobs', id, 'services', name], matrix);
      collectSteps(deps, source, doc, job.steps, ['jobs', id, 'steps'], id, {
        shell: runDefaults(job, 'shell') ?? runDefaults(root, 'shell'),
        workingDirectory: runDefaults(job, 'working-directory') ?? runDefaults(root, 'working-directory'),
        env: { ...stringEnv(root.env), ...stringEnv(job.env) },
      });
    }
  }
  if (isRecord(root.runs)) {
    collectSteps(deps, source, doc, root.runs.steps, ['runs', 'steps'], 'action', { env: stringEnv(root.env) });
    if (root.runs.using === 'docker' && typeof root.runs.image === 'string' && root.runs.image.startsWith('docker://')) {
      deps.uses.push({ value: root.runs.image, line: doc.locate(['runs', 'image']).line, kind: 'step' });
    }
  }
  return deps;
}

const HEX40 = /^[0-9a-f]{40}$/i;

export type UsesVerdict = 'pinned' | 'local' | 'unpinned' | 'expression';

/**
 * Judges one `uses:` value (DESIGN §4.5): a 40-hex commit, a local path (`./`,
 * or `$/` for a workflow of the same repository at the same commit), or
 * `docker://…@sha256:`.
 */
export function judgeUses(value: string): UsesVerdict {
  if (value.startsWith('./') || value.startsWith('../') || value.startsWith('$/')) return 'local';
  if (value.includes('${{')) return 'expression';
  if (value.startsWith('docker://')) return /@sha256:[0-9a-f]{64}$/i.test(value) ? 'pinned' : 'unpinned';
  const at = value.lastIndexOf('@');
  return at !== -1 && HEX40.test(value.slice(at + 1)) ? 'pinned' : 'unpinned';
}
