import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '../src');

/**
 * What each layer of `src/` may import. `core` holds the foundations and
 * imports nothing; the pipeline (`engine`) sits above the rules and the policy
 * language; only the front doors reach the engine and the GitHub adapter.
 */
const MAY_IMPORT: Record<string, string[]> = {
  core: [],
  formats: ['core', 'inventory'],
  inventory: ['core', 'formats'],
  policies: ['core', 'formats', 'inventory', 'checks'],
  checks: ['core', 'formats', 'inventory'],
  signing: ['core', 'formats', 'inventory', 'checks'],
  report: ['core', 'checks'],
  engine: ['core', 'formats', 'inventory', 'policies', 'checks', 'report'],
  github: ['core', 'inventory', 'policies', 'report'],
  cli: ['core', 'formats', 'inventory', 'policies', 'checks', 'engine', 'report', 'signing', 'org'],
  action: ['core', 'inventory', 'policies', 'engine', 'github', 'report', 'signing'],
  // The organisation sweep: lists through the API, clones, runs the engine per repository, merges reports.
  org: ['core', 'inventory', 'policies', 'engine', 'github', 'report'],
};

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

const layerOf = (file: string): string | undefined => {
  const rel = relative(SRC, file).split(sep);
  return rel.length > 1 && rel[0] !== '..' ? rel[0] : undefined;
};

describe('source layers', () => {
  const edges: string[] = [];
  for (const file of sources(SRC)) {
    const from = layerOf(file);
    if (!from) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
      const to = layerOf(resolve(dirname(file), m[1]!));
      if (to && to !== from && !MAY_IMPORT[from]?.includes(to)) edges.push(`${relative(SRC, file)} imports ${m[1]} (${from} → ${to})`);
    }
  }

  it('every directory of src/ is a known layer', () => {
    const dirs = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(dirs.filter((d) => !(d in MAY_IMPORT))).toEqual([]);
  });

  it('no layer imports one it may not', () => {
    expect(edges).toEqual([]);
  });
});
