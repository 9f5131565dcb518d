import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, type CliIO } from '../src/cli/main.js';
import { VERSION } from '../src/core/version.js';
import { runCli } from './helpers/cli.js';
import { makeRepo } from './helpers/repo.js';

/** Runs the CLI in-process with captured output (no terminal, no colour). */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = {
    out: (s) => void (out += s),
    err: (s) => void (err += s),
    stdout: { isTTY: false },
    stderr: { isTTY: false, write: (s: string) => (err += s) },
    env: { NO_COLOR: '1' },
  };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('help', () => {
  it.each([
    [['check', '--help'], 'Usage: mlgate check [options] [path...]', ['--policy <file>', '--changed-files <file>', '--fail-on <level>', '--color <when>', '--min-level <level>', '-q, --quiet', 'Examples:', 'mlgate check models/ train.py', 'Exit codes:']],
    [['policy', '--help'], 'Usage: mlgate policy [options] [command]', ['validate [options] <file>', 'show [options] [file]']],
    [['policy', 'validate', '--help'], 'Usage: mlgate policy validate [options] <file>', ['--policy-dir <dir>', 'mlgate policy validate .github/mlgate.yml']],
    [['policy', 'show', '--help'], 'Usage: mlgate policy show [options] [file]', ['--policy <file>', 'mlgate policy show policies/ml.yml']],
    [['rules', '--help'], 'Usage: mlgate rules [options] [id]', ['mlgate rules model-signing/unsigned', 'mlgate rules inventory/symlink']],
    [['init', '--help'], 'Usage: mlgate init [options] [dir]', ['--force', 'mlgate init ../my-model-repo --force']],
    [['help', 'check'], 'Usage: mlgate check [options] [path...]', ['--base <rev>']],
    [['--help'], 'Usage: mlgate [options] [command]', ['check [options] [path...]', 'policy', 'rules [id]', 'init [options] [dir]', '-V, --version', 'Exit codes:']],
  ])('%j prints its own usage, options and examples on stdout, exit 0', async (argv, usage, parts) => {
    const r = await cli(...argv);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out.startsWith(usage)).toBe(true);
    for (const p of parts) expect(r.out).toContain(p);
  });

  it('prints the version, and usage on stderr with exit 2 when no command is given', async () => {
    expect(await cli('--version')).toEqual({ code: 0, out: `${VERSION}\n`, err: '' });
    expect(await cli('-V')).toMatchObject({ code: 0, out: `${VERSION}\n` });
    const bare = await cli();
    expect(bare.code).toBe(2);
    expect(bare.err).toMatch(/^Usage: mlgate/);
    const policy = await cli('policy');
    expect(policy.code).toBe(2);
    expect(policy.err).toMatch(/^Usage: mlgate policy/);
  });
});

describe('did you mean', () => {
  it.each([
    [['chek'], 'unknown command "chek" (did you mean "check"?). Commands: check, policy, rules, baseline, init, sign, org, report.'],
    [['help', 'rulez'], 'unknown command "rulez" (did you mean "rules"?)'],
    [['policy', 'valdate', 'x.yml'], 'unknown command "valdate" (did you mean "validate"?). Commands: validate, show.'],
    [['policy', 'sho'], 'unknown command "sho" (did you mean "show"?)'],
  ])('subcommand %j', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`mlgate: ${message}`);
  });

  it.each([
    [['check', '--polcy', 'p.yml'], 'unknown option --polcy (did you mean "--policy"?). Run "mlgate check --help" for the options.'],
    [['check', '--chaged-files', 'x'], 'unknown option --chaged-files (did you mean "--changed-files"?)'],
    [['check', '--quite'], 'unknown option --quite (did you mean "--quiet"?)'],
    [['policy', 'validate', 'x.yml', '--policy-dri', 'd'], 'unknown option --policy-dri (did you mean "--policy-dir"?). Run "mlgate policy validate --help"'],
    [['policy', 'show', '--polici', 'x'], 'unknown option --polici (did you mean "--policy"?). Run "mlgate policy show --help"'],
    [['rules', '--hepl'], 'unknown option --hepl (did you mean "--help"?)'],
    [['init', '--forse'], 'unknown option --forse (did you mean "--force"?). Run "mlgate init --help"'],
    [['--verison'], 'unknown option --verison (did you mean "--version"?)'],
    [['check', '--hepl'], 'unknown option --hepl (did you mean "--help"?)'],
  ])('flag %j', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`mlgate: ${message}`);
  });

  it('says nothing it cannot back: no suggestion for a flag close to none', async () => {
    const r = await cli('check', '--zzzzzz');
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown option --zzzzzz. Run "mlgate check --help"');
    expect(r.err).not.toContain('did you mean');
  });

  it.each([
    ['--format', 'jsn', 'Expected one of text, json, sarif, markdown, github (did you mean "json"?)'],
    ['--format', 'json,sarf', 'Expected one of text, json, sarif, markdown, github (did you mean "sarif"?)'],
    ['--fail-on', 'warn', 'Expected one of error, warning, never (did you mean "warning"?)'],
    ['--color', 'alway', 'Expected one of auto, always, never (did you mean "always"?)'],
    ['--min-level', 'eror', 'Expected one of info, warning, error (did you mean "error"?)'],
  ])('value of %s %s', async (flag, value, message) => {
    const r = await cli('check', flag, value);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`argument '${value}' is invalid. ${message}`);
  });

  it.each([
    ['thret-model', 'unknown rule or code "thret-model" (did you mean "threat-model"?)'],
    ['model-signing/unsignd', 'unknown rule or code "model-signing/unsignd" (did you mean "model-signing/unsigned"?)'],
    ['policy/expird-exception', '(did you mean "policy/expired-exception"?)'],
    ['inventory/symlnk', '(did you mean "inventory/symlink"?)'],
  ])('rules %s', async (id, message) => {
    const r = await cli('rules', id);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
  });
});

