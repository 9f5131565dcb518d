import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import type { Ajv, ValidateFunction } from 'ajv';
import AjvDraft04Import from 'ajv-draft-04';
import addFormatsImport from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { RULES } from '../src/checks/registry.js';
import type { Finding, Level } from '../src/core/types.js';
import { VERSION } from '../src/core/version.js';
import { codesOfPage, type CodeDoc } from '../src/report/code-docs.js';
import { ENGINE_PAGES, allCodes } from '../src/report/rule-pages.js';
import { MAX_SARIF_RESULTS, renderSarif } from '../src/report/sarif.js';
import { CODE_SEVERITY } from '../src/report/severity.js';
import type { Report } from '../src/report/types.js';
import { runCli } from './helpers/cli.js';
import { gitIn, makeRepo, writeTree } from './helpers/repo.js';

const require = createRequire(import.meta.url);
const addFormats = ((addFormatsImport as unknown as { default?: unknown }).default ?? addFormatsImport) as (a: unknown) => void;
const AjvDraft04 = ((AjvDraft04Import as unknown as { default?: unknown }).default ?? AjvDraft04Import) as new (o: object) => Ajv;
const ROOT = path.resolve(__dirname, '..');

/* eslint-disable @typescript-eslint/no-explicit-any */
type Sarif = any;

/** Codes every rule can report through the engine's guard, documented once rather than on every page; they use the rule's descriptor. */
const GENERIC_CODES = new Set(['unreadable', 'internal-error', 'not-in-inventory']);

