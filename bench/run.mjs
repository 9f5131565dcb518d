// `npm run bench`: runs every bench/*.bench.mjs in name order (each prints its own table).
// Pass names to run a subset: `npm run bench -- pickle`.
import { readdir } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const dir = path.dirname(new URL(import.meta.url).pathname);
const only = process.argv.slice(2);
const files = (await readdir(dir)).filter((f) => f.endsWith('.bench.mjs') && (only.length === 0 || only.some((o) => f.includes(o)))).sort();
for (const f of files) {
  console.log(`\n## ${f.replace('.bench.mjs', '')}\n`);
  const mod = await import(pathToFileURL(path.join(dir, f)).href);
  await mod.default();
}
