import fc from 'fast-check';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml, renderOrgHtml } from '../src/report/org-html.js';
import { renderOrgMarkdown } from '../src/report/org-markdown.js';
import { MAX_ORG_FINDINGS, mergeReports, type ReportInput } from '../src/report/org-merge.js';
import type { OrgReport } from '../src/report/org-types.js';
import { runCli } from './helpers/cli.js';

const addFormats = ((addFormatsImport as unknown as { default?: unknown }).default ?? addFormatsImport) as (ajv: Ajv) => Ajv;
const NOW = new Date('2026-12-04T09:00:00Z');

async function orgSchema() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(JSON.parse(await readFile(path.resolve(__dirname, '../schema/org-report.schema.json'), 'utf8')));
}
const HELP = (rule: string) => `https://github.com/mlgate/mlgate/blob/v0.1.0/docs/rules/${rule}.md`;

interface F {
  rule: string;
  code?: string;
  level: 'error' | 'warning' | 'info';
  message?: string;
  path?: string;
  line?: number;
  waived?: boolean;
}

/** A JSON report as `check --format json` writes it. */
function report(name: string, findings: F[], exceptions: Array<{ rule: string; owner: string; expires: string; reason?: string }> = [], commit = 'a'.repeat(40)) {
  const live = findings.filter((f) => !f.waived);
  const n = (l: string) => live.filter((f) => f.level === l).length;
  return {
    version: 1,
    tool: { name: 'mlgate', version: '0.1.0' },
    repository: { name, commit, ref: 'refs/heads/main', url: `https://github.com/${name}` },
    mode: 'full',
    conclusion: n('error') > 0 ? 'failure' : 'success',
    counts: { error: n('error'), warning: n('warning'), info: n('info'), waived: findings.length - live.length },
    findings: findings.map((f) => ({
      rule: f.rule,
      code: f.code ?? null,
      level: f.level,
      message: f.message ?? `${f.rule} finding`,
      path: f.path ?? null,
      line: f.line ?? null,
      help: HELP(f.rule),
      references: [],
      fingerprint: '0'.repeat(32),
      waived: f.waived ? { reason: 'r', owner: '@o', expires: '2027-01-01' } : null,
    })),
    rules: [],
    stats: { files: 1, bytesHashed: 0, durationMs: 1 },
    exceptions: exceptions.map((e) => ({ rule: e.rule, paths: ['**'], reason: e.reason ?? 'accepted', owner: e.owner, expires: e.expires, matched: 1 })),
  };
}

const inputs = (...reports: unknown[]): ReportInput[] => reports.map((data, i) => ({ source: `r${i}.json`, data }));

