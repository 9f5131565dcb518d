import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGlobIndex } from '../src/inventory/glob-index.js';
import { matchesAny } from '../src/inventory/inventory.js';

// The index only chooses where to look; the answer must be the one testing every path gives.
const name = fc.constantFrom('a', 'b', 'data', 'config.json', 'x.py', 'y.tar.gz', '.env', 'Dockerfile', 'req.txt', 'a.b', 'c.', 'd.PY', 'config.json.bak');
const pathArb = fc.array(name, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
const globSeg = fc.constantFrom(
  'a', 'b', 'data', '*', '**', '*.py', '*.json', 'config.json', '*.{py,txt}', '{a,data}', 'x?py', '[ab]', '*.gz', '*.tar.gz', '.env', 'Dockerfile', '*file',
  '*req*.txt', 'c.', '*.', '.*', '@(a|b)', '!(a)', 'a\\*', '', '.', '..',
);
const globArb = fc.tuple(fc.array(globSeg, { minLength: 1, maxLength: 4 }), fc.constantFrom('', '', '', '/', '!', '#')).map(([segs, mod]) => {
  const g = segs.join('/');
  return mod === '/' ? `${g}/` : mod === '' ? g : `${mod}${g}`;
});
const sorted = (ps: string[]): string[] => [...new Set(ps)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe('the glob index of a listing', () => {
  it('finds exactly the paths matchesAny finds, in listing order', () => {
    fc.assert(
      fc.property(fc.array(pathArb, { maxLength: 60 }), fc.array(globArb, { minLength: 1, maxLength: 4 }), (raw, globs) => {
        const paths = sorted(raw);
        const expected = paths.flatMap((p, i) => (matchesAny(p, globs) ? [i] : []));
        expect(createGlobIndex(paths).match(globs)).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('leaves to minimatch the globs it rewrites before matching', () => {
    const paths = ['Dockerfile', 'a/b', 'a/c'];
    for (const globs of [['Dockerfile/a/..'], ['a//b'], ['./a/b'], ['a/./c'], ['a/b/'], ['/a/b']]) {
      expect(createGlobIndex(paths).match(globs), globs[0]).toEqual(paths.flatMap((p, i) => (matchesAny(p, globs) ? [i] : [])));
    }
  });

  it('answers the common shapes by looking up, and the rest by testing every path', () => {
    const paths = sorted(['a/config.json', 'a/b/config.json', 'data/x.csv', 'data/y/z.parquet', 'docker/Dockerfile', 'b/req.txt', 'b/dev-requirements.txt', 'c.py']);
    const idx = createGlobIndex(paths);
    const at = (globs: string[]) => idx.match(globs).map((i) => paths[i]);
    expect(at(['**/config.json'])).toEqual(['a/b/config.json', 'a/config.json']);
    expect(at(['data/**'])).toEqual(['data/x.csv', 'data/y/z.parquet']);
    expect(at(['**/*requirements*.txt', '**/Dockerfile'])).toEqual(['b/dev-requirements.txt', 'docker/Dockerfile']);
    expect(at(['**/*.{csv,py}'])).toEqual(['c.py', 'data/x.csv']);
    expect(at(['c.py', 'nope'])).toEqual(['c.py']);
    expect(at(['**/Docker*'])).toEqual(['docker/Dockerfile']);
    expect(at([])).toEqual([]);
  });
});
