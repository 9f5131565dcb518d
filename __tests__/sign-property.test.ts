// Property: whatever the model looks like (names with spaces, colons, dots,
// non-ASCII; nesting; empty files; any shard size), what `mlgate sign` writes
// verifies with the model-signing rule, and flipping one byte of one file is
// caught on that file. Sign and verify share the manifest code, so this holds
// them to one reading of it.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { modelSigning } from '../src/checks/model-signing.js';
import { DEFAULT_IGNORED } from '../src/formats/oms/manifest.js';
import { signModel } from '../src/signing/sign.js';
import { makeRepo, runRuleOnDir } from './helpers/repo.js';
import { keyPair } from './model-signing-signer.js';

const k = keyPair('P-256');
const params = { models: ['model'], signers: [{ method: 'key', 'public-key': k.publicPem }] };

const segment = fc
  .array(fc.constantFrom('a', 'B', 'z', '0', '9', ' ', '-', '_', '.', ':', 'é', 'ß', '世', '😀', '+', '='), { minLength: 1, maxLength: 8 })
  .map((cs) => cs.join(''))
  .filter((s) => s !== '.' && s !== '..');

const file = fc.record({ path: fc.array(segment, { minLength: 1, maxLength: 3 }), content: fc.uint8Array({ maxLength: 200 }) });

/** Drops paths that clash with another (a file where another path needs a directory), or that sign/verify always skip. */
function tree(files: { path: string[]; content: Uint8Array }[]): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const f of files) {
    const p = f.path.join('/');
    if (DEFAULT_IGNORED.includes(f.path[0]!) || f.path[0] === 'model.sig') continue;
    const clash = [...out.keys()].some((q) => q === p || q.startsWith(`${p}/`) || p.startsWith(`${q}/`));
    if (!clash) out.set(p, f.content);
  }
  return out;
}

describe('sign → verify, any model', () => {
  it('verifies, and one flipped byte is a digest-mismatch on that file', async () => {
    const keyDir = await makeRepo({ 'k.pem': k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    await fc.assert(
      fc.asyncProperty(fc.array(file, { minLength: 1, maxLength: 8 }), fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined }), async (files, shardSize) => {
        const model = tree(files);
        const dir = await makeRepo({});
        for (const [p, content] of model) {
          await mkdir(path.dirname(path.join(dir, 'model', p)), { recursive: true });
          await writeFile(path.join(dir, 'model', p), content);
        }
        await signModel({ modelRoot: path.join(dir, 'model'), ...(shardSize ? { shardSize } : {}), signer: { method: 'key', key: path.join(keyDir, 'k.pem') } });
        expect(await runRuleOnDir(modelSigning, dir, { params })).toEqual([]);
        const target = [...model].find(([, c]) => c.length > 0)?.[0];
        if (target === undefined) return;
        const abs = path.join(dir, 'model', target);
        const bytes = await readFile(abs);
        bytes[bytes.length - 1]! ^= 0x80;
        await writeFile(abs, bytes);
        expect((await runRuleOnDir(modelSigning, dir, { params })).map((f) => `${f.code} ${f.path}`)).toEqual([`digest-mismatch model/${target}`]);
      }),
      { numRuns: 25 },
    );
  });
});
