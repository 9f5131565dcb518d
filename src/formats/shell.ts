import type { Level } from '../core/types.js';
import { lexShell, type SimpleCommand, type Word } from './shell-lexer.js';
import { condaName, isExactCondaSpec } from './conda.js';
import { isVariable, parseRequirementSpec } from './requirements.js';

/**
 * Finds package installs that are not pinned and download-and-run patterns in
 * shell text: Dockerfile `RUN`, workflow `run:`, shell scripts and notebook
 * `!`/`%` lines all go through here, so every front door judges alike.
 */

export type IssueKind = 'unpinned-install' | 'download-and-run' | 'extra-index' | 'unverified-download';

export type ShellIssue =
  | { kind: IssueKind; line: number; message: string; maxLevel?: Level }
  | {
      /**
       * A pip install whose pinning depends on repository files (`-r`, `-c`): the
       * caller reads them (requirements parser) and decides.
       */
      kind: 'pip-files';
      line: number;
      requirementFiles: string[];
      constraintFiles: string[];
      /** Requirements named on the command line without an exact version (a constraint file may pin them). */
      unpinned: string[];
      command: string;
    };

/** What earlier commands established, shared by the steps of one job or the lines of one file. */
export interface ShellState {
  /** `npm ci` (or another lock-based install) ran, so `npx tool` runs the locked local copy. */
  npmLocked: boolean;
  /** Files fetched by curl/wget (or copied from a bucket), with the file line of the download. */
  downloads: Map<string, number>;
  /** Model weights fetched and not yet checked against a digest, with the line of the download. */
  weights: Map<string, number>;
  /** Values given to variables earlier (`PKG=torch==2.3.1`, Dockerfile `ARG`/`ENV` defaults). */
  vars: Map<string, string>;
}

export const newShellState = (vars: ReadonlyMap<string, string> = new Map()): ShellState => ({ npmLocked: false, downloads: new Map(), weights: new Map(), vars: new Map(vars) });

export interface ShellOptions {
  /** 1-based file line of a 0-based line of the text (default: `line + 1`). */
  lineOf?: (line: number) => number;
  state?: ShellState;
  signal?: AbortSignal;
}

const MAX_DEPTH = 4;
const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'ash', 'mksh', 'fish']);
const DOWNLOADERS = new Set(['curl', 'wget', 'fetch', 'aria2c', 'iwr', 'invoke-webrequest', 'irm', 'invoke-restmethod']);
const EVALUATORS = new Set(['eval', 'source', '.', 'iex', 'invoke-expression']);
const VERIFIERS = new Set(['sha256sum', 'sha512sum', 'sha384sum', 'sha1sum', 'md5sum', 'b2sum', 'shasum', 'gpg', 'gpgv', 'cosign', 'minisign', 'openssl']);
/** Checksum tools that only print a digest unless asked to `--check` one. */
const DIGEST_PRINTERS = new Set(['sha256sum', 'sha512sum', 'sha384sum', 'sha1sum', 'md5sum', 'b2sum', 'shasum']);
/** Extensions of model weights and pickled objects (a download of one is loaded, not read). */
const WEIGHT_EXTENSIONS = /\.(?:bin|pt|pth|ckpt|safetensors|gguf|ggml|onnx|h5|hdf5|keras|pkl|pickle|joblib|pb|tflite|mlmodel|pdparams|npz|msgpack)$/i;
/** `su -c '…'`, `runuser -c '…'`: the text after -c is shell. */
const SU = new Set(['su', 'runuser']);
/** Environment runners that run the command after their own options: `conda run -n env pip …`, `uv run pip …`. */
const RUNNERS = new Map<string, ReadonlySet<string>>([
  ['conda', new Set(['-n', '--name', '-p', '--prefix', '--cwd'])],
  ['mamba', new Set(['-n', '--name', '-p', '--prefix', '--cwd'])],
  ['micromamba', new Set(['-n', '--name', '-p', '--prefix', '--cwd', '-r', '--root-prefix'])],
  ['uv', new Set(['--with', '--with-requirements', '--with-editable', '-w', '--python', '-p', '--package', '--extra', '--group', '--env-file', '--directory', '--project', '--index', '--index-url', '--extra-index-url', '-i'])],
  ['poetry', new Set(['-C', '--directory', '-P', '--project'])],
  ['pipenv', new Set()],
  ['pdm', new Set(['-p', '--project'])],
  ['hatch', new Set(['-e', '--env'])],
]);
const XARGS_VALUED = new Set(['-n', '-I', '-i', '-L', '-l', '-P', '-d', '-a', '-E', '-e', '-s', '--max-args', '--max-procs', '--delimiter', '--arg-file', '--replace', '--max-lines']);
const DEFAULT_INDEXES = /^https?:\/\/(?:pypi\.org|pypi\.python\.org|files\.pythonhosted\.org)(?:\/|$)/i;
/** Commands that run the command after them, with their options that take a value (`sudo -u root`, `nice -n 5`). */
const WRAPPERS = new Map<string, ReadonlySet<string>>([
  ['sudo', new Set(['-u', '-g', '-U', '-C', '-p', '-r', '-t', '-D', '-T', '-R'])],
  ['doas', new Set(['-u', '-C'])],
  ['env', new Set(['-u', '-C', '-S'])],
  ['time', new Set(['-o', '-f'])],
  ['nice', new Set(['-n'])],
  ['stdbuf', new Set(['-i', '-o', '-e'])],
  ['nohup', new Set()],
  ['exec', new Set(['-a'])],
  ['command', new Set()],
  ['builtin', new Set()],
]);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;
const EXACT_SEMVER = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
const HEX40 = /^[0-9a-f]{40}$/i;

const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
/** `$PYTHON`, `${PIP_BIN}`: an interpreter or pip chosen by a variable still runs as one. */
const VARIABLE_TOOL = /^\$\{?[A-Za-z0-9_]*?(PYTHON|PIP)[0-9_]*(?:BIN|EXE|CMD|PATH)?\}?$/i;
const program = (w: Word | undefined): string => {
  if (!w) return '';
  const tool = VARIABLE_TOOL.exec(w.value);
  return tool ? tool[1]!.toLowerCase() : basename(w.value).toLowerCase();
};
const isPython = (p: string): boolean => p === 'py' || /^python(?:\d+(?:\.\d+)?)?(?:\.exe)?$/.test(p);
const isPip = (p: string): boolean => /^pip(?:\d+(?:\.\d+)?)?(?:\.exe)?$/.test(p);
const isInterpreter = (p: string): boolean =>
  SHELLS.has(p) || isPython(p) || ['perl', 'ruby', 'node', 'php', 'pwsh', 'powershell'].includes(p) || EVALUATORS.has(p);