describe('mlgate rules ID', () => {
  it('shows a whole rule page, or the row of one code with its rule summary and a pointer to the page', async () => {
    expect((await cli('rules', 'threat-model')).out).toMatch(/^# threat-model\n/);
    const code = await cli('rules', 'model-signing/unsigned');
    expect(code.code).toBe(0);
    expect(code.out).toMatch(/^# model-signing\n\nEvery model root/);
    expect(code.out).toContain('| `model-signing/unsigned` | a weight file of the model');
    expect(code.out).not.toContain('model-signing/invalid-signature');
    expect(code.out).toMatch(/The whole page: mlgate rules model-signing \(https:\/\/github\.com\/mlgate\/mlgate\/blob\/v.*\/docs\/rules\/model-signing\.md\)/);
  });

  it('accepts engine codes, bare sub-codes documented without their prefix, and prefixes', async () => {
    expect((await cli('rules', 'policy/expired-exception')).out).toContain('| `policy/expired-exception` | error |');
    expect((await cli('rules', 'inventory/nothing-evaluated')).out).toContain('| `inventory/nothing-evaluated` | warning |');
    // artifact-ownership documents its codes without the prefix.
    expect((await cli('rules', 'artifact-ownership/wrong-owner')).out).toContain('| `wrong-owner` |');
    const prefix = await cli('rules', 'model-signing/lfs');
    expect(prefix.out.match(/^\| `model-signing\/lfs[^`]*`/gm)).toEqual(['| `model-signing/lfs-shard-unverifiable`', '| `model-signing/lfs-unverifiable`']);
    expect((await cli('rules', 'inventory')).out).toMatch(/^# inventory\n/);
    expect((await cli('rules', 'model-sig')).out).toMatch(/^# model-signing\n/);
  });
});

describe('the bundled CLI', () => {
  it('reads unknown options as usage errors (exit 2) with a suggestion and no stack trace', () => {
    const r = runCli(['check', '--fail-on', 'warnin']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('(did you mean "warning"?)');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const h = runCli(['check', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^Usage: mlgate check/);
  });
});

describe('README', () => {
  const script = path.resolve(__dirname, '../scripts/readme-cli.mjs');
  const readmeCli = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });

  it('has the CLI section as the bundled CLI prints its --help (node scripts/readme-cli.mjs rewrites it)', () => {
    const r = readmeCli('--check');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the check fails on a stale section, and the rewrite fixes it', async () => {
    const dir = await makeRepo({});
    const copy = path.join(dir, 'README.md');
    const readme = await readFile(path.resolve(__dirname, '../README.md'), 'utf8');
    await writeFile(copy, readme.replace('--fail-on <level>', '--fail-when <level>'));
    const stale = readmeCli('--check', '--readme', copy);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(/differs from `mlgate --help`/);
    expect(readmeCli('--readme', copy).status).toBe(0);
    expect(await readFile(copy, 'utf8')).toBe(readme);
  });

  it('keeps the exit-code table, in the meaning DESIGN §5 gives it', async () => {
    const readme = await readFile(path.resolve(__dirname, '../README.md'), 'utf8');
    expect(readme).toMatch(/\| 0 \| gate passed \(there may be warnings\) \|\n\| 1 \| gate failed \|\n\| 2 \| configuration or usage error \(policy, inputs, flags\)[^\n]*\|\n\| 3 \| internal error \|/);
  });
});
