import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { STARTER_POLICY } from '../src/cli/commands.js';
import { schemaUrl, VERSION } from '../src/core/version.js';
import { BASELINE_SCHEMA, DEFAULT_BASELINE_PATH } from '../src/policies/baseline.js';
import { DEFAULT_POLICY_PATH } from '../src/policies/load.js';

const ROOT = path.resolve(__dirname, '..');
const addFormats = ((addFormatsImport as unknown as { default?: unknown }).default ?? addFormatsImport) as (a: unknown) => void;
const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
const schemaFiles = (await readdir(path.join(ROOT, 'schema'))).filter((f) => f.endsWith('.schema.json')).sort();
const read = async (file: string) => JSON.parse(await readFile(path.join(ROOT, 'schema', file), 'utf8')) as Record<string, unknown>;

describe('published JSON Schemas', () => {
  it('the version comes from package.json alone', () => {
    expect(VERSION).toBe(pkg.version);
  });

  it('every schema has an $id at the release tag of this version', async () => {
    expect(schemaFiles).toEqual(['baseline.schema.json', 'org-report.schema.json', 'policy.schema.json', 'report.schema.json']);
    for (const file of schemaFiles) {
      expect((await read(file)).$id).toBe(`https://raw.githubusercontent.com/mlgate/mlgate/v${pkg.version}/schema/${file}`);
      expect(schemaUrl(file as 'policy.schema.json')).toBe((await read(file)).$id);
    }
  });

  it('schema/baseline.schema.json is the schema the baseline reader enforces (run `npm run schema`)', async () => {
    const { $schema, $id, title, ...rest } = await read('baseline.schema.json');
    expect({ $schema, $id, title: typeof title }).toEqual({ $schema: 'http://json-schema.org/draft-07/schema#', $id: schemaUrl('baseline.schema.json'), title: 'string' });
    expect(rest).toEqual(JSON.parse(JSON.stringify(BASELINE_SCHEMA)));
  });

  it('the starter policy names the policy schema of this version and is valid under it', async () => {
    expect(STARTER_POLICY.split('\n')[0]).toBe(`# yaml-language-server: $schema=${schemaUrl('policy.schema.json')}`);
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    ajv.addFormat('glob', true);
    const validate = ajv.compile(await read('policy.schema.json'));
    expect(validate(load(STARTER_POLICY)), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ version: 1, rulez: {} })).toBe(false);
  });

  it('the SchemaStore catalog entry matches the policy and baseline files at the stable major tag, with this release listed', async () => {
    const catalog = JSON.parse(await readFile(path.join(ROOT, 'schema/catalog.json'), 'utf8')) as {
      $schema: string;
      version: number;
      schemas: { name: string; description: string; fileMatch: string[]; url: string; versions: Record<string, string> }[];
    };
    expect(catalog.$schema).toBe('https://json.schemastore.org/schema-catalog.json');
    const major = pkg.version.split('.')[0];
    const byFile = Object.fromEntries(catalog.schemas.map((s) => [s.url.slice(s.url.lastIndexOf('/') + 1), s]));
    expect(Object.keys(byFile).sort()).toEqual(['baseline.schema.json', 'policy.schema.json']);
    expect(byFile['policy.schema.json']!.fileMatch).toEqual([`**/${DEFAULT_POLICY_PATH}`]);
    expect(byFile['baseline.schema.json']!.fileMatch).toEqual([`**/${DEFAULT_BASELINE_PATH}`]);
    for (const [file, entry] of Object.entries(byFile)) {
      expect(entry.url).toBe(`https://raw.githubusercontent.com/mlgate/mlgate/v${major}/schema/${file}`);
      expect(entry.versions[pkg.version]).toBe((await read(file)).$id);
      expect(entry.name).toMatch(/^mlgate /);
      expect(entry.description.length).toBeGreaterThan(20);
    }
  });
});