/** Drops `VAR=1`, `sudo -E`, `env -i` and similar prefixes. */
function stripWrappers(words: Word[]): Word[] {
  let k = 0;
  while (k < words.length) {
    const w = words[k]!;
    if (!w.quoted && ASSIGNMENT.test(w.value)) {
      k++;
      continue;
    }
    const valued = WRAPPERS.get(program(w));
    if (!valued) break;
    k++;
    while (k < words.length && (words[k]!.value.startsWith('-') || ASSIGNMENT.test(words[k]!.value))) {
      if (valued.has(words[k]!.value)) k++;
      k++;
    }
  }
  return words.slice(k);
}

interface ParsedArgs {
  positional: string[];
  /** Every option as written, with its value when it takes one. */
  options: Map<string, string[]>;
}

/** Splits arguments into options and positionals; `valued` lists the options that take a value. */
function parseArgs(args: string[], valued: ReadonlySet<string>): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  const add = (k: string, v: string): void => {
    options.set(k, [...(options.get(k) ?? []), v]);
  };
  for (let k = 0; k < args.length; k++) {
    const a = args[k]!;
    if (a === '--') {
      positional.push(...args.slice(k + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq !== -1) add(a.slice(0, eq), a.slice(eq + 1));
      else if (valued.has(a)) add(a, args[++k] ?? '');
      else add(a, '');
    } else if (a.startsWith('-') && a.length > 1) {
      // A cluster of short flags (`-qr file`, `-Ur`): the first one that takes a value takes the rest, or the next argument.
      let j = 1;
      for (; j < a.length; j++) {
        const short = `-${a[j]}`;
        if (!valued.has(short)) continue;
        const rest = a.slice(j + 1).replace(/^=/, '');
        if (j > 1) add(a.slice(0, j), '');
        add(short, rest || (args[++k] ?? ''));
        break;
      }
      if (j === a.length) add(a, '');
    } else positional.push(a);
  }
  return { positional, options };
}

/** Index of the first argument that is neither an option nor an option's value; -1 when none. */
function firstPositional(args: string[], valued: ReadonlySet<string>): number {
  for (let k = 0; k < args.length; k++) {
    const a = args[k]!;
    if (!a.startsWith('-')) return k;
    if (valued.has(a)) k++;
  }
  return -1;
}

const has = (p: ParsedArgs, ...names: string[]): boolean => names.some((n) => p.options.has(n));
const values = (p: ParsedArgs, ...names: string[]): string[] => names.flatMap((n) => p.options.get(n) ?? []);

const PIP_VALUED = new Set([
  '-r', '--requirement', '-c', '--constraint', '-e', '--editable', '-i', '--index-url', '--extra-index-url', '-f', '--find-links',
  '-t', '--target', '--prefix', '--root', '--src', '--platform', '--python-version', '--implementation', '--abi', '--upgrade-strategy',
  '--progress-bar', '--trusted-host', '--cache-dir', '--log', '--proxy', '--retries', '--timeout', '--exists-action', '--cert',
  '--client-cert', '--global-option', '--install-option', '--config-settings', '-C', '--no-binary', '--only-binary', '--report',
  '--python', '-p', '--group', '--extra', '--index', '--default-index', '--index-strategy', '--keyring-provider', '--resolution',
  '--prerelease', '--exclude-newer', '--link-mode', '--compile-bytecode', '--reinstall-package', '--upgrade-package', '-P',
]);
const PYTHON_VALUED = new Set(['-X', '-W', '-m', '-c']);
const NPM_VALUED = new Set(['--prefix', '--registry', '--cache', '--userconfig', '--tag', '-w', '--workspace', '--omit', '--include', '--loglevel', '--install-strategy', '--filter', '--dir', '-C', '--cwd', '--modules-folder', '--mutex', '--network-timeout']);
const NPX_VALUED = new Set(['-p', '--package', '-c', '--call', '--prefix', '--registry', '--cache', '--userconfig', '-w', '--workspace']);
const CONDA_VALUED = new Set(['-n', '--name', '-p', '--prefix', '-c', '--channel', '-f', '--file', '--solver', '--repodata-fn', '--platform', '--subdir', '-r', '--root-prefix', '--experimental-solver']);
const UV_TOOL_VALUED = new Set(['--from', '--with', '--with-requirements', '-w', '--python', '-p', '--index-url', '-i', '--extra-index-url', '--index', '--default-index', '-c', '--constraint', '--with-editable']);
const PIPX_VALUED = new Set(['--spec', '--python', '--pip-args', '--index-url', '-i', '--suffix', '--preinstall', '--global']);
const POETRY_VALUED = new Set(['-G', '--group', '-E', '--extras', '--source', '--python', '--platform', '-C', '--directory', '-P', '--project']);

/** npm-style spec `name@1.2.3`, `@scope/name@1.2.3`, alias, git at a commit or local path. */
export function isExactNpmSpec(spec: string): boolean {
  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('~') || spec.startsWith('file:')) return true;
  if (spec.endsWith('.tgz') && !spec.includes('://')) return true;
  const hash = spec.lastIndexOf('#');
  if (/^(?:git\+|git:|github:|gitlab:|bitbucket:)/.test(spec) || (hash !== -1 && !spec.startsWith('@') && spec.includes('/'))) {
    return hash !== -1 && HEX40.test(spec.slice(hash + 1));
  }
  if (spec.includes('://')) return false;
  const at = spec.lastIndexOf('@');
  if (at <= 0) return false;
  const version = spec.slice(at + 1);
  const alias = spec.indexOf('@npm:');
  if (alias > 0) return isExactNpmSpec(spec.slice(alias + 5));
  return EXACT_SEMVER.test(version) || isVariable(version);
}

