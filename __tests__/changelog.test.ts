import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

/** Keep a Changelog, one entry per released version; scripts/release.mjs relies on this shape. */
describe('CHANGELOG.md', async () => {
  const text = await readFile(path.join(ROOT, 'CHANGELOG.md'), 'utf8');
  const headings = [...text.matchAll(/^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$/gm)].map((m) => ({ version: m[1]!, date: m[2] }));

  it('has an Unreleased section first, then one dated entry per released version, newest first', () => {
    expect(headings[0]).toEqual({ version: 'Unreleased', date: undefined });
    const released = headings.slice(1);
    expect(released.length).toBeGreaterThan(0);
    for (const h of released) expect(h.version).toMatch(/^\d+\.\d+\.\d+$/);
    for (const h of released) expect(h.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const key = (v: string) => v.split('.').map(Number).reduce((a, n) => a * 10_000 + n, 0);
    const order = released.map((h) => key(h.version));
    expect(order).toEqual([...order].sort((a, b) => b - a));
    expect(new Set(released.map((h) => h.version)).size).toBe(released.length);
  });

  it('has an entry, with notes and a link, for the version in package.json', () => {
    expect(headings.map((h) => h.version)).toContain(pkg.version);
    const start = text.indexOf(`## [${pkg.version}]`);
    const end = text.indexOf('\n## [', start + 1);
    const section = text.slice(start, end < 0 ? undefined : end);
    expect(section).toMatch(/^### (Added|Changed|Deprecated|Removed|Fixed|Security)$/m);
    expect(section).toMatch(/^- /m);
    expect(text).toMatch(new RegExp(`^\\[${pkg.version.replaceAll('.', '\\.')}\\]: https://github\\.com/mlgate/mlgate/`, 'm'));
  });
});
