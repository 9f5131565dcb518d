import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fromMarkdown } from 'mdast-util-from-markdown';
import type { Nodes } from 'mdast';
import { describe, expect, it } from 'vitest';
import { fit, publish } from '../src/action/publish.js';
import { runCheck } from '../src/cli/check.js';
import { cliPolicyProvider } from '../src/cli/provider.js';
import { evaluate } from '../src/engine/evaluate.js';
import { silentLogger } from '../src/core/logger.js';
import type { Finding } from '../src/core/types.js';
import type { CheckResult, CheckRun } from '../src/github/check-run.js';
import { renderMarkdown } from '../src/report/markdown.js';
import type { Report } from '../src/report/types.js';
import { makeRepo } from './helpers/repo.js';

const ROOT = path.resolve(__dirname, '..');
const DEMO = path.join(ROOT, 'examples/demo-repo');
const NOW = new Date('2026-12-01T12:00:00Z');

async function demoSummary(): Promise<string> {
  let out = '';
  const code = await runCheck({ targets: [], root: DEMO, formats: ['markdown'], outputs: [], failOn: 'error', text: { color: false, width: 80 }, now: NOW, cwd: DEMO }, silentLogger, (s) => (out += s));
  expect(code).toBe(1);
  return out;
}

/** What a CommonMark reader makes of a summary: block structure, links, and the HTML blocks. */
function read(md: string) {
  const out = { headings: [] as string[], links: [] as string[], html: [] as string[], listItems: 0, tableParagraphLines: 0 };
  const visit = (n: Nodes) => {
    if (n.type === 'heading') out.headings.push(n.children.map((c) => ('value' in c ? c.value : '')).join(''));
    if (n.type === 'link') out.links.push(n.url);
    if (n.type === 'html') out.html.push(n.value);
    if (n.type === 'listItem') out.listItems++;
    // A table without the GFM extension is one paragraph: its source lines must be all the lines that start with a pipe.
    if (n.type === 'paragraph') out.tableParagraphLines += md.slice(n.position!.start.offset, n.position!.end.offset).split('\n').filter((l) => l.startsWith('|')).length;
    if ('children' in n) for (const c of n.children) visit(c as Nodes);
  };
  visit(fromMarkdown(md));
  return out;
}

/**
 * The rendering check: every table row has as many cell separators as its
 * header (GFM splits on any unescaped `|`, even in code), `<details>` opens and
 * closes as real HTML blocks in pairs, and every link is a page under docs/.
 */
function expectWellFormed(md: string): void {
  const lines = md.split('\n');
  const pipes = (l: string) => l.replace(/\\\|/g, '').split('|').length - 1;
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('|') || lines[i - 1]?.startsWith('|')) continue;
    const header = pipes(lines[i]!);
    for (let j = i; j < lines.length && lines[j]!.startsWith('|'); j++) expect(pipes(lines[j]!), lines[j]).toBe(header);
  }
  const r = read(md);
  expect(r.tableParagraphLines).toBe(lines.filter((l) => l.startsWith('|')).length);

  let depth = 0;
  for (const l of lines) {
    if (l.startsWith('<details>')) depth++;
    if (l === '</details>') depth--;
    expect(depth).toBeGreaterThanOrEqual(0);
    expect(depth).toBeLessThanOrEqual(1);
  }
  expect(depth).toBe(0);
  const opens = r.html.filter((h) => h.startsWith('<details>')).length;
  expect(r.html.filter((h) => h === '</details>').length).toBe(opens);
  expect(opens).toBe(lines.filter((l) => l.startsWith('<details>')).length);

  for (const url of r.links) {
    const m = /^https:\/\/github\.com\/mlgate\/mlgate\/blob\/v[^/]+\/(docs\/[a-z0-9/-]+\.md)$/.exec(url);
    expect(m, url).not.toBeNull();
    expect(existsSync(path.join(ROOT, m![1]!)), url).toBe(true);
  }
}

