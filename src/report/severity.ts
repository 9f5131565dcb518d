/**
 * How GitHub code scanning ranks mlgate's alerts. `security-severity` is a CVSS-like
 * score GitHub maps to Critical (9.0 and above), High (7.0–8.9), Medium (4.0–6.9)
 * and Low (0.1–3.9); `precision` says how often a finding is a true positive.
 * https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#reportingdescriptor-object
 *
 * The bands (README, "Code scanning"):
 * - 9.0–10: tampering (a signed or recorded digest that no longer matches), malicious
 *   model files (a pickle importing a dangerous global, code run at load time) and
 *   unsafe loads in code (`torch.load` without `weights_only`, `trust_remote_code`);
 * - 7.0–8.9: checks that could not finish, so something dangerous may be hidden
 *   (a scan that failed closed, an unverifiable signature, a download piped to a shell);
 * - 4.0–6.9: unsigned models, unpinned dependencies, images, actions and hub revisions,
 *   missing provenance, missing owners;
 * - 0.1–3.9: documentation and hygiene: missing model cards, threat-model sections,
 *   review dates, notes about how the run went.
 */

export type Precision = 'very-high' | 'high' | 'medium' | 'low';

export interface CodeSeverity {
  score: number;
  precision: Precision;
}

const s = (score: number, precision: Precision = 'high'): CodeSeverity => ({ score, precision });

