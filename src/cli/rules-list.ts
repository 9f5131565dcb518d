import { RULES } from '../checks/registry.js';

/** `mlgate rules`: one line a rule — id, default level, summary. */
export function listRules(): string {
  const width = Math.max(...RULES.map((r) => r.id.length));
  return `${RULES.map((r) => `${r.id.padEnd(width)}  ${r.defaultLevel.padEnd(7)}  ${r.summary}`).join('\n')}\n`;
}
