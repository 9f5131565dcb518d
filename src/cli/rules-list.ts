import { RULES } from '../checks/registry.js';

/** `mlgate rules`: one line a rule — id, default level, summary — and where the engine's own findings are documented. */
export function listRules(): string {
  const width = Math.max(...RULES.map((r) => r.id.length));
  const rules = RULES.map((r) => `${r.id.padEnd(width)}  ${r.defaultLevel.padEnd(7)}  ${r.summary}`);
  return `${rules.join('\n')}\n\nFindings about the policy and the file listing: mlgate rules policy, mlgate rules inventory.\nOne rule or code: mlgate rules model-signing, mlgate rules model-signing/unsigned.\n`;
}
