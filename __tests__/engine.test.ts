import { describe, expect, it } from 'vitest';
import type { Rule } from '../src/checks/rule.js';
import { FileProblem } from '../src/core/errors.js';
import { evaluate, findingLevel } from '../src/engine/evaluate.js';
import { fingerprint } from '../src/core/fingerprint.js';
import { silentLogger } from '../src/core/logger.js';
import { runRule } from '../src/engine/rule-context.js';
import { scanRepository } from '../src/inventory/scan.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { makeRepo } from './helpers/repo.js';
import { memoryProvider } from './helpers/policy.js';

const now = new Date('2026-11-28T12:00:00Z');

/** A rule for exercising the engine itself; `run` is supplied per test. */
function probeRule(run: Rule['run']): Rule {
  return {
    id: 'probe',
    title: 'Probe',
    summary: 'exercises the engine',
    defaultLevel: 'error',
    references: [{ id: 'X', url: 'https://example.com' }],
    paramsSchema: { type: 'object', additionalProperties: false, properties: {} },
    tighten: {},
    examples: { pass: { description: '', files: {}, expect: [] }, fail: { description: '', files: {}, expect: ['x'] } },
    run,
  };
}

async function runProbe(rule: Rule, files: Record<string, string> = { 'a.txt': 'a' }, budget?: { ms?: number; maxFileBytes?: number }) {
  const { inventory } = await scanRepository(await makeRepo(files));
  return runRule({ rule, params: {}, inventory, changed: null, now, logger: silentLogger, budget });
}

