import type { Finding } from '../core/types.js';

/** Where GitHub looks for CODEOWNERS first; the file a `no-codeowners` finding asks for. */
export const CODEOWNERS_PATH = '.github/CODEOWNERS';
/** The first place `threat-model` looks by default. */
export const THREAT_MODEL_PATH = 'THREAT_MODEL.md';
export const POLICY_PATH = '.github/mlgate.yml';

/**
 * Code scanning rejects a result without a location, and some findings are about
 * the repository as a whole (no CODEOWNERS, no threat model, an exception that
 * expired). They are shown on the file whose creation or edit fixes them; the rest
 * (policy and inventory notes) on the policy file, where the decision lives.
 */
export function repositoryLevelPath(finding: Pick<Finding, 'rule' | 'code'>, policyPath: string): string {
  if (finding.code === 'artifact-ownership/no-codeowners') return CODEOWNERS_PATH;
  if (finding.code === 'threat-model/missing') return THREAT_MODEL_PATH;
  return policyPath;
}