const npmName = (spec: string): string => {
  const at = spec.lastIndexOf('@');
  return at > 0 ? spec.slice(0, at) : spec;
};

interface Analysis {
  issues: ShellIssue[];
  state: ShellState;
  signal?: AbortSignal;
  /** `NAME=value` words before the command being analysed (its own environment). */
  env?: ReadonlyMap<string, string>;
}

/** pip's environment options, from the command's prefix or an earlier assignment (`ENV`, `export`). */
function envOption(a: Analysis, name: string): string | undefined {
  return a.env?.get(name) ?? (a.state.vars.get(name) || undefined);
}

function leadingAssignments(words: readonly Word[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const w of words) {
    if (!ASSIGNMENT.test(w.value)) break;
    const eq = w.value.indexOf('=');
    env.set(w.value.slice(0, eq), w.value.slice(eq + 1));
  }
  return env;
}

function report(a: Analysis, line: number, kind: IssueKind, message: string, maxLevel?: Level): void {
  a.issues.push(maxLevel ? { kind, line, message, maxLevel } : { kind, line, message });
}

/** `git+https://h/x.git@main#egg=x` → `git+https://h/x.git@<40-hex commit>#egg=x`: the ref replaced, the rest kept. */
export function vcsAtCommit(url: string): string {
  const hash = url.indexOf('#');
  const base = hash === -1 ? url : url.slice(0, hash);
  const fragment = hash === -1 ? '' : url.slice(hash);
  const scheme = base.indexOf('://');
  const pathStart = scheme === -1 ? 0 : base.indexOf('/', scheme + 3);
  const at = base.lastIndexOf('@');
  const bare = pathStart !== -1 && at > pathStart ? base.slice(0, at) : base;
  return `${bare}@<40-hex commit>${fragment}`;
}

/** `$PKG`, `${PKG}`, `${PKG:-torch==2.3.1}`: the variable's name and the default written with it. */
function variableOf(word: string): { name: string; fallback?: string } | null {
  const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*)|([0-9@*]))$/.exec(word);
  if (!m) return null;
  return { name: (m[1] ?? m[3] ?? m[4])!, fallback: m[2] };
}

/**
 * A requirement given whole as a variable chooses the package, not only its
 * version, so it is judged by the value the same file gives it: pinned → info
 * (a builder can still override it), anything else → a finding.
 */
function judgeVariablePackage(a: Analysis, line: number, tool: string, target: string): void {
  if (target.startsWith('${{') || target.startsWith('%')) {
    report(a, line, 'unpinned-install', `\`${tool} install ${target}\` takes the whole requirement from an expression, so what gets installed is decided outside this file; install pinned names (${tool} install <name>==<version>) and put only the version in the variable`, 'info');
    return;
  }
  const v = variableOf(target);
  if (!v || /^[0-9@*]$/.test(v.name)) {
    report(a, line, 'unpinned-install', `\`${tool} install ${target}\` installs whatever its caller passes, so the pin is decided outside this file; make sure every caller passes <name>==<version>`, 'info');
    return;
  }
  const value = a.state.vars.get(v.name) || v.fallback;
  const parts = value?.trim().split(/\s+/).filter(Boolean) ?? [];
  if (parts.length > 0 && parts.every((x) => parseRequirementSpec(x).pinned)) {
    report(a, line, 'unpinned-install', `\`${tool} install ${target}\` takes the whole requirement from \`${v.name}\`, whose default here is pinned (${value!.trim()}), but a build argument or environment can replace the package itself; prefer ${tool} install <name>==\${VERSION}`, 'info');
    return;
  }
  const why = value === undefined ? 'which has no value in this file' : `whose value here (${value.trim() || 'empty'}) is not pinned`;
  report(a, line, 'unpinned-install', `\`${tool} install ${target}\` takes the whole requirement from \`${v.name}\`, ${why}, so any package or URL can be installed; name the package and pin it: ${tool} install <name>==<version> (a variable may hold the version: <name>==\${VERSION})`);
}

/**
 * The extra indexes that pip mixes with another one: any besides PyPI, or PyPI
 * itself added to a private `--index-url`.
 */
export function mixedIndexes(indexUrl: string | undefined, extras: readonly string[]): string[] {
  const isPypi = (u: string): boolean => DEFAULT_INDEXES.test(u);
  const primaryIsPypi = !indexUrl || isPypi(indexUrl);
  return extras.filter((u) => u && (primaryIsPypi ? !isPypi(u) : u !== indexUrl));
}

/** `--extra-index-url` (and uv's unsafe index strategies) let a public upload shadow a private package. */
function judgeIndexes(a: Analysis, p: ParsedArgs, line: number, tool: string): void {
  if (has(p, '--require-hashes')) return;
  const fromEnv = envOption(a, 'PIP_EXTRA_INDEX_URL')?.split(/\s+/).filter(Boolean) ?? [];
  const extra = mixedIndexes(values(p, '-i', '--index-url')[0] ?? envOption(a, 'PIP_INDEX_URL'), [...values(p, '--extra-index-url'), ...fromEnv]);
  const strategy = values(p, '--index-strategy').find((s) => s === 'unsafe-best-match' || s === 'unsafe-any-match');
  const uv = tool.startsWith('uv');
  if (strategy) {
    report(a, line, 'extra-index', `\`${tool} install --index-strategy ${strategy}\` takes a package from whichever index offers the best version, so anyone who publishes a private package's name on PyPI with a higher version gets installed instead (dependency confusion); keep uv's default first-index strategy, or pin the package to its index in pyproject.toml ([tool.uv.sources])`);
  } else if (extra.length > 0 && !uv) {
    report(a, line, 'extra-index', `\`${tool} install --extra-index-url ${extra[0]}\` makes pip choose between that index and PyPI by version number, so a package of the same name published on PyPI with a higher version is installed instead (dependency confusion, as in the 2022 torchtriton attack); use --index-url alone when one index serves everything, or pin with hashes (${tool} install --require-hashes -r requirements.txt)`, 'warning');
  }
}