describe('mergeReports', () => {
  const merged = mergeReports(
    inputs(
      report('acme/b', [{ rule: 'model-file-safety', code: 'model-file-safety/dangerous-global', level: 'error', path: 'm.pkl' }, { rule: 'model-card', level: 'warning' }]),
      report('acme/a', [{ rule: 'model-card', level: 'warning' }, { rule: 'model-signing', level: 'error', waived: true }], [
        { rule: 'model-signing', owner: '@acme/ml', expires: '2026-12-31' },
        { rule: 'dataset-provenance', owner: '@acme/data', expires: '2026-11-30' },
      ]),
      report('acme/c', [{ rule: 'model-file-safety', level: 'error' }, { rule: 'model-file-safety', level: 'warning' }], [{ rule: 'threat-model', owner: '@acme/sec', expires: '2026-12-04' }]),
      { version: 1, tool: { name: 'mlgate', version: '0.1.0' }, repository: { name: 'acme/gone', commit: null, ref: 'refs/heads/main', url: 'https://github.com/acme/gone' }, error: { stage: 'clone', reason: 'repository not found' } },
    ),
    { now: NOW, toolVersion: '0.1.0' },
  );

  it('gives each repository its verdict and counts, sorted by name', () => {
    expect(merged.repositories.map((r) => [r.name, r.status, r.counts.error, r.counts.warning, r.counts.waived])).toEqual([
      ['acme/a', 'success', 0, 1, 1],
      ['acme/b', 'failure', 1, 1, 0],
      ['acme/c', 'failure', 1, 1, 0],
      ['acme/gone', 'error', 0, 0, 0],
    ]);
    expect(merged.repositories[3]!.error).toEqual({ stage: 'clone', reason: 'repository not found' });
    expect(merged.summary).toEqual({ repositories: 4, success: 1, failure: 2, error: 1, counts: { error: 2, warning: 3, info: 0, waived: 1 } });
  });

  it('puts the repositories nobody could check first in the Markdown, then the failing ones, most errors first', () => {
    const md = renderOrgMarkdown(merged);
    expect(md).toContain('## Repositories that could not be checked (1)\n\n| repository | stage | reason |\n| --- | --- | --- |\n| [acme/gone](https://github.com/acme/gone) | clone | repository not found |');
    expect(md).toContain('## Repositories that fail (2, most errors first)');
    expect(md.indexOf('could not be checked (1)')).toBeLessThan(md.indexOf('## Repositories that fail'));
    expect(md).toMatch(/\| \[acme\/b\]\(https:\/\/github\.com\/acme\/b\) \| 1 \| 1 \| 0 \| `model-file-safety\/dangerous-global` model-file-safety finding \|/);
  });

  it('lists per rule the repositories it fails, most failing first', () => {
    expect(merged.rules).toEqual([
      { rule: 'model-file-safety', failing: ['acme/b', 'acme/c'], warning: [] },
      { rule: 'model-card', failing: [], warning: ['acme/a', 'acme/b'] },
    ]);
  });

  it('lists every exception with owner and days left, expired and expiring first', () => {
    expect(merged.exceptions.map((e) => [e.repository, e.rule, e.owner, e.daysLeft])).toEqual([
      ['acme/a', 'dataset-provenance', '@acme/data', -4],
      ['acme/c', 'threat-model', '@acme/sec', 0],
      ['acme/a', 'model-signing', '@acme/ml', 27],
    ]);
  });

  it('says what changed since the previous merge', () => {
    const previous = mergeReports(
      inputs(
        report('acme/a', [{ rule: 'model-file-safety', level: 'error' }], [{ rule: 'model-signing', owner: '@acme/ml', expires: '2026-12-31' }]),
        report('acme/b', []),
        report('acme/gone', []),
        report('acme/old', [{ rule: 'model-card', level: 'error' }]),
      ),
      { now: new Date('2026-11-27T09:00:00Z'), toolVersion: '0.1.0' },
    );
    const again = mergeReports(
      inputs(
        report('acme/b', [{ rule: 'model-file-safety', level: 'error' }]),
        report('acme/a', [], [
          { rule: 'model-signing', owner: '@acme/ml', expires: '2026-12-31' },
          { rule: 'dataset-provenance', owner: '@acme/data', expires: '2026-11-30' },
        ]),
        report('acme/c', [{ rule: 'model-file-safety', level: 'error' }]),
        { version: 1, tool: { name: 'mlgate', version: '0.1.0' }, repository: { name: 'acme/gone', commit: null, ref: null, url: null }, error: { stage: 'clone', reason: 'gone' } },
      ),
      { now: NOW, toolVersion: '0.1.0', previous: JSON.parse(JSON.stringify(previous)) as OrgReport },
    );
    expect(again.diff).toEqual({
      previous: '2026-11-27T09:00:00.000Z',
      newlyFailing: ['acme/b', 'acme/c'],
      fixed: ['acme/a'],
      newlyErrored: ['acme/gone'],
      added: ['acme/c'],
      removed: ['acme/old'],
      newExceptions: [expect.objectContaining({ repository: 'acme/a', rule: 'dataset-provenance', owner: '@acme/data' })],
    });
  });

  it('skips what is not a report, keeps the later of two reports of one repository, and never trusts a field', () => {
    const m = mergeReports(
      [
        { source: 'x.json', data: { hello: 'world' } },
        { source: 'y.json', data: [1, 2] },
        { source: 'z.json', data: { ...report('acme/a', []), counts: { error: 'many' } } },
        { source: 'acme__nameless.json', data: { ...report('acme/x', []), repository: undefined } },
        { source: 'bad.json', data: { ...report('acme/x', []), repository: { name: '../../etc', commit: null, ref: null, url: null } } },
        { source: 'a1.json', data: report('acme/a', [{ rule: 'model-card', level: 'error' }]) },
        {
          source: 'a2.json',
          data: {
            ...report('acme/a', [{ rule: 'model-card', level: 'warning' }]),
            repository: { name: 'acme/a', commit: 'not-a-sha', ref: null, url: 'javascript:alert(1)' },
          },
        },
      ],
      { now: NOW, toolVersion: '0.1.0' },
    );
    expect(m.repositories.map((r) => [r.name, r.status, r.source])).toEqual([
      ['acme/a', 'success', 'a2.json'],
      ['acme/nameless', 'success', 'acme__nameless.json'],
    ]);
    expect(m.repositories[0]).toMatchObject({ url: null, commit: null });
    expect(m.warnings).toEqual([
      'x.json: not an mlgate JSON report (version 1); skipped',
      'y.json: not an mlgate JSON report (version 1); skipped',
      'z.json: counts or findings are missing or not numbers and a list; skipped',
      'bad.json: repository.name "../../etc" is not owner/name; skipped',
      'acme/a: reported by both a1.json and a2.json; a2.json is kept',
    ]);
  });

  it('keeps at most MAX_ORG_FINDINGS findings per repository, errors first, and counts the rest', () => {
    const many: F[] = [...Array.from({ length: 150 }, (_, i) => ({ rule: 'model-card', level: 'warning' as const, message: `w${i}` })), { rule: 'model-signing', level: 'error' }];
    const m = mergeReports(inputs(report('acme/big', many)), { now: NOW, toolVersion: '0.1.0' });
    const r = m.repositories[0]!;
    expect(r.findings).toHaveLength(MAX_ORG_FINDINGS);
    expect(r.findings[0]!.rule).toBe('model-signing');
    expect(r.omitted).toBe(51);
    expect(m.rules.map((x) => x.rule)).toEqual(['model-signing', 'model-card']);
  });
});

