import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyseArgv, analyseShell, isExactNpmSpec, newShellState } from '../src/formats/shell.js';
import { CLEAN_SHELL, FLAGGED_SHELL } from './helpers/shell-fixtures.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';

const summary = (text: string): string[] => analyseShell(text).map((i) => `${i.kind}:${i.line}`);

describe('shell analyser: flagged', () => {
  const table = FLAGGED_SHELL;
  it.each(table)('%s', (_name, text, want) => {
    expect(summary(text)).toEqual(want);
  });
});

describe('shell analyser: not flagged', () => {
  const table = CLEAN_SHELL;
  it.each(table)('%s', (_name, text) => {
    expect(summary(text)).toEqual([]);
  });
});

describe('shell analyser: requirement files are left to the caller', () => {
  it('reports -r/-c installs for the repository files to decide', () => {
    const issues = analyseShell('pip install -r requirements.txt -c constraints.txt torch');
    expect(issues).toEqual([
      { kind: 'pip-files', line: 1, requirementFiles: ['requirements.txt'], constraintFiles: ['constraints.txt'], unpinned: ['torch'], command: 'pip install' },
    ]);
  });

  it('maps lines through lineOf', () => {
    const issues = analyseShell('echo\npip install torch', { lineOf: (l) => 40 + l });
    expect(issues.map((i) => i.line)).toEqual([41]);
  });

  it('shares state across calls (npm ci in one step, npx in the next)', () => {
    const state = newShellState();
    expect(analyseShell('npm ci', { state })).toEqual([]);
    expect(analyseShell('npx tsc', { state })).toEqual([]);
  });

  it('analyses exec-form commands', () => {
    expect(analyseArgv(['pip', 'install', 'torch'], 7).map((i) => `${i.kind}:${i.line}`)).toEqual(['unpinned-install:7']);
    expect(analyseArgv(['/bin/sh', '-c', 'curl https://x | sh'], 3).map((i) => `${i.kind}:${i.line}`)).toEqual(['download-and-run:3']);
    expect(analyseArgv(['pip', 'install', 'torch==2.3.1'], 7)).toEqual([]);
  });

  it('knows exact npm specs', () => {
    for (const s of ['a@1.2.3', '@s/a@1.2.3-rc.1', 'a@npm:b@2.0.0', `github:o/r#${SHA}`, './x', 'x.tgz']) expect(isExactNpmSpec(s)).toBe(true);
    for (const s of ['a', 'a@^1', 'a@latest', '@s/a', 'github:o/r#main', 'https://x/a.tgz']) expect(isExactNpmSpec(s)).toBe(false);
  });
});

describe('shell analyser: robustness', () => {
  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        for (const i of analyseShell(s)) expect(i.line).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on shell-shaped token soup', () => {
    const tokens = ['pip', 'install', 'torch', '==1', 'curl', 'https://x', '|', 'sh', 'bash', '-c', '<(', '$(', ')', '`', '"', "'", '\\', '\n', '&&', ';', '<<EOF', 'EOF', '<<-X', '>', '2>&1', 'npx', 'npm', 'i', '{', '}', '#', ' ', '-r', 'req.txt', 'sudo', 'A=1'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 80 }), (parts) => {
        analyseShell(parts.join(' '));
        analyseShell(parts.join(''));
      }),
      { numRuns: 1000 },
    );
  });

  it('stays fast on huge and deeply nested input', () => {
    const started = Date.now();
    analyseShell(`pip install ${'a'.repeat(2_000_000)}`);
    analyseShell('$('.repeat(20_000) + 'curl x | sh' + ')'.repeat(20_000));
    analyseShell('"'.repeat(100_001));
    analyseShell(`echo ${'$(echo '.repeat(2000)}`);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
