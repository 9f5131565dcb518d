/**
 * Signing failed for a reason outside the user's input — a service (OIDC token
 * endpoint, Fulcio, Rekor, a timestamp authority) failed or refused, or the
 * model changed while it was read: exit 3 with this message, never a stack
 * trace. The user's own mistakes are ConfigurationError (exit 2).
 */
export class SigningServiceError extends Error {
  override name = 'SigningServiceError';
}