describe('rule budgets fail closed', () => {
  it('a rule that runs out of time ends as a budget-exceeded finding on the file it was reading', async () => {
    const rule = probeRule(async (ctx) => {
      await ctx.guard('a.txt', () => new Promise(() => {}));
    });
    const started = Date.now();
    const findings = await runProbe(rule, undefined, { ms: 100 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(findings).toEqual([expect.objectContaining({ code: 'budget-exceeded', path: 'a.txt' })]);
  });

  it('a file over the byte budget is a finding, and the rule goes on with the next file', async () => {
    const rule = probeRule(async (ctx) => {
      for (const f of ctx.inventory.files) {
        await ctx.guard(f.path, async () => {
          await ctx.inventory.readBytes(f.path, ctx.maxFileBytes);
          ctx.report({ code: 'read', path: f.path, message: 'read' });
        });
      }
    });
    const findings = await runProbe(rule, { 'big.txt': 'x'.repeat(100), 'small.txt': 'x' }, { maxFileBytes: 10 });
    expect(findings.map((f) => `${f.code}@${f.path}`)).toEqual(['budget-exceeded@big.txt', 'read@small.txt']);
  });

  it('a parse failure inside guard becomes a finding on that file', async () => {
    const rule = probeRule(async (ctx) => {
      await ctx.guard('a.txt', () => {
        throw new FileProblem('a.txt', 'bad header', 'malformed', 3);
      });
      await ctx.guard('a.txt', () => {
        JSON.parse('{');
      });
    });
    const findings = await runProbe(rule);
    expect(findings.map((f) => `${f.code}@${f.path}:${f.line ?? ''}`)).toEqual(['malformed@a.txt:3', 'unreadable@a.txt:']);
  });

  it('a rule that crashes fails the gate with an internal-error finding, and the other rules still report', async () => {
    const root = await makeRepo({ 'a.txt': 'a' });
    const crashing = probeRule(async () => {
      throw new TypeError('boom');
    });
    const report = await evaluate(
      { root, provider: memoryProvider({ '.github/mlgate.yml': 'version: 1\nrules:\n  probe: {level: warning}\n' }), mode: 'full', logger: silentLogger, toolVersion: '1.0.0', now },
      [crashing],
    );
    expect(report.findings).toEqual([expect.objectContaining({ rule: 'probe', code: 'probe/internal-error', level: 'error' })]);
    expect(report.conclusion).toBe('failure');
  });
});

describe('finding levels', () => {
  const resolved = { id: 'r', level: 'error' as const, codeLevels: { unsigned: 'warning' as const, noisy: 'off' as const }, exceptionsAllowed: true, params: {}, layers: [] };
  it.each([
    [{ code: 'x' }, 'error'],
    [{ code: 'unsigned' }, 'warning'],
    [{ code: 'noisy' }, undefined],
    [{ code: 'x', maxLevel: 'info' as const }, 'info'],
    [{ code: 'unsigned', maxLevel: 'error' as const }, 'warning'],
  ])('%j → %s', (f, want) => {
    expect(findingLevel(resolved, { message: 'm', ...f }, now)).toBe(want);
  });
  it('enforce-from caps at warning until the date', () => {
    expect(findingLevel({ ...resolved, enforceFrom: '2026-12-01' }, { code: 'x', message: 'm' }, now)).toBe('warning');
    expect(findingLevel({ ...resolved, enforceFrom: '2026-11-28' }, { code: 'x', message: 'm' }, now)).toBe('error');
  });
});

describe('fingerprints', () => {
  it('are stable when only numbers and spacing change, and differ by rule, code or path', () => {
    const a = fingerprint('threat-model', 'threat-model/stale-review', 'TM.md', 'reviewed 400 days ago');
    expect(fingerprint('threat-model', 'threat-model/stale-review', 'TM.md', 'Reviewed  401 days ago')).toBe(a);
    expect(fingerprint('threat-model', 'threat-model/stale-review', 'docs/TM.md', 'reviewed 400 days ago')).not.toBe(a);
    expect(fingerprint('threat-model', 'threat-model/missing', 'TM.md', 'reviewed 400 days ago')).not.toBe(a);
  });
});

describe('markdown summary', () => {
  const finding = (i: number, message = `problem ${i}`) => ({
    rule: 'threat-model',
    code: 'threat-model/missing-section',
    level: 'error' as const,
    message,
    path: `docs/f${i}.md`,
    line: i + 1,
    help: 'https://github.com/mlgate/mlgate/blob/v1.0.0/docs/rules/threat-model.md',
    references: [],
    fingerprint: 'f'.repeat(32),
    waived: null,
  });
  const report = (findings: ReturnType<typeof finding>[]) => ({
    version: 1 as const,
    tool: { name: 'mlgate' as const, version: '1.0.0' },
    mode: 'full' as const,
    conclusion: 'failure' as const,
    counts: { error: findings.length, warning: 0, info: 0, waived: 0 },
    findings,
    rules: [{ id: 'threat-model', level: 'error' as const, evaluated: true }],
    stats: { files: 3, bytesHashed: 0, durationMs: 1 },
    exceptions: [{ rule: 'threat-model', paths: ['docs/**'], reason: 'rewrite | soon', owner: '@acme/sec', expires: '2027-01-01', matched: 0 }],
    failOn: 'error' as const,
  });

  it('escapes repository text so it cannot inject links, HTML or table cells', () => {
    const md = renderMarkdown(report([finding(1, 'see [click](https://evil.example) <img src=x onerror=alert(1)> | cell')]));
    // A run GFM could autolink is shown as code, where Markdown has no links.
    expect(md).toContain('`[click](https://evil.example)` &lt;img src=x onerror=alert\\(1\\)&gt; &#124; cell');
    expect(md).not.toContain('<img');
    expect(md).toContain('([how to fix](https://github.com/mlgate/mlgate/blob/v1.0.0/docs/rules/threat-model.md))');
    expect(md).toContain('| threat-model | docs/\\*\\* | `@acme/sec` | 2027-01-01 | rewrite &#124; soon | 0 |');
  });

  it('stays within maxChars and says how many findings were left out', () => {
    const findings = Array.from({ length: 2000 }, (_, i) => finding(i));
    const md = renderMarkdown(report(findings), { maxChars: 65_535, overflowNote: 'The job summary and the JSON report have them all.' });
    expect(md.length).toBeLessThanOrEqual(65_535);
    const shown = md.split('\n').filter((l) => l.startsWith('- ❌')).length;
    expect(shown).toBeGreaterThan(100);
    expect(md).toContain(`**${2000 - shown} more findings not shown here.** The job summary and the JSON report have them all.`);
    expect(md).toContain('### Exceptions in force');
  });
});
