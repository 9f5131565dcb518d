import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CroissantError, jsonDepth, parseCroissant } from '../src/formats/croissant.js';
import { DvcError, parseDvcConfig, parseDvcFile } from '../src/formats/dvc.js';
import { parseProvenance, ProvenanceError } from '../src/formats/provenance.js';
import { licenseAllowed, spdxFromUrl } from '../src/checks/dataset-provenance/licenses.js';
import { hostAllowed, sourceHost } from '../src/checks/dataset-provenance/sources.js';
import { md5File } from '../src/checks/dataset-provenance/digests.js';
import { HASH_CHUNK_BYTES } from '../src/core/hash.js';
import { makeRepo } from './helpers/repo.js';

/** Parsers may refuse input only with their own located error type. */
const refusesCleanly = (fn: () => unknown, type: new (...a: never[]) => Error): void => {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof type)) throw e;
  }
};

const yamlish = fc.array(fc.constantFrom('source: ', 'license: ', 'files:', '\n', '  ', 'a.csv: ', '{sha256: ', '}', '[', ']', '&a ', '*a', '- ', '"', "'", '#', 'x', '1', ': ', '---\n', '\t', '?'), { maxLength: 60 }).map((a) => a.join(''));
const jsonish = fc.array(fc.constantFrom('{', '}', '[', ']', '"license"', '"distribution"', '"contentUrl"', '"sha256"', ':', ',', '"a"', '1', 'null', '"\\', ' '), { maxLength: 80 }).map((a) => a.join(''));

describe('provenance record parser', () => {
  it('locates fields and per-file entries', () => {
    const rec = parseProvenance(['source: [https://a.org/x, https://b.org/y]', 'license: MIT', 'collected: 2026-01..2026-03', 'files:', `  a/b.csv: {sha256: "SHA256:${'A'.repeat(64)}"}`, ''].join('\n'), 'directory');
    expect(rec.problems).toEqual([]);
    expect(rec.stated.source).toEqual({ values: ['https://a.org/x', 'https://b.org/y'], line: 1 });
    expect(rec.stated.collected?.line).toBe(3);
    expect(rec.filesLine).toBe(4);
    expect(rec.files.get('a/b.csv')).toMatchObject({ line: 5, stated: { sha256: { values: ['a'.repeat(64)], line: 5 } } });
  });
  it('rejects digests at the top of a PROVENANCE.yml and files: in a sidecar', () => {
    expect(parseProvenance(`sha256: ${'a'.repeat(64)}\n`, 'directory').problems[0]!.line).toBe(1);
    expect(parseProvenance('files: {}\n', 'sidecar').problems[0]!.line).toBe(1);
  });
  it('never throws anything but ProvenanceError', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 300 }), yamlish), (t) => refusesCleanly(() => parseProvenance(t, 'directory'), ProvenanceError)), { numRuns: 1000 });
  });
});

describe('Croissant parser', () => {
  it('reads prefixed keys, license objects and md5', () => {
    const rec = parseCroissant(
      JSON.stringify({ 'sc:license': [{ '@id': 'https://spdx.org/licenses/MIT.html' }], 'sc:url': 'https://x.org', distribution: { contentUrl: 'a.csv', md5: 'A'.repeat(32), sha256: 'zz' } }, null, 1),
    );
    expect(rec.license?.value).toEqual(['https://spdx.org/licenses/MIT.html']);
    expect(rec.url?.value).toBe('https://x.org');
    expect(rec.files[0]).toMatchObject({ contentUrl: 'a.csv', md5: { value: 'a'.repeat(32) } });
    expect(rec.problems).toHaveLength(1);
  });
  it('refuses deep nesting before parsing', () => {
    expect(jsonDepth('{"a": "[[[[", "b": [[1]]}')).toBe(3);
    expect(() => parseCroissant('['.repeat(100_000))).toThrow(CroissantError);
  });
  it('never throws anything but CroissantError', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 300 }), jsonish), (t) => refusesCleanly(() => parseCroissant(t), CroissantError)), { numRuns: 1000 });
  });
});