describe('mergeReports on arbitrary input', () => {
  // Report-shaped values whose every field may be of the wrong type or hostile text.
  const text = fc.oneof(fc.string(), fc.constantFrom('<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', 'javascript:alert(1)', '2026-13-45', 'acme/x'));
  const value = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(text, { maxLength: 3 }));
  const finding = fc.record({ rule: value, code: value, level: fc.oneof(fc.constantFrom('error', 'warning', 'info'), value), message: value, path: value, line: value, help: value, waived: value }, { requiredKeys: [] });
  const reportish = fc.record(
    {
      version: fc.oneof(fc.constant(1), value),
      tool: fc.oneof(fc.constant({ name: 'mlgate', version: '1' }), value),
      repository: fc.oneof(fc.record({ name: fc.oneof(fc.constantFrom('acme/a', 'acme/b'), text), commit: value, ref: value, url: fc.oneof(text, fc.webUrl()) }, { requiredKeys: [] }), value),
      conclusion: fc.oneof(fc.constantFrom('success', 'failure'), value),
      counts: fc.oneof(fc.record({ error: fc.nat(), warning: fc.nat(), info: fc.nat(), waived: fc.nat() }), value),
      findings: fc.oneof(fc.array(fc.oneof(finding, value), { maxLength: 5 }), value),
      exceptions: fc.oneof(fc.array(fc.record({ rule: value, owner: value, expires: fc.oneof(fc.constantFrom('2026-12-01', '2027-01-31'), value), reason: value, paths: value, codes: value }, { requiredKeys: [] }), { maxLength: 3 }), value),
      error: fc.oneof(fc.record({ stage: value, reason: value }, { requiredKeys: [] }), fc.constant(undefined)),
    },
    { requiredKeys: [] },
  );

  it('never throws, writes a schema-valid report, and the page it makes holds no markup from the input', async () => {
    const validate = await orgSchema();
    fc.assert(
      fc.property(fc.array(fc.oneof(reportish, fc.anything()), { maxLength: 6 }), (datas) => {
        const m = mergeReports(inputs(...datas), { now: NOW, toolVersion: '0.1.0' });
        // Every input is accounted for: merged, skipped with a reason, or replaced by a later report of its repository.
        expect(m.repositories.length + m.warnings.length).toBe(datas.length);
        expect(m.summary.success + m.summary.failure + m.summary.error).toBe(m.repositories.length);
        expect(validate(JSON.parse(JSON.stringify(m))), JSON.stringify(validate.errors)).toBe(true);
        const html = renderOrgHtml(m);
        expect(html.match(/<script\b/g)).toHaveLength(1);
        expect(html).not.toMatch(/<img|<svg onload|href="javascript:/);
        renderOrgMarkdown(m);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the Markdown and HTML of a merged report', () => {
  const hostile = '<img src=x onerror=alert(1)> [link](javascript:alert(1)) | `x` <script>alert(2)</script>';
  const merged = mergeReports(
    inputs(
      report('acme/x', [{ rule: 'model-file-safety', code: 'model-file-safety/dangerous-global', level: 'error', message: hostile, path: 'models/a b/<c>.pkl', line: 3 }], [
        { rule: 'model-card', owner: '<b>@o</b>', expires: '2026-12-10', reason: hostile },
      ]),
    ),
    { now: NOW, toolVersion: '0.1.0' },
  );

  it('escapes every repository-controlled string in the Markdown', () => {
    const md = renderOrgMarkdown(merged);
    expect(md).not.toMatch(/<img|<script|\]\(javascript/);
    expect(md).toContain('&lt;img src=x onerror=alert\\(1\\)&gt;');
    // What GFM would autolink or mention is shown as a code span, where HTML is text too.
    expect(md).toContain('| ⏳ 6 days | acme/x | `model-card` | `<b>@o</b>` | 2026-12-10 |');
  });

  it('escapes every repository-controlled string in the HTML, links the file at the commit and the code on its docs page', () => {
    const html = renderOrgHtml(merged);
    expect(html).not.toMatch(/<img|<script>alert|<b>@o/);
    expect(html).toContain(escapeHtml(hostile));
    expect(html).toContain(`href="https://github.com/acme/x/blob/${'a'.repeat(40)}/models/a%20b/%3Cc%3E.pkl#L3"`);
    expect(html).toContain(`href="${HELP('model-file-safety')}#dangerous-global"`);
    // Only the page's own script and style may run, and nothing may load.
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!;
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; script-src 'sha256-[A-Za-z0-9+/=]+'; img-src 'none'/);
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html).not.toMatch(/(src|href)="(?!https:\/\/|#)/);
  });
});

describe('mlgate report merge', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mlgate-merge-'));
    await mkdir(path.join(dir, 'reports', 'batch-1'), { recursive: true });
    await writeFile(path.join(dir, 'reports', 'batch-1', 'acme__a.json'), JSON.stringify(report('acme/a', [{ rule: 'model-card', level: 'error' }])));
    await writeFile(path.join(dir, 'reports', 'acme__b.json'), JSON.stringify(report('acme/b', [])));
    await writeFile(path.join(dir, 'reports', 'broken.json'), '{"version": 1,');
    await writeFile(path.join(dir, 'reports', 'notes.txt'), 'not a report');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('merges a directory into JSON, Markdown and HTML at once, and compares with the previous merge', async () => {
    const prev = path.join(dir, 'prev.json');
    const first = runCli(['report', 'merge', path.join(dir, 'reports'), '--output', prev]);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/warning: .*broken\.json: not valid JSON .*; skipped/);
    await writeFile(path.join(dir, 'reports', 'acme__b.json'), JSON.stringify(report('acme/b', [{ rule: 'model-signing', level: 'error' }])));
    const r = runCli(['report', 'merge', path.join(dir, 'reports'), '--previous', prev, '--format', 'json', '--output', path.join(dir, 'out', 'org.json'), '--format', 'html', '--output', path.join(dir, 'out', 'org.html'), '--format', 'markdown']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# mlgate organisation report/);
    expect(r.stdout).toMatch(/- Newly failing \(1\): acme\/b/);
    const org = JSON.parse(await readFile(path.join(dir, 'out', 'org.json'), 'utf8')) as OrgReport;
    const validate = await orgSchema();
    expect(validate(org), JSON.stringify(validate.errors)).toBe(true);
    expect(org.diff?.newlyFailing).toEqual(['acme/b']);
    expect(org.summary).toMatchObject({ repositories: 2, failure: 2 });
    expect(await readFile(path.join(dir, 'out', 'org.html'), 'utf8')).toMatch(/^<!doctype html>/);
  });

  it('refuses a --previous that is not a merged report, and an empty input, exit 2', async () => {
    const r = runCli(['report', 'merge', path.join(dir, 'reports'), '--previous', path.join(dir, 'reports', 'acme__b.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--previous .*acme__b\.json: not a merged mlgate organisation report/);
    await mkdir(path.join(dir, 'empty'), { recursive: true });
    const e = runCli(['report', 'merge', path.join(dir, 'empty')]);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/no \.json reports found/);
    const f = runCli(['report', 'merge', path.join(dir, 'reports'), '--format', 'htm']);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/did you mean "html"/);
  });
});
