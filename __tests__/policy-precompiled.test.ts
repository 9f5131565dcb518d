import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RULES } from '../src/checks/registry.js';
import { loadPolicy } from '../src/policies/load.js';
import { buildPolicySchema } from '../src/policies/schema.js';
import { CLI } from './helpers/cli.js';
import { configError, memoryProvider } from './helpers/policy.js';
import { makeRepo } from './helpers/repo.js';

const run = promisify(execFile);
const now = new Date('2026-11-28T12:00:00Z');

// One policy per way a schema error is described: enums, types, unknown keys and rules, formats, patterns,
// bounds, the signer discriminator, required keys, glob-keyed maps and code-level keys.
const BROKEN: Record<string, string> = {
  'top-key': 'version: 1\nrulez: {}\n',
  version: 'version: 2\n',
  'unknown-rule': 'version: 1\nrules:\n  model-sigining:\n    level: error\n',
  level: 'version: 1\nrules:\n  threat-model:\n    level: fatal\n',
  'rule-key': 'version: 1\nrules:\n  threat-model:\n    max-age: 3\n',
  type: 'version: 1\nrules:\n  threat-model:\n    sections: Assets\n',
  'glob-absolute': 'version: 1\nrules:\n  dataset-provenance:\n    datasets: ["/data/**"]\n',
  'glob-dotdot': 'version: 1\npaths:\n  exclude: ["a/../b"]\n',
  'glob-braces': `version: 1\npaths:\n  exclude: ["${'{a,b}'.repeat(9)}"]\n`,
  'enforce-from': 'version: 1\nrules:\n  threat-model:\n    enforce-from: 2026-13-40\n',
  'exception-fields': 'version: 1\nexceptions:\n  - rule: model-signing\n    paths: ["m/**"]\n    expires: someday\n',
  'max-days': 'version: 1\nmax-exception-days: 0\n',
  'signer-method': 'version: 1\nrules:\n  model-signing:\n    signers:\n      - method: pgp\n        key: x\n',
  'signer-branch': 'version: 1\nrules:\n  model-signing:\n    signers:\n      - method: sigstore\n        identity: a@b.c\n        issuer: http://insecure\n',
  'signer-extra': 'version: 1\nrules:\n  model-signing:\n    signers:\n      - method: key\n        public-key: k\n        roots: []\n',
  'code-levels': 'version: 1\nrules:\n  model-signing:\n    code-levels:\n      model-signing/Unsigned: warning\n',
  'allow-formats': 'version: 1\nrules:\n  model-file-safety:\n    allow-formats:\n      "/abs/**": [pickle]\n',
  'extends-type': 'version: 1\nextends: mlgate:strict\n',
  many: 'version: 1\nrulez: 1\nrules:\n  threat-model:\n    level: loud\n    sections: 3\n  model-card: []\n',
};

describe('the policy validator the build precompiles', () => {
  it('is in both bundles, for the schema the built-in rules make today', async () => {
    const { schemaDigest } = await import('../src/policies/validate.js');
    const digest = `schemaDigest: ${JSON.stringify(schemaDigest(buildPolicySchema(RULES)))}`;
    const dist = path.dirname(CLI);
    // The bundles are split into chunks: follow each entry's static imports to the one that holds the validator.
    const reach = async (file: string, seen = new Set<string>()): Promise<Set<string>> => {
      if (seen.has(file)) return seen;
      seen.add(file);
      const text = await readFile(path.join(dist, file), 'utf8');
      for (const m of text.matchAll(/^import\s[^;]*?from\s*"\.\/([^"]+)"/gm)) await reach(m[1]!, seen);
      return seen;
    };
    for (const entry of ['cli.js', 'index.js']) {
      const holders = [];
      for (const f of await reach(entry)) if ((await readFile(path.join(dist, f), 'utf8')).includes(digest)) holders.push(f);
      expect(holders, entry).toHaveLength(1);
    }
  });

  it('reports every broken policy exactly as the validator compiled at run time does', async () => {
    const dir = await makeRepo({});
    await Promise.all(Object.entries(BROKEN).map(([name, text]) => writeFile(path.join(dir, `${name}.yml`), text)));
    const results = await Promise.all(
      Object.keys(BROKEN).map((name) =>
        run(process.execPath, [CLI, 'policy', 'validate', `${name}.yml`], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } }).then(
          () => ({ name, code: 0, stderr: '' }),
          (e: { code: number; stderr: string }) => ({ name, code: e.code, stderr: e.stderr }),
        ),
      ),
    );
    for (const { name, code, stderr } of results) {
      const file = `${name}.yml`;
      const expected = await configError(() => loadPolicy({ provider: memoryProvider({ [file]: BROKEN[name]! }), rules: RULES, now, policyPath: file }));
      expect({ name, code }).toEqual({ name, code: 2 });
      expect(stderr.replace(/^mlgate: /, '').trimEnd().split('\n'), name).toEqual(expected);
    }
  });
});

describe('choosing the precompiled validator', () => {
  afterEach(() => {
    vi.doUnmock('../src/policies/precompiled.js');
    vi.resetModules();
  });

  // A stand-in that accepts everything: whether it was used shows in whether a broken policy passes.
  async function loadWithPrecompiled(digest: string, text: string) {
    vi.resetModules();
    const acceptAll = Object.assign(() => true, { errors: null });
    vi.doMock('../src/policies/precompiled.js', () => ({ precompiled: { schemaDigest: digest, validate: acceptAll } }));
    const [{ loadPolicy: load }, { RULES: rules }] = await Promise.all([import('../src/policies/load.js'), import('../src/checks/registry.js')]);
    return load({ provider: memoryProvider({ 'p.yml': text }), rules, now, policyPath: 'p.yml' });
  }

  it('is used for the schema it was compiled from', async () => {
    const { schemaDigest } = await import('../src/policies/validate.js');
    const policy = await loadWithPrecompiled(schemaDigest(buildPolicySchema(RULES)), 'version: 1\nrulez: {}\n');
    expect(policy.policyPath).toBe('p.yml');
  });

  it('is not used for any other schema: that one is compiled, and its errors reported', async () => {
    // The reloaded modules have their own ConfigurationError class: matched by name and message.
    await expect(loadWithPrecompiled('f'.repeat(64), 'version: 1\nrulez: {}\n')).rejects.toMatchObject({ name: 'ConfigurationError', message: 'p.yml:2:1: rulez: unknown key (did you mean "rules"?)' });
  });
});