describe('DVC parsers', () => {
  it('reads outs, legacy hashing, directories, meta and imports', () => {
    const f = parseDvcFile(['deps:', '- path: https://example.com/data.csv', '  etag: abc', 'outs:', `- md5: ${'b'.repeat(32)}.dir`, '  path: images', '  remote: s3store', '  meta: {license: MIT}', ''].join('\n'));
    expect(f.importedFrom).toEqual({ value: 'https://example.com/data.csv', line: 2 });
    expect(f.outs[0]).toMatchObject({ path: 'images', isDir: true, legacyHash: true, md5: { value: 'b'.repeat(32), line: 5 }, remote: { value: 's3store' }, meta: { license: { value: 'MIT', line: 8 } } });
  });
  it('reads remotes from .dvc/config', () => {
    const c = parseDvcConfig("[core]\n  remote = main\n['remote \"main\"']\n  url = gs://bucket/path\n[remote \"other\"]\nurl=https://x.org\n");
    expect(c.defaultRemote).toBe('main');
    expect([...c.remotes]).toEqual([['main', 'gs://bucket/path'], ['other', 'https://x.org']]);
  });
  it('never throws anything but DvcError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), yamlish.map((y) => `outs:\n- ${y}`)), (t) => {
        refusesCleanly(() => parseDvcFile(t), DvcError);
        parseDvcConfig(t);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('licenses and hosts', () => {
  it.each([
    ['https://creativecommons.org/licenses/by-sa/4.0/', 'CC-BY-SA-4.0'],
    ['https://creativecommons.org/publicdomain/zero/1.0/', 'CC0-1.0'],
    ['https://spdx.org/licenses/Apache-2.0.html', 'Apache-2.0'],
    ['https://opensource.org/licenses/MIT', 'MIT'],
    ['https://www.apache.org/licenses/LICENSE-2.0', 'Apache-2.0'],
    ['Proprietary', 'Proprietary'],
  ])('%s → %s', (url, id) => expect(spdxFromUrl(url)).toBe(id));

  it.each([
    ['s3://acme-data/x', 'acme-data'],
    ['git@github.com:acme/data.git', 'github.com'],
    ['https://User@Data.Example.COM.:8443/x', 'data.example.com'],
    ['original', undefined],
  ])('host of %s is %s', (source, host) => expect(sourceHost(source)).toBe(host));

  it('subdomain wildcards do not match the apex or look-alikes', () => {
    expect(hostAllowed('a.acme.com', ['*.acme.com'])).toBe(true);
    expect(hostAllowed('acme.com', ['*.acme.com'])).toBe(false);
    expect(hostAllowed('evilacme.com', ['*.acme.com'])).toBe(false);
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('MIT', 'AND', 'OR', 'WITH', '(', ')', ' ', 'x'), { maxLength: 100 }).map((a) => a.join(' ')), fc.string(), (expr, s) => {
        licenseAllowed(expr, ['MIT']);
        licenseAllowed(s, ['MIT']);
        sourceHost(s);
      }),
    );
  });
});

describe('DVC md5', () => {
  it.each([
    ['a CRLF split across two reads', (n: number) => Buffer.concat([Buffer.alloc(n - 1, 0x61), Buffer.from('\r\nb\r\n')])],
    ['a lone CR at the end of a read and of the file', (n: number) => Buffer.concat([Buffer.alloc(n - 1, 0x61), Buffer.from('\rb\r')])],
  ])('matches DVC 2 text hashing with %s', async (_name, make) => {
    const bytes = make(HASH_CHUNK_BYTES);
    const dir = await makeRepo({ 'f.csv': bytes });
    const got = await md5File(`${dir}/f.csv`, true);
    const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');
    expect(got.raw).toBe(md5(bytes));
    expect(got.lf).toBe(md5(Buffer.from(bytes.toString('latin1').replace(/\r\n/g, '\n'), 'latin1')));
  });
  it('does not convert binary files', async () => {
    const dir = await makeRepo({ 'f.bin': Buffer.from([0, 13, 10]) });
    expect((await md5File(`${dir}/f.bin`, true)).lf).toBeUndefined();
  });
});
