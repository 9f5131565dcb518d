import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RULES } from '../checks/registry.js';
import { codesOfPage, type CodeDoc } from './code-docs.js';

/** Finding families the engine reports itself, documented like rules. */
export const ENGINE_PAGES = ['policy', 'inventory'] as const;

/** Rule pages ship beside the bundle (dist/../docs/rules) and the sources (src/report/../../docs/rules). */
async function docsDir(): Promise<string | undefined> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of [path.join(here, '..', 'docs', 'rules'), path.join(here, '..', '..', 'docs', 'rules')]) {
    try {
      await readdir(dir);
      return dir;
    } catch {
      // try the next location
    }
  }
  return undefined;
}

export async function readPage(id: string): Promise<string | undefined> {
  const dir = await docsDir();
  return dir === undefined ? undefined : readFile(path.join(dir, `${id}.md`), 'utf8').catch(() => undefined);
}

/** Every documented code of every rule and engine family; a missing page contributes none. */
export async function allCodes(): Promise<CodeDoc[]> {
  const pages = [...RULES.map((r) => r.id), ...ENGINE_PAGES];
  const texts = await Promise.all(pages.map(async (p) => [p, await readPage(p)] as const));
  return texts.flatMap(([p, t]) => (t === undefined ? [] : codesOfPage(p, t)));
}