function analysePip(a: Analysis, args: string[], line: number, tool: string): void {
  if (args[0] !== 'install') return;
  const p = parseArgs(args.slice(1), PIP_VALUED);
  const requireHashes = has(p, '--require-hashes');
  const requirementFiles = values(p, '-r', '--requirement');
  const constraintFiles = values(p, '-c', '--constraint');
  judgeIndexes(a, p, line, tool);
  const unpinned: string[] = [];
  for (const target of [...p.positional, ...values(p, '-e', '--editable')]) {
    if (isVariable(target)) {
      if (!requireHashes) judgeVariablePackage(a, line, tool, target);
      continue;
    }
    const local = target.replace(/^\.\//, '');
    const fetched = a.state.downloads.get(local);
    if (fetched !== undefined) {
      report(a, line, 'download-and-run', `\`${tool} install ${target}\` installs ${local}, downloaded on line ${fetched}, without verifying it; check its checksum first: echo "<sha256>  ${local}" | sha256sum -c -`);
      continue;
    }
    const spec = parseRequirementSpec(target);
    // pip refuses a requirement it cannot read, so nothing is installed.
    if (spec.pinned || requireHashes || (spec.invalid && spec.kind === 'named')) continue;
    const name = spec.name ?? target;
    if (spec.kind === 'vcs') report(a, line, 'unpinned-install', `\`${tool} install ${target}\` installs a VCS checkout that is not at a commit; pin it: ${tool} install "${spec.name ? `${spec.name} @ ` : ''}${vcsAtCommit(spec.specifier)}"`);
    else if (spec.kind === 'url') report(a, line, 'unpinned-install', `\`${tool} install ${target}\` downloads an archive without a checksum; add its digest: ${tool} install "${spec.name ? `${spec.name} @ ` : ''}${spec.specifier.split('#')[0]}#sha256=<digest>"`);
    else unpinned.push(name);
  }
  if (requirementFiles.length > 0 && !requireHashes) {
    a.issues.push({ kind: 'pip-files', line, requirementFiles, constraintFiles, unpinned, command: `${tool} install` });
  } else if (unpinned.length > 0 && constraintFiles.length > 0) {
    a.issues.push({ kind: 'pip-files', line, requirementFiles: [], constraintFiles, unpinned, command: `${tool} install` });
  } else if (unpinned.length > 0) {
    const pins = unpinned.map((n) => `${n}==<version>`).join(' ');
    report(a, line, 'unpinned-install', `\`${tool} install ${unpinned.join(' ')}\` installs whatever versions are newest at build time; pin them: ${tool} install ${pins} (or install a hash-locked file: ${tool} install --require-hashes -r requirements.txt)`);
  }
}

function analyseNpm(a: Analysis, sub: string, args: string[], line: number): void {
  if (['ci', 'clean-install', 'ic', 'install-clean', 'install-ci-test', 'cit'].includes(sub)) {
    a.state.npmLocked = true;
    return;
  }
  if (sub === 'exec' || sub === 'x') {
    analyseNpx(a, args, line, 'npm exec');
    return;
  }
  if (!['install', 'i', 'in', 'ins', 'inst', 'insta', 'instal', 'isnt', 'isnta', 'isntal', 'isntall', 'add', 'install-test', 'it'].includes(sub)) return;
  const p = parseArgs(args, NPM_VALUED);
  if (p.positional.length === 0) {
    report(a, line, 'unpinned-install', '`npm install` may update package-lock.json and install newer versions; use `npm ci` to install exactly what the lock file records');
    return;
  }
  const loose = p.positional.filter((s) => !isExactNpmSpec(s));
  if (loose.length > 0) {
    const pins = loose.map((s) => `${npmName(s)}@<version>`).join(' ');
    report(a, line, 'unpinned-install', `\`npm install ${loose.join(' ')}\` is not pinned; pin it: npm install ${pins} (exact x.y.z versions), or add it to package.json and run \`npm ci\``);
  }
}

function analyseNpx(a: Analysis, args: string[], line: number, tool: string): void {
  const p = parseArgs(args, NPX_VALUED);
  const packages = values(p, '-p', '--package');
  const targets = packages.length > 0 ? packages : p.positional.slice(0, 1);
  if (values(p, '-c', '--call').length > 0 && packages.length === 0) return;
  for (const spec of targets) {
    if (isExactNpmSpec(spec) || a.state.npmLocked) continue;
    report(a, line, 'unpinned-install', `\`${tool} ${spec}\` downloads and runs the newest ${npmName(spec)}; pin it: ${tool} ${npmName(spec)}@<version> (or run it after \`npm ci\` from the locked devDependencies)`);
  }
}

function analyseYarnPnpm(a: Analysis, tool: 'yarn' | 'pnpm', args: string[], line: number): void {
  const p = parseArgs(args, NPM_VALUED);
  const [sub, ...rest] = p.positional;
  const frozen = has(p, '--frozen-lockfile', '--immutable');
  if (sub === undefined || sub === 'install' || sub === 'i') {
    if (tool === 'pnpm' && (sub === 'i' || sub === 'install') && rest.length > 0) {
      for (const spec of rest) if (!isExactNpmSpec(spec)) report(a, line, 'unpinned-install', `\`pnpm add ${spec}\` is not pinned; pin it: pnpm add ${npmName(spec)}@<version>`);
      return;
    }
    if (frozen) a.state.npmLocked = true;
    else {
      const fix = tool === 'yarn' ? 'yarn install --frozen-lockfile (Yarn 1) or yarn install --immutable (Yarn 2+)' : 'pnpm install --frozen-lockfile';
      report(a, line, 'unpinned-install', `\`${tool} install\` may update the lock file and install newer versions; install exactly what it records: ${fix}`);
    }
    return;
  }
  const adds = sub === 'add' ? rest : sub === 'global' && rest[0] === 'add' ? rest.slice(1) : null;
  if (adds) {
    for (const spec of adds) if (!isExactNpmSpec(spec)) report(a, line, 'unpinned-install', `\`${tool} add ${spec}\` is not pinned; pin it: ${tool} add ${npmName(spec)}@<version>`);
    return;
  }
  if (sub === 'dlx') {
    const spec = values(p, '-p', '--package')[0] ?? rest[0];
    if (spec && !isExactNpmSpec(spec)) report(a, line, 'unpinned-install', `\`${tool} dlx ${spec}\` downloads and runs the newest ${npmName(spec)}; pin it: ${tool} dlx ${npmName(spec)}@<version>`);
  }
}

function analyseConda(a: Analysis, tool: string, args: string[], line: number): void {
  const p = parseArgs(args, CONDA_VALUED);
  const [sub, ...specs] = p.positional;
  if (sub !== 'install' && sub !== 'create') return;
  const loose = specs.filter((s) => !isExactCondaSpec(s));
  if (loose.length > 0) {
    const pins = loose.map((s) => `${condaName(s)}=<version>`).join(' ');
    report(a, line, 'unpinned-install', `\`${tool} ${sub} ${loose.join(' ')}\` is not pinned; pin it: ${tool} ${sub} ${pins} (or ==<version>=<build>), or install from a conda-lock file`);
  }
}

function analyseSpecList(a: Analysis, line: number, label: string, specs: string[]): void {
  for (const s of specs) {
    const spec = parseRequirementSpec(s);
    if (!spec.pinned) report(a, line, 'unpinned-install', `\`${label} ${s}\` is not pinned; pin it: ${label} ${spec.name ?? s}==<version>`);
  }
}

function analyseUv(a: Analysis, args: string[], line: number): void {
  const [sub, ...rest] = args;
  if (sub === 'pip') {
    analysePip(a, rest, line, 'uv pip');
    return;
  }
  if (sub === 'sync') {
    const p = parseArgs(rest, UV_TOOL_VALUED);
    if (!has(p, '--locked', '--frozen')) report(a, line, 'unpinned-install', '`uv sync` re-resolves when uv.lock is out of date; install exactly what the lock records: uv sync --locked (or --frozen)');
    return;
  }
  if (sub === 'add') {
    const p = parseArgs(rest, UV_TOOL_VALUED);
    analyseSpecList(a, line, 'uv add', p.positional);
    return;
  }
  if (sub === 'tool' && (rest[0] === 'install' || rest[0] === 'run')) analyseUvTool(a, rest.slice(1), line, `uv tool ${rest[0]}`);
}

function analyseUvTool(a: Analysis, args: string[], line: number, label: string): void {
  const p = parseArgs(args, UV_TOOL_VALUED);
  const from = values(p, '--from');
  const target = from[0] ?? p.positional[0];
  if (!target) return;
  // `uvx tool@1.2.3` is uv's own exact form.
  const at = target.indexOf('@');
  if (at > 0 && !target.includes('://') && (EXACT_SEMVER.test(target.slice(at + 1)) || isVariable(target.slice(at + 1)))) return;
  const spec = parseRequirementSpec(target);
  if (!spec.pinned) report(a, line, 'unpinned-install', `\`${label} ${target}\` installs the newest ${spec.name ?? target}; pin it: ${label} ${spec.name ?? target}@<version> (or --from ${spec.name ?? target}==<version>)`);
}

function analysePipx(a: Analysis, args: string[], line: number): void {
  const [sub, ...rest] = args;
  const p = parseArgs(rest, PIPX_VALUED);
  if (sub === 'install' || sub === 'inject') {
    const specs = values(p, '--spec');
    analyseSpecList(a, line, `pipx ${sub}`, specs.length > 0 ? specs : sub === 'inject' ? p.positional.slice(1) : p.positional);
  } else if (sub === 'run') {
    const spec = values(p, '--spec')[0] ?? p.positional[0];
    if (spec && !parseRequirementSpec(spec).pinned) {
      const name = parseRequirementSpec(spec).name ?? spec;
      report(a, line, 'unpinned-install', `\`pipx run ${spec}\` downloads and runs the newest ${name}; pin it: pipx run --spec ${name}==<version> ${name}`);
    }
  }
}

function analysePoetry(a: Analysis, args: string[], line: number): void {
  if (args[0] !== 'add') return;
  const p = parseArgs(args.slice(1), POETRY_VALUED);
  for (const s of p.positional) {
    const at = s.indexOf('@');
    const version = at > 0 ? s.slice(at + 1) : '';
    const exact = version ? EXACT_SEMVER.test(version) || /^==?\d/.test(version) || isVariable(version) : parseRequirementSpec(s).pinned;
    if (!exact) report(a, line, 'unpinned-install', `\`poetry add ${s}\` records a version range; pin it: poetry add ${at > 0 ? s.slice(0, at) : (parseRequirementSpec(s).name ?? s)}==<version>`);
  }
}

const GO_VERSION = /^v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+incompatible)?$/;

