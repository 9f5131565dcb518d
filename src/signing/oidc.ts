import { ConfigurationError } from '../core/errors.js';
import { SigningServiceError } from './errors.js';

const TOKEN_MAX_BYTES = 64 * 1024;

/**
 * The workflow's OIDC token for Sigstore, from the GitHub Actions runtime
 * (what `permissions: id-token: write` provides). The token is a credential:
 * it is returned, never logged.
 */
export async function actionsIdToken(env: Readonly<Record<string, string | undefined>>, audience = 'sigstore'): Promise<string> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !bearer) {
    throw new ConfigurationError(
      'keyless signing needs an OIDC identity token: in GitHub Actions grant the job `permissions: id-token: write`; elsewhere pass --identity-token, or sign with --key',
    );
  }
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new ConfigurationError('ACTIONS_ID_TOKEN_REQUEST_URL is not a URL');
  }
  target.searchParams.set('audience', audience);
  let response: Response;
  try {
    response = await fetch(target, { headers: { Authorization: `bearer ${bearer}`, Accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new SigningServiceError(`the GitHub Actions OIDC token request to ${target.origin} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const text = (await response.text()).slice(0, TOKEN_MAX_BYTES);
  if (!response.ok) throw new SigningServiceError(`the GitHub Actions OIDC token request was refused (HTTP ${response.status}); check that the job has \`permissions: id-token: write\``);
  let value: unknown;
  try {
    value = (JSON.parse(text) as { value?: unknown }).value;
  } catch {
    value = undefined;
  }
  if (typeof value !== 'string' || value === '') throw new SigningServiceError('the GitHub Actions OIDC token response holds no token');
  return value;
}
