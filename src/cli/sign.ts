import { InvalidArgumentError, type Command } from 'commander';
import { ConfigurationError } from '../core/errors.js';
import { SigningServiceError } from '../signing/errors.js';
import { SIGSTORE_INSTANCES } from '../signing/instances.js';
import { actionsIdToken } from '../signing/oidc.js';
import type { SignMethod, SignResult } from '../signing/sign.js';

export interface SignCliOptions {
  signature?: string;
  shardSize?: number;
  ignorePaths?: string[];
  lfsOid?: boolean;
  key?: string;
  keyPassphraseEnv?: string;
  certificate?: string;
  chain?: string[];
  identityToken?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
  staging?: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('Expected a positive whole number of bytes.');
  return n;
}

function httpsUrl(flag: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`${flag} ${JSON.stringify(value)} is not a URL`);
  }
  // Loopback over plain HTTP is allowed for private test instances; anything else carries a token, so https only.
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new ConfigurationError(`${flag} must be an https URL, got ${JSON.stringify(value)}`);
  return value.replace(/\/+$/, '');
}

/** The signing method the flags ask for: a key, a certificate and its key, or Sigstore keyless (the default). */
export function signMethodFromOptions(o: SignCliOptions, env: Env): SignMethod {
  let passphrase: string | undefined;
  if (o.keyPassphraseEnv !== undefined) {
    passphrase = env[o.keyPassphraseEnv];
    if (passphrase === undefined) throw new ConfigurationError(`--key-passphrase-env ${o.keyPassphraseEnv}: that environment variable is not set`);
  }
  const keyless = [o.identityToken !== undefined && '--identity-token', o.fulcioUrl && '--fulcio-url', o.rekorUrl && '--rekor-url', o.tsaUrl && '--tsa-url', o.staging && '--staging'].filter(Boolean);
  if (o.key !== undefined && keyless.length > 0) throw new ConfigurationError(`${keyless.join(', ')} ${keyless.length === 1 ? 'is' : 'are'} for Sigstore keyless signing; with --key, leave ${keyless.length === 1 ? 'it' : 'them'} out`);
  if (o.certificate !== undefined && o.key === undefined) throw new ConfigurationError('--certificate needs --key, the private key the certificate was issued for');
  if ((o.chain?.length ?? 0) > 0 && o.certificate === undefined) throw new ConfigurationError('--chain needs --certificate');
  if (o.keyPassphraseEnv !== undefined && o.key === undefined) throw new ConfigurationError('--key-passphrase-env needs --key');
  if (o.certificate !== undefined) return { method: 'certificate', key: o.key!, ...(passphrase !== undefined ? { passphrase } : {}), certificate: o.certificate, chain: o.chain ?? [] };
  if (o.key !== undefined) return { method: 'key', key: o.key, ...(passphrase !== undefined ? { passphrase } : {}) };
  const instance = o.staging ? SIGSTORE_INSTANCES.staging : SIGSTORE_INSTANCES.production;
  const given = o.identityToken ?? (env.SIGSTORE_ID_TOKEN || undefined);
  if (given !== undefined && given.trim() === '') throw new ConfigurationError('the identity token is empty');
  return {
    method: 'sigstore',
    token: given !== undefined ? () => Promise.resolve(given.trim()) : () => actionsIdToken(env),
    fulcioUrl: o.fulcioUrl ? httpsUrl('--fulcio-url', o.fulcioUrl) : instance.fulcio,
    rekorUrl: o.rekorUrl ? httpsUrl('--rekor-url', o.rekorUrl) : instance.rekor,
    ...(o.tsaUrl ? { tsaUrl: httpsUrl('--tsa-url', o.tsaUrl) } : {}),
  };
}

