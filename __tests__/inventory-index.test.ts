import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ContentCache } from '../src/inventory/content-cache.js';
import { createInventory, ListedFile } from '../src/inventory/inventory.js';
import { scanRepository } from '../src/inventory/scan.js';
import { gitIn, makeRepo } from './helpers/repo.js';

describe('inventory from the git index', () => {
  it('takes types from the index, and re-examines only what git sees changed in the work tree', async () => {
    const dir = await makeRepo({ 'a.py': 'print(1)\n', 'b.txt': 'bbb\n', 'gone.txt': 'x\n', 'dir/c.csv': 'id\n1\n' }, { git: true });
    await symlink('a.py', path.join(dir, 'link.py'));
    gitIn(dir, 'add', 'link.py');
    gitIn(dir, 'commit', '-qm', 'link');
    // Not staged: a file deleted, a file swapped for a link, an untracked file and an untracked link.
    await rm(path.join(dir, 'gone.txt'));
    await rm(path.join(dir, 'b.txt'));
    await symlink('/etc/passwd', path.join(dir, 'b.txt'));
    await writeFile(path.join(dir, 'new.txt'), 'n\n');
    await symlink('dir', path.join(dir, 'new-link'));

    const { inventory, notes } = await scanRepository(dir);
    expect(inventory.files.map((f) => f.path)).toEqual(['a.py', 'dir/c.csv', 'new.txt']);
    expect(notes.map((n) => `${n.code}:${n.path}`)).toEqual(['symlink:b.txt', 'symlink:link.py', 'symlink:new-link']);
    expect(inventory.get('dir/c.csv')?.size).toBe(5);
    expect(JSON.parse(JSON.stringify(inventory.get('a.py')))).toEqual({ path: 'a.py', size: 9 });
  });

  it('reports a submodule from its gitlink mode and lists the files of a checked-out one', async () => {
    const inner = await makeRepo({ 'model.pkl': 'x', 'README.md': '# m\n' }, { git: true });
    const dir = await makeRepo({ 'top.txt': 't\n' }, { git: true });
    gitIn(dir, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', inner, 'vendor/m');
    gitIn(dir, 'commit', '-qm', 'sub');
    const { inventory } = await scanRepository(dir);
    expect(inventory.submodules).toEqual([{ path: 'vendor/m', checkedOut: true }]);
    expect(inventory.files.map((f) => f.path)).toEqual(['.gitmodules', 'top.txt', 'vendor/m/README.md', 'vendor/m/model.pkl']);

    await rm(path.join(dir, 'vendor/m'), { recursive: true });
    await mkdir(path.join(dir, 'vendor/m'));
    const { notes } = await scanRepository(dir);
    expect(notes.map((n) => `${n.code}:${n.path}`)).toEqual(['submodule-not-checked-out:vendor/m']);
  });

  it('recognises LFS pointers routed by info/attributes even with no .gitattributes in the tree', async () => {
    const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${'a'.repeat(64)}\nsize 123456\n`;
    const dir = await makeRepo({ 'm/model.bin': pointer, 'notes.txt': pointer }, { git: true });
    expect((await scanRepository(dir)).inventory.get('m/model.bin')?.lfs).toBeUndefined();
    await writeFile(path.join(dir, '.git/info/attributes'), '*.bin filter=lfs\n');
    const { inventory } = await scanRepository(dir);
    expect(inventory.get('m/model.bin')?.lfs).toEqual({ oid: 'a'.repeat(64), size: 123456 });
    expect(inventory.get('notes.txt')?.lfs).toBeUndefined();
  });

  it('reuses the untracked files a change list already found instead of walking again', async () => {
    const dir = await makeRepo({ 'a.txt': 'a\n' }, { git: true });
    await writeFile(path.join(dir, 'untracked.txt'), 'u\n');
    // The caller's list is authoritative: a file it does not name is not walked for.
    const { inventory } = await scanRepository(dir, { untracked: [] });
    expect(inventory.files.map((f) => f.path)).toEqual(['a.txt']);
    expect((await scanRepository(dir, { untracked: ['untracked.txt'] })).inventory.files.map((f) => f.path)).toEqual(['a.txt', 'untracked.txt']);
    // Promised while the caller's git still runs; settling undefined means nobody asked, so the scan walks.
    expect((await scanRepository(dir, { untracked: Promise.resolve(['untracked.txt']) })).inventory.files.map((f) => f.path)).toEqual(['a.txt', 'untracked.txt']);
    expect((await scanRepository(dir, { untracked: Promise.resolve([]) })).inventory.files.map((f) => f.path)).toEqual(['a.txt']);
    expect((await scanRepository(dir, { untracked: Promise.resolve(undefined) })).inventory.files.map((f) => f.path)).toEqual(['a.txt', 'untracked.txt']);
  });

  it('sees a tracked file turned into a symlink in the work tree, from the top or from a subdirectory root', async () => {
    const dir = await makeRepo({ 'sub/a.txt': 'a\n', 'sub/b.txt': 'b\n', 'secret.txt': 's\n' }, { git: true });
    await rm(path.join(dir, 'sub/a.txt'));
    await symlink('../secret.txt', path.join(dir, 'sub/a.txt'));
    for (const [root, rel] of [[dir, 'sub/a.txt'], [path.join(dir, 'sub'), 'a.txt']] as const) {
      const { inventory, notes } = await scanRepository(root);
      expect(inventory.get(rel), root).toBeUndefined();
      expect(notes.map((n) => `${n.code}:${n.path}`), root).toContain(`symlink:${rel}`);
    }
  });

  it('outside git, one walk gives types without a stat per file', async () => {
    const dir = await makeRepo({ 'x/a.bin': Buffer.alloc(3), 'b.txt': 'bb' });
    await symlink('b.txt', path.join(dir, 'x/l'));
    const { inventory, notes, fromGit } = await scanRepository(dir);
    expect(fromGit).toBe(false);
    expect(inventory.files.map((f) => `${f.path}=${f.size}`)).toEqual(['b.txt=2', 'x/a.bin=3']);
    expect(notes.map((n) => `${n.code}:${n.path}`)).toEqual(['symlink:x/l']);
  });
});

describe('the shared content cache', () => {
  it('keeps at most its byte bound, dropping the least recently used', () => {
    const cache = new ContentCache(10, 8);
    cache.put('a', Buffer.alloc(4));
    cache.put('b', Buffer.alloc(4));
    expect(cache.get('a')?.length).toBe(4); // a is now the most recent
    cache.put('c', Buffer.alloc(4));
    expect(cache.size).toBeLessThanOrEqual(10);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    cache.put('big', Buffer.alloc(9)); // over the per-file bound: never kept
    expect(cache.get('big')).toBeUndefined();
  });

  it('serves every inventory of a run from one read, and still enforces each reader budget', async () => {
    const dir = await makeRepo({ 'm.py': 'import torch\n', 'other.txt': 'o\n' });
    const cache = new ContentCache();
    const entries = [new ListedFile('m.py', dir), new ListedFile('other.txt', dir)];
    const first = createInventory(dir, entries, [], [], { cache });
    const second = createInventory(dir, entries.slice(0, 1), [], [], { cache });
    expect((await first.readHead('m.py', 6)).toString()).toBe('import');
    expect(entries[0]!.size).toBe(13); // learnt from the read, not a stat
    // Changed on disk after the first read: the run keeps the content it judged.
    await writeFile(path.join(dir, 'm.py'), 'changed\n');
    expect(await second.readText('m.py', 100)).toBe('import torch\n');
    await expect(second.readBytes('m.py', 4)).rejects.toMatchObject({ code: 'budget-exceeded', path: 'm.py' });
    expect(cache.hits).toBe(2);
    await expect(second.readBytes('other.txt', 10)).rejects.toMatchObject({ code: 'not-in-inventory' });
  });
});
