import { PROVENANCE_FIELDS, type ProvenanceField } from '../../formats/provenance.js';

export interface DatasetProvenanceParams {
  datasets?: string[];
  require?: ProvenanceField[];
  'allowed-licenses'?: string[];
  'allowed-sources'?: string[];
  'require-update-on-change'?: boolean;
  'max-hash-bytes'?: number;
}

export const DEFAULT_DATASET_GLOBS = ['data/**', 'datasets/**', '**/*.{csv,tsv,parquet,jsonl,arrow,feather,tfrecord,h5ad}'];
export const DEFAULT_REQUIRE: ProvenanceField[] = ['source', 'license', 'collected', 'sha256'];
/** Streaming a digest costs I/O, not memory; the cap bounds the time a single file can take. */
export const DEFAULT_MAX_HASH_BYTES = 4 * 1024 ** 3;

export const SIDECAR_SUFFIX = '.provenance.yml';
export const PROVENANCE_FILE = 'PROVENANCE.yml';
export const CARD_FILE = 'README.md';
export const CROISSANT_FILE = 'croissant.json';
export const DVC_SUFFIX = '.dvc';

/** Files that describe or configure data and are never data themselves. */
const NOT_DATA_NAMES = new Set([PROVENANCE_FILE, CARD_FILE, CROISSANT_FILE, '.gitattributes', '.gitignore', '.gitkeep', '.keep', 'dvc.yaml', 'dvc.lock', '.dvcignore']);

export function isRecordOrMetaFile(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return NOT_DATA_NAMES.has(name) || name.endsWith(SIDECAR_SUFFIX) || name.endsWith(DVC_SUFFIX);
}

/**
 * Extensions of code, configuration and documentation that sit beside data
 * (`data/prepare.py`, `data/download.sh`, `data/config.yaml`): a broad glob
 * such as `data/**` does not make them datasets.
 */
export const NOT_DATA_EXTENSIONS = [
  'py', 'pyi', 'ipynb', 'sh', 'bash', 'zsh', 'ps1', 'bat', 'cmd', 'js', 'mjs', 'r', 'jl',
  'yaml', 'yml', 'toml', 'cfg', 'ini', 'conf', 'md', 'rst', 'cff',
];
const NOT_DATA_EXT = new RegExp(`\\.(?:${NOT_DATA_EXTENSIONS.join('|')})$`, 'i');
/** README, readme.md, LICENSE, Makefile… in any case, with any extension. */
const NOT_DATA_STEMS = /^(?:readme|license|licence|copying|notice|changelog|makefile|dockerfile)(?:\.[^./]*)?$/i;

/** A glob's last segment names the extension itself (`*.yaml`, `configs/*.{yml,json}`): the user said these are data. */
function namesExtension(glob: string, ext: string): boolean {
  const last = glob.slice(glob.lastIndexOf('/') + 1).toLowerCase();
  const m = /\.(?:\{([^}]*)\}|([a-z0-9]+))$/.exec(last);
  return m !== null && (m[2] === ext || (m[1]?.split(',').includes(ext) ?? false));
}

/**
 * Whether a glob match is a dataset: not a record or metadata file, and not
 * code, configuration or documentation unless a glob names that extension.
 */
export function isDatasetFile(path: string, globs: readonly string[]): boolean {
  if (isRecordOrMetaFile(path)) return false;
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (NOT_DATA_STEMS.test(name)) return false;
  const ext = NOT_DATA_EXT.exec(name)?.[0].slice(1).toLowerCase();
  return ext === undefined || globs.some((g) => namesExtension(g, ext));
}

const globs = (description: string) => ({ type: 'array', items: { type: 'string', format: 'glob' }, maxItems: 256, description });
const names = (description: string) => ({ type: 'array', items: { type: 'string', minLength: 1, maxLength: 512 }, maxItems: 256, default: [], description });

export const paramsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    datasets: { ...globs(`Globs of dataset files. Default: ${DEFAULT_DATASET_GLOBS.join(', ')}. Record files are never datasets; paths tracked by DVC .dvc files count when they match.`), default: DEFAULT_DATASET_GLOBS },
    require: {
      type: 'array',
      items: { enum: [...PROVENANCE_FIELDS] },
      uniqueItems: true,
      default: DEFAULT_REQUIRE,
      description: `Fields every dataset must have in at least one of its records. Default: ${DEFAULT_REQUIRE.join(', ')}. \`sha256\` is met by any recorded content digest (a DVC md5 included).`,
    },
    'allowed-licenses': names('SPDX license ids allowed for datasets (case-insensitive). Empty: any license.'),
    'allowed-sources': names('Host names datasets may come from; `*.example.com` allows the subdomains of example.com. Empty: any source.'),
    'require-update-on-change': { type: 'boolean', default: true, description: 'In changed mode, a changed dataset whose records are not touched by the same change is a finding. Default: true.' },
    'max-hash-bytes': { type: 'integer', minimum: 1, description: `Largest file whose digest is computed (streamed); a larger file with a recorded digest fails closed. Default: ${DEFAULT_MAX_HASH_BYTES} (4 GiB).` },
  },
} as const;
