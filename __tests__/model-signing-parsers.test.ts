import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { modelSigning } from '../src/checks/model-signing.js';
import { OmsFormatError, parseBundle } from '../src/formats/oms/bundle.js';
import { legacyPae, pae } from '../src/formats/oms/dsse.js';
import { parseStatement } from '../src/formats/oms/manifest.js';
import { makeRepo, runRuleOnDir, writeTree } from './helpers/repo.js';
import { keyPair, signModel, statement } from './model-signing-signer.js';

const onlyFormatErrors = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof OmsFormatError)) throw e;
  }
};

describe('OMS parsers', () => {
  it('PAE is the DSSE v1 encoding (byte lengths)', () => {
    expect(pae('t/é', Buffer.from('ab')).toString()).toBe('DSSEv1 4 t/é 2 ab');
  });

  it.each([
    ['plain', 'a\nb', "DSSEV1 1 t 3 b'a\\nb'"],
    ['single quote switches to double quotes', "it's", 'DSSEV1 1 t 4 b"it\'s"'],
    ['both quotes', `'"`, `DSSEV1 1 t 2 b'\\'"'`],
    ['bytes outside ASCII and backslash', '\\\u0001\t', "DSSEV1 1 t 3 b'\\\\\\x01\\t'"],
  ])('legacy v0.2 PAE reproduces Python bytes repr: %s', (_n, payload, expected) => {
    expect(legacyPae('t', Buffer.from(payload, 'latin1')).toString()).toBe(expected);
  });

  const goldens = path.join(import.meta.dirname, 'fixtures/model-signing/model-transparency/payload-goldens');
  it.each(readdirSync(goldens))('accepts the reference serializer\'s statement %s (root digest consistent)', (name) => {
    const m = parseStatement(readFileSync(path.join(goldens, name)));
    expect(m.method).toBe(name.includes('shard') ? 'shards' : 'files');
    for (const e of m.entries) expect(e.range === undefined).toBe(m.method === 'files');
  });

  it('parses shard names from the right (paths may hold colons)', () => {
    const key = keyPair();
    const st = statement({ key, files: { 'a:b/c.bin': 'x'.repeat(10) }, method: 'shards', shardSize: 4 });
    const m = parseStatement(Buffer.from(JSON.stringify(st)));
    expect(m.entries.map((e) => [e.path, e.range?.start, e.range?.end])).toEqual([
      ['a:b/c.bin', 0, 4],
      ['a:b/c.bin', 4, 8],
      ['a:b/c.bin', 8, 10],
    ]);
  });

  it.each([
    ['shard wider than shard_size', 'f:0:9'],
    ['empty range', 'f:4:4'],
    ['no range', 'f'],
  ])('refuses a bad shard name: %s', (_n, name) => {
    const st = statement({ key: keyPair(), files: {}, method: 'shards', shardSize: 8 });
    (st.predicate as { resources: unknown[] }).resources = [{ name, algorithm: 'sha256', digest: '00'.repeat(32) }];
    expect(() => parseStatement(Buffer.from(JSON.stringify(st)))).toThrow(OmsFormatError);
  });

  it('arbitrary bytes: parseBundle and parseStatement only ever throw OmsFormatError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        onlyFormatErrors(() => parseBundle(bytes));
        onlyFormatErrors(() => parseStatement(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('arbitrary JSON values: the parsers only ever throw OmsFormatError', () => {
    const good = JSON.parse(signModel({ key: keyPair(), files: { f: 'x' } }));
    const st = statement({ key: keyPair(), files: { f: 'x' } });
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom('verificationMaterial', 'dsseEnvelope', 'mediaType'), fc.constantFrom('predicate', 'subject', '_type'), (v, bk, sk) => {
        onlyFormatErrors(() => parseBundle(Buffer.from(JSON.stringify({ ...good, [bk]: v }))));
        onlyFormatErrors(() => parseStatement(Buffer.from(JSON.stringify({ ...st, [sk]: v }))));
        onlyFormatErrors(() => parseStatement(Buffer.from(JSON.stringify({ ...st, predicate: { ...(st.predicate as object), serialization: v } }))));
      }),
      { numRuns: 500 },
    );
  });

  it('arbitrary signature files never crash the rule: each gives exactly one finding on the signature', async () => {
    const key = keyPair();
    const dir = await makeRepo({ 'm/w.safetensors': 'weights' });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 600 }), fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v)))), async (bytes) => {
        await writeTree(dir, { 'm/model.sig': bytes });
        const findings = await runRuleOnDir(modelSigning, dir, { params: { signers: [{ method: 'key', 'public-key': key.publicPem }] } });
        expect(findings.map((f) => `${f.code}@${f.path}`)).toEqual([expect.stringMatching(/^(invalid-signature|unsupported-format)@m\/model\.sig$/)]);
      }),
      { numRuns: 60 },
    );
  });
});