/** `go install pkg@v1.2.3` (or a pseudo-version) is exact; `@latest`, a branch or no version is not. */
function analyseGo(a: Analysis, args: string[], line: number): void {
  const [sub, ...rest] = args;
  if (sub !== 'install' && sub !== 'get') return;
  for (const target of rest.filter((x) => !x.startsWith('-'))) {
    const at = target.lastIndexOf('@');
    const version = at > 0 ? target.slice(at + 1) : '';
    // Without @version, `go install` in a module builds what go.mod pins; only `go get` moves it.
    if (!version && (sub === 'install' || target.startsWith('.'))) continue;
    if (GO_VERSION.test(version) || HEX40.test(version) || isVariable(version)) continue;
    const name = at > 0 ? target.slice(0, at) : target;
    report(a, line, 'unpinned-install', `\`go ${sub} ${target}\` installs ${version ? `whatever ${version} points to` : 'the newest version'}; pin it: go ${sub} ${name}@v<version> (an exact vX.Y.Z tag or a pseudo-version)`);
  }
}

/** Windows and .NET package managers, as Scorecard reads them: a package without a version is not pinned. */
function analyseDotnetFamily(a: Analysis, prog: string, args: string[], line: number): void {
  const lower = args.map((x) => x.toLowerCase());
  const versioned = (...flags: string[]): boolean => lower.some((x) => flags.some((f) => x === f || x.startsWith(`${f}=`) || x.startsWith(`${f}:`)));
  if (prog === 'choco' || prog === 'choco.exe') {
    if (!['install', 'upgrade'].includes(lower[0] ?? '') || versioned('--version', '-v', '--requirechecksums', '--require-checksums')) return;
    const pkgs = args.slice(1).filter((x) => !x.startsWith('-'));
    if (pkgs.length > 0) report(a, line, 'unpinned-install', `\`choco ${args[0]} ${pkgs.join(' ')}\` installs the newest version; pin it: choco ${args[0]} ${pkgs[0]} --version <version> --require-checksums`);
  } else if (prog === 'nuget' || prog === 'nuget.exe') {
    if (lower[0] !== 'install' || versioned('-version', '--version')) return;
    const pkg = args.slice(1).find((x) => !x.startsWith('-'));
    if (pkg && !pkg.toLowerCase().endsWith('.config')) report(a, line, 'unpinned-install', `\`nuget install ${pkg}\` installs the newest version; pin it: nuget install ${pkg} -Version <version>`);
  } else if (prog === 'dotnet') {
    if (lower[0] !== 'add' || !lower.includes('package') || versioned('--version', '-v')) return;
    const pkg = args[lower.indexOf('package') + 1];
    if (pkg) report(a, line, 'unpinned-install', `\`dotnet add package ${pkg}\` records the newest version; pin it: dotnet add package ${pkg} --version <version>`);
  }
}

