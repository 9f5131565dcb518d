import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigurationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { didYouMean } from '../core/suggest.js';
import type { FailOn, Finding, Level } from '../core/types.js';
import { VERSION } from '../core/version.js';
import path from 'node:path';
import { findRepositoryRoot } from '../inventory/root.js';
import { policyDiagnostics, type PolicyDiagnostic } from '../policies/diagnostics.js';
import { locatePolicy } from '../policies/locate.js';
import { runBaseline } from './baseline.js';
import { FORMATS, isFile, runCheck, type Format } from './check.js';
import { initPolicy, resolvePolicyFile, showPolicy } from './commands.js';
import { registerOrgCommands } from './org.js';
import { terminalProgress } from './progress.js';
import { describeRule } from './rule-docs.js';
import { addSignCommand } from './sign.js';
import { listRules } from './rules-list.js';
import { COLOR_CHOICES, outputWidth, useColor, type ColorChoice } from './terminal.js';

/** Where the CLI writes; tests pass their own. */
export interface CliIO {
  out(s: string): void;
  err(s: string): void;
  stdout: { isTTY?: boolean; columns?: number };
  stderr: { isTTY?: boolean; columns?: number; write(s: string): unknown };
  env: Readonly<Record<string, string | undefined>>;
}

const processIO = (): CliIO => ({
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});

const FAIL_ON: readonly FailOn[] = ['error', 'warning', 'never'];
const LEVELS: readonly Level[] = ['info', 'warning', 'error'];

/** A parser for an option that takes one of `allowed`, with "did you mean" on a typo. */
function oneOf<T extends string>(allowed: readonly T[]) {
  return (value: string): T => {
    const v = value.toLowerCase();
    if ((allowed as readonly string[]).includes(v)) return v as T;
    throw new InvalidArgumentError(`Expected one of ${allowed.join(', ')}${didYouMean(value, allowed)}.`);
  };
}

