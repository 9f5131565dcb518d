import { DockerfileParser, type Instruction, type Run } from 'dockerfile-ast';

/** What dependency checks need from a Dockerfile: base images and the commands `RUN` executes. */

export interface BaseImage {
  /** 1-based line of the `FROM`. */
  line: number;
  /** The image as written (`${BASE}`) and after `ARG` defaults are substituted. */
  written: string;
  resolved: string;
  /** True when it names an earlier stage (`FROM build`) or `scratch`. */
  internal: boolean;
  /** A variable without a default remained, so the image is chosen at build time. */
  unresolved: boolean;
  /**
   * The digest itself comes from a variable (`img@sha256:${HASH}`): a digest
   * reference whatever the variable holds, as `==${VERSION}` is a pin for pip.
   */
  digestVariable: boolean;
}

export type RunCommand =
  | { form: 'shell'; text: string; /** 1-based file line of each 0-based line of `text`. */ lines: number[] }
  | { form: 'exec'; argv: string[]; line: number };

export interface DockerfileDeps {
  images: BaseImage[];
  runs: RunCommand[];
  /** `ARG` defaults and `ENV` values anywhere in the file, last one winning (for variables a `RUN` installs). */
  vars: Map<string, string>;
}

const DIGEST_VARIABLE = /@sha256:\$(?:\{[A-Za-z_][A-Za-z0-9_]*(?::?[-+][^}]*)?\}|[A-Za-z_][A-Za-z0-9_]*)$/;

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+]([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** Substitutes `$X`, `${X}`, `${X:-default}` from `vars`; reports whether any variable stayed unknown. */
function substitute(text: string, vars: ReadonlyMap<string, string>): { value: string; unresolved: boolean } {
  let unresolved = false;
  const value = text.replace(VAR, (_m, braced: string | undefined, fallback: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const v = vars.get(name);
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    unresolved = true;
    return '';
  });
  return { value, unresolved };
}

function argDefaults(instructions: Instruction[]): Map<string, string> {
  const vars = new Map<string, string>();
  for (const ins of instructions) {
    if (ins.getKeyword() !== 'ARG') continue;
    const prop = (ins as unknown as { getProperty(): { getName(): string; getValue(): string | null } | null }).getProperty();
    if (prop) vars.set(prop.getName(), substitute(prop.getValue() ?? '', vars).value);
  }
  return vars;
}

/**
 * Rewrites a `RUN` body as the shell receives it, one source line per line:
 * Docker drops comment and blank lines inside a continuation (they become bare
 * continuations here) and a `# escape=` character other than `\` continues lines.
 */
function continuedShell(content: string, escape: string): string {
  const lines = content.split('\n');
  let continued = false;
  return lines
    .map((raw, k) => {
      let line = raw.replace(/\r$/, '');
      if (k > 0 && continued && (line.trim() === '' || line.trimStart().startsWith('#'))) return '\\';
      if (escape !== '\\' && line.endsWith(escape)) line = `${line.slice(0, -1)}\\`;
      continued = line.endsWith('\\');
      return line;
    })
    .join('\n');
}

/**
 * An exec-form argument as Docker reads it: the JSON string literal of its
 * source range. dockerfile-ast's own value drops the spaces inside the string
 * (`"curl -fsSL x | sh"` becomes `curl-fsSLx|sh`), which would hide the command.
 */
function jsonArgument(text: string, starts: readonly number[], range: { start: { line: number; character: number }; end: { line: number; character: number } }, fallback: string): string {
  const from = (starts[range.start.line] ?? 0) + range.start.character;
  const to = (starts[range.end.line] ?? 0) + range.end.character;
  try {
    const v: unknown = JSON.parse(text.slice(from, to));
    if (typeof v === 'string') return v;
  } catch {
    // A string broken by a line continuation is not one JSON literal; keep the parser's reading.
  }
  return fallback;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let k = 0; k < text.length; k++) if (text.charCodeAt(k) === 10) starts.push(k + 1);
  return starts;
}

/** Parses a Dockerfile (dockerfile-ast is tolerant: it never rejects text, it skips what it cannot read). */
export function readDockerfile(text: string): DockerfileDeps {
  const doc = DockerfileParser.parse(text);
  const starts = lineStarts(text);
  // Only ARGs before the first FROM are in scope for FROM lines (Docker's rule).
  const globals = argDefaults(doc.getInitialARGs());
  const stages = new Set<string>(['scratch']);
  const images: BaseImage[] = [];
  for (const from of doc.getFROMs()) {
    const args = from.getArguments().map((a) => a.getValue());
    const written = args.find((a) => !a.startsWith('--')) ?? '';
    const { value, unresolved } = substitute(written, globals);
    const resolved = value.trim();
    images.push({ line: from.getRange().start.line + 1, written, resolved, internal: stages.has(resolved.toLowerCase()), unresolved, digestVariable: DIGEST_VARIABLE.test(written) });
    const stage = from.getBuildStage();
    if (stage) stages.add(stage.toLowerCase());
  }
  const runs: RunCommand[] = [];
  const vars = argDefaults(doc.getInstructions());
  for (const ins of doc.getInstructions()) {
    if (ins.getKeyword() === 'ENV') {
      const props = (ins as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }).getProperties();
      for (const prop of props) vars.set(prop.getName(), substitute(prop.getValue() ?? '', vars).value);
    }
    if (ins.getKeyword() !== 'RUN') continue;
    const run = ins as Run;
    const json = run.getJSONStrings();
    if (json.length > 0 && run.getOpeningBracket() && run.getClosingBracket()) {
      runs.push({ form: 'exec', argv: json.map((j) => jsonArgument(text, starts, j.getRange(), j.getJSONValue())), line: run.getRange().start.line + 1 });
      continue;
    }
    const range = run.getArgumentsRange();
    const content = run.getRawArgumentsContent();
    if (!range || content === null) continue;
    // Flags such as `--mount=…` precede the command; the raw content starts after them.
    const first = range.start.line + 1;
    const shell = continuedShell(content, doc.getEscapeCharacter());
    runs.push({ form: 'shell', text: shell, lines: shell.split('\n').map((_, k) => first + k) });
  }
  return { images, runs, vars };
}

const DIGEST = /@sha256:[0-9a-f]{64}$/i;

/** Whether an image reference names exactly one image: `name@sha256:<64 hex>`. */
export function isDigestPinned(image: string): boolean {
  return DIGEST.test(image);
}

/** `python:3.11-slim` → `python:3.11-slim@sha256:<digest>`, for messages. */
export function pinnedForm(image: string): string {
  const at = image.indexOf('@');
  const base = at === -1 ? image : image.slice(0, at);
  const lastSlash = base.lastIndexOf('/');
  const hasTag = base.indexOf(':', lastSlash + 1) !== -1;
  return `${hasTag ? base : `${base}:<tag>`}@sha256:<digest>`;
}
