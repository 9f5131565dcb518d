/** Sigstore's public-good and staging instances (what `model_signing sign sigstore` and its staging flag use). */
export const SIGSTORE_INSTANCES = {
  production: { fulcio: 'https://fulcio.sigstore.dev', rekor: 'https://rekor.sigstore.dev' },
  staging: { fulcio: 'https://fulcio.sigstage.dev', rekor: 'https://rekor.sigstage.dev' },
} as const;
