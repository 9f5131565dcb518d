import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { certificatesFromPem, sameKey } from '../checks/model-signing/keys.js';
import { ConfigurationError } from '../core/errors.js';

/** The curves model_signing signs with, and the hash it pairs with each. */
const CURVES: Record<string, { name: string; hash: string }> = {
  prime256v1: { name: 'P-256', hash: 'sha256' },
  secp384r1: { name: 'P-384', hash: 'sha384' },
  secp521r1: { name: 'P-521', hash: 'sha512' },
};
const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const PEM_MAX_BYTES = 1024 * 1024;

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** node:crypto hash for the curve. */
  hash: string;
}

async function readPem(file: string, what: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigurationError(`${what} ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
  if (bytes.length > PEM_MAX_BYTES) throw new ConfigurationError(`${what} ${file} is ${bytes.length} bytes; a PEM file is a few KB`);
  return bytes.toString('utf8');
}

const missingPassphrase = (file: string) =>
  new ConfigurationError(`private key ${file} is encrypted: pass the name of the environment variable that holds its passphrase with --key-passphrase-env`);

/**
 * An ECDSA P-256/384/521 private key from PEM (PKCS#8 or SEC1, encrypted or
 * not). Every way it can be wrong is the user's: exit 2 with what to do.
 */
export async function loadSigningKey(file: string, passphrase: string | undefined): Promise<SigningKey> {
  const pem = await readPem(file, 'private key');
  // Asked before OpenSSL is: without a passphrase it would try to prompt, and fail obscurely.
  if (passphrase === undefined && /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) throw missingPassphrase(file);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem', ...(passphrase !== undefined ? { passphrase } : {}) });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const msg = e instanceof Error ? e.message : String(e);
    if (code === 'ERR_MISSING_PASSPHRASE') throw missingPassphrase(file);
    if (/bad decrypt|decrypt/i.test(msg)) throw new ConfigurationError(`private key ${file} could not be decrypted: the passphrase is wrong`);
    throw new ConfigurationError(`${file} is not a PEM private key (${msg})`);
  }
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  const known = privateKey.asymmetricKeyType === 'ec' && curve ? CURVES[curve] : undefined;
  if (!known) {
    const what = privateKey.asymmetricKeyType === 'ec' ? `an EC key on curve ${curve ?? 'unknown'}` : `not an ECDSA key (it is ${(privateKey.asymmetricKeyType ?? 'unknown').toUpperCase()})`;
    throw new ConfigurationError(`private key ${file} is ${what}; OMS signatures use ECDSA on P-256, P-384 or P-521 (openssl ecparam -name prime256v1 -genkey -noout -out key.pem)`);
  }
  return { privateKey, publicKey: createPublicKey(privateKey), hash: known.hash };
}

/** The leaf certificate, then the chain files' certificates; the leaf must carry the key and allow code signing. */
export async function loadCertificateChain(certFile: string, chainFiles: readonly string[], key: SigningKey): Promise<X509Certificate[]> {
  const parse = async (file: string, what: string) => {
    try {
      return certificatesFromPem(await readPem(file, what));
    } catch (e) {
      if (e instanceof ConfigurationError) throw e;
      throw new ConfigurationError(`${what} ${file} holds no usable PEM certificate (${e instanceof Error ? e.message : String(e)})`);
    }
  };
  const [leaf, ...rest] = await parse(certFile, 'certificate');
  if (!sameKey(leaf!.publicKey, key.publicKey)) throw new ConfigurationError(`certificate ${certFile} is not the certificate of the private key given with --key (their public keys differ)`);
  if (!(leaf!.keyUsage ?? []).includes(CODE_SIGNING)) {
    throw new ConfigurationError(`certificate ${certFile} does not allow code signing (extended key usage ${CODE_SIGNING}); verifiers reject it. Ask your CA for a code-signing certificate`);
  }
  const chain = [leaf!, ...rest];
  for (const f of chainFiles) chain.push(...(await parse(f, 'certificate chain')));
  return chain;
}
