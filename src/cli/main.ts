import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigurationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { FailOn } from '../core/types.js';
import { VERSION } from '../core/version.js';
import { FORMATS, runCheck, type Format } from './check.js';
import { initPolicy, listRules, resolvePolicyFile, showPolicy } from './commands.js';

const USAGE = `mlgate ${VERSION} — gate ML pull requests on security policy

Usage:
  mlgate check [DIR]               evaluate DIR (default .) against its policy
      --policy FILE                default: DIR/.github/mlgate.yml, else mlgate:recommended
      --base REV [--head REV]      changed mode: what changed between REV and HEAD (git)
      --changed-files FILE         changed mode from a list of paths (one per line)
      --format text|json|sarif|markdown   (default text; repeat with --output for several)
      --output FILE                write the report to FILE (pairs with --format in order)
      --fail-on error|warning|never
      --policy-dir DIR             remote extends owner/repo/path@ref are read as DIR/owner/repo/path
      --no-color
  mlgate policy validate FILE      exit 0, or 2 with located errors
  mlgate policy show [--policy FILE]   the fully resolved policy after extends
  mlgate rules [ID]                list the rules, or show one rule's documentation
  mlgate init [--force]            write a starter .github/mlgate.yml
  mlgate --help | --version

Exit codes: 0 passed, 1 failed, 2 configuration or usage error, 3 internal error.
`;

const OPTIONS = {
  policy: { type: 'string' },
  base: { type: 'string' },
  head: { type: 'string' },
  'changed-files': { type: 'string' },
  format: { type: 'string', multiple: true },
  output: { type: 'string', multiple: true },
  'fail-on': { type: 'string' },
  'policy-dir': { type: 'string' },
  'no-color': { type: 'boolean' },
  force: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} satisfies ParseArgsConfig['options'];

const stderrLogger = (verbose: boolean): Logger => ({
  debug: (m) => {
    if (verbose) process.stderr.write(`debug: ${m}\n`);
  },
  info: (m) => {
    if (verbose) process.stderr.write(`${m}\n`);
  },
  warning: (m) => process.stderr.write(`warning: ${m}\n`),
  error: (m) => process.stderr.write(`error: ${m}\n`),
});

const out = (s: string) => {
  process.stdout.write(s);
};

/** Runs the CLI and returns the exit code; never throws (one top-level catch). */
export async function main(argv: string[]): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (e) {
      throw new ConfigurationError(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    }
    const { values: v, positionals } = parsed;
    if (v.version) {
      out(`${VERSION}\n`);
      return 0;
    }
    const [command, ...rest] = positionals;
    if (v.help || command === undefined || command === 'help') {
      out(USAGE);
      return v.help || command === 'help' ? 0 : 2;
    }
    const logger = stderrLogger(v.verbose ?? false);
    const now = new Date();
    switch (command) {
      case 'check': {
        if (rest.length > 1) throw new ConfigurationError(`check takes one directory, got: ${rest.join(' ')}`);
        const formats = (v.format ?? ['text']).flatMap((f) => f.split(','));
        for (const f of formats) if (!(FORMATS as readonly string[]).includes(f)) throw new ConfigurationError(`--format ${f}: expected one of ${FORMATS.join(', ')}`);
        const outputs = v.output ?? [];
        if (outputs.length > formats.length) throw new ConfigurationError('more --output than --format options');
        if (formats.length - outputs.length > 1) throw new ConfigurationError('several formats need an --output each (only one report can go to standard output)');
        const failOn = v['fail-on'] ?? 'error';
        if (!['error', 'warning', 'never'].includes(failOn)) throw new ConfigurationError(`--fail-on ${failOn}: expected error, warning or never`);
        if (v.base && v['changed-files']) throw new ConfigurationError('--base and --changed-files are exclusive');
        if (v.head && !v.base) throw new ConfigurationError('--head needs --base');
        return await runCheck(
          {
            dir: rest[0] ?? '.',
            policy: v.policy,
            base: v.base,
            head: v.head,
            changedFiles: v['changed-files'],
            formats: formats as Format[],
            outputs,
            failOn: failOn as FailOn,
            policyDir: v['policy-dir'],
            color: !v['no-color'] && process.stdout.isTTY === true && !process.env.NO_COLOR,
          },
          logger,
          out,
        );
      }
      case 'policy': {
        const [sub, file] = rest;
        if (sub === 'validate') {
          if (!file) throw new ConfigurationError('policy validate needs a FILE');
          const policy = await resolvePolicyFile(file, '.', v['policy-dir'], now);
          out(`${file}: valid (${policy.rules.size} rules from ${policy.layers.join(' → ')})\n`);
          return 0;
        }
        if (sub === 'show') {
          out(await showPolicy(v.policy ?? file, '.', v['policy-dir'], now));
          return 0;
        }
        throw new ConfigurationError(`unknown policy command ${JSON.stringify(sub ?? '')}: expected validate or show`);
      }
      case 'rules':
        out(await listRules(rest[0]));
        return 0;
      case 'init': {
        const written = await initPolicy(rest[0] ?? '.', v.force ?? false);
        out(`wrote ${written.join(', ')}\n`);
        return 0;
      }
      default:
        throw new ConfigurationError(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    }
  } catch (e) {
    if (e instanceof ConfigurationError) {
      process.stderr.write(`mlgate: ${e.details.length > 1 ? e.details.join('\n') : e.message}\n`);
      return 2;
    }
    process.stderr.write(`mlgate: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\nPlease report this at https://github.com/mlgate/mlgate/issues\n`);
    return 3;
  }
}