export const summaryLine = (r: SignResult): string =>
  `signed ${r.files} file${r.files === 1 ? '' : 's'} (${r.resources} resource${r.resources === 1 ? '' : 's'}, ${r.bytesHashed} bytes hashed) with ${r.signer}: wrote ${r.signature}`;

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export const SIGN_EXAMPLES = `
Examples:
  mlgate sign models/clf --key keys/signing.pem                 # writes models/clf/model.sig
  mlgate sign models/clf --key enc.pem --key-passphrase-env MODEL_KEY_PASSPHRASE
  mlgate sign models/clf --certificate leaf.pem --chain intermediate.pem --key leaf-key.pem
  mlgate sign models/clf                                        # Sigstore keyless, in GitHub Actions (id-token: write)
  mlgate sign models/llm --shard-size 1000000000 --ignore-paths README.md

Exit codes:
  0  the signature was written
  2  usage error: missing or unreadable model, wrong key type or passphrase, Git LFS pointers, bad flags
  3  a signing service (OIDC, Fulcio, Rekor, TSA) failed, or an internal error`;

/** `mlgate sign`: a block of its own on the program (see main.ts). */
export function addSignCommand(program: Command, io: { out(s: string): void; err(s: string): void; env: Env }, setCode: (n: number) => void): void {
  program
    .command('sign')
    .summary('write an OpenSSF Model Signing signature for a model (key, certificate or Sigstore keyless)')
    .description(
      'Sign MODEL_ROOT (a directory, or a single file) as model_signing does: an OMS v1.0 statement over every file (minus .git, .github, .gitignore, .gitattributes at the top, the signature and --ignore-paths), in a DSSE envelope, in a Sigstore bundle v0.3. Both `mlgate check` and `model_signing verify` accept it. With --key: that ECDSA key; with --certificate and --key: the certificate chain; otherwise Sigstore keyless with the workflow\'s OIDC token (GitHub Actions, id-token: write) or --identity-token. The signature is written in one rename: a failure leaves no partial file.',
    )
    .argument('<model-root>', 'the model directory, or a single model file')
    .option('--signature <path>', 'where to write the signature (default: model.sig inside a directory model, beside a single-file model)')
    .option('--shard-size <bytes>', 'sign byte ranges of this size instead of whole files (shards serialization; model_signing uses 1000000000)', positiveInteger)
    .option('--ignore-paths <path>', 'leave this model-relative path (or glob) out of the signature and record it for verifiers; repeatable', collect)
    .option('--lfs-oid', 'sign a Git LFS pointer by its oid (the SHA-256 of its content) instead of refusing it; verifiers then check the oid, or the fetched content')
    .option('--key <pem>', 'ECDSA P-256/P-384/P-521 private key (PEM, PKCS#8 or SEC1)')
    .option('--key-passphrase-env <name>', 'environment variable holding the passphrase of an encrypted --key')
    .option('--certificate <pem>', 'the code-signing certificate of --key (certificate method)')
    .option('--chain <pem>', 'intermediate certificates to include after the leaf; repeatable', collect)
    .option('--identity-token <jwt>', 'OIDC identity token for keyless signing (default: SIGSTORE_ID_TOKEN, else the GitHub Actions runtime)')
    .option('--fulcio-url <url>', 'Fulcio instance (default https://fulcio.sigstore.dev)')
    .option('--rekor-url <url>', 'Rekor instance (default https://rekor.sigstore.dev)')
    .option('--tsa-url <url>', 'RFC 3161 timestamp authority to add a signed timestamp (default: none)')
    .option('--staging', "use Sigstore's staging instances (fulcio.sigstage.dev, rekor.sigstage.dev)")
    .addHelpText('after', SIGN_EXAMPLES)
    .action(async (modelRoot: string, o: SignCliOptions) => {
      try {
        // Loaded on use: the Sigstore client stack would cost every other command its start-up time.
        const { signModel } = await import('../signing/sign.js');
        const r = await signModel({
          modelRoot,
          ...(o.signature !== undefined ? { signature: o.signature } : {}),
          ...(o.shardSize !== undefined ? { shardSize: o.shardSize } : {}),
          ignorePaths: o.ignorePaths ?? [],
          lfsOid: o.lfsOid ?? false,
          signer: signMethodFromOptions(o, io.env),
        });
        for (const w of r.warnings) io.err(`mlgate: warning: ${w}\n`);
        io.out(`${summaryLine(r)}\n`);
        setCode(0);
      } catch (e) {
        if (!(e instanceof SigningServiceError)) throw e;
        io.err(`mlgate: ${e.message}\n`);
        setCode(3);
      }
    });
}