describe('the check-run summary of examples/demo-repo', () => {
  it('matches the golden file', async () => {
    await expect(await demoSummary()).toMatchFileSnapshot('./__snapshots__/summary-demo.md');
  });

  it('reads verdict, what blocks the PR, the table, then the warnings collapsed', async () => {
    const md = await demoSummary();
    expectWellFormed(md);
    const at = (s: string) => {
      const i = md.indexOf(s);
      expect(i, s).toBeGreaterThanOrEqual(0);
      return i;
    };
    expect(at('❌ **Gate failed**')).toBeLessThan(at('**What blocks this PR**'));
    expect(at('**What blocks this PR**')).toBeLessThan(at('| Rule |'));
    expect(at('| Rule |')).toBeLessThan(at('<details><summary>⚠️ 21 warnings'));
    const [blocking, rest] = md.split('### Findings');
    // The five errors, each with its file:line and the message that ends with the fix.
    const errors = blocking!.split('\n').filter((l) => l.startsWith('- ❌'));
    expect(errors).toHaveLength(5);
    expect(errors).toContain(
      '- ❌ **error** `unsafe-deserialization/pickle-load` serving/app.py:6: pickle.load unpickles its input with pickle, which runs any code the data names; load only data you produced and verified, or switch to a data-only format \\(safetensors, JSON, Parquet, NumPy without pickle\\) ([how to fix](https://github.com/mlgate/mlgate/blob/v0.1.0/docs/rules/unsafe-deserialization.md))',
    );
    expect(rest!.split('\n').filter((l) => l.startsWith('- ⚠️'))).toHaveLength(21);
    expect(rest).not.toContain('- ❌');
    expect(read(md).listItems).toBe(26);
  });

  it('is what the action sends to the check run, with one annotation per finding on a file', async () => {
    const md = await demoSummary();
    // The same evaluation through the action's publisher (the demo has no exceptions, so the day does not matter).
    const report = await evaluate({ root: DEMO, policyPath: '.github/mlgate.yml', provider: cliPolicyProvider(DEMO, undefined, new Map()), mode: 'full', failOn: 'error', now: NOW, logger: silentLogger, toolVersion: '0.1.0' });
    let sent: CheckResult | undefined;
    const check = { complete: async (r: CheckResult) => void (sent = r) } as unknown as CheckRun;
    const dir = await makeRepo({});
    const saved = { summary: process.env.GITHUB_STEP_SUMMARY, output: process.env.GITHUB_OUTPUT };
    delete process.env.GITHUB_STEP_SUMMARY;
    // Step outputs go to the runner's file, not this test's log.
    process.env.GITHUB_OUTPUT = path.join(dir, 'outputs');
    await writeFile(process.env.GITHUB_OUTPUT, '');
    try {
      await publish({ report, inputs: { policy: '.github/mlgate.yml', token: 't', mode: 'auto', failOn: 'error', checkName: 'mlgate', sarif: '' }, check, root: dir, links: {}, tempDir: dir, logger: silentLogger });
    } finally {
      for (const [key, value] of [['GITHUB_STEP_SUMMARY', saved.summary], ['GITHUB_OUTPUT', saved.output]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    expect(sent!.summary).toBe(md.trimEnd());
    expect(sent!.title).toBe('5 errors, 21 warnings');
    const onFiles = report.findings.filter((f) => f.path);
    expect(sent!.annotations).toHaveLength(onFiles.length);
    for (const a of sent!.annotations) {
      const f = onFiles.find((x) => x.code === a.title && x.path === a.path && (x.line ?? 1) === a.start_line && x.message === a.message)!;
      expect(f, a.title).toBeDefined();
      expect(a.annotation_level).toBe({ error: 'failure', warning: 'warning', info: 'notice' }[f.level]);
      expect(a.raw_details.startsWith(`How to fix: ${f.help}`)).toBe(true);
    }
  });
});

function finding(over: Partial<Finding>): Finding {
  return { rule: 'model-file-safety', code: 'model-file-safety/dangerous-global', level: 'error', message: 'm', help: 'https://github.com/mlgate/mlgate/blob/v1.0.0/docs/rules/model-file-safety.md', references: [], fingerprint: 'f', waived: null, ...over };
}

function report(findings: Finding[], over: Partial<Report> = {}): Report {
  const counts = { error: 0, warning: 0, info: 0, waived: 0 };
  for (const f of findings) counts[f.waived ? 'waived' : f.level]++;
  return {
    version: 1,
    tool: { name: 'mlgate', version: '1.0.0' },
    mode: 'changed',
    conclusion: counts.error > 0 ? 'failure' : 'success',
    counts,
    findings,
    rules: [{ id: 'model-file-safety', level: 'error', evaluated: true }],
    stats: { files: 4, bytesHashed: 0, durationMs: 1 },
    exceptions: [],
    failOn: 'error',
    ...over,
  };
}

const HOSTILE = ['a|b', '</details>\n\n# forged', '<details><summary>x', '| forged | row |\n| --- | --- |', 'see [x](https://evil.example/docs/rules/a.md)', 'x\r</details>\r<details>', '`|`'];

describe('the summary stays well formed', () => {
  const waiver = { reason: 'legacy </details> | model', owner: '@acme/ml', expires: '2026-12-31' };

  it('lists the exceptions in force with their owner and days left', () => {
    const md = renderMarkdown(
      report([finding({ path: 'm.pkl', waived: waiver })], {
        exceptions: [
          { rule: 'model-file-safety', paths: ['models/legacy/**'], ...waiver, matched: 1 },
          { rule: 'model-signing', paths: ['a|b'], reason: 'r', owner: '@acme/sec', expires: '2026-12-02', matched: 0 },
          { rule: 'model-signing', paths: ['c'], reason: 'r', owner: '@acme/sec', expires: '2026-12-01', matched: 0 },
        ],
      }),
      { now: NOW },
    );
    expectWellFormed(md);
    expect(md).toContain('| model-file-safety | models/legacy/\\*\\* | `@acme/ml` | 2026-12-31 | legacy &lt;/details&gt; &#124; model | 1 | 30 days |');
    expect(md).toContain('| 0 | 1 day |');
    expect(md).toContain('| 0 | last day |');
    // Nothing blocks: the waived finding is collapsed, with who waived it until when.
    expect(md).toContain('✅ **Gate passed**');
    expect(md).not.toContain('What blocks');
    expect(md).toContain('<details><summary>1 waived finding (an exception in force covers it)</summary>');
  });

  it('with fail-on warning the warnings block too; with fail-on never nothing does', () => {
    const findings = [finding({ path: 'a.pkl' }), finding({ path: 'b.txt', level: 'warning', code: 'model-file-safety/unknown-format' }), finding({ path: 'c', level: 'info', code: 'policy/changed-in-pr', rule: 'policy', help: 'https://github.com/mlgate/mlgate/blob/v1.0.0/docs/rules/policy.md' })];
    const warn = renderMarkdown(report(findings, { failOn: 'warning' }));
    expectWellFormed(warn);
    expect(warn).toContain('these 2 findings block');
    expect(warn.split('### Findings')[0]).toContain('b.txt');
    expect(warn).toContain('<details><summary>ℹ️ 1 info that does not block this PR</summary>');
    const never = renderMarkdown(report(findings, { failOn: 'never', conclusion: 'success' }));
    expectWellFormed(never);
    expect(never).not.toContain('What blocks');
    expect(never).toContain('<details><summary>❌ 1 error that does not block this PR</summary>');
  });

  it('whatever the repository text, and however hard it is truncated', () => {
    const findings = HOSTILE.flatMap((s, i) => [
      finding({ path: `models/${s}.pkl`, line: i + 1, message: s }),
      finding({ path: s, level: 'warning', code: 'model-file-safety/unknown-format', message: `warn ${s}` }),
      finding({ path: `w/${s}`, level: 'info', message: s, waived: { reason: s, owner: s, expires: '2027-01-01' } }),
    ]);
    const exceptions = HOSTILE.map((s) => ({ rule: s, paths: [s, 'x'], reason: s, owner: s, expires: s, matched: 1 }));
    const r = report(findings, { exceptions, rules: [{ id: 'model-file-safety', level: 'error', evaluated: true }, { id: 'model-signing', level: 'warning', evaluated: true }] });
    const full = renderMarkdown(r, { now: NOW });
    expectWellFormed(full);
    expect(read(full).listItems).toBe(findings.length);
    expect(read(full).headings).toEqual(['mlgate 1.0.0', 'Findings', 'Exceptions in force']);
    const notes: string[] = [];
    for (const max of [200, 900, 1500, 2500, 4000, full.length - 1]) {
      const md = renderMarkdown(r, { now: NOW, maxChars: max });
      expect(md.length).toBeLessThanOrEqual(max);
      expectWellFormed(md);
      const shown = read(md).listItems;
      // Left-out findings are always said: counted, or (when even the tables do not fit) the whole summary marked as cut.
      if (md.includes('more finding')) expect(md).toContain(`**${findings.length - shown} more finding`);
      else if (shown < findings.length) expect(md).toMatch(/> \*\*Summary truncated\.\*\* See the full JSON report\.$/);
      notes.push(md.includes('more finding') ? 'counted' : shown < findings.length ? 'cut' : 'all');
    }
    expect(notes).toEqual(['cut', 'counted', 'counted', 'counted', 'counted', 'counted']);
  });

  it('when the action fits it to the check run’s byte limit, with multi-byte text', () => {
    const wide = '数据集/模型|</details>';
    const findings = Array.from({ length: 60 }, (_, i) => finding({ path: `${wide}${i}.pkl`, level: i % 3 === 0 ? 'error' : 'warning', message: wide.repeat(8) }));
    const exceptions = Array.from({ length: 30 }, (_, i) => ({ rule: wide, paths: [`${wide}${i}`], reason: wide.repeat(4), owner: '@数据', expires: '2027-01-01', matched: 0 }));
    const r = report(findings, { exceptions });
    for (const limit of [700, 2_000, 5_000, 12_000, 40_000]) {
      const md = fit(r, limit, 'The job summary has them all.');
      expect(Buffer.byteLength(md)).toBeLessThanOrEqual(limit);
      // Whatever was left out, the reader is told where the rest is.
      if (read(md).listItems < findings.length || !md.includes('### Exceptions in force') || md.split('\n').filter((l) => l.startsWith('| 数据')).length < 30) expect(md).toContain('The job summary has them all.');
      else expect(md).not.toContain('The job summary has them all.');
      expectWellFormed(md);
    }
  });
});
