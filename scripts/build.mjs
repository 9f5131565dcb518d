// Bundles the action and the CLI into dist/ (committed; CI fails when stale).
import { build } from 'esbuild';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
await rm('dist', { recursive: true, force: true });
await mkdir('dist', { recursive: true });

// Optional peers that a bundled library imports only for a feature mlgate does not offer (Kerberos/Negotiate
// proxy authentication in @sigstore/sign's HTTP stack): a stub that fails the import the way a missing
// package would, so the library's own "not installed" error is what a user would see.
const ABSENT_OPTIONAL_PEERS = ['kerberos'];
const absentPeers = {
  name: 'absent-optional-peers',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(?:${ABSENT_OPTIONAL_PEERS.join('|')})$`) }, (args) => ({ path: args.path, namespace: 'absent-peer' }));
    b.onLoad({ filter: /.*/, namespace: 'absent-peer' }, (args) => ({ contents: `throw new Error(${JSON.stringify(`${args.path} is not bundled with mlgate`)});`, loader: 'js' }));
  },
};

// The policy validator for the built-in rules, compiled now rather than on every run: a small bundle of the
// source that builds the schema is run once, and its output stands in for src/policies/precompiled.ts.
async function precompiledPolicyModule() {
  const dir = await mkdtemp(path.join(tmpdir(), 'mlgate-build-'));
  try {
    const entry = path.join(dir, 'precompile.mjs');
    const formats = path.resolve('src/policies/policy-formats.ts');
    await build({
      stdin: {
        contents: [
          "import { RULES } from './src/checks/registry.ts';",
          "import { buildPolicySchema } from './src/policies/schema.ts';",
          "import { precompiledModuleSource } from './src/policies/standalone.ts';",
          `export const source = precompiledModuleSource(buildPolicySchema(RULES), ${JSON.stringify(formats)});`,
        ].join('\n'),
        resolveDir: process.cwd(),
        loader: 'ts',
      },
      ...common,
      outfile: entry,
    });
    return (await import(pathToFileURL(entry).href)).source;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const common = {
  plugins: [absentPeers],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Prefer ESM entry points: some packages' "main" is a UMD build that esbuild cannot follow (jsonc-parser).
  mainFields: ['module', 'main'],
  legalComments: 'none',
  logLevel: 'warning',
  // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
  banner: { js: "import { createRequire as __mlgateRequire } from 'node:module'; const require = __mlgateRequire(import.meta.url);" },
};

// Two self-contained bundles: the action runs dist/index.js with no node_modules beside it,
// and the npm package has no runtime dependencies, so nothing may stay external but Node's own modules.
const policyValidator = await precompiledPolicyModule();
const precompiledPolicy = {
  name: 'precompiled-policy-validator',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]policies[\\/]precompiled\.ts$/ }, () => ({ contents: policyValidator, loader: 'js', resolveDir: path.resolve('src/policies') }));
  },
};
const { metafile } = await build({ ...common, plugins: [...common.plugins, precompiledPolicy], entryPoints: { index: 'src/index.ts', cli: 'src/cli.ts' }, outdir: 'dist', metafile: true,
  // What a command imports when it runs (signing, the organisation sweep) is a chunk of its own, parsed only then.
  // Chunks sit beside the entry points: the Python parser finds its WebAssembly next to the module that loads it.
  splitting: true, chunkNames: '[name]-[hash]' });
const builtin = new Set(builtinModules);
const external = Object.entries(metafile.outputs).flatMap(([out, o]) =>
  o.imports.filter((i) => i.external && !i.path.startsWith('node:') && !builtin.has(i.path)).map((i) => `${out}: ${i.path}`),
);
if (external.length > 0) throw new Error(`dist/ would import packages at run time (bundle them instead):\n${external.join('\n')}`);

// WebAssembly the Python parser loads at run time, next to the bundles.
await copyFile(require.resolve('web-tree-sitter/web-tree-sitter.wasm'), 'dist/web-tree-sitter.wasm');
await copyFile(require.resolve('tree-sitter-python/tree-sitter-python.wasm'), 'dist/tree-sitter-python.wasm');
