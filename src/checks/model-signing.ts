import { HashPool } from '../core/hash-pool.js';
import { FileProblem } from '../core/errors.js';
import { BUNDLE_MAX_BYTES, OmsFormatError, parseBundle } from '../formats/oms/bundle.js';
import { parseStatement, type Manifest } from '../formats/oms/manifest.js';
import { discoverModelRoots, modelName, modelRootDependents, WEIGHT_FILE_GLOBS, type ModelRoot } from '../inventory/model-roots.js';
import { matchesAny } from '../inventory/inventory.js';
import type { ChangedSet } from '../inventory/types.js';
import { examples } from './model-signing/examples.js';
import { DEFAULT_SIGNATURE, loadSigners, paramsSchema, type ModelSigningParams } from './model-signing/params.js';
import { verifyBundleSignature } from './model-signing/signature.js';
import { linksInRoot, symlinkFindings, withLinkedWeightRoots } from './model-signing/symlinks.js';
import { policyIgnoreMatcher, verifyFiles } from './model-signing/verify-files.js';
import { atlas, type Rule, type RuleContext } from './rule.js';

const dirname = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '.');
const join = (dir: string, name: string): string => (dir === '.' ? name : `${dir}/${name}`);

/** Inside a directory root; beside a single-file root, in its directory (where `model_signing sign <file>` users keep model.sig). */
export function signaturePathOf(root: ModelRoot, name: string): string {
  return join(root.kind === 'dir' ? root.path : dirname(root.path), name);
}

/** A real file to carry a root-level finding, so annotations and exception globs work: a weight file when there is one. */
function anchorFile(root: ModelRoot): string {
  const weight = root.files.find((f) => matchesAny(f.slice(f.lastIndexOf('/') + 1), WEIGHT_FILE_GLOBS));
  return weight ?? root.files[0] ?? root.path;
}

/** In changed mode a root is verified (whole) when anything inside it, or its signature, changed. */
function touched(changed: ChangedSet, root: ModelRoot, signaturePath: string): boolean {
  return changed.all().some((p) => p === signaturePath || p === root.path || root.path === '.' || p.startsWith(`${root.path}/`));
}

/** The signed manifest, once the bundle verifies well enough to trust it; undefined after reporting why not. */
async function readManifest(ctx: RuleContext<ModelSigningParams>, signaturePath: string, signers: Awaited<ReturnType<typeof loadSigners>>): Promise<Manifest | undefined> {
  const bytes = await ctx.inventory.readBytes(signaturePath, BUNDLE_MAX_BYTES);
  try {
    const bundle = parseBundle(bytes);
    const verdict = verifyBundleSignature(bundle, signers);
    if (!verdict.ok) {
      ctx.report({ code: verdict.code, path: signaturePath, message: `${signaturePath}: ${verdict.message}` });
      if (verdict.code === 'invalid-signature') return undefined;
    }
    return parseStatement(bundle.envelope.payload);
  } catch (e) {
    if (!(e instanceof OmsFormatError)) throw e;
    ctx.report({ code: e.code, path: signaturePath, message: `${signaturePath} is not a usable OMS signature: ${e.message}. Re-sign the model with model_signing (https://github.com/sigstore/model-transparency)` });
    return undefined;
  }
}

async function verifyRoot(ctx: RuleContext<ModelSigningParams>, root: ModelRoot, signaturePath: string, pool: HashPool, signers: Awaited<ReturnType<typeof loadSigners>>): Promise<void> {
  const ignorePaths = ctx.params['ignore-paths'] ?? [];
  const links = linksInRoot(root, ctx.inventory.symlinks ?? [], policyIgnoreMatcher(ignorePaths));
  const manifest = await readManifest(ctx, signaturePath, signers);
  // Whatever the signature says: a link is never verified, and never followed.
  for (const f of await symlinkFindings(root, links, ctx.inventory, signaturePath, manifest?.allowSymlinks ?? false)) ctx.report(f);
  if (!manifest) return;
  const findings = await verifyFiles({
    root,
    signaturePath,
    manifest,
    inventory: ctx.inventory,
    pool,
    ignorePaths,
    ignoreUnsigned: ctx.params['ignore-unsigned-files'] ?? false,
    links,
  });
  for (const f of findings) ctx.report(f);
}

export const modelSigning: Rule<ModelSigningParams> = {
  id: 'model-signing',
  title: 'Models carry a verified OpenSSF Model Signing signature',
  summary: 'Every model root carries an OMS signature that verifies offline (key, certificate chain or Sigstore keyless) and whose manifest matches the files, or their Git LFS oids.',
  defaultLevel: 'error',
  references: [
    { id: 'OMS-v1.0', url: 'https://github.com/ossf/model-signing-spec' },
    atlas('AML.M0013'),
    atlas('AML.M0014'),
    atlas('AML.T0010'),
  ],
  paramsSchema,
  tighten: { models: 'superset', signature: 'fixed', signers: 'subset', 'ignore-paths': 'subset', 'ignore-unsigned-files': 'false-stays' },
  policyFiles: ['signers.*.public-key', 'signers.*.roots.*', 'signers.*.trusted-root'],
  budget: { ms: 30 * 60_000 },
  examples,
  invalidates: (path, index, p) => ({ dependents: modelRootDependents(path, index.modelRoots(p?.models && p.models.length > 0 ? p.models : undefined), index.filesIn) }),
  async run(ctx) {
    const p = ctx.params;
    const name = p.signature ?? DEFAULT_SIGNATURE;
    const signers = await loadSigners(p.signers ?? [], ctx.inventory);
    const globs = p.models && p.models.length > 0 ? p.models : undefined;
    const discovered = discoverModelRoots(ctx.inventory, globs);
    const roots = globs ? discovered : withLinkedWeightRoots(discovered, ctx.inventory.symlinks ?? [], ctx.inventory);
    const pool = new HashPool(undefined, ctx.signal);
    try {
      for (const root of roots) {
        ctx.signal.throwIfAborted();
        const signaturePath = signaturePathOf(root, name);
        if (ctx.changed && !touched(ctx.changed, root, signaturePath)) continue;
        if (!ctx.inventory.get(signaturePath)) {
          const anchor = anchorFile(root);
          ctx.report({
            code: 'unsigned',
            path: anchor,
            message: `${modelName(root.path)} has no signature (${signaturePath}). Sign it (\`mlgate sign ${root.path} --signature ${signaturePath}\`, keyless in a workflow or with --key; or model_signing sign) and commit the signature`,
          });
          continue;
        }
        await ctx.guard(signaturePath, async () => {
          try {
            await verifyRoot(ctx, root, signaturePath, pool, signers);
          } catch (e) {
            if (e instanceof FileProblem || ctx.signal.aborted) throw e;
            throw new FileProblem(signaturePath, `${signaturePath} could not be verified: ${e instanceof Error ? e.message : String(e)}`, 'invalid-signature');
          }
        });
      }
    } finally {
      await pool.close();
    }
  },
};
