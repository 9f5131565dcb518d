import fc from 'fast-check';
import { Minimatch } from 'minimatch';
import { describe, expect, it } from 'vitest';
import { compileGlob } from '../src/inventory/inventory.js';

// The fast matchers stand in for minimatch on every file of a large repository: they must agree with it.
const seg = fc.stringMatching(/^[a-zA-Z0-9._-]{1,6}$/).filter((s) => s !== '.' && s !== '..');
const pathArb = fc.array(seg, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
const GLOBS = [
  'docs/threat-model*.md', '**/Dockerfile.*', '**/*.Dockerfile', '**/Containerfile', '**/*requirements*.txt', '**/requirements/**/*.txt',
  '.github/workflows/*.yml', '**/action.yml', '*.md', 'a/*/b*.txt', '**/*.py', '**/*.{csv,tsv}', 'data/**', 'THREAT_MODEL.md', '**/.x*',
];

describe('fast glob matchers agree with minimatch', () => {
  it('on generated paths, and on paths built to match', () => {
    const mm = GLOBS.map((g) => new Minimatch(g, { dot: true }));
    fc.assert(
      fc.property(pathArb, fc.constantFrom('', '.md', '.txt', '.py', '.csv', '.yml'), fc.constantFrom('', 'docs/', '.github/workflows/', 'a/x/'), (p, ext, dir) => {
        for (const cand of [p, `${dir}${p}${ext}`, `${dir}threat-model${p.replace(/\//g, '')}${ext}`, `${p}/Dockerfile.${ext.slice(1) || 'x'}`, `${p}/requirements${ext}`]) {
          GLOBS.forEach((g, i) => expect(compileGlob(g).match(cand), `${g} ~ ${cand}`).toBe(mm[i]!.match(cand)));
        }
      }),
      { numRuns: 400 },
    );
  });
});
