import { FileProblem } from '../../core/errors.js';
import type { RuleContext, RuleFinding } from '../rule.js';

export const ECOSYSTEMS = ['pip', 'pyproject', 'conda', 'docker', 'github-actions', 'shell', 'notebooks'] as const;
export type Ecosystem = (typeof ECOSYSTEMS)[number];

export interface DependencyPinningParams {
  ecosystems?: Ecosystem[];
  'require-hashes'?: boolean;
}

/** Manifests, scripts and requirement files are small; anything larger is refused before parsing. */
export const MAX_TEXT_BYTES = 1024 * 1024;
/** Notebooks carry their outputs (images included); only the cells' sources are analysed. */
export const MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024;
/**
 * dockerfile-ast's parser is superlinear on long instructions (about 2 s for a
 * 256 KiB `RUN`); real Dockerfiles are a few kilobytes, so larger ones are refused.
 */
export const MAX_DOCKERFILE_BYTES = 256 * 1024;
/** Lock files of large projects run to megabytes; only their package names are read. */
export const MAX_LOCK_BYTES = 32 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What every ecosystem check shares: parameters, scope, bounded reads and de-duplicated reports. */
export class PinningContext {
  readonly ecosystems: ReadonlySet<Ecosystem>;
  readonly requireHashes: boolean;
  private readonly seen = new Set<string>();
  private readonly texts = new Map<string, Promise<string>>();

  constructor(readonly rule: RuleContext<DependencyPinningParams>) {
    this.ecosystems = new Set(rule.params.ecosystems ?? ECOSYSTEMS);
    this.requireHashes = rule.params['require-hashes'] ?? false;
  }

  /** Full mode checks everything; changed mode what the change added or modified, and what installs a changed requirements file. */
  inScope(path: string): boolean {
    return this.rule.inScope(path);
  }

  exists(path: string): boolean {
    return this.rule.inventory.get(path) !== undefined;
  }

  private byDir?: Map<string, string[]>;

  /** File names directly inside a directory (`''` is the root), indexed once per run. */
  namesIn(dir: string): readonly string[] {
    if (!this.byDir) {
      this.byDir = new Map();
      for (const f of this.rule.inventory.files) {
        const d = dirOf(f.path);
        const names = this.byDir.get(d) ?? [];
        names.push(f.path.slice(d ? d.length + 1 : 0));
        this.byDir.set(d, names);
      }
    }
    return this.byDir.get(dir) ?? [];
  }

  /** Reports once per code, file, line and message (nested shell text can reach a line twice). */
  report(f: RuleFinding): void {
    const key = `${f.code}\0${f.path}\0${f.line}\0${f.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.rule.report(f);
  }

  /** A repository file as strict UTF-8, refused (fail closed) when larger than `cap` or not UTF-8. */
  read(path: string, cap = MAX_TEXT_BYTES): Promise<string> {
    let p = this.texts.get(path);
    if (!p) {
      p = (async () => {
        const bytes = await this.rule.inventory.readBytes(path, Math.min(cap, this.rule.maxFileBytes));
        try {
          return utf8.decode(bytes);
        } catch {
          throw new FileProblem(path, `${path} is not valid UTF-8 text, so its dependencies cannot be checked; save it as UTF-8`, 'malformed');
        }
      })();
      this.texts.set(path, p);
    }
    return p;
  }

  /**
   * Runs per-file work so that a failure becomes a finding on the file; outside
   * the changed set (changed mode) a failure is dropped, as its findings would be.
   */
  async guard(path: string, fn: () => Promise<void> | void): Promise<void> {
    if (this.inScope(path)) return this.rule.guard(path, fn);
    try {
      await fn();
    } catch (e) {
      if (this.rule.signal.aborted) throw e;
    }
  }
}

export function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i === -1 ? '' : path.slice(0, i);
}

/** Joins a repository directory and a relative path; null when it leaves the repository or is absolute. */
export function joinRepoPath(dir: string, rel: string): string | null {
  if (rel.startsWith('/') || rel.includes('://') || rel.includes('$')) return null;
  const parts = dir ? dir.split('/') : [];
  for (const seg of rel.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) return null;
      parts.pop();
    } else parts.push(seg);
  }
  return parts.join('/');
}
