import { lexShell, type SimpleCommand, type Word } from './shell-lexer.js';
import { condaName, isExactCondaSpec } from './conda.js';
import { isVariable, parseRequirementSpec } from './requirements.js';

/**
 * Finds package installs that are not pinned and download-and-run patterns in
 * shell text: Dockerfile `RUN`, workflow `run:`, shell scripts and notebook
 * `!`/`%` lines all go through here, so every front door judges alike.
 */

export type ShellIssue =
  | { kind: 'unpinned-install' | 'download-and-run'; line: number; message: string }
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
  /** Files fetched by curl/wget, with the file line of the download. */
  downloads: Map<string, number>;
}

export const newShellState = (): ShellState => ({ npmLocked: false, downloads: new Map() });

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
const VERIFIERS = new Set(['sha256sum', 'sha512sum', 'shasum', 'gpg', 'gpgv', 'cosign', 'minisign', 'openssl']);
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
const program = (w: Word | undefined): string => (w ? basename(w.value).toLowerCase() : '');
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
      const short = a.slice(0, 2);
      if (valued.has(short)) add(short, a.length > 2 ? a.slice(2).replace(/^=/, '') : (args[++k] ?? ''));
      else add(a, '');
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
}

function report(a: Analysis, line: number, kind: 'unpinned-install' | 'download-and-run', message: string): void {
  a.issues.push({ kind, line, message });
}

function analysePip(a: Analysis, args: string[], line: number, tool: string): void {
  if (args[0] !== 'install') return;
  const p = parseArgs(args.slice(1), PIP_VALUED);
  const requireHashes = has(p, '--require-hashes');
  const requirementFiles = values(p, '-r', '--requirement');
  const constraintFiles = values(p, '-c', '--constraint');
  const unpinned: string[] = [];
  for (const target of [...p.positional, ...values(p, '-e', '--editable')]) {
    // A whole requirement in a variable (`pip install "$PKG"`) is set, and pinned or not, elsewhere.
    if (isVariable(target)) continue;
    const spec = parseRequirementSpec(target);
    if (spec.pinned || requireHashes) continue;
    const name = spec.name ?? target;
    if (spec.kind === 'vcs') report(a, line, 'unpinned-install', `\`${tool} install ${target}\` installs a VCS checkout that is not at a commit; pin it: ${tool} install "${name} @ ${target.split('@')[0]}@<40-hex commit>"`);
    else if (spec.kind === 'url') report(a, line, 'unpinned-install', `\`${tool} install ${target}\` downloads an archive without a checksum; add its digest: ${target}#sha256=<digest>`);
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
  if (!['install', 'i', 'in', 'ins', 'inst', 'insta', 'instal', 'isnt', 'isnta', 'isntal', 'isntall', 'add'].includes(sub)) return;
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

function subsDownload(words: Word[], a: Analysis): boolean {
  return words.some((w) =>
    w.subs.some((s) => lexShell(s.text, a.signal).some((pl) => pl.some((c) => DOWNLOADERS.has(program(stripWrappers(c.words)[0]))))),
  );
}

interface Frame {
  lineOf: (line: number) => number;
  depth: number;
}

function analyseCommand(a: Analysis, cmd: SimpleCommand, f: Frame): void {
  const words = stripWrappers(cmd.words);
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
    if (words.length === 0 || (SHELLS.has(prog) && args.every((x) => x.startsWith('-')))) {
      for (const h of cmd.heredocs) analyseText(a, h.body, { lineOf: (l) => f.lineOf(h.line + l), depth: f.depth + 1 });
    }
  }
  if (!prog) return;

  // Download-and-run through a substitution: `bash <(curl …)`, `sh -c "$(curl …)"`, `eval "$(wget -O- …)"`.
  if (isInterpreter(prog) && (subsDownload(words.slice(1), a) || subsDownload(cmd.redirects.flatMap((r) => (r.target ? [r.target] : [])), a))) {
    report(a, line, 'download-and-run', `\`${prog}\` runs code downloaded in the same command without verifying it; download to a file, check its checksum (echo "<sha256>  file" | sha256sum -c -), then run the file`);
  }

  if (DOWNLOADERS.has(prog)) for (const t of downloadTargets(prog, args, cmd)) a.state.downloads.set(t, line);
  else if (VERIFIERS.has(prog)) a.state.downloads.clear();
  else {
    const script = SHELLS.has(prog) || isPython(prog) || prog === 'source' || prog === '.' ? args.find((x) => !x.startsWith('-')) : words[0]!.value;
    const key = script?.replace(/^\.\//, '');
    const at = key !== undefined ? a.state.downloads.get(key) : undefined;
    if (key !== undefined && at !== undefined) {
      report(a, line, 'download-and-run', `runs ${key}, downloaded on line ${at}, without verifying it; check its checksum first: echo "<sha256>  ${key}" | sha256sum -c -`);
      a.state.downloads.delete(key);
    }
  }

  if (isPip(prog)) analysePip(a, args, line, prog);
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
}

/** Interpreters reading their program from stdin: `sh`, `bash -s --`, `python -`, `iex`. */
function readsStdin(cmd: SimpleCommand): boolean {
  const words = stripWrappers(cmd.words);
  const prog = program(words[0]);
  if (!isInterpreter(prog) || prog === 'source' || prog === '.' || prog === 'eval') return false;
  const args = words.slice(1).map((w) => w.value);
  if (args.some((x) => /^-[a-z]*[ce]$/.test(x) || x === '--command')) return false;
  const firstPositional = args.find((x) => !x.startsWith('-') || x === '-');
  return firstPositional === undefined || firstPositional === '-' || args.includes('-s');
}

function analyseText(a: Analysis, text: string, f: Frame): void {
  for (const pipeline of lexShell(text, a.signal)) {
    a.signal?.throwIfAborted();
    const firstDownload = pipeline.findIndex((c) => DOWNLOADERS.has(program(stripWrappers(c.words)[0])));
    if (firstDownload !== -1) {
      const runner = pipeline.slice(firstDownload + 1).find(readsStdin);
      if (runner) {
        report(a, f.lineOf(runner.line), 'download-and-run', `pipes a download straight into \`${program(stripWrappers(runner.words)[0])}\`; download to a file, check its checksum (echo "<sha256>  file" | sha256sum -c -), then run the file`);
      }
    }
    for (const cmd of pipeline) analyseCommand(a, cmd, f);
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

/** Analyses an exec-form command (`RUN ["pip", "install", "x"]`) given as arguments. */
export function analyseArgv(argv: string[], line: number, opts: Omit<ShellOptions, 'lineOf'> = {}): ShellIssue[] {
  const a: Analysis = { issues: [], state: opts.state ?? newShellState(), signal: opts.signal };
  const words: Word[] = argv.map((value) => ({ value, line: 0, subs: [], quoted: true }));
  analyseCommand(a, { words, redirects: [], heredocs: [], line: 0 }, { lineOf: () => line, depth: 0 });
  return a.issues;
}
