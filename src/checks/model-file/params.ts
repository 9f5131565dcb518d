import type { TightenKind } from '../rule.js';
import { DEFAULT_ONNX_DOMAINS } from './dispatch.js';
import { MODEL_FORMATS, MODEL_FORMAT_DOCS } from './formats.js';

/** The parameters of model-file-safety for formats beyond the pickle family, spread into the rule's schema. */

const formatMap = (what: string) => ({
  type: 'object',
  propertyNames: { type: 'string', format: 'glob' },
  additionalProperties: { type: 'array', items: { enum: [...MODEL_FORMATS] }, uniqueItems: true },
  default: {},
  description: `${what} Formats: ${MODEL_FORMATS.map((f) => `${f} (${MODEL_FORMAT_DOCS[f]})`).join('; ')}.`,
});

export const OTHER_FORMAT_PROPERTIES = {
  'allow-tf-ops': {
    type: 'array',
    items: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]*$' },
    default: [],
    description: 'TensorFlow op types (ReadFile, PyFunc…) you reviewed and accept in SavedModel graphs.',
  },
  'allow-onnx-domains': {
    type: 'array',
    items: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
    default: DEFAULT_ONNX_DOMAINS,
    description: 'ONNX operator domains besides ai.onnx* whose custom operators you accept. Default: com.microsoft (the contrib operators built into ONNX Runtime).',
  },
  'allow-formats': formatMap('Globs mapped to the only model formats allowed there: a model file matching a glob must be one of its formats (every matching glob applies). Files that are no model format are not judged.'),
  'deny-formats': formatMap('Globs mapped to model formats forbidden there, e.g. {"**": [pickle, pytorch, joblib]} for "no new pickle-family files".'),
} as const;

export const OTHER_FORMAT_TIGHTEN: Record<keyof typeof OTHER_FORMAT_PROPERTIES, TightenKind> = {
  'allow-tf-ops': 'subset',
  'allow-onnx-domains': 'subset',
  'allow-formats': 'allow-map',
  'deny-formats': 'deny-map',
};
