/**
 * Sub-codes that mean a file may be malicious or was changed after it was
 * vouched for, rather than a hygiene gap. An exception written for old
 * checkpoints by path alone must not silently cover one of these: it has to
 * name the code (or the finding's fingerprint), and under a lock the locking
 * policy must list the code in `exceptions: {allowed: true, codes: [...]}`.
 */
export const TAMPERING_CODES: Readonly<Record<string, readonly string[]>> = {
  // Pickle opcodes that would run code on load, chat templates that reach Python internals, or files that lie
  // about their format; bytecode, file-reading graph ops, external data and archive members that reach outside the model.
  'model-file-safety': ['dangerous-global', 'dynamic-import', 'global-mutation', 'format-mismatch', 'template-injection', 'keras-bytecode', 'savedmodel-unsafe-op', 'onnx-external-data', 'archive-member-escape'],
  // The signature does not verify, or the signed manifest no longer matches the files.
  'model-signing': ['invalid-signature', 'digest-mismatch', 'untrusted-signer', 'missing-file', 'extra-file', 'renamed-file'],
  // A dataset's bytes no longer match the digest its provenance record pins.
  'dataset-provenance': ['digest-mismatch'],
};

export const tamperingCodes = (ruleId: string): readonly string[] => TAMPERING_CODES[ruleId] ?? [];
