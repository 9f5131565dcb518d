import { symlink, rm, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gitChanges, parseNameStatus } from '../src/inventory/git-changes.js';
import { normaliseRepoPath, scanRepository } from '../src/inventory/scan.js';
import { createChangedSet } from '../src/inventory/changed.js';
import { gitIn, makeRepo } from './helpers/repo.js';

const OID = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const POINTER = `version https://git-lfs.github.com/spec/v1\noid sha256:${OID}\nsize 2147483648\n`;

describe('inventory', () => {
  it('lists git files, recognises LFS pointers, and reports symlinks without following them', async () => {
    const dir = await makeRepo(
      {
        '.gitattributes': '*.safetensors filter=lfs diff=lfs merge=lfs -text\n',
        'models/clf/weights.safetensors': POINTER,
        // Pointer-shaped text that git does not route through LFS is just a file.
        'docs/pointer-example.txt': POINTER,
        'src/train.py': 'print(1)\n',
        'README.md': '# x\n',
      },
      { git: true },
    );
    await symlink('/etc/passwd', path.join(dir, 'models/clf/config.json'));
    await symlink('../../..', path.join(dir, 'data-link'));
    gitIn(dir, 'add', '-A');
    gitIn(dir, 'commit', '-qm', 'links');
    await writeFile(path.join(dir, 'untracked.txt'), 'new\n');
    await writeFile(path.join(dir, '.gitignore'), 'ignored.txt\n');
    await writeFile(path.join(dir, 'ignored.txt'), 'x\n');

    const { inventory, notes, fromGit } = await scanRepository(dir);
    expect(fromGit).toBe(true);
    expect(inventory.files.map((f) => f.path)).toEqual(['.gitattributes', '.gitignore', 'README.md', 'docs/pointer-example.txt', 'models/clf/weights.safetensors', 'src/train.py', 'untracked.txt']);
    expect(inventory.get('models/clf/weights.safetensors')?.lfs).toEqual({ oid: OID, size: 2147483648 });
    expect(inventory.get('docs/pointer-example.txt')?.lfs).toBeUndefined();
    expect(inventory.get('README.md')?.lfs).toBeUndefined();
    expect(notes.map((n) => `${n.code}:${n.path}`)).toEqual(['symlink:data-link', 'symlink:models/clf/config.json']);
    await expect(inventory.readText('models/clf/config.json', 1000)).rejects.toThrow(/not a file of the inventory/);
  });

  it('walks a plain directory within a file cap and reports truncation', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`d${i % 3}/f${i}.txt`] = 'x';
    const dir = await makeRepo(files);
    const { inventory, notes, fromGit } = await scanRepository(dir, { maxFiles: 10 });
    expect(fromGit).toBe(false);
    expect(inventory.files).toHaveLength(10);
    expect(notes).toEqual([expect.objectContaining({ code: 'truncated' })]);
  });

  it('enforces the byte budget on whole-file reads', async () => {
    const dir = await makeRepo({ 'big.bin': Buffer.alloc(4096) });
    const { inventory } = await scanRepository(dir);
    await expect(inventory.readBytes('big.bin', 1024)).rejects.toMatchObject({ code: 'budget-exceeded', path: 'big.bin' });
    expect((await inventory.readBytes('big.bin', 4096)).length).toBe(4096);
  });

  it('keeps paths inside the root', () => {
    expect(normaliseRepoPath('a/./b//c')).toBe('a/b/c');
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a\\b', 'a\0b', '', '.']) expect(normaliseRepoPath(bad)).toBeUndefined();
  });

  it('finds additions, modifications, renames and deletions between commits', async () => {
    const dir = await makeRepo({ 'a.txt': 'a\n', 'b.txt': 'bbbbbbbbbbbbbbbbbbbb\nbbbbbbbbbbbbbbbb\n', 'c.txt': 'c\n', 'd.txt': 'd\n' }, { git: true });
    const base = gitIn(dir, 'rev-parse', 'HEAD').trim();
    gitIn(dir, 'checkout', '-qb', 'feature');
    await writeFile(path.join(dir, 'a.txt'), 'changed\n');
    await rename(path.join(dir, 'b.txt'), path.join(dir, 'renamed.txt'));
    await rm(path.join(dir, 'c.txt'));
    await writeFile(path.join(dir, 'new.txt'), 'n\n');
    gitIn(dir, 'add', '-A');
    gitIn(dir, 'commit', '-qm', 'change');
    await writeFile(path.join(dir, 'wip.txt'), 'uncommitted\n');

    const committed = await gitChanges(dir, base, 'HEAD');
    // Between commits, the uncommitted wip.txt is no part of it, nor of the listing.
    expect(committed).toEqual({ added: ['new.txt'], modified: ['a.txt'], deleted: ['c.txt'], renamed: [['renamed.txt', 'b.txt']], untracked: [] });
    expect((await scanRepository(dir, { untracked: committed.untracked })).inventory.get('wip.txt')).toBeUndefined();
    const set = createChangedSet(committed);
    expect(set.touches('b.txt')).toBe(true);
    expect(set.touches('d.txt')).toBe(false);
    expect(set.touchesAny(['*.md', 'c.*'])).toBe(true);

    const worktree = await gitChanges(dir, base);
    expect(worktree.added).toContain('wip.txt');
    expect(worktree.untracked).toEqual(['wip.txt']);
    expect((await scanRepository(dir, { untracked: worktree.untracked })).inventory.get('wip.txt')).toBeDefined();
  });

  it('tells the inventory which entries the index may not describe: staged type changes undone in the work tree too', async () => {
    const dir = await makeRepo({ 'f.txt': 'x', 'l.txt': 'target', 'target': 't', 'same.txt': 's' }, { git: true });
    await symlink('target', path.join(dir, 'link'));
    gitIn(dir, 'add', 'link');
    gitIn(dir, 'commit', '-qm', 'link');
    const base = gitIn(dir, 'rev-parse', 'HEAD').trim();
    // f.txt staged as a symlink, then the file put back: the work tree equals the base, the index does not.
    await rm(path.join(dir, 'f.txt'));
    await symlink('target', path.join(dir, 'f.txt'));
    gitIn(dir, 'add', 'f.txt');
    await rm(path.join(dir, 'f.txt'));
    await writeFile(path.join(dir, 'f.txt'), 'x');
    // link staged as a file, then the symlink put back.
    await rm(path.join(dir, 'link'));
    await writeFile(path.join(dir, 'link'), 'target');
    gitIn(dir, 'add', 'link');
    await rm(path.join(dir, 'link'));
    await symlink('target', path.join(dir, 'link'));

    const changes = await gitChanges(dir, base);
    expect(changes.modified ?? []).toEqual([]);
    const diffFiles = gitIn(dir, 'diff-files', '--name-only').split('\n').filter(Boolean);
    expect(diffFiles.sort()).toEqual(['f.txt', 'link']);
    expect(changes.dirty).toEqual(expect.arrayContaining(diffFiles));
    const { inventory, notes } = await scanRepository(dir, { untracked: changes.untracked, dirty: changes.dirty });
    expect(inventory.get('f.txt')).toBeDefined();
    expect(inventory.get('link')).toBeUndefined();
    expect(notes.map((n) => `${n.code}:${n.path}`)).toEqual(['symlink:link']);
  });

  it('its dirty list covers what diff-files lists, whatever was staged, changed or undone', async () => {
    const names = ['a', 'b', 'c', 'd'];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('write', 'stage', 'delete', 'symlink', 'undo', 'restore', 'rm-cached'), fc.constantFrom(...names), fc.constantFrom('1', '2')), { minLength: 2, maxLength: 8 }),
        async (ops) => {
          const dir = await makeRepo(Object.fromEntries(names.map((n) => [n, `${n}1`])), { git: true });
          const base = gitIn(dir, 'rev-parse', 'HEAD').trim();
          for (const [op, n, v] of ops) {
            const f = path.join(dir, n);
            await rm(f, { force: true });
            if (op === 'write' || op === 'stage') await writeFile(f, `${n}${v}`);
            // The base's content back in the work tree only: the index keeps what was staged.
            if (op === 'undo') await writeFile(f, `${n}1`);
            if (op === 'symlink') await symlink(names.find((m) => m !== n)!, f);
            if (op === 'restore') gitIn(dir, 'checkout', base, '--', n);
            if (op === 'stage' || op === 'symlink') gitIn(dir, 'add', '--', n);
            if (op === 'delete') gitIn(dir, 'rm', '-q', '--cached', '--ignore-unmatch', '--', n);
            if (op === 'rm-cached') {
              gitIn(dir, 'checkout', base, '--', n);
              gitIn(dir, 'rm', '-q', '--cached', '--', n);
            }
          }
          const changes = await gitChanges(dir, base);
          const diffFiles = gitIn(dir, 'diff-files', '--name-only', '-z').split('\0').filter(Boolean);
          expect(new Set(changes.dirty)).toEqual(new Set([...(changes.dirty ?? []), ...diffFiles]));
        },
      ),
      { numRuns: 30 },
    );
  }, 60_000);

  it('parses name-status records with odd names', () => {
    expect(parseNameStatus('M\0sp ace.txt\0R087\0old name\0new\nline\0D\0gone\0')).toEqual({
      added: [],
      modified: ['sp ace.txt'],
      deleted: ['gone'],
      renamed: [['new\nline', 'old name']],
    });
  });
});
