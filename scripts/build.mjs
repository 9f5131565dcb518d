// Bundles the action and the CLI into dist/ (committed; CI fails when stale).
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';

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
const { metafile } = await build({ ...common, entryPoints: { index: 'src/index.ts', cli: 'src/cli.ts' }, outdir: 'dist', metafile: true });
const builtin = new Set(builtinModules);
const external = Object.entries(metafile.outputs).flatMap(([out, o]) =>
  o.imports.filter((i) => i.external && !i.path.startsWith('node:') && !builtin.has(i.path)).map((i) => `${out}: ${i.path}`),
);
if (external.length > 0) throw new Error(`dist/ would import packages at run time (bundle them instead):\n${external.join('\n')}`);

// WebAssembly the Python parser loads at run time, next to the bundles.
await copyFile(require.resolve('web-tree-sitter/web-tree-sitter.wasm'), 'dist/web-tree-sitter.wasm');
await copyFile(require.resolve('tree-sitter-python/tree-sitter-python.wasm'), 'dist/tree-sitter-python.wasm');
