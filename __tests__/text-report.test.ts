import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { runCheck } from '../src/cli/check.js';
import { renderProgress, terminalProgress, type ProgressTimers } from '../src/cli/progress.js';
import { outputWidth, useColor } from '../src/cli/terminal.js';
import type { EvaluateProgress } from '../src/engine/options.js';
import { silentLogger } from '../src/core/logger.js';
import type { Finding } from '../src/core/types.js';
import { renderText, type TextOptions } from '../src/report/text.js';
import type { Report } from '../src/report/types.js';
import { runCli } from './helpers/cli.js';
import { makeRepo } from './helpers/repo.js';

const DEMO = path.resolve(__dirname, '../examples/demo-repo');
const NOW = new Date('2026-12-01T12:00:00Z');

/** The demo repository's text report as the CLI prints it, with the run's duration normalised. */
async function demoText(width: number, color: boolean): Promise<string> {
  let out = '';
  const code = await runCheck(
    { targets: [], root: DEMO, formats: ['text'], outputs: [], failOn: 'error', text: { color, width }, now: NOW, cwd: DEMO },
    silentLogger,
    (s) => (out += s),
  );
  expect(code).toBe(1);
  return out.replace(/, \d+ ms\)/, ', <duration> ms)');
}

const visible = (s: string) => s.replace(/\u001b\[\d+m/g, '');

describe('text report of examples/demo-repo', () => {
  it.each([
    [80, false],
    [120, false],
    [80, true],
    [120, true],
  ])('width %i, colour %s', async (width, color) => {
    const text = await demoText(width, color);
    await expect(text).toMatchFileSnapshot(`./__snapshots__/text-demo-${width}${color ? '-color' : ''}.txt`);
    expect(text.includes('\u001b[')).toBe(color);
    const lines = visible(text).split('\n');
    // Wrapped to the width, except words that cannot be broken (URLs, digests).
    for (const line of lines) if ([...line].length > width) expect(line.trim()).not.toContain(' ');
  });
});

function finding(over: Partial<Finding>): Finding {
  return { rule: 'model-signing', level: 'error', message: 'm', help: 'https://x', references: [], fingerprint: 'f', waived: null, ...over };
}

function report(findings: Finding[], conclusion: Report['conclusion'] = 'failure'): Report {
  const counts = { error: 0, warning: 0, info: 0, waived: 0 };
  for (const f of findings) counts[f.waived ? 'waived' : f.level]++;
  return { version: 1, tool: { name: 'mlgate', version: '9.9.9' }, mode: 'full', conclusion, counts, findings, rules: [], stats: { files: 3, bytesHashed: 0, durationMs: 12 }, exceptions: [], failOn: 'error' };
}

const plain: TextOptions = { color: false, width: 80 };

describe('renderText', () => {
  it('puts path:line:col, the level and the code on one line, the message under it, and each rule’s help once at the end', () => {
    const wide: TextOptions = { color: false, width: 120 };
    const r = report([
      finding({ path: 'b.py', line: 3, column: 7, code: 'unsafe-deserialization/pickle-load', rule: 'unsafe-deserialization', message: 'first' }),
      finding({ path: 'b.py', line: 9, code: 'unsafe-deserialization/torch-load', rule: 'unsafe-deserialization', level: 'warning', message: 'second' }),
      finding({ path: 'models/m.pkl', code: 'model-signing/unsigned', message: 'third' }),
      finding({ code: 'threat-model/missing', rule: 'threat-model', level: 'warning', message: 'fourth' }),
    ]);
    expect(renderText(r, wide)).toBe(
      [
        '(repository): warning threat-model/missing',
        '    fourth',
        'b.py:3:7: error unsafe-deserialization/pickle-load',
        '    first',
        'b.py:9: warning unsafe-deserialization/torch-load',
        '    second',
        'models/m.pkl: error model-signing/unsigned',
        '    third',
        '',
        'How to fix:',
        '  model-signing           https://github.com/mlgate/mlgate/blob/v9.9.9/docs/rules/model-signing.md',
        '  threat-model            https://github.com/mlgate/mlgate/blob/v9.9.9/docs/rules/threat-model.md',
        '  unsafe-deserialization  https://github.com/mlgate/mlgate/blob/v9.9.9/docs/rules/unsafe-deserialization.md',
        '',
        '4 findings by rule: unsafe-deserialization 2, model-signing 1, threat-model 1',
        '✖ gate failed: 2 errors, 2 warnings (full, 3 files, 12 ms)',
        '',
      ].join('\n'),
    );
    // At 80 columns a link that does not fit beside its rule id gets a line of its own, unbroken.
    expect(renderText(r, plain)).toContain('\n  unsafe-deserialization\n    https://github.com/mlgate/mlgate/blob/v9.9.9/docs/rules/unsafe-deserialization.md\n');
  });

  it('--min-level hides findings but not the verdict; --quiet leaves error findings and the verdict line', () => {
    const r = report([finding({ path: 'a', message: 'bad' }), finding({ path: 'b', level: 'warning', message: 'meh' }), finding({ path: 'c', level: 'info', message: 'fyi' })]);
    const warn = renderText(r, { ...plain, minLevel: 'warning', notes: ['a note'] });
    expect(warn).toContain('b: warning');
    expect(warn).not.toContain('c: info');
    expect(warn).toContain('note: a note');
    const oneLine = (t: string) => t.replace(/\n(?!\n)/g, ' ');
    expect(oneLine(warn)).toContain('3 findings (1 below warning not shown: --min-level info shows them) by rule: model-signing 3');
    // Info is hidden by default: a terminal shows what needs doing; the JSON and SARIF reports keep everything.
    expect(renderText(r, plain)).not.toContain('c: info');
    expect(renderText(r, { ...plain, minLevel: 'info' })).toContain('c: info');
    const errOnly = renderText(r, { ...plain, minLevel: 'error' });
    expect(oneLine(errOnly)).toContain('3 findings (2 below error not shown: --min-level info shows them)');
    const onlyInfo = renderText(report([finding({ path: 'c', level: 'info', message: 'fyi' })], 'success'), { ...plain, width: 200 });
    expect(onlyInfo).toBe('1 finding (1 below warning not shown: --min-level info shows them) by rule: model-signing 1\n✔ gate passed: 0 errors, 0 warnings, 1 info (full, 3 files, 12 ms)\n');
    expect(warn).toMatch(/✖ gate failed: 1 error, 1 warning, 1 info/);
    expect(renderText(r, { ...plain, quiet: true, notes: ['a note'] })).toBe('a: error model-signing\n    bad\n✖ gate failed: 1 error, 1 warning, 1 info (full, 3 files, 12 ms)\n');
  });

  it('shows waived findings with who waived them until when', () => {
    const r = report([finding({ path: 'a', level: 'error', waived: { reason: 'legacy model', owner: '@acme/ml', expires: '2027-01-31' } })], 'success');
    const text = renderText(r, plain);
    expect(text).toContain('a: error (waived) model-signing\n    m\n    waived until 2027-01-31 by @acme/ml: legacy model\n');
    expect(text).toContain('✔ gate passed: 0 errors, 0 warnings, 1 waived');
  });

  it('never lets repository text reach the terminal as control characters', () => {
    const text = renderText(report([finding({ path: 'evil\u001b[2J.pkl', line: 1, message: 'x\u0007\u009b31m' })]), plain);
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(text).toContain('evil?[2J.pkl:1: error');
  });

  it('shows paths the way the front door asks (the CLI: relative to the working directory)', () => {
    const text = renderText(report([finding({ path: 'src/a.py', line: 2, column: 1 })]), { ...plain, displayPath: (p) => `../${p}` });
    expect(text).toMatch(/^\.\.\/src\/a\.py:2:1: error model-signing$/m);
  });

  it('colours the level and verdict only when asked', () => {
    const r = report([finding({ path: 'a' })]);
    expect(renderText(r, { ...plain, color: true })).toContain('\u001b[31merror\u001b[0m');
    expect(renderText(r, plain)).not.toContain('\u001b');
  });
});

describe('colour and width', () => {
  it.each([
    ['auto', {}, true, true],
    ['auto', {}, false, false],
    ['auto', { NO_COLOR: '1' }, true, false],
    ['auto', { NO_COLOR: '' }, true, true],
    ['auto', { FORCE_COLOR: '1' }, false, true],
    ['auto', { FORCE_COLOR: '0' }, true, false],
    ['auto', { NO_COLOR: '1', FORCE_COLOR: '1' }, true, false],
    ['auto', { TERM: 'dumb' }, true, false],
    ['always', { NO_COLOR: '1' }, false, true],
    ['never', { FORCE_COLOR: '1' }, true, false],
  ] as const)('--color %s with %j on a TTY=%s → %s', (choice, env, tty, expected) => {
    expect(useColor(choice, env, tty)).toBe(expected);
  });

  it('wraps to COLUMNS, else the terminal, else 80', () => {
    expect(outputWidth({}, undefined)).toBe(80);
    expect(outputWidth({}, 132)).toBe(132);
    expect(outputWidth({ COLUMNS: '100' }, 132)).toBe(100);
    expect(outputWidth({ COLUMNS: 'wide' }, undefined)).toBe(80);
  });

  it('honours FORCE_COLOR and NO_COLOR in the bundled CLI when output is not a terminal', async () => {
    const dir = await makeRepo({ 'train.py': 'import pickle\npickle.load(open("m", "rb"))\n' });
    expect(runCli(['check', dir], { env: { NO_COLOR: '', FORCE_COLOR: '1' } }).stdout).toContain('\u001b[31merror\u001b[0m');
    expect(runCli(['check', dir, '--color', 'always']).stdout).toContain('\u001b[');
    expect(runCli(['check', dir, '--no-color'], { env: { NO_COLOR: '', FORCE_COLOR: '1' } }).stdout).not.toContain('\u001b[');
    expect(runCli(['check', dir], { env: { FORCE_COLOR: '1' } }).stdout).not.toContain('\u001b['); // NO_COLOR=1 from the helper wins
  });
});

const state = (over: Partial<EvaluateProgress> = {}): EvaluateProgress => ({ filesRead: 12, filesTotal: 3400, bytesHashed: 3 * 1024 ** 3 + 1024 ** 3 / 2, rulesDone: 4, rulesTotal: 9, running: ['model-signing', 'model-file-safety'], ...over });

describe('progress', () => {
  it('renders files, bytes, rules and the rule still running, within the width', () => {
    expect(renderProgress(state(), 120)).toBe('mlgate: 12/3400 files · 3.5 GiB hashed · rules 4/9 · model-signing +1');
    expect(renderProgress(state({ rulesTotal: 0, rulesDone: 0, running: [], bytesHashed: 0 }), 120)).toBe('mlgate: listing files…');
    expect([...renderProgress(state(), 30)].length).toBeLessThan(30);
  });

  it('draws on a terminal only after the delay, redraws in place, and erases itself at the end', () => {
    vi.useFakeTimers();
    try {
      const writes: string[] = [];
      const timers: ProgressTimers = { setTimeout, setInterval, clear: (h) => clearTimeout(h as NodeJS.Timeout) };
      const port = terminalProgress({ isTTY: true, columns: 100, write: (s) => writes.push(s) }, { delayMs: 2000, everyMs: 200, timers })!;
      let s = state();
      port.start(() => s);
      vi.advanceTimersByTime(1900);
      expect(writes).toEqual([]);
      vi.advanceTimersByTime(200);
      expect(writes).toEqual([`\r\u001b[2K${renderProgress(state(), 100)}`]);
      s = state({ rulesDone: 8, running: ['model-signing'] });
      vi.advanceTimersByTime(200);
      expect(writes.at(-1)).toBe(`\r\u001b[2K${renderProgress(s, 100)}`);
      port.stop();
      expect(writes.at(-1)).toBe('\r\u001b[2K');
      const count = writes.length;
      vi.advanceTimersByTime(5000);
      expect(writes.length).toBe(count);
    } finally {
      vi.useRealTimers();
    }
  });

  it('falls back to 80 columns on a terminal that reports none', () => {
    vi.useFakeTimers();
    try {
      const writes: string[] = [];
      const port = terminalProgress({ isTTY: true, columns: 0, write: (s) => writes.push(s) })!;
      port.start(() => state());
      vi.advanceTimersByTime(2100);
      port.stop();
      expect(writes[0]).toBe(`\r\u001b[2K${renderProgress(state(), 80)}`);
      expect(writes[0]).toContain('model-signing');
    } finally {
      vi.useRealTimers();
    }
  });

  it('a run that ends before the delay writes nothing; a non-terminal gets no progress at all', () => {
    vi.useFakeTimers();
    try {
      const writes: string[] = [];
      const port = terminalProgress({ isTTY: true, write: (s) => writes.push(s) })!;
      port.start(() => state());
      vi.advanceTimersByTime(1500);
      port.stop();
      vi.advanceTimersByTime(5000);
      expect(writes).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
    expect(terminalProgress({ isTTY: false, write: () => undefined })).toBeUndefined();
  });

  it('the bundled CLI prints no progress when stderr is not a terminal, whatever the format', async () => {
    const dir = await makeRepo({ 'train.py': 'import pickle\npickle.load(open("m", "rb"))\n' });
    for (const format of ['text', 'json', 'sarif']) {
      const r = runCli(['check', dir, '--format', format]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('');
      expect(r.stdout).not.toContain('mlgate: ');
    }
  });
});
