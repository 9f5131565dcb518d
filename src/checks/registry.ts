import type { Rule } from './rule.js';
import { artifactOwnership } from './artifact-ownership.js';
import { datasetProvenance } from './dataset-provenance.js';
import { dependencyPinning } from './dependency-pinning.js';
import { modelCard } from './model-card.js';
import { modelFileSafety } from './model-file-safety.js';
import { modelHubPinning } from './model-hub-pinning.js';
import { modelSigning } from './model-signing.js';
import { threatModel } from './threat-model.js';
import { unsafeDeserialization } from './unsafe-deserialization.js';

/** Every rule mlgate knows, listed explicitly (DESIGN §2); order is the order of reports. */
export const RULES: readonly Rule[] = [datasetProvenance, modelSigning, modelFileSafety, unsafeDeserialization, dependencyPinning, modelHubPinning, threatModel, modelCard, artifactOwnership];

export function findRule(id: string): Rule | undefined {
  return RULES.find((r) => r.id === id);
}
