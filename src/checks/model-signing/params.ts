import { ConfigurationError } from '../../core/errors.js';
import type { Inventory } from '../../inventory/types.js';
import { certificatesFromPem, publicKeyFromPem } from './keys.js';
import { loadTrustMaterial } from './sigstore.js';
import type { TrustedSigner } from './signature.js';

export type SignerParam =
  | { method: 'key'; 'public-key': string }
  | { method: 'certificate'; roots: string[] }
  | { method: 'sigstore'; identity: string; issuer: string; 'trusted-root'?: string };

export interface ModelSigningParams {
  models?: string[];
  signature?: string;
  signers?: SignerParam[];
  'ignore-paths'?: string[];
  'ignore-unsigned-files'?: boolean;
}

export const DEFAULT_SIGNATURE = 'model.sig';
const MATERIAL_MAX_BYTES = 4 * 1024 * 1024;

const STRING = (description: string) => ({ type: 'string', minLength: 1, maxLength: 1_000_000, description });

export const paramsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    models: {
      type: 'array',
      items: { type: 'string', format: 'glob' },
      maxItems: 200,
      description: 'Globs of model roots (a directory or a single file each). Default: every directory that directly holds weight files (*.safetensors, *.bin, *.pt, *.onnx, *.gguf, …), outermost first.',
    },
    signature: {
      type: 'string',
      minLength: 1,
      maxLength: 255,
      pattern: '^[^/\\\\]+$',
      description: 'File name of the OMS signature (Sigstore bundle): inside a directory root, beside a single-file root (in the same directory). Default model.sig.',
    },
    signers: {
      type: 'array',
      maxItems: 50,
      default: [],
      description: 'Trusted signers; a signature passes when any one of them matches. Without signers, every signature is reported as untrusted-signer.',
      items: {
        // The method picks the branch, so a mistake is reported against that branch only.
        type: 'object',
        discriminator: { propertyName: 'method' },
        oneOf: [
          {
            type: 'object',
            additionalProperties: false,
            required: ['method', 'public-key'],
            properties: {
              method: { const: 'key', description: 'An ECDSA (P-256, P-384, P-521) public key.' },
              'public-key': STRING('PEM public key, inline or as a path in the policy repository; text before the BEGIN line is allowed.'),
            },
          },
          {
            type: 'object',
            additionalProperties: false,
            required: ['method', 'roots'],
            properties: {
              method: { const: 'certificate', description: 'An X.509 chain from the bundle leaf to a configured root.' },
              roots: { type: 'array', minItems: 1, maxItems: 20, items: STRING('PEM trust anchor (self-signed root), inline or as a path.'), description: 'Trust anchors; intermediates come from the bundle.' },
            },
          },
          {
            type: 'object',
            additionalProperties: false,
            required: ['method', 'identity', 'issuer'],
            properties: {
              method: { const: 'sigstore', description: 'Sigstore keyless: Fulcio certificate, Rekor entry, verified offline.' },
              identity: { type: 'string', minLength: 1, maxLength: 1000, description: 'Exact certificate identity (SAN): an email or a workflow URI.' },
              issuer: { type: 'string', minLength: 1, maxLength: 1000, pattern: '^https://', description: 'Exact OIDC issuer, e.g. https://token.actions.githubusercontent.com.' },
              'trusted-root': STRING('Sigstore TrustedRoot or ClientTrustConfig JSON, inline or as a path. Default: the bundled public-good root.'),
            },
          },
        ],
      },
    },
    'ignore-paths': {
      type: 'array',
      items: { type: 'string', minLength: 1, maxLength: 1000 },
      maxItems: 500,
      default: [],
      description: 'Paths (or globs) relative to each model root left out of the comparison, as model_signing --ignore-paths.',
    },
    'ignore-unsigned-files': { type: 'boolean', default: false, description: 'Tolerate files present in the model but absent from its signature (model_signing --ignore_unsigned_files). Default false.' },
  },
} as const;

/** The engine inlines policy files; a value that still looks like a path is read from this repository. */
async function material(value: string, where: string, inventory: Inventory): Promise<string> {
  if (value.includes('-----BEGIN') || value.trimStart().startsWith('{')) return value;
  const p = value.replace(/^\.\//, '');
  if (!inventory.get(p)) throw new ConfigurationError(`${where}: ${value} is neither inline PEM/JSON nor a file of this repository`);
  return inventory.readText(p, MATERIAL_MAX_BYTES);
}

function configError(where: string, e: unknown): never {
  throw new ConfigurationError(`${where}: ${e instanceof Error ? e.message : String(e)}`);
}

export async function loadSigners(params: readonly SignerParam[], inventory: Inventory): Promise<TrustedSigner[]> {
  const trustCache = new Map<string, ReturnType<typeof loadTrustMaterial>>();
  const out: TrustedSigner[] = [];
  for (const [i, s] of params.entries()) {
    const where = `rules.model-signing.signers[${i}]`;
    try {
      if (s.method === 'key') {
        out.push({ method: 'key', key: publicKeyFromPem(await material(s['public-key'], `${where}.public-key`, inventory)) });
      } else if (s.method === 'certificate') {
        const roots = [];
        for (const [j, r] of s.roots.entries()) roots.push(...certificatesFromPem(await material(r, `${where}.roots[${j}]`, inventory)));
        out.push({ method: 'certificate', roots });
      } else {
        const text = s['trusted-root'] === undefined ? undefined : await material(s['trusted-root'], `${where}.trusted-root`, inventory);
        const key = text ?? '';
        if (!trustCache.has(key)) trustCache.set(key, loadTrustMaterial(text));
        out.push({ method: 'sigstore', identity: s.identity, issuer: s.issuer, trust: trustCache.get(key)! });
      }
    } catch (e) {
      if (e instanceof ConfigurationError) throw e;
      configError(where, e);
    }
  }
  return out;
}
