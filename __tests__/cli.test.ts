import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import AjvDraft04Import from 'ajv-draft-04';
import addFormatsImport from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { gitIn, makeRepo, writeTree } from './helpers/repo.js';

const require = createRequire(import.meta.url);
const addFormats = ((addFormatsImport as unknown as { default?: unknown }).default ?? addFormatsImport) as (a: unknown) => void;
const AjvDraft04 = ((AjvDraft04Import as unknown as { default?: unknown }).default ?? AjvDraft04Import) as new (o: object) => Ajv;

const GOOD_TM = '---\nlast-reviewed: 2026-11-01\n---\n# TM\n## Assets\nx\n## Threats\nAML.T0020\n## Mitigations\ny\n';
const STRICT_TM = 'version: 1\nrules:\n  threat-model:\n    level: error\n';

describe('mlgate CLI (bundled dist/cli.js)', () => {
  it('exits 0 when the gate passes', async () => {
    const dir = await makeRepo({ 'THREAT_MODEL.md': GOOD_TM, '.github/mlgate.yml': STRICT_TM });
    const r = runCli(['check', dir]);
    expect(r.stdout).toMatch(/gate passed: 0 errors, 0 warnings/);
    expect(r.code).toBe(0);
  });

  it('exits 1 when the gate fails, with findings grouped by file', async () => {
    const dir = await makeRepo({ 'THREAT_MODEL.md': '# TM\n## Assets\nAML.T0020\n', '.github/mlgate.yml': STRICT_TM });
    const r = runCli(['check', dir]);
    expect(r.code).toBe(1);
    // Outside the working directory, paths are absolute so that a terminal can open them.
    expect(r.stdout).toContain(`${path.join(dir, 'THREAT_MODEL.md')}:1: error threat-model/missing-review-date\n    the threat model has no \`last-reviewed`);
    expect(runCli(['check'], { cwd: dir }).stdout).toMatch(/^THREAT_MODEL\.md:1: error threat-model\/missing-review-date$/m);
    expect(r.stdout).toMatch(/^ {2}threat-model(\n {4}| +)https:\/\/github\.com\/mlgate\/mlgate\/blob\/v\d+\.\d+\.\d+\/docs\/rules\/threat-model\.md$/m);
    expect(r.stdout).toMatch(/gate failed: \d+ errors/);
    expect(runCli(['check', dir, '--fail-on', 'never']).code).toBe(0);
  });

  it('exits 2 with located errors for a broken policy', async () => {
    const dir = await makeRepo({ '.github/mlgate.yml': 'version: 1\nrules:\n  threat-model:\n    level: loud\n' });
    const r = runCli(['check', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('.github/mlgate.yml:4:12: rules.threat-model.level: must be one of: off, info, warning, error');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('exits 2 for usage errors', () => {
    expect(runCli(['check', '--format', 'xml']).code).toBe(2);
    expect(runCli(['check', '--bogus']).code).toBe(2);
    expect(runCli(['frobnicate']).code).toBe(2);
    expect(runCli(['rules', 'no-such-rule']).stderr).toMatch(/unknown rule or code "no-such-rule"/);
  });

  it('exits 3 on an internal error (an I/O failure while reading the policy)', async () => {
    const dir = await makeRepo({ '.github/mlgate.yml': STRICT_TM });
    const preload = `data:text/javascript,${encodeURIComponent(
      "import fsp from 'node:fs/promises'; import { syncBuiltinESMExports } from 'node:module'; const orig = fsp.readFile; fsp.readFile = async (p, ...rest) => { if (String(p).endsWith('mlgate.yml')) { const e = new Error('EIO: i/o error, read'); e.code = 'EIO'; throw e; } return orig(p, ...rest); }; syncBuiltinESMExports();",
    )}`;
    const r = runCli(['check', dir], { nodeArgs: ['--import', preload] });
    expect(r.stderr).toMatch(/internal error: .*EIO/);
    expect(r.code).toBe(3);
  });

  it('writes a JSON report that matches the DESIGN §7 schema', async () => {
    const dir = await makeRepo({ 'THREAT_MODEL.md': '# TM\nAML.T9999\n', '.github/mlgate.yml': STRICT_TM });
    const out = path.join(dir, 'report.json');
    const r = runCli(['check', dir, '--format', 'json', '--output', out]);
    expect(r.code).toBe(1);
    const report = JSON.parse(await readFile(out, 'utf8'));
    const ajv = new Ajv({ allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(await readFile(path.resolve(__dirname, '../schema/report.schema.json'), 'utf8')));
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report).toMatchObject({ version: 1, tool: { name: 'mlgate' }, mode: 'full', conclusion: 'failure' });
    expect(report.findings.map((f: { code: string; line: number }) => `${f.code}:${f.line}`)).toContain('threat-model/unknown-atlas-id:2');
    expect(report.counts.error).toBe(report.findings.filter((f: { level: string }) => f.level === 'error').length);
  });

  it('writes SARIF 2.1.0 valid against the official schema, one descriptor per rule', async () => {
    const dir = await makeRepo({ 'THREAT_MODEL.md': '# TM\nAML.T9999\n', '.github/mlgate.yml': `${STRICT_TM}exceptions:\n  - rule: threat-model\n    paths: [THREAT_MODEL.md]\n    reason: r\n    owner: "@o"\n    expires: 2099-01-01\n` });
    const r = runCli(['check', dir, '--format', 'sarif']);
    expect(r.code).toBe(2); // the exception is more than 365 days ahead
    await writeTree(dir, { '.github/mlgate.yml': `${STRICT_TM}` });
    const ok = runCli(['check', dir, '--format', 'sarif', '--format', 'json', '--output', path.join(dir, 'r.sarif'), '--output', path.join(dir, 'r.json')]);
    expect(ok.code).toBe(1);
    const sarif = JSON.parse(await readFile(path.join(dir, 'r.sarif'), 'utf8'));
    const schema = JSON.parse(await readFile(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
    const ajv = new AjvDraft04({ allErrors: true, strict: false, unicodeRegExp: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    expect(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    const driver = sarif.runs[0].tool.driver;
    expect(new Set(driver.rules.map((d: { id: string }) => d.id)).size).toBe(driver.rules.length);
    expect(driver.rules.find((d: { id: string }) => d.id === 'threat-model').helpUri).toMatch(/\/docs\/rules\/threat-model\.md$/);
    const result = sarif.runs[0].results.find((x: { properties: { code: string } }) => x.properties.code === 'threat-model/unknown-atlas-id');
    expect(result.locations[0].physicalLocation).toMatchObject({ artifactLocation: { uri: 'THREAT_MODEL.md' }, region: { startLine: 2 } });
    expect(result.partialFingerprints['mlgateFingerprint/v1']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('evaluates only what changed with --base (git) and --changed-files', async () => {
    const dir = await makeRepo({ 'THREAT_MODEL.md': GOOD_TM, '.github/mlgate.yml': STRICT_TM, 'models/m.txt': 'x' }, { git: true });
    gitIn(dir, 'checkout', '-qb', 'pr');
    await writeTree(dir, { 'models/m.txt': 'changed' });
    gitIn(dir, 'commit', '-qam', 'touch the model');
    const r = runCli(['check', dir, '--base', 'main', '--format', 'json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.mode).toBe('changed');
    expect(report.findings.map((f: { code: string }) => f.code)).toEqual(['threat-model/not-updated']);

    await writeTree(dir, { 'changed.txt': 'docs/readme.md\n' });
    const listed = runCli(['check', dir, '--changed-files', path.join(dir, 'changed.txt'), '--format', 'json']);
    expect(JSON.parse(listed.stdout)).toMatchObject({ mode: 'changed', conclusion: 'success' });
    expect(runCli(['check', dir, '--base', 'no-such-ref']).code).toBe(2);
  });

  it('answers a bad --base before a broken policy, though git and the policy are read side by side', async () => {
    const dir = await makeRepo({ '.github/mlgate.yml': 'version: 1\nrules:\n  no-such-rule: {}\n', 'a.txt': 'a' }, { git: true });
    for (let i = 0; i < 3; i++) {
      const r = runCli(['check', dir, '--base', 'no-such-ref']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--base no-such-ref: /);
      expect(r.stderr).not.toMatch(/no-such-rule/);
    }
    // With a good base the policy's own error is what the user sees.
    const policy = runCli(['check', dir, '--base', 'main']);
    expect(policy.code).toBe(2);
    expect(policy.stderr).toMatch(/mlgate\.yml:3:\d+: rules\.no-such-rule/);
  });

  it('validates and shows policies, lists rules, and writes a starter policy', async () => {
    const dir = await makeRepo({ 'data/reviews/train.csv': 'text,label\nok,0\n' });
    const init = runCli(['init', dir]);
    expect(init.code).toBe(0);
    expect(init.stdout).toBe('wrote .github/mlgate.yml, data/PROVENANCE.yml\n');
    const starter = await readFile(path.join(dir, 'data/PROVENANCE.yml'), 'utf8');
    // the real digest of the file, and TODO for what only a person knows
    expect(starter).toContain('reviews/train.csv: {sha256: bcca7fd8859dbfce0e1e09bb6a6b941418ea4384dbf633db3f40741011c7ec10}');
    expect(starter).toMatch(/license: TODO/);
    expect(runCli(['init', dir]).code).toBe(2); // never overwrites silently
    const policy = path.join(dir, '.github/mlgate.yml');
    const valid = runCli(['policy', 'validate', policy]);
    expect(valid.stdout).toMatch(/valid \(\d+ rules from mlgate:recommended → /);
    expect(valid.code).toBe(0);

    const show = runCli(['policy', 'show', '--policy', policy]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/layers:\n {2}- mlgate:recommended\n/);
    expect(show.stdout).toMatch(/threat-model:\n {4}level: warning/);

    const rules = runCli(['rules']);
    expect(rules.stdout).toMatch(/^threat-model\s+warning\s+/m);
    const doc = runCli(['rules', 'threat-model']);
    expect(doc.stdout).toMatch(/^# threat-model/);

    expect(runCli(['--version']).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(runCli(['--help']).stdout).toMatch(/Exit codes:\n {2}0 +the gate passed.*\n {2}1 +the gate failed\n {2}2 +configuration or usage error.*\n {2}3 +internal error/);
  });
});
