// Regenerates src/checks/threat-model/atlas.json from the MITRE ATLAS data file
// (default ../shared/data/mitre-atlas/ATLAS.yaml): the ids and titles of every
// technique, sub-technique and mitigation, which the threat-model rule and the
// finding references use. Run it when the ATLAS data is updated.
import { readFile, writeFile } from 'node:fs/promises';
import { load } from 'js-yaml';

const source = process.argv[2] ?? '../shared/data/mitre-atlas/ATLAS.yaml';
const data = load(await readFile(source, 'utf8'));
const table = { version: String(data.version), techniques: {}, mitigations: {} };
for (const matrix of data.matrices ?? []) {
  for (const t of matrix.techniques ?? []) {
    if (typeof t?.id === 'string' && typeof t.name === 'string' && /^AML\.T\d{4}(\.\d{3})?$/.test(t.id)) table.techniques[t.id] = t.name;
  }
  for (const m of matrix.mitigations ?? []) {
    // Some mitigation entries carry stray technique mappings; keep only well-typed ids and names.
    if (typeof m?.id === 'string' && typeof m.name === 'string' && /^AML\.M\d{4}$/.test(m.id)) table.mitigations[m.id] = m.name;
  }
}
const sort = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
table.techniques = sort(table.techniques);
table.mitigations = sort(table.mitigations);
await writeFile('src/checks/threat-model/atlas.json', `${JSON.stringify(table, null, 2)}\n`);
console.log(`ATLAS ${table.version}: ${Object.keys(table.techniques).length} techniques, ${Object.keys(table.mitigations).length} mitigations`);