/** `--format` may repeat and take commas: `--format json,sarif`. */
function formats(value: string, previous: Format[] | undefined): Format[] {
  const parse = oneOf(FORMATS);
  return [...(previous ?? []), ...value.split(',').map((f) => parse(f.trim()))];
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * commander with mlgate's "did you mean" (src/core/suggest.ts) for unknown
 * options and commands. `unknownOption`/`unknownCommand` are the hooks
 * commander 14 calls for both; every subcommand is created through this class.
 */
class MlgateCommand extends Command {
  override createCommand(name?: string): MlgateCommand {
    return new MlgateCommand(name);
  }

  unknownOption(flag: string): never {
    const flags = this.options.filter((o) => !o.hidden).flatMap((o) => [o.long, o.short].filter((n): n is string => n !== undefined));
    // --help first: it wins ties (`--hepl` is as far from --head as from --help).
    const hint = flag.startsWith('--') ? didYouMean(flag, ['--help', '-h', ...flags]) : '';
    return this.error(`unknown option ${flag}${hint}. Run "${this.path()} --help" for the options.`, { code: 'commander.unknownOption', exitCode: 2 });
  }

  unknownCommand(): never {
    const name = String(this.args[0]);
    const names = this.commands.map((c) => c.name());
    return this.error(`unknown command ${JSON.stringify(name)}${didYouMean(name, names)}. Commands: ${names.join(', ')}.`, { code: 'commander.unknownCommand', exitCode: 2 });
  }

  /** This command and its parents, innermost first. */
  private lineage(): Command[] {
    const chain: Command[] = [this];
    while (chain[chain.length - 1]!.parent) chain.push(chain[chain.length - 1]!.parent!);
    return chain;
  }

  /** `mlgate policy show`, for messages. */
  path(): string {
    return this.lineage()
      .map((c) => c.name())
      .reverse()
      .join(' ');
  }
}

const EXIT_CODES = `Exit codes:
  0  the gate passed (there may be warnings)
  1  the gate failed
  2  configuration or usage error (policy, inputs, flags)
  3  internal error`;

const stderrLogger = (io: CliIO, verbose: boolean): Logger => ({
  debug: (m) => {
    if (verbose) io.err(`debug: ${m}\n`);
  },
  info: (m) => {
    if (verbose) io.err(`${m}\n`);
  },
  warning: (m) => io.err(`warning: ${m}\n`),
  error: (m) => io.err(`error: ${m}\n`),
});

interface CheckOptions {
  root?: string;
  policy?: string;
  base?: string;
  head?: string;
  changedFiles?: string;
  format?: Format[];
  output?: string[];
  failOn: FailOn;
  policyDir?: string;
  repository?: string;
  color: ColorChoice | false;
  minLevel: Level;
  quiet?: boolean;
  verbose?: boolean;
}

function buildProgram(io: CliIO, setCode: (n: number) => void): MlgateCommand {
  const program = new MlgateCommand('mlgate');
  program
    .description('Gate ML pull requests on security policy: model files, signatures, data provenance, pinning, threat model.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: (s, write) => write(`mlgate: ${s.replace(/^error: /, '')}`) })
    .showSuggestionAfterError(false)
    .exitOverride()
    .addHelpText('after', `\n${EXIT_CODES}\n\nDocumentation: https://github.com/mlgate/mlgate#readme`);

  program
    .command('check')
    .summary('evaluate a repository, or some of its files, against its policy')
    .description(
      'Evaluate the repository that holds PATH (default .) against its policy. The repository root is the git top level; a subdirectory or files restrict the run to them, evaluated as a change that touches just them (what pre-commit hooks and editors pass).',
    )
    .argument('[path...]', 'a directory of the repository, or files in it (default .)')
    .option('--policy <file>', 'policy file (default: .github/mlgate.yml in the repository, else the built-in mlgate:recommended); a named file must exist')
    .option('--root <dir>', 'take DIR as the repository root instead of the git top level')
    .option('--base <rev>', 'changed mode: evaluate what changed since the merge base with REV (git)')
    .option('--head <rev>', 'with --base: compare REV with this commit instead of the work tree (untracked files left out)')
    .option('--changed-files <file>', 'changed mode from a list of paths, one a line (relative to the root, or absolute inside it)')
    .addOption(new Option('--format <format>', `report format: ${FORMATS.join(', ')} (default text; repeat, or separate with commas, with an --output each)`).argParser(formats))
    .option('--output <file>', 'write the report to FILE (pairs with --format in order)', collect)
    .addOption(new Option('--fail-on <level>', 'the level at which the gate fails: error, warning or never').argParser(oneOf(FAIL_ON)).default('error'))
    .option('--policy-dir <dir>', 'read remote extends owner/repo/path@ref as DIR/owner/repo/path')
    .option('--repository <name>', 'OWNER/NAME: the repository the JSON report names (default: the origin remote; the commit and branch come from HEAD)')
    .addOption(new Option('--color <when>', 'colour the text report: auto, always or never (NO_COLOR and FORCE_COLOR are honoured with auto)').argParser(oneOf(COLOR_CHOICES)).default('auto'))
    .option('--no-color', 'same as --color never')
    .addOption(new Option('--min-level <level>', 'show findings at or above LEVEL in the text report: info, warning or error (the other formats hold every finding; the verdict is unchanged)').argParser(oneOf(LEVELS)).default('warning'))
    .option('-q, --quiet', 'print only error findings and the verdict line')
    .option('--verbose', 'log what mlgate does on standard error')
    .addHelpText(
      'after',
      `
Examples:
  mlgate check                      # the repository of the current directory
  mlgate check models/ train.py     # just these paths (pre-commit, editors)
  mlgate check --base origin/main   # what this branch changed
  mlgate check --format sarif --output mlgate.sarif --format text
  mlgate check --base origin/main --format github   # annotate the PR from any workflow step
  mlgate check --policy policies/ml.yml --fail-on warning

${EXIT_CODES}`,
    )
    .action(async (paths: string[], o: CheckOptions) => {
      const fmts = o.format ?? ['text'];
      const outputs = o.output ?? [];
      if (outputs.length > fmts.length) throw new ConfigurationError('more --output than --format options: each --output pairs with the --format before it');
      if (fmts.length - outputs.length > 1) throw new ConfigurationError('several formats need an --output each: only one report can go to standard output');
      if (o.base && o.changedFiles) throw new ConfigurationError('--base and --changed-files both list a change; pass one');
      if (o.head && !o.base) throw new ConfigurationError('--head needs --base');
      setCode(
        await runCheck(
          {
            targets: paths,
            root: o.root,
            policy: o.policy,
            base: o.base,
            head: o.head,
            changedFiles: o.changedFiles,
            formats: fmts,
            outputs,
            failOn: o.failOn,
            policyDir: o.policyDir,
            repository: o.repository,
            text: {
              color: useColor(o.color === false ? 'never' : o.color, io.env, io.stdout.isTTY === true),
              width: outputWidth(io.env, io.stdout.isTTY ? io.stdout.columns : undefined),
              quiet: o.quiet,
              minLevel: o.minLevel,
            },
            // On a terminal's stderr only (never in a pipe, a log or a report); quiet runs stay quiet.
            progress: o.quiet ? undefined : terminalProgress(io.stderr),
          },
          stderrLogger(io, o.verbose ?? false),
          io.out,
        ),
      );
    });

  const policy = program.command('policy').summary('validate or show a policy').description('Validate a policy file, or show the policy in force after extends.');
  policy
    .command('validate')
    .description('Check a policy file: exit 0, or 2 with every error located as file:line:col key.')
    .argument('<file>', 'the policy file')
    .option('--policy-dir <dir>', 'read remote extends owner/repo/path@ref as DIR/owner/repo/path')
    .addHelpText('after', '\nExamples:\n  mlgate policy validate .github/mlgate.yml\n  mlgate policy validate policies/ml.yml --policy-dir ../policy-checkouts')
    .action(async (file: string, o: { policyDir?: string }) => {
      const now = new Date();
      const resolved = await resolvePolicyFile(file, '.', o.policyDir, now);
      // What check would report about the policy itself, so a policy author sees it before any repository runs it.
      const diagnostics = policyDiagnostics(resolved, { today: now });
      for (const d of diagnostics) io.err(`${formatDiagnostic(d)}\n`);
      const errors = diagnostics.filter((d) => d.level === 'error').length;
      if (errors > 0) {
        io.err(`${file}: invalid (${errors} error${errors === 1 ? '' : 's'})\n`);
        setCode(2);
        return;
      }
      io.out(`${file}: valid (${resolved.rules.size} rule${resolved.rules.size === 1 ? '' : 's'} from ${resolved.layers.join(' → ')})${diagnostics.length ? `, ${diagnostics.length} warning${diagnostics.length === 1 ? '' : 's'}` : ''}\n`);
      setCode(0);
    });
  policy
    .command('show')
    .description('Print the fully resolved policy after extends, with the layer that set each rule.')
    .argument('[file]', 'the policy file (default: .github/mlgate.yml, else mlgate:recommended)')
    .option('--policy <file>', 'the policy file (same as FILE)')
    .option('--policy-dir <dir>', 'read remote extends owner/repo/path@ref as DIR/owner/repo/path')
    .addHelpText('after', '\nExamples:\n  mlgate policy show\n  mlgate policy show policies/ml.yml')
    .action(async (file: string | undefined, o: { policy?: string; policyDir?: string }) => {
      // The policy `check` would read: found from the repository root, and a misnamed one is an error here too.
      const { root } = await findRepositoryRoot('.');
      if ((o.policy ?? file) === undefined) await locatePolicy((p) => isFile(path.join(root, ...p.split('/'))), { option: '--policy' });
      io.out(await showPolicy(o.policy ?? file, root, o.policyDir, new Date()));
      setCode(0);
    });

  program
    .command('rules')
    .summary("list the rules, or show a rule's or a finding code's documentation")
    .description("List the rules, or show one rule's page; a finding code (model-signing/unsigned, policy/expired-exception) or a prefix shows that part of the page.")
    .argument('[id]', 'a rule id, a finding code, or a prefix of either')
    .addHelpText('after', '\nExamples:\n  mlgate rules\n  mlgate rules model-file-safety\n  mlgate rules model-signing/unsigned\n  mlgate rules inventory/symlink')
    .action(async (id: string | undefined) => {
      io.out(id === undefined ? listRules() : await describeRule(id));
      setCode(0);
    });

  program
    .command('baseline')
    .summary("accept today's findings (owner, reason, expiry) to adopt mlgate on an existing repository")
    .description(
      'Write (or update) the baseline file: one entry per current unwaived finding (fingerprint, rule, code, path, message, owner, reason, expiry). Entries waive exactly those findings until they expire; a new finding still fails. The policy gains `baseline: <file>` when it has none. Tampering codes (dangerous-global, invalid-signature, digest-mismatch, …) and findings of rules a lock closes to exceptions are never baselined, nor are findings whose entry has expired re-added: they are listed, and the exit code is 1 when one of them is an error.',
    )
    .argument('[dir]', 'the repository (default: the git top level of the current directory)')
    .option('--owner <team>', 'who answers for the accepted findings, e.g. @acme/ml-platform')
    .option('--reason <text>', 'why they are accepted, e.g. "findings before mlgate was adopted; burn-down in ML-123"')
    .option('--expires <YYYY-MM-DD>', 'last day the entries apply (at most max-exception-days ahead)')
    .option('--prune', 'only remove the entries whose finding is gone (fixed, or its file moved); adds nothing')
    .option('--file <path>', "the baseline file, relative to the repository (default: the policy's baseline key, else .github/mlgate-baseline.yml)")
    .option('--policy-dir <dir>', 'read remote extends owner/repo/path@ref as DIR/owner/repo/path')
    .option('-v, --verbose', 'log progress to standard error')
    .addHelpText(
      'after',
      '\nExamples:\n  mlgate baseline --owner @acme/ml-platform --reason "pre-existing findings, burn-down in ML-123" --expires 2027-06-30\n  mlgate baseline --prune',
    )
    .action(async (dir: string | undefined, o: { owner?: string; reason?: string; expires?: string; prune?: boolean; file?: string; policyDir?: string; verbose?: boolean }) => {
      const root = (await findRepositoryRoot(dir ?? '.')).root;
      const r = await runBaseline({ root, ...o, prune: o.prune ?? false, now: new Date(), logger: stderrLogger(io, o.verbose ?? false) });
      const lines = [`${r.file}: ${r.added} added, ${r.removed} removed, ${r.kept} kept`];
      if (r.policyEdited) lines.push(`${r.policyEdited}: added baseline: ${r.file}`);
      const where = (f: Finding) => `${f.path ?? '(repository)'}: ${f.level} ${f.code ?? f.rule}`;
      if (r.refused.length > 0) {
        lines.push(`${r.refused.length} finding${r.refused.length === 1 ? ' was' : 's were'} not baselined and still count${r.refused.length === 1 ? 's' : ''}:`);
        for (const { finding: f, why } of r.refused) lines.push(`  ${where(f)}: ${why}`);
      }
      if (r.expired.length > 0) {
        lines.push(`${r.expired.length} finding${r.expired.length === 1 ? ' has' : 's have'} an expired entry, left as it is: fix ${r.expired.length === 1 ? 'it' : 'them'}, or edit the entry's expires and reason on purpose:`);
        for (const f of r.expired) lines.push(`  ${where(f)}`);
      }
      io.out(`${lines.join('\n')}\n`);
      // Exit 1 when the gate would still fail on something the baseline could not take.
      setCode([...r.refused.map((x) => x.finding), ...r.expired].some((f) => f.level === 'error') ? 1 : 0);
    });

  program
    .command('init')
    .summary('write a starter .github/mlgate.yml (and PROVENANCE.yml for datasets)')
    .description('Write a starter .github/mlgate.yml, and a starter PROVENANCE.yml with real digests for each dataset directory without one.')
    .argument('[dir]', 'the repository (default: the git top level of the current directory, else .)')
    .option('--force', 'overwrite existing files')
    .addHelpText('after', '\nExamples:\n  mlgate init\n  mlgate init ../my-model-repo --force')
    .action(async (dir: string | undefined, o: { force?: boolean }) => {
      // Without DIR, the repository root: a policy written in a subdirectory would never be read.
      const written = await initPolicy(dir ?? (await findRepositoryRoot('.')).root, o.force ?? false);
      io.out(`wrote ${written.join(', ')}\n`);
      setCode(0);
    });

  // mlgate sign: its own block (src/cli/sign.ts).
  addSignCommand(program, io, setCode);

  // The organisation sweep: org plan, org check, report merge (src/cli/org.ts).
  registerOrgCommands(program, { env: io.env, out: io.out, err: io.err, setCode, logger: (verbose) => stderrLogger(io, verbose), oneOf });

  return program;
}

/** Runs the CLI and returns the exit code; never throws (one top-level catch). */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (n) => (code = n));
  try {
    if (argv.length === 0) {
      io.err(program.helpInformation());
      return 2;
    }
    const names = program.commands.map((c) => c.name());
    if (argv[0] === 'help' && argv[1] !== undefined && !names.includes(argv[1])) {
      io.err(`mlgate: unknown command ${JSON.stringify(argv[1])}${didYouMean(argv[1], names)}. Commands: ${names.join(', ')}.\n`);
      return 2;
    }
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version end in an "error" too, with exit code 0; help shown for a missing subcommand is a usage error.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof ConfigurationError) {
      io.err(`mlgate: ${e.details.length > 1 ? e.details.join('\n') : e.message}\n`);
      return 2;
    }
    io.err(`mlgate: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\nPlease report this at https://github.com/mlgate/mlgate/issues\n`);
    return 3;
  }
}

/** `file:line:col: level code: message`, the located form editors link. */
function formatDiagnostic(d: PolicyDiagnostic): string {
  const at = [d.path, d.line, d.column].filter((x) => x !== undefined).join(':');
  return `${at ? `${at}: ` : ''}${d.level} ${d.code}: ${d.message}`;
}