/**
 * Object-store copies: `gsutil cp`, `gcloud storage cp`, `aws s3 cp`, `aws s3api
 * get-object`, `az storage blob download`. Returns the local files written
 * (`-` for standard output), or null when the command is not a download.
 */
function cloudTargets(prog: string, args: string[]): string[] | null {
  const positional = args.filter((x) => x === '-' || !x.startsWith('-'));
  const isRemote = (x: string): boolean => /^(?:gs|s3):\/\//.test(x) || x.includes('://');
  const copy = (from: number): string[] | null => {
    const pos = positional.slice(from);
    if (pos.length < 2 || !isRemote(pos[0]!)) return null;
    const dest = pos[pos.length - 1]!;
    if (isRemote(dest)) return null;
    return [dest === '.' || dest.endsWith('/') ? basename(pos[0]!) : dest];
  };
  if (prog === 'gsutil') {
    const cp = positional.indexOf('cp');
    return cp === -1 ? null : copy(cp + 1);
  }
  if (prog === 'gcloud' && positional[0] === 'storage' && positional[1] === 'cp') return copy(2);
  if (prog === 'aws' && positional[0] === 's3' && positional[1] === 'cp') return copy(2);
  if (prog === 'aws' && positional[0] === 's3api' && positional[1] === 'get-object') {
    // Options take values here (`--bucket b --key k`); the outfile is the last bare word.
    const last = args[args.length - 1];
    return last && !last.startsWith('-') && args[args.length - 2]?.startsWith('--') !== true ? [last] : null;
  }
  if ((prog === 'az' && positional[0] === 'storage' && positional[1] === 'blob' && positional[2] === 'download') || prog === 'azcopy') {
    if (prog === 'azcopy') return positional[0] === 'copy' || positional[0] === 'cp' ? copy(1) : null;
    const k = args.findIndex((x) => x === '--file' || x === '-f');
    return k !== -1 && args[k + 1] ? [args[k + 1]!] : null;
  }
  return null;
}

const isDownloader = (prog: string, args: string[]): boolean => DOWNLOADERS.has(prog) || cloudTargets(prog, args) !== null;

