import { loadYaml, YamlError, type LoadedYaml, type YamlPath } from './yaml.js';

export interface Located<T> {
  value: T;
  line: number;
}

/** Provenance DVC does not record itself but a `meta:` mapping may carry. */
export interface DvcMeta {
  source?: Located<string>;
  license?: Located<string>;
  collected?: Located<string>;
}

export interface DvcOut {
  /** As written: relative to the .dvc file's directory. */
  path: string;
  line: number;
  md5?: Located<string>;
  /**
   * DVC before 3.0 (no `hash: md5`) hashed text files after converting CRLF to
   * LF, so the digest of a text file may be that of its LF form.
   */
  legacyHash: boolean;
  /** A tracked directory: its `md5` (ending in `.dir`) names a listing in the DVC cache, not the bytes. */
  isDir: boolean;
  remote?: Located<string>;
  meta: DvcMeta;
}

export interface DvcFile {
  outs: DvcOut[];
  /** `dvc import`/`import-url`: the repository URL or the URL the data came from. */
  importedFrom?: Located<string>;
  problems: { message: string; line: number }[];
}

export class DvcError extends Error {
  override name = 'DvcError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

const DVC_LIMITS = { maxChars: 1024 * 1024, maxNodes: 50_000, maxDepth: 16, maxAliases: 50 };

/** Parses a `.dvc` file written by `dvc add`, `dvc import` or `dvc import-url`. */
export function parseDvcFile(text: string): DvcFile {
  let doc: LoadedYaml;
  try {
    doc = loadYaml(text, DVC_LIMITS);
  } catch (e) {
    if (e instanceof YamlError) throw new DvcError(e.message, e.line);
    throw e;
  }
  const top = doc.value;
  if (!isMap(top)) throw new DvcError('a .dvc file must be a YAML mapping with `outs:`', 1);
  const line = (p: YamlPath): number => doc.locate(p).line;
  const problems: DvcFile['problems'] = [];
  const topMeta = readMeta(top.meta, ['meta'], line);
  const outs: DvcOut[] = [];
  if (!Array.isArray(top.outs)) {
    problems.push({ message: '`outs:` must list the tracked paths', line: line(['outs']) });
  } else {
    top.outs.forEach((o, i) => {
      if (!isMap(o) || typeof o.path !== 'string' || o.path === '') {
        problems.push({ message: 'each entry of `outs:` needs a `path:`', line: line(['outs', i]) });
        return;
      }
      const out: DvcOut = {
        path: o.path,
        line: line(['outs', i, 'path']),
        legacyHash: o.hash !== 'md5',
        isDir: false,
        meta: { ...topMeta, ...readMeta(o.meta, ['outs', i, 'meta'], line) },
      };
      if (o.md5 !== undefined) {
        const m = /^([0-9a-f]{32})(\.dir)?$/i.exec(String(o.md5));
        if (m) {
          out.md5 = { value: m[1]!.toLowerCase(), line: line(['outs', i, 'md5']) };
          out.isDir = m[2] !== undefined;
        } else problems.push({ message: '`md5` must be 32 hexadecimal digits', line: line(['outs', i, 'md5']) });
      }
      if (typeof o.remote === 'string') out.remote = { value: o.remote, line: line(['outs', i, 'remote']) };
      outs.push(out);
    });
  }
  const file: DvcFile = { outs, problems };
  if (Array.isArray(top.deps) && isMap(top.deps[0])) {
    const dep = top.deps[0];
    const repoUrl = isMap(dep.repo) ? dep.repo.url : undefined;
    if (typeof repoUrl === 'string') file.importedFrom = { value: repoUrl, line: line(['deps', 0, 'repo', 'url']) };
    else if (typeof dep.path === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(dep.path)) file.importedFrom = { value: dep.path, line: line(['deps', 0, 'path']) };
  }
  return file;
}

function readMeta(meta: unknown, base: YamlPath, line: (p: YamlPath) => number): DvcMeta {
  if (!isMap(meta)) return {};
  const out: DvcMeta = {};
  for (const k of ['source', 'license', 'collected'] as const) {
    const v = meta[k];
    if (typeof v === 'string' || typeof v === 'number') out[k] = { value: String(v), line: line([...base, k]) };
  }
  return out;
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface DvcConfig {
  /** Remote name → URL. */
  remotes: Map<string, string>;
  /** `core.remote`: the remote used when an out names none. */
  defaultRemote?: string;
}

/** Reads remotes from `.dvc/config` (configobj INI: `['remote "name"']` then `url = …`). */
export function parseDvcConfig(text: string): DvcConfig {
  const remotes = new Map<string, string>();
  let defaultRemote: string | undefined;
  let section = '';
  for (const raw of text.split(/\r?\n/).slice(0, 10_000)) {
    const l = raw.trim();
    if (l === '' || l.startsWith('#') || l.startsWith(';')) continue;
    const head = /^\[\s*'?(.*?)'?\s*\]$/.exec(l);
    if (head) {
      section = head[1]!.trim();
      continue;
    }
    const kv = /^([A-Za-z_][\w.-]*)\s*=\s*(.*)$/.exec(l);
    if (!kv) continue;
    const [, key, value] = kv as unknown as [string, string, string];
    const remote = /^remote\s+"(.+)"$/.exec(section);
    if (remote && key === 'url') remotes.set(remote[1]!, value.trim());
    else if (section === 'core' && key === 'remote') defaultRemote = value.trim();
  }
  return { remotes, defaultRemote };
}
