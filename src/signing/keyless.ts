import { Buffer } from 'node:buffer';
import { bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder, FulcioSigner, InternalError, RekorWitness, TSAWitness, type Witness } from '@sigstore/sign';
import { ConfigurationError } from '../core/errors.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../formats/oms/statement.js';
import { SigningServiceError } from './errors.js';

export interface KeylessOptions {
  /** The OIDC identity token (a credential: never logged). */
  token: string;
  fulcioUrl: string;
  rekorUrl: string;
  tsaUrl?: string;
}

/** Retried: 5xx, 408, 429 and network errors, with backoff (0.25 s, 0.5 s, 1 s). */
const RETRY = { retries: 3, factor: 2, minTimeout: 250, maxTimeout: 2000 };
const TIMEOUT_MS = 30_000;

/** The claims Fulcio needs from the token, checked here so no library ever echoes the token in an error. */
function checkToken(token: string): void {
  const parts = token.split('.');
  let claims: Record<string, unknown> | undefined;
  try {
    claims = parts.length === 3 ? (JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>) : undefined;
  } catch {
    claims = undefined;
  }
  if (!claims || typeof claims !== 'object') throw new ConfigurationError('the identity token is not a JWT (three base64url parts with a JSON payload)');
  if (typeof claims.email === 'string' && claims.email_verified !== true) throw new ConfigurationError('the identity token names an email its issuer has not verified; Fulcio refuses it');
  if (typeof claims.email !== 'string' && typeof claims.sub !== 'string') throw new ConfigurationError('the identity token has no subject (sub or email claim)');
}

const SERVICE: Record<string, string> = {
  CA_CREATE_SIGNING_CERTIFICATE_ERROR: 'Fulcio could not issue a signing certificate',
  TLOG_CREATE_ENTRY_ERROR: 'Rekor could not record the signature in the transparency log',
  TLOG_FETCH_ENTRY_ERROR: 'Rekor could not return the transparency-log entry',
  TSA_CREATE_TIMESTAMP_ERROR: 'the timestamp authority could not timestamp the signature',
  IDENTITY_TOKEN_READ_ERROR: 'the identity token could not be read',
  IDENTITY_TOKEN_PARSE_ERROR: 'the identity token could not be parsed',
};

function explain(e: unknown, o: KeylessOptions): SigningServiceError {
  const scrub = (s: string) => s.split(o.token).join('***');
  if (e instanceof InternalError) {
    const cause = e.cause as { statusCode?: number; message?: string } | undefined;
    const status = typeof cause?.statusCode === 'number' ? ` (HTTP ${cause.statusCode}${cause.statusCode >= 500 ? ', after retries' : ''}: ${scrub(String(cause.message ?? '')).replace(/^\(\d+\)\s*/, '').slice(0, 300)})` : cause?.message ? ` (${scrub(cause.message).slice(0, 300)})` : '';
    return new SigningServiceError(`${SERVICE[e.code] ?? scrub(e.message)}${status}`);
  }
  return new SigningServiceError(`Sigstore signing failed: ${scrub(e instanceof Error ? e.message : String(e)).slice(0, 500)}`);
}

/**
 * Keyless signing through @sigstore/sign: an ephemeral P-256 key, a Fulcio
 * certificate for the token's identity, a Rekor `dsse` entry (and an RFC 3161
 * timestamp with a TSA), packed as a Sigstore bundle v0.3 — what
 * model_signing's Sigstore signer produces.
 */
export async function keylessBundle(payload: Buffer, o: KeylessOptions): Promise<Record<string, unknown>> {
  checkToken(o.token);
  const signer = new FulcioSigner({ identityProvider: { getToken: () => Promise.resolve(o.token) }, fulcioBaseURL: o.fulcioUrl, retry: RETRY, timeout: TIMEOUT_MS });
  const witnesses: Witness[] = [new RekorWitness({ rekorBaseURL: o.rekorUrl, entryType: 'dsse', retry: RETRY, timeout: TIMEOUT_MS })];
  if (o.tsaUrl) witnesses.push(new TSAWitness({ tsaBaseURL: o.tsaUrl, retry: RETRY, timeout: TIMEOUT_MS }));
  try {
    const bundle = await new DSSEBundleBuilder({ signer, witnesses }).create({ data: payload, type: IN_TOTO_PAYLOAD_TYPE });
    return bundleToJSON(bundle) as unknown as Record<string, unknown>;
  } catch (e) {
    throw explain(e, o);
  }
}