let schemaValidate: ValidateFunction;
let codes: CodeDoc[];
beforeAll(async () => {
  const schema = JSON.parse(await readFile(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
  const ajv = new AjvDraft04({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  schemaValidate = ajv.compile(schema);
  codes = await allCodes();
});

/**
 * What GitHub code scanning accepts, each constraint with the page that states it.
 * Returns the violations, so a failing test names them.
 */
function githubUploadProblems(sarif: Sarif, repoRoot = '/repo'): string[] {
  const problems: string[] = [];
  // https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/results-exceed-limit
  // Hard limits: 20 runs per file, 25,000 results per run, 25,000 rules per run, 1,000 locations per result, 20 tags per rule.
  if (sarif.runs.length > 20) problems.push(`${sarif.runs.length} runs`);
  // https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/file-too-large — at most 10 MB gzip-compressed.
  const gz = gzipSync(JSON.stringify(sarif)).length;
  if (gz >= 10 * 1024 * 1024) problems.push(`${gz} bytes gzip-compressed`);
  for (const run of sarif.runs) {
    const rules: any[] = run.tool.driver.rules;
    const ids = new Set(rules.map((r) => r.id));
    if (run.results.length > 25_000) problems.push(`${run.results.length} results in a run`);
    if (rules.length > 25_000) problems.push(`${rules.length} rules in a run`);
    for (const rule of rules) {
      if ((rule.properties?.tags ?? []).length > 20) problems.push(`${rule.id}: more than 20 tags`);
      // https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#reportingdescriptor-object
      // security-severity: a string holding a number from 0.0 to 10.0 (GitHub ranks Critical >= 9.0, High >= 7.0, Medium >= 4.0, Low >= 0.1).
      const sev = rule.properties?.['security-severity'];
      if (typeof sev !== 'string' || !/^\d+(\.\d+)?$/.test(sev) || Number(sev) < 0 || Number(sev) > 10) problems.push(`${rule.id}: security-severity ${JSON.stringify(sev)}`);
    }
    // https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#runautomationdetails-object
    if (typeof run.automationDetails?.id !== 'string' || run.automationDetails.id === '') problems.push('no automationDetails.id');
    for (const [i, result] of run.results.entries()) {
      const where = `result ${i} (${result.ruleId})`;
      // https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#result-object
      // ruleId names a reportingDescriptor of the driver; a result needs at least one location.
      if (!ids.has(result.ruleId)) problems.push(`${where}: ruleId not among the driver's rules`);
      if (result.ruleIndex !== undefined && rules[result.ruleIndex]?.id !== result.ruleId) problems.push(`${where}: ruleIndex points at another rule`);
      if (!Array.isArray(result.locations) || result.locations.length === 0) problems.push(`${where}: no location`);
      else if (result.locations.length > 1000) problems.push(`${where}: ${result.locations.length} locations`);
      for (const loc of result.locations ?? []) {
        // https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#physicallocation-object
        // A relative URI with a uriBaseId, resolved against the checkout: it must stay inside the repository.
        const art = loc.physicalLocation?.artifactLocation;
        if (!art || typeof art.uri !== 'string') {
          problems.push(`${where}: no artifactLocation.uri`);
          continue;
        }
        if (art.uriBaseId !== '%SRCROOT%') problems.push(`${where}: uriBaseId ${art.uriBaseId}`);
        if (/^[a-z][a-z0-9+.-]*:/i.test(art.uri) || art.uri.startsWith('/')) problems.push(`${where}: absolute uri ${art.uri}`);
        // A file path, so no query or fragment: a `#` or `?` in a name must be percent-encoded.
        if (/[?#]/.test(art.uri)) problems.push(`${where}: uri ${art.uri} has a query or fragment`);
        const resolved = path.posix.resolve(repoRoot, decodeURI(art.uri));
        if (!resolved.startsWith(`${repoRoot}/`)) problems.push(`${where}: uri ${art.uri} leaves the repository`);
        const line = loc.physicalLocation.region?.startLine;
        if (!Number.isInteger(line) || line < 1) problems.push(`${where}: startLine ${line}`);
      }
    }
  }
  return problems;
}

let seq = 0;
function finding(over: Partial<Finding> & { rule: string }): Finding {
  seq++;
  return {
    level: 'error',
    message: `finding ${seq}`,
    help: `https://example.invalid/${over.rule}`,
    references: [],
    fingerprint: seq.toString(16).padStart(32, '0'),
    waived: null,
    ...over,
  };
}

function report(findings: Finding[], mode: Report['mode'] = 'full'): Report {
  const counts = { error: 0, warning: 0, info: 0, waived: 0 } as Record<Level, number> & { waived: number };
  for (const f of findings) counts[f.level]++;
  return {
    version: 1,
    tool: { name: 'mlgate', version: VERSION },
    mode,
    conclusion: 'failure',
    counts,
    findings,
    rules: [],
    stats: { files: 1, bytesHashed: 0, durationMs: 1 },
    exceptions: [],
    failOn: 'error',
  };
}

const driverRule = (sarif: Sarif, id: string) => sarif.runs[0].tool.driver.rules.find((r: { id: string }) => r.id === id);

describe('the code catalogue (docs/rules tables)', () => {
  it('documents every code the rules and the engine can report', async () => {
    const documented = new Set(codes.map((c) => c.code));
    const missing: string[] = [];
    for (const rule of RULES) {
      const emitted = new Set<string>([...(rule.codes ?? []), ...rule.examples.fail.expect, ...rule.examples.pass.expect]);
      const files = [path.join(ROOT, 'src/checks', `${rule.id}.ts`)];
      const dir = path.join(ROOT, 'src/checks', rule.id);
      const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
      files.push(...entries.filter((e) => e.endsWith('.ts')).map((e) => path.join(dir, e)));
      for (const file of files) {
        const text = await readFile(file, 'utf8');
        for (const m of text.matchAll(/\bcode: '([a-z0-9-]+)'/g)) emitted.add(m[1]!);
        for (const m of text.matchAll(/new FileProblem\([^;]*?, '([a-z0-9-]+)'(?:, [^)]*)?\)/g)) emitted.add(m[1]!);
      }
      expect(emitted.size, rule.id).toBeGreaterThan(0);
      for (const code of emitted) if (!GENERIC_CODES.has(code) && !documented.has(`${rule.id}/${code}`)) missing.push(`${rule.id}/${code}`);
    }
    // The engine's own codes, written in full wherever they are raised.
    const engineFiles = (await readdir(path.join(ROOT, 'src'), { recursive: true })).filter((e) => e.endsWith('.ts') && !e.startsWith('report'));
    for (const file of engineFiles) {
      const text = await readFile(path.join(ROOT, 'src', file), 'utf8');
      for (const m of text.matchAll(/'((?:policy|inventory)\/[a-z0-9-]+)'/g)) if (!documented.has(m[1]!)) missing.push(m[1]!);
    }
    const inventoryNotes = await readFile(path.join(ROOT, 'src/inventory/scan.ts'), 'utf8').catch(() => '');
    for (const m of inventoryNotes.matchAll(/\bcode: '([a-z0-9-]+)'/g)) if (!documented.has(`inventory/${m[1]}`)) missing.push(`inventory/${m[1]}`);
    expect(missing).toEqual([]);
  });

  it('gives every code row an HTML anchor named after the sub-code, the helpUri fragment', async () => {
    expect(codes.length).toBeGreaterThan(80);
    for (const c of codes) expect(c.anchor, c.code).toBe(c.code.slice(c.page.length + 1));
    // The anchors are for links into the rendered page: `mlgate rules` prints neither a page nor a row with them.
    expect(codes.every((c) => !c.row.includes('<a '))).toBe(true);
    const page = runCli(['rules', 'model-signing']);
    expect(page.stdout).toContain('| `model-signing/digest-mismatch` | the changed file |');
    expect(page.stdout).not.toContain('<a id=');
    expect(runCli(['rules', 'model-hub-pinning/budget-exceeded']).stdout).toContain('\n| `unparsable`, `budget-exceeded` | the file could not be analysed');
    const two = codesOfPage('x', '| code | meaning |\n| --- | --- |\n| <a id="a"></a><a id="b"></a>`a`, `x/b` | m |\n');
    expect(two.map((c) => [c.code, c.anchor, c.row])).toEqual([
      ['x/a', 'a', '| `a`, `x/b` | m |'],
      ['x/b', 'b', '| `a`, `x/b` | m |'],
    ]);
  });

  it('ranks every documented code, and only those, in the bands the README documents', () => {
    expect(Object.keys(CODE_SEVERITY).sort()).toEqual([...new Set(codes.map((c) => c.code))].sort());
    const score = (code: string) => CODE_SEVERITY[code]!.score;
    // Tampering, malicious model files and unsafe loads: Critical.
    for (const code of ['model-signing/digest-mismatch', 'dataset-provenance/digest-mismatch', 'model-file-safety/dangerous-global', 'model-file-safety/dynamic-import', 'unsafe-deserialization/torch-load', 'unsafe-deserialization/pickle-load', 'unsafe-deserialization/trust-remote-code'])
      expect(score(code), code).toBeGreaterThanOrEqual(9);
    // Unsigned and unpinned: Medium.
    for (const code of ['model-signing/unsigned', 'dependency-pinning/unpinned-requirement', 'dependency-pinning/unpinned-image', 'dependency-pinning/unpinned-action', 'model-hub-pinning/unpinned']) {
      expect(score(code), code).toBeGreaterThanOrEqual(5);
      expect(score(code), code).toBeLessThanOrEqual(7);
    }
    // Missing cards and sections: Low.
    for (const code of Object.keys(CODE_SEVERITY).filter((c) => c.startsWith('model-card/') || c.startsWith('threat-model/'))) expect(score(code), code).toBeLessThanOrEqual(3);
  });
});

describe('SARIF for GitHub code scanning', () => {
  it('is valid SARIF 2.1.0 and within every documented upload constraint, for every kind of finding', () => {
    const findings = [
      finding({ rule: 'model-signing', code: 'model-signing/digest-mismatch', path: 'models/clf/model.safetensors', line: 1 }),
      finding({ rule: 'model-signing', code: 'model-signing/unsigned', level: 'warning', path: 'models/a b/ünï#1.bin' }),
      finding({ rule: 'artifact-ownership', code: 'artifact-ownership/no-codeowners', level: 'warning', message: 'no CODEOWNERS file.' }),
      finding({ rule: 'threat-model', code: 'threat-model/missing', level: 'warning' }),
      finding({ rule: 'policy', code: 'policy/unpinned-extends', level: 'warning' }),
      finding({ rule: 'inventory', code: 'inventory/truncated' }),
      finding({ rule: 'model-card', code: 'model-card/internal-error' }),
      finding({ rule: 'threat-model' }),
      finding({ rule: 'dependency-pinning', code: 'dependency-pinning/unpinned-image', path: 'Dockerfile', line: 3, column: 6, endLine: 3, waived: { reason: 'base image pinned by the platform team', owner: '@acme/platform', expires: '2027-01-31' } }),
    ];
    const sarif = renderSarif(report(findings), { codes, policyPath: 'ml/policy.yml' }) as Sarif;
    expect(schemaValidate(sarif), JSON.stringify(schemaValidate.errors?.slice(0, 3))).toBe(true);
    expect(githubUploadProblems(sarif)).toEqual([]);
    const results: Sarif[] = sarif.runs[0].results;
    expect(results.map((r) => r.ruleId)).toEqual([
      'model-signing/digest-mismatch',
      'model-signing/unsigned',
      'artifact-ownership/no-codeowners',
      'threat-model/missing',
      'policy/unpinned-extends',
      'inventory/truncated',
      'model-card', // an undocumented code falls back to its rule's descriptor
      'threat-model',
      'dependency-pinning/unpinned-image',
    ]);
    const uri = (r: Sarif) => r.locations[0].physicalLocation.artifactLocation.uri;
    expect(uri(results[1])).toBe('models/a%20b/%C3%BCn%C3%AF%231.bin');
    expect(decodeURIComponent(uri(results[1]))).toBe('models/a b/ünï#1.bin');
    // Repository-level findings sit on line 1 of the file that would fix them, and say so.
    expect(results.slice(2, 6).map((r) => [uri(r), r.locations[0].physicalLocation.region])).toEqual([
      ['.github/CODEOWNERS', { startLine: 1 }],
      ['THREAT_MODEL.md', { startLine: 1 }],
      ['ml/policy.yml', { startLine: 1 }],
      ['ml/policy.yml', { startLine: 1 }],
    ]);
    expect(results[2].message.text).toBe(
      'no CODEOWNERS file (artifact-ownership/no-codeowners). This is about the repository as a whole, so it is shown on .github/CODEOWNERS, the file that would fix it.',
    );
    expect(results[8].locations[0].physicalLocation.region).toEqual({ startLine: 3, startColumn: 6, endLine: 3 });
    expect(results[8].suppressions).toEqual([{ kind: 'external', status: 'accepted', justification: 'base image pinned by the platform team (owner @acme/platform, expires 2027-01-31)' }]);
    expect(results.every((r) => /^[0-9a-f]{32}$/.test(r.partialFingerprints['mlgateFingerprint/v1']))).toBe(true);
  });

  it('describes each code from its row of the docs, ranked for code scanning', async () => {
    const sarif = renderSarif(report([]), { codes }) as Sarif;
    const rules: Sarif[] = sarif.runs[0].tool.driver.rules;
    // One descriptor per rule and engine family (the fallback), one per documented code.
    expect(rules.length).toBe(RULES.length + ENGINE_PAGES.length + new Set(codes.map((c) => c.code)).size);
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    const d = driverRule(sarif, 'model-signing/digest-mismatch');
    expect(d.name).toBe('ModelSigningDigestMismatch');
    expect(d.helpUri).toBe(`https://github.com/mlgate/mlgate/blob/v${VERSION}/docs/rules/model-signing.md#digest-mismatch`);
    expect(d.defaultConfiguration.level).toBe('error');
    expect(d.properties).toMatchObject({ precision: 'very-high', 'problem.severity': 'error', 'security-severity': '9.5' });
    expect(d.properties.tags).toEqual(expect.arrayContaining(['security', 'OMS-v1.0', 'AML.T0010']));
    const page = await readFile(path.join(ROOT, 'docs/rules/model-signing.md'), 'utf8');
    const row = page.split('\n').find((l) => l.includes('`model-signing/digest-mismatch`'))!.replace(/<a id="[^"]*"><\/a>/g, '');
    expect(d.help.markdown).toContain(`| code | where | meaning |\n| --- | --- | --- |\n${row}\n`);
    expect(d.help.text).toContain("Meaning: the file's content (or its LFS oid, or its size for shards) differs from the signed digest");
    expect(d.help.text).not.toMatch(/[`|]/);
    expect(d.fullDescription.text).toContain('Where: the changed file.');
    // A documented level wins over the rule's: a policy expiring soon is a warning, a policy changed in the PR a note.
    expect(driverRule(sarif, 'policy/expiring-exception').defaultConfiguration.level).toBe('warning');
    expect(driverRule(sarif, 'policy/changed-in-pr')).toMatchObject({ defaultConfiguration: { level: 'note' }, properties: { 'problem.severity': 'recommendation' } });
    expect(driverRule(sarif, 'model-hub-pinning/unverifiable-repo').defaultConfiguration.level).toBe('note');
    // Every helpUri fragment is an anchor of its page.
    for (const r of rules.filter((x) => x.helpUri.includes('#'))) {
      const [file, anchor] = r.helpUri.split('/docs/rules/')[1].split('#');
      expect(await readFile(path.join(ROOT, 'docs/rules', file), 'utf8'), r.id).toContain(`<a id="${anchor}"></a>`);
    }
  });

  it('names its automation category after the check and the mode, so a changed run does not close a full run’s alerts', () => {
    const full = renderSarif(report([], 'full'), { codes }) as Sarif;
    const changed = renderSarif(report([], 'changed'), { codes }) as Sarif;
    const named = renderSarif(report([], 'full'), { codes, checkName: 'ML security' }) as Sarif;
    expect([full, changed, named].map((s) => s.runs[0].automationDetails.id)).toEqual(['mlgate/full/', 'mlgate/changed/', 'ML security/full/']);
  });

  it('keeps the 25,000 most severe results when there are more, says so, and stays under 10 MB gzip-compressed', () => {
    const many: Finding[] = [];
    for (let i = 0; i < MAX_SARIF_RESULTS + 500; i++) {
      const dangerous = i % 1000 === 999;
      many.push(
        finding({
          rule: dangerous ? 'model-file-safety' : 'model-card',
          code: dangerous ? 'model-file-safety/dangerous-global' : 'model-card/missing-section',
          level: dangerous ? 'error' : 'warning',
          path: `models/m${i}/README.md`,
          line: 4,
          message: `the model card of models/m${i} has no "evaluation" section: add a \`## Evaluation\` heading with its content`,
        }),
      );
    }
    const sarif = renderSarif(report(many), { codes }) as Sarif;
    const run = sarif.runs[0];
    expect(run.results).toHaveLength(MAX_SARIF_RESULTS);
    expect(run.results.filter((r: Sarif) => r.ruleId === 'model-file-safety/dangerous-global')).toHaveLength(25);
    expect(run.invocations[0].toolExecutionNotifications[0].message.text).toMatch(/^25500 findings, more than the 25000 results .* the 500 least severe are left out/);
    expect(githubUploadProblems(sarif)).toEqual([]);
    const bytes = Buffer.byteLength(JSON.stringify(sarif, null, 2));
    const gz = gzipSync(JSON.stringify(sarif, null, 2)).length;
    expect(gz).toBeLessThan(10 * 1024 * 1024);
    expect(bytes).toBeGreaterThan(gz); // sanity: the measure is of the compressed file
  });

  it('is what `mlgate check --format sarif` writes for a repository, valid and accepted', async () => {
    const dir = await makeRepo(
      {
        'models/clf/model.safetensors': 'not really safetensors',
        'train.py': 'import torch\nm = torch.load("models/clf/model.pt")\n',
        'requirements.txt': 'torch>=2\n',
      },
      { git: true },
    );
    const full = runCli(['check', dir, '--format', 'sarif', '--fail-on', 'never']);
    expect(full.code).toBe(0);
    const sarif = JSON.parse(full.stdout);
    expect(schemaValidate(sarif), JSON.stringify(schemaValidate.errors?.slice(0, 3))).toBe(true);
    expect(githubUploadProblems(sarif, dir)).toEqual([]);
    const ids = new Set(sarif.runs[0].results.map((r: Sarif) => r.ruleId));
    for (const id of ['artifact-ownership/no-codeowners', 'threat-model/missing', 'unsafe-deserialization/torch-load', 'dependency-pinning/unpinned-requirement', 'model-file-safety/format-mismatch'])
      expect(ids, id).toContain(id);
    expect(sarif.runs[0].automationDetails.id).toBe('mlgate/full/');
    const tm = sarif.runs[0].results.find((r: Sarif) => r.ruleId === 'threat-model/missing');
    expect(tm.locations[0].physicalLocation).toEqual({ artifactLocation: { uri: 'THREAT_MODEL.md', uriBaseId: '%SRCROOT%' }, region: { startLine: 1 } });

    gitIn(dir, 'checkout', '-qb', 'pr');
    await writeTree(dir, { 'requirements.txt': 'numpy\n' });
    gitIn(dir, 'commit', '-qam', 'unpin numpy');
    const changed = JSON.parse(runCli(['check', dir, '--base', 'main', '--format', 'sarif', '--fail-on', 'never']).stdout);
    expect(changed.runs[0].automationDetails.id).toBe('mlgate/changed/');
    expect(githubUploadProblems(changed, dir)).toEqual([]);
  });
});
