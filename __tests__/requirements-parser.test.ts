import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isExactSpecifier, normalizeName, parseRequirements, parseRequirementSpec } from '../src/formats/requirements.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const H = 'a'.repeat(64);

describe('parseRequirementSpec', () => {
  const table: [string, { name: string | null; kind: string; pinned: boolean; invalid?: boolean }][] = [
    ['torch==2.3.1', { name: 'torch', kind: 'named', pinned: true }],
    ['torch == 2.3.1', { name: 'torch', kind: 'named', pinned: true }],
    ['torch==2.3.1+cu121', { name: 'torch', kind: 'named', pinned: true }],
    ['torch===2.3.1-custom', { name: 'torch', kind: 'named', pinned: true }],
    ['torch==2.*', { name: 'torch', kind: 'named', pinned: false }],
    ['torch>=2,<3', { name: 'torch', kind: 'named', pinned: false }],
    ['torch~=2.3', { name: 'torch', kind: 'named', pinned: false }],
    ['torch', { name: 'torch', kind: 'named', pinned: false }],
    ['torch>=2,==2.3.1', { name: 'torch', kind: 'named', pinned: true }],
    ['transformers[torch]==4.41.2 ; python_version >= "3.9"', { name: 'transformers', kind: 'named', pinned: true }],
    ['requests (==2.32.3)', { name: 'requests', kind: 'named', pinned: true }],
    ['numpy==${NUMPY_VERSION}', { name: 'numpy', kind: 'named', pinned: true }],
    ['numpy==not a version', { name: 'numpy', kind: 'named', pinned: false }],
    [`git+https://github.com/org/lib@${SHA}#egg=lib`, { name: 'lib', kind: 'vcs', pinned: true }],
    ['git+https://github.com/org/lib@main#egg=lib', { name: 'lib', kind: 'vcs', pinned: false }],
    ['git+ssh://git@github.com/org/lib.git', { name: null, kind: 'vcs', pinned: false }],
    [`lib @ git+https://github.com/org/lib@${SHA}`, { name: 'lib', kind: 'vcs', pinned: true }],
    [`pkg @ https://files.example.com/pkg-1.0.tar.gz#sha256=${H}`, { name: 'pkg', kind: 'url', pinned: true }],
    ['pkg @ https://files.example.com/pkg-1.0.tar.gz', { name: 'pkg', kind: 'url', pinned: false }],
    [`https://example.com/pkg-1.0-py3-none-any.whl#sha256=${H}`, { name: null, kind: 'url', pinned: true }],
    ['./vendor/pkg', { name: null, kind: 'path', pinned: true }],
    ['.', { name: null, kind: 'path', pinned: true }],
    ['dist/pkg-1.0-py3-none-any.whl', { name: null, kind: 'path', pinned: true }],
    ['file:///opt/wheels/pkg.whl', { name: null, kind: 'path', pinned: true }],
    ['torch 2.0', { name: 'torch', kind: 'named', pinned: false, invalid: true }],
    ['!!!', { name: null, kind: 'named', pinned: false, invalid: true }],
  ];
  it.each(table)('%s', (text, want) => {
    const spec = parseRequirementSpec(text);
    expect({ name: spec.name, kind: spec.kind, pinned: spec.pinned, invalid: spec.invalid !== undefined }).toEqual({ invalid: false, ...want });
  });

  it('judges specifier sets with PEP 440 versions', () => {
    expect(isExactSpecifier('==1.0.0rc1')).toBe(true);
    expect(isExactSpecifier('==1!2.0')).toBe(true);
    expect(isExactSpecifier('!=1.0')).toBe(false);
    expect(isExactSpecifier('==')).toBe(false);
  });

  it('normalises names as PEP 503 does', () => {
    expect(normalizeName('Foo.Bar__baz')).toBe('foo-bar-baz');
  });
});

describe('parseRequirements', () => {
  it('keeps lines across continuations, comments, options and hashes', () => {
    const text = [
      '# pinned by pip-compile', //              1
      '--index-url https://pypi.org/simple', //   2
      '-r base.txt', //                            3
      '-c constraints.txt', //                     4
      'torch==2.3.1 \\', //                        5
      `    --hash=sha256:${H} \\`, //              6
      `    --hash sha256:${'b'.repeat(64)}`, //    7
      '', //                                       8
      'numpy>=1.26  # range on purpose', //        9
      '-e ./local', //                             10
      '--require-hashes', //                       11
      '-rnested.txt', //                           12
      '--requirement=other.txt', //                13
      'pkg#not-a-comment==1.0', //                14
    ].join('\r\n');
    const parsed = parseRequirements(text);
    expect(parsed.requireHashes).toBe(true);
    expect(parsed.entries.map((e) => [e.line, e.endLine, e.kind, e.target ?? e.spec?.name, e.hashes.length])).toEqual([
      [2, 2, 'option', '--index-url', 0],
      [3, 3, 'include', 'base.txt', 0],
      [4, 4, 'constraint', 'constraints.txt', 0],
      [5, 7, 'requirement', 'torch', 2],
      [9, 9, 'requirement', 'numpy', 0],
      [10, 10, 'editable', './local', 0],
      [11, 11, 'option', '--require-hashes', 0],
      [12, 12, 'include', 'nested.txt', 0],
      [13, 13, 'include', 'other.txt', 0],
      [14, 14, 'requirement', 'pkg', 0],
    ]);
    expect(parsed.entries[3]!.spec!.pinned).toBe(true);
    expect(parsed.entries[4]!.spec!.pinned).toBe(false);
    expect(parsed.entries[9]!.spec!.invalid).toBeDefined();
  });

  it('never throws and stays linear on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (s) => {
        const parsed = parseRequirements(s);
        for (const e of parsed.entries) expect(e.line).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.array(fc.constantFrom('torch', '==', '1.2', '\\\n', '#', ' ', '-r', '--hash=', ';', '@', 'git+', '://', '[', ']', '"', '\n'), { maxLength: 60 }), (parts) => {
        parseRequirements(parts.join(''));
        parseRequirementSpec(parts.join(''));
      }),
      { numRuns: 500 },
    );
  });

  it('parses a 3 MB single line quickly', () => {
    const started = Date.now();
    parseRequirements(`torch${'='.repeat(3_000_000)}1`);
    parseRequirements(`${'a'.repeat(3_000_000)}!`);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
