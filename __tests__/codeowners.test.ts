import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCodeowners } from '../src/formats/codeowners.js';

describe('CODEOWNERS patterns (GitHub semantics)', () => {
  const cases: [pattern: string, path: string, matches: boolean][] = [
    ['*', 'a/b.txt', true],
    ['*.js', 'src/x/app.js', true],
    ['*.js', 'src/app.jsx', false],
    ['/build/logs/', 'build/logs/a/b.txt', true],
    ['/build/logs/', 'x/build/logs/a.txt', false],
    ['docs/*', 'docs/getting-started.md', true],
    ['docs/*', 'docs/build-app/troubleshooting.md', false],
    ['docs/*', 'x/docs/a.md', false],
    ['apps/', 'x/y/apps/z.js', true],
    ['apps/', 'apps', false],
    ['/docs/', 'docs/a/b.md', true],
    ['**/logs', 'build/logs/x', true],
    ['**/logs', 'deeply/nested/logs/y', true],
    ['**/logs', 'logs/x', true],
    ['/scripts/**', 'scripts/a/b', true],
    ['/scripts/**', 'scripts', false],
    ['docs', 'a/docs/x.md', true],
    ['docs', 'docs', true],
    ['docs', 'mydocs/x.md', false],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['a/**/b', 'a/x/b/c.txt', true],
    ['foo?.txt', 'foo1.txt', true],
    ['foo?.txt', 'foo/.txt', false],
    ['/README.md', 'README.md', true],
    ['/README.md', 'x/README.md', false],
    ['src/**/*.py', 'src/a.py', true],
    ['src/**/*.py', 'src/a/b/c.py', true],
    ['/data/*.csv', 'data/a.csv', true],
    ['/data/*.csv', 'data/x/a.csv', false],
    ['Data/', 'data/a.csv', false],
    ['a.b', 'axb', false],
    ['(x)+', '(x)+', true],
  ];
  it.each(cases)('%s vs %s → %s', (pattern, path, matches) => {
    const co = parseCodeowners(`${pattern} @o`);
    expect(co.problems).toEqual([]);
    expect(co.ownerOf(path) !== undefined).toBe(matches);
  });
});

describe('CODEOWNERS lines', () => {
  it('lets the last matching line win, un-assigns with no owners, skips comments', () => {
    const co = parseCodeowners(['# owners', '* @acme/dev', '/data/ @acme/sec   # security', '/data/tmp/', '*.md docs@acme.com', ''].join('\n'));
    expect(co.ownerOf('src/a.py')).toMatchObject({ line: 2, owners: ['@acme/dev'] });
    expect(co.ownerOf('data/a.csv')).toMatchObject({ line: 3, owners: ['@acme/sec'] });
    expect(co.ownerOf('data/tmp/a.csv')).toMatchObject({ line: 4, owners: [] });
    expect(co.ownerOf('data/README.md')).toMatchObject({ line: 5, owners: ['docs@acme.com'] });
  });

  it.each([
    ['!/data/ @a', 'negation'],
    ['/data/[ab].csv @a', 'character ranges'],
    ['f\\ @a', 'escapes nothing'],
    ['/data/ acme-team', 'not a valid owner'],
    ['/data/ @a@b', 'not a valid owner'],
    ['/ @a', 'matches nothing'],
  ])('reports %s as an invalid line (%s) and ignores it', (line, why) => {
    const co = parseCodeowners(`* @x\n${line}\n`);
    expect(co.problems).toHaveLength(1);
    expect(co.problems[0]!.line).toBe(2);
    expect(co.problems[0]!.message).toContain(why);
    expect(co.ownerOf('data/a.csv')?.line).toBe(1);
  });

  it('handles CRLF and a byte-order mark', () => {
    const co = parseCodeowners('\uFEFF/data/ @a\r\n*.csv @b\r\n');
    expect(co.ownerOf('data/x.csv')).toMatchObject({ line: 2, owners: ['@b'] });
  });

  it('is linear on patterns that would backtrack catastrophically', () => {
    const co = parseCodeowners(`${'*a'.repeat(200)}b @x`);
    const t = Date.now();
    expect(co.ownerOf(`${'a'.repeat(3000)}c`)).toBeUndefined();
    expect(Date.now() - t).toBeLessThan(2000);
  });

  it('never throws on arbitrary text or paths', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), fc.string({ maxLength: 80 }), (text, path) => {
        const co = parseCodeowners(text);
        co.ownerOf(path);
        for (const p of co.problems) expect(p.line).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.array(fc.constantFrom('*', '**', '/', 'a', '.', '?', '-', ' ', '@o', '\n', '#', 'é', '\\', '!', '['), { maxLength: 40 }), (parts) => {
        parseCodeowners(parts.join('')).ownerOf('a/b/c.d');
      }),
      { numRuns: 500 },
    );
  });
});