/** Files a downloader writes: `curl -o f`, `curl -O url`, `wget -O f`, `wget url`. */
function downloadTargets(prog: string, args: string[], cmd: SimpleCommand): string[] {
  const out: string[] = [];
  for (const r of cmd.redirects) if ((r.op === '>' || r.op === '>>') && r.target) out.push(r.target.value);
  const urls = args.filter((x) => x.includes('://'));
  const fileOf = (u: string): string => basename(u.split(/[?#]/)[0] ?? u);
  let toStdout = false;
  for (let k = 0; k < args.length; k++) {
    const x = args[k]!;
    const short = x.startsWith('-') && !x.startsWith('--') ? x.slice(1) : '';
    if (prog === 'curl' && (x === '--output' || short.endsWith('o'))) out.push(args[k + 1] ?? '');
    else if (prog === 'curl' && (x === '--remote-name' || short.includes('O'))) out.push(...urls.map(fileOf));
    else if (prog === 'wget' && (short.endsWith('O-') || x === '--output-document=-')) toStdout = true;
    else if (prog === 'wget' && (x === '--output-document' || short.endsWith('O'))) out.push(args[k + 1] ?? '');
    else if (prog === 'wget' && x.startsWith('--output-document=')) out.push(x.slice(18));
  }
  if (prog === 'wget' && !toStdout && out.length === 0) out.push(...urls.map(fileOf));
  return out.filter((f) => f && f !== '-').map((f) => f.replace(/^\.\//, ''));
}

function commandDownloads(c: SimpleCommand): boolean {
  const words = stripWrappers(c.words);
  return isDownloader(program(words[0]), words.slice(1).map((w) => w.value));
}

function subsDownload(words: Word[], a: Analysis): boolean {
  return words.some((w) => w.subs.some((s) => lexShell(s.text, a.signal).some((pl) => pl.some(commandDownloads))));
}

/**
 * Peels runners that execute the command after them: `conda run -n env pip …`,
 * `uv run pip …`, `poetry run pip …`, `xargs pip install`, and a command held in
 * a variable (`${CONDA_RUN} python -m pip …`) when a known program follows it.
 */
function unwrapRunners(words: Word[]): { words: Word[]; xargs: boolean } {
  let w = stripWrappers(words);
  let xargs = false;
  for (let guard = 0; guard < 8 && w.length > 1; guard++) {
    const prog = program(w[0]);
    const runner = RUNNERS.get(prog);
    const args = w.slice(1).map((x) => x.value);
    let skip = -1;
    if (runner && args[0] === 'run') {
      const at = firstPositional(args.slice(1), runner);
      skip = at === -1 ? -1 : at + 2;
    } else if (prog === 'xargs') {
      const at = firstPositional(args, XARGS_VALUED);
      skip = at === -1 ? -1 : at + 1;
      xargs = skip !== -1;
    } else if (isVariable(w[0]!.value) && !w[0]!.value.startsWith('${{') && KNOWN_PROGRAMS.test(program(w[1]))) skip = 1;
    if (skip === -1) break;
    w = stripWrappers(w.slice(skip));
  }
  return { words: w, xargs };
}

const KNOWN_PROGRAMS = /^(?:pip\d*(?:\.\d+)?|python\d*(?:\.\d+)?|uv|uvx|pipx|conda|mamba|micromamba|npm|npx|yarn|pnpm|poetry)$/;

interface Frame {
  lineOf: (line: number) => number;
  depth: number;
}

/** Remembers `NAME=value` and `export NAME=value` (a command of assignments only) for later variable packages. */
function recordAssignments(a: Analysis, cmd: SimpleCommand): void {
  const words = cmd.words[0]?.value === 'export' || cmd.words[0]?.value === 'declare' ? cmd.words.slice(1) : cmd.words;
  if (words.length === 0 || !words.every((w) => ASSIGNMENT.test(w.value))) return;
  for (const w of words) {
    const eq = w.value.indexOf('=');
    a.state.vars.set(w.value.slice(0, eq), w.value.slice(eq + 1));
  }
}

/** Whether this command checks a digest: `sha256sum -c`, `shasum -a 256 --check`, `gpg --verify`, `openssl dgst`, `cosign verify-blob`. */
function verifies(prog: string, args: string[], depth: number): boolean {
  if (!VERIFIERS.has(prog)) return false;
  // A digest computed inside `$( … )` is being compared with an expected one.
  if (DIGEST_PRINTERS.has(prog)) return depth > 0 || args.some((x) => x === '--check' || /^-[a-zA-Z]*c[a-zA-Z]*$/.test(x));
  return true;
}

function analyseCommand(a: Analysis, cmd: SimpleCommand, f: Frame, input?: SimpleCommand): void {
  recordAssignments(a, cmd);
  const env = leadingAssignments(cmd.words);
  const unwrapped = unwrapRunners(cmd.words);
  const words = unwrapped.words;
  const line = f.lineOf(cmd.line);
  const prog = program(words[0]);
  const args = words.slice(1).map((w) => w.value);

  // Nested shell text: substitutions, `sh -c '…'`, and here-documents fed to a shell.
  if (f.depth < MAX_DEPTH) {
    for (const w of cmd.words) for (const s of w.subs) analyseText(a, s.text, { lineOf: (l) => f.lineOf(s.line + l), depth: f.depth + 1 });
    for (let k = 0; k < words.length - 1; k++) {
      const flag = words[k + 1]!.value;
      if (SHELLS.has(program(words[k])) && /^-[a-z]*c[a-z]*$/.test(flag) && words[k + 2]) {
        const script = words[k + 2]!;
        analyseText(a, script.value, { lineOf: (l) => f.lineOf(script.line + l), depth: f.depth + 1 });
        break;
      }
    }
    // `su -c '…'`, `sudo su - user -c '…'`, `su --command=…`: the command runs through the user's shell.
    if (SU.has(prog)) {
      for (let k = 1; k < words.length; k++) {
        const v = words[k]!.value;
        const inline = v.startsWith('--command=') ? v.slice(10) : v.startsWith('--session-command=') ? v.slice(18) : undefined;
        const script = inline !== undefined ? { value: inline, line: words[k]!.line } : (v === '-c' || v === '--command' || v === '--session-command') ? words[k + 1] : undefined;
        if (!script) continue;
        analyseText(a, script.value, { lineOf: (l) => f.lineOf(script.line + l), depth: f.depth + 1 });
        break;
      }
    }
    if (words.length === 0 || (SHELLS.has(prog) && args.every((x) => x.startsWith('-')))) {
      for (const h of cmd.heredocs) analyseText(a, h.body, { lineOf: (l) => f.lineOf(h.line + l), depth: f.depth + 1 });
    }
  }
  if (!prog) return;

  // Download-and-run through a substitution: `bash <(curl …)`, `sh -c "$(curl …)"`, `eval "$(wget -O- …)"`.
  if (isInterpreter(prog) && (subsDownload(words.slice(1), a) || subsDownload(cmd.redirects.flatMap((r) => (r.target ? [r.target] : [])), a))) {
    report(a, line, 'download-and-run', `\`${prog}\` runs code downloaded in the same command without verifying it; download to a file, check its checksum (echo "<sha256>  file" | sha256sum -c -), then run the file`);
  }

  const cloud = cloudTargets(prog, args);
  const fetched = DOWNLOADERS.has(prog) ? downloadTargets(prog, args, cmd) : (cloud?.filter((t) => t !== '-').map((t) => t.replace(/^\.\//, '')) ?? null);
  if (fetched) {
    for (const t of fetched) {
      a.state.downloads.set(t, line);
      if (WEIGHT_EXTENSIONS.test(t)) a.state.weights.set(t, line);
    }
  } else if (verifies(prog, args, f.depth)) {
    // A check that names files (`sha256sum -c` fed by `echo "<hex>  f"`, `openssl dgst … f`) covers those; a checksum list covers all.
    const named = [...args, ...(input?.words.flatMap((w) => w.value.split(/\s+/)) ?? [])].map((x) => x.replace(/^\.\//, '')).filter((x) => a.state.weights.has(x) || a.state.downloads.has(x));
    if (named.length > 0) {
      for (const n of named) {
        a.state.weights.delete(n);
        a.state.downloads.delete(n);
      }
    } else {
      a.state.downloads.clear();
      a.state.weights.clear();
    }
  } else if (VERIFIERS.has(prog)) a.state.downloads.clear();
  else {
    const script = SHELLS.has(prog) || isPython(prog) || prog === 'source' || prog === '.' ? args.find((x) => !x.startsWith('-')) : words[0]!.value;
    const key = script?.replace(/^\.\//, '');
    const at = key !== undefined ? a.state.downloads.get(key) : undefined;
    if (key !== undefined && at !== undefined) {
      report(a, line, 'download-and-run', `runs ${key}, downloaded on line ${at}, without verifying it; check its checksum first: echo "<sha256>  ${key}" | sha256sum -c -`);
      a.state.downloads.delete(key);
    }
  }

  // Set after the nested text above, which analyses commands of its own.
  a.env = env;
  if (unwrapped.xargs && (isPip(prog) || (isPython(prog) && args.includes('pip')))) analyseXargsPip(a, args, line, prog, cmd, input);
  else if (isPip(prog)) analysePip(a, args, line, prog);
  else if (isPython(prog)) {
    const m = args.indexOf('-m');
    if (m !== -1 && firstPositional(args, PYTHON_VALUED) > m) {
      const mod = args[m + 1];
      if (mod === 'pip') analysePip(a, args.slice(m + 2), line, `${prog} -m pip`);
      else if (mod === 'pipx') analysePipx(a, args.slice(m + 2), line);
      else if (mod === 'uv') analyseUv(a, args.slice(m + 2), line);
    }
  } else if (prog === 'uv') analyseUv(a, args, line);
  else if (prog === 'uvx') analyseUvTool(a, args, line, 'uvx');
  else if (prog === 'pipx') analysePipx(a, args, line);
  else if (prog === 'poetry') analysePoetry(a, args, line);
  else if (prog === 'conda' || prog === 'mamba' || prog === 'micromamba') analyseConda(a, prog, args, line);
  else if (prog === 'npm') {
    const at = firstPositional(args, NPM_VALUED);
    if (at !== -1) analyseNpm(a, args[at]!, args.slice(at + 1), line);
  }
  else if (prog === 'npx') analyseNpx(a, args, line, 'npx');
  else if (prog === 'yarn' || prog === 'pnpm') analyseYarnPnpm(a, prog, args, line);
  else if (prog === 'go') analyseGo(a, args, line);
  else if (['choco', 'choco.exe', 'nuget', 'nuget.exe', 'dotnet'].includes(prog)) analyseDotnetFamily(a, prog, args, line);
}

/**
 * `xargs pip install` installs the words of its input: a file read with `<` or
 * `cat file |` is judged as a requirements file, `echo a b |` as those names,
 * anything else cannot be seen from here.
 */
function analyseXargsPip(a: Analysis, args: string[], line: number, prog: string, cmd: SimpleCommand, input?: SimpleCommand): void {
  const pipArgs = isPip(prog) ? args : args.slice(args.indexOf('pip') + 1);
  const tool = isPip(prog) ? prog : `${prog} -m pip`;
  if (pipArgs[0] !== 'install') return;
  const feeder = input ? stripWrappers(input.words) : [];
  const file = cmd.redirects.find((r) => r.op === '<')?.target?.value ?? (program(feeder[0]) === 'cat' && feeder.length === 2 ? feeder[1]!.value : undefined);
  if (file !== undefined) {
    a.issues.push({ kind: 'pip-files', line, requirementFiles: [file], constraintFiles: [], unpinned: [], command: `xargs ${tool} install` });
    return;
  }
  if (program(feeder[0]) === 'echo' || program(feeder[0]) === 'printf') {
    analysePip(a, [...pipArgs, ...feeder.slice(1).map((w) => w.value).filter((x) => !x.startsWith('-'))], line, tool);
    return;
  }
  analysePip(a, pipArgs, line, tool);
  report(a, line, 'unpinned-install', `\`xargs ${tool} install\` installs names read from its input, which cannot be checked here; install a pinned, hash-locked file instead: ${tool} install --require-hashes -r requirements.txt`, 'warning');
}

const STDIN_FILES = new Set(['-', '/dev/stdin', '/dev/fd/0', '/proc/self/fd/0']);

/** Interpreters reading their program from stdin: `sh`, `bash -s --`, `bash /dev/stdin`, `python -`, `iex`. */
function readsStdin(cmd: SimpleCommand): boolean {
  const words = stripWrappers(cmd.words);
  const prog = program(words[0]);
  if (!isInterpreter(prog) || prog === 'source' || prog === '.' || prog === 'eval') return false;
  const args = words.slice(1).map((w) => w.value);
  if (args.some((x) => /^-[a-z]*[ce]$/.test(x) || x === '--command')) return false;
  const firstPositional = args.find((x) => !x.startsWith('-') || x === '-');
  return firstPositional === undefined || STDIN_FILES.has(firstPositional) || args.some((x) => /^-[a-z]*s[a-z]*$/.test(x));
}

function analyseText(a: Analysis, text: string, f: Frame): void {
  for (const pipeline of lexShell(text, a.signal)) {
    a.signal?.throwIfAborted();
    const firstDownload = pipeline.findIndex(commandDownloads);
    if (firstDownload !== -1) {
      const runner = pipeline.slice(firstDownload + 1).find(readsStdin);
      if (runner) {
        report(a, f.lineOf(runner.line), 'download-and-run', `pipes a download straight into \`${program(stripWrappers(runner.words)[0])}\`; download to a file, check its checksum (echo "<sha256>  file" | sha256sum -c -), then run the file`);
      }
    }
    pipeline.forEach((cmd, k) => analyseCommand(a, cmd, f, pipeline[k - 1]));
  }
}

/**
 * Analyses shell text (a script, a `run:` block, a `RUN` line). Throws only on
 * abort or when the text holds more words than the lexer accepts.
 */
export function analyseShell(text: string, opts: ShellOptions = {}): ShellIssue[] {
  const a: Analysis = { issues: [], state: opts.state ?? newShellState(), signal: opts.signal };
  analyseText(a, text, { lineOf: opts.lineOf ?? ((l) => l + 1), depth: 0 });
  return a.issues;
}

/**
 * Ends a unit of shell (a script, a Dockerfile, a workflow job, a notebook):
 * model weights downloaded in it and never checked against a digest.
 */
export function unverifiedDownloads(state: ShellState): ShellIssue[] {
  const issues: ShellIssue[] = [];
  for (const [file, line] of state.weights) {
    issues.push({
      kind: 'unverified-download',
      line,
      message: `${file} is downloaded without checking its digest, so a changed or tampered file (weights can carry code: pickle, Keras Lambda layers) is loaded as if it were the reviewed one; check it after the download: echo "<sha256>  ${file}" | sha256sum -c -`,
    });
  }
  state.weights.clear();
  return issues;
}

/** Analyses an exec-form command (`RUN ["pip", "install", "x"]`) given as arguments. */
export function analyseArgv(argv: string[], line: number, opts: Omit<ShellOptions, 'lineOf'> = {}): ShellIssue[] {
  const a: Analysis = { issues: [], state: opts.state ?? newShellState(), signal: opts.signal };
  const words: Word[] = argv.map((value) => ({ value, line: 0, subs: [], quoted: true }));
  analyseCommand(a, { words, redirects: [], heredocs: [], line: 0 }, { lineOf: () => line, depth: 0 });
  return a.issues;
}