/** Every documented code (a test keeps this table and the docs' code tables in step). */
export const CODE_SEVERITY: Readonly<Record<string, CodeSeverity>> = {
  // Tampering: the bytes are not the ones signed or recorded.
  'model-signing/digest-mismatch': s(9.5, 'very-high'),
  'model-signing/invalid-signature': s(9.1, 'very-high'),
  'model-signing/renamed-file': s(9.0, 'very-high'),
  // A link inside a signed model points the loader at bytes nobody signed.
  'model-signing/symlink': s(9.0, 'very-high'),
  'model-signing/missing-file': s(8.0, 'very-high'),
  'model-signing/extra-file': s(7.5, 'very-high'),
  'model-signing/untrusted-signer': s(8.5, 'very-high'),
  'model-signing/unsupported-format': s(6.0),
  'model-signing/unsigned': s(6.0, 'very-high'),
  'model-signing/lfs-shard-unverifiable': s(4.0),
  'model-signing/lfs-unverifiable': s(4.0),
  'model-signing/unreadable': s(7.0),
  'dataset-provenance/digest-mismatch': s(9.0, 'very-high'),
  'dataset-provenance/source-not-allowed': s(6.5),
  'dataset-provenance/license-not-allowed': s(4.5),
  'dataset-provenance/missing-record': s(4.0),
  'dataset-provenance/missing-field': s(3.0),
  'dataset-provenance/record-not-updated': s(4.0, 'medium'),
  'dataset-provenance/invalid-record': s(5.0),
  'dataset-provenance/stale-entry': s(2.0),
  'dataset-provenance/budget-exceeded': s(7.0),
  'dataset-provenance/digest-unverifiable': s(2.0),
  // Malicious model files: loading them runs code.
  'model-file-safety/dangerous-global': s(9.8, 'very-high'),
  'model-file-safety/dynamic-import': s(9.3, 'high'),
  'model-file-safety/global-mutation': s(9.3, 'high'),
  'model-file-safety/lambda-layer': s(9.0, 'high'),
  'model-file-safety/keras-custom-object': s(9.0, 'high'),
  'model-file-safety/format-mismatch': s(9.0, 'high'),
  'model-file-safety/template-injection': s(9.8, 'high'),
  'model-file-safety/malformed': s(8.0, 'medium'),
  'model-file-safety/unscannable': s(8.0, 'medium'),
  'model-file-safety/template-unparsable': s(8.0, 'medium'),
  'model-file-safety/budget-exceeded': s(8.0, 'medium'),
  'model-file-safety/submodule-not-scanned': s(7.5, 'medium'),
  'model-file-safety/lfs-pointer-not-scanned': s(7.5, 'medium'),
  'model-file-safety/unknown-global': s(7.0, 'medium'),
  'model-file-safety/new-pickle': s(5.0, 'medium'),
  // Formats beyond the pickle family (issue 16, part B).
  'model-file-safety/keras-bytecode': s(9.0, 'high'),
  'model-file-safety/tf-op-lambda': s(7.5, 'medium'),
  'model-file-safety/savedmodel-unsafe-op': s(9.0, 'high'),
  'model-file-safety/onnx-external-data': s(9.0, 'high'),
  'model-file-safety/onnx-custom-op': s(6.0, 'medium'),
  'model-file-safety/onnx-version': s(5.0, 'medium'),
  'model-file-safety/archive-member-escape': s(8.5, 'high'),
  'model-file-safety/format-not-allowed': s(6.5, 'very-high'),
  // Unsafe loads in code.
  'unsafe-deserialization/torch-load': s(9.0),
  'unsafe-deserialization/pickle-load': s(9.0),
  'unsafe-deserialization/dill-load': s(9.0),
  'unsafe-deserialization/joblib-load': s(9.0),
  'unsafe-deserialization/pandas-read-pickle': s(9.0),
  'unsafe-deserialization/numpy-allow-pickle': s(9.0),
  'unsafe-deserialization/yaml-unsafe-load': s(9.0),
  'unsafe-deserialization/keras-unsafe-mode': s(9.0),
  'unsafe-deserialization/trust-remote-code': s(9.3),
  'unsafe-deserialization/unsafe-loader': s(9.0),
  'unsafe-deserialization/auto-map': s(8.0),
  'unsafe-deserialization/unparsable': s(3.0, 'medium'),
  'unsafe-deserialization/budget-exceeded': s(5.0, 'medium'),
  // Unpinned supply chain.
  'dependency-pinning/download-and-run': s(8.0),
  'dependency-pinning/unpinned-action': s(6.5, 'very-high'),
  'dependency-pinning/unpinned-requirement': s(6.0, 'very-high'),
  'dependency-pinning/unpinned-install': s(6.0),
  'dependency-pinning/unpinned-image': s(5.5, 'very-high'),
  'dependency-pinning/missing-lockfile': s(5.5),
  'dependency-pinning/stale-lockfile': s(5.0),
  'dependency-pinning/missing-hash': s(5.0, 'very-high'),
  'dependency-pinning/unresolved-include': s(4.0),
  'dependency-pinning/extra-index': s(6.5),
  'dependency-pinning/unverified-download': s(6.0),
  'dependency-pinning/malformed': s(4.0, 'medium'),
  'dependency-pinning/budget-exceeded': s(5.0, 'medium'),
  'model-hub-pinning/unpinned': s(6.0),
  'model-hub-pinning/mutable-revision': s(5.5),
  'model-hub-pinning/unverifiable-revision': s(3.0, 'low'),
  'model-hub-pinning/unverifiable-repo': s(2.0, 'low'),
  'model-hub-pinning/unparsable': s(2.0, 'medium'),
  'model-hub-pinning/budget-exceeded': s(4.0, 'medium'),
  // Ownership.
  'artifact-ownership/no-codeowners': s(4.5, 'very-high'),
  'artifact-ownership/unowned': s(4.5),
  'artifact-ownership/wrong-owner': s(5.0),
  'artifact-ownership/invalid-line': s(3.0),
  // Documentation and hygiene.
  'threat-model/missing': s(3.0, 'very-high'),
  'threat-model/missing-section': s(2.0),
  'threat-model/unknown-atlas-id': s(1.5),
  'threat-model/missing-atlas': s(2.0),
  'threat-model/missing-review-date': s(2.0),
  'threat-model/invalid-review-date': s(2.0),
  'threat-model/stale-review': s(2.5),
  'threat-model/not-updated': s(3.0, 'medium'),
  'threat-model/invalid-front-matter': s(2.0),
  'threat-model/unreadable': s(2.0),
  'model-card/missing-card': s(3.0),
  'model-card/missing-field': s(2.0),
  'model-card/missing-section': s(2.0),
  'model-card/invalid-front-matter': s(2.0),
  'model-card/unreadable': s(2.0),
  // The policy and the run itself.
  'policy/expired-exception': s(5.0, 'very-high'),
  'policy/unpinned-extends': s(5.5),
  'policy/expiring-exception': s(2.0, 'very-high'),
  'policy/unused-exception': s(1.0),
  'policy/invalid-inline-waiver': s(5.0, 'very-high'),
  'policy/expired-inline-waiver': s(5.0, 'very-high'),
  'policy/inline-waiver-pending': s(1.0),
  'policy/inline-waivers-disabled': s(1.0),
  'policy/changed-in-pr': s(1.0),
  'policy/pending-baseline-entry': s(1.0),
  'inventory/truncated': s(7.0, 'very-high'),
  'inventory/symlink': s(4.0),
  'inventory/submodule-not-checked-out': s(4.0),
  'inventory/unsafe-path': s(4.0),
  'inventory/nothing-evaluated': s(3.0),
  'inventory/full-evaluation': s(1.0),
  'inventory/changed-files-capped': s(1.0),
};

/** A code mlgate has no row for (an internal error, a rule without codes) is ranked by its level. */
const BY_LEVEL: Record<'error' | 'warning' | 'note', CodeSeverity> = { error: s(7.0, 'medium'), warning: s(5.0, 'medium'), note: s(2.0, 'medium') };

export function severityOf(code: string | undefined, level: 'error' | 'warning' | 'note'): CodeSeverity {
  return (code !== undefined ? CODE_SEVERITY[code] : undefined) ?? BY_LEVEL[level];
}
