import { HashPool } from '../core/hash-pool.js';
import type { ProvenanceField } from '../formats/provenance.js';
import { matchesAny } from '../inventory/inventory.js';
import type { FileEntry } from '../inventory/types.js';
import { md5File } from './dataset-provenance/digests.js';
import { licenseAllowed } from './dataset-provenance/licenses.js';
import {
  DEFAULT_DATASET_GLOBS,
  DEFAULT_MAX_HASH_BYTES,
  DEFAULT_REQUIRE,
  DVC_SUFFIX,
  isDatasetFile,
  isRecordOrMetaFile,
  paramsSchema,
  PROVENANCE_FILE,
  SIDECAR_SUFFIX,
  type DatasetProvenanceParams,
} from './dataset-provenance/params.js';
import { dirOf, RecordStore } from './dataset-provenance/records.js';
import { hostAllowed, sourceHost } from './dataset-provenance/sources.js';
import { KIND_LABEL, type DigestClaim, type RecordView } from './dataset-provenance/views.js';
import { atlas, owaspLlm, type DependencyIndex, type Invalidation, type Rule, type RuleContext, type RuleFinding } from './rule.js';

interface Dataset {
  path: string;
  /** Absent for a DVC-tracked path kept out of git. */
  entry?: FileEntry;
}

const HASH_CONCURRENCY = 4;
const LISTED = 5;

const FIELD_VALUE: Record<ProvenanceField, string> = {
  source: '<URL it came from>',
  license: '<SPDX id>',
  collected: '<YYYY-MM-DD or a range>',
  'collection-process': '"<how it was collected and cleaned>"',
  sha256: '<output of sha256sum>',
};
/** Where each record form keeps a field, for the fix a finding suggests. */
const CROISSANT_KEY: Partial<Record<ProvenanceField, string>> = { source: 'url', license: 'license', collected: 'datePublished' };
const CARD_KEY: Partial<Record<ProvenanceField, string>> = { source: 'source', license: 'license', collected: 'collected', 'collection-process': 'collection-process' };

/** How to add a missing field to the record a dataset's finding lands on. */
function fixHint(field: ProvenanceField, view: RecordView, dataset: string, several: boolean): string {
  const dir = dirOf(view.path);
  const rel = dir ? dataset.slice(dir.length + 1) : dataset;
  const value = FIELD_VALUE[field];
  const provenanceFile = dir ? `${dir}/${PROVENANCE_FILE}` : PROVENANCE_FILE;
  switch (view.kind) {
    case 'sidecar':
      return `add \`${field}: ${value}\``;
    case 'provenance':
      return field === 'sha256' ? `add \`${rel}: {sha256: ${value}}\`${several ? ' (one per file)' : ''} under \`files:\`` : `add \`${field}: ${value}\``;
    case 'dvc':
      return field === 'sha256' ? 'run `dvc commit` so the out records its md5' : `add \`meta: {${field}: ${value}}\` to the out`;
    case 'croissant':
      return field === 'sha256'
        ? `add a \`distribution\` FileObject with \`"contentUrl": "${rel}"\` and its \`"sha256"\``
        : CROISSANT_KEY[field]
          ? `add \`"${CROISSANT_KEY[field]}"\``
          : `write it in ${provenanceFile}`;
    case 'hf-card':
      return field === 'sha256' ? `record the digests in ${provenanceFile} (\`files: {${rel}: {sha256: ${value}}}\`)` : `add \`${CARD_KEY[field] ?? field}: ${value}\` to the front matter`;
  }
}

const list = (paths: string[]): string => (paths.length <= LISTED ? paths.join(', ') : `${paths.slice(0, LISTED).join(', ')} and ${paths.length - LISTED} more`);

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const g = out.get(k);
    if (g) g.push(it);
    else out.set(k, [it]);
  }
  return out;
}

async function findDatasets(ctx: RuleContext<DatasetProvenanceParams>, globs: string[], store: RecordStore): Promise<Map<string, Dataset>> {
  const out = new Map<string, Dataset>();
  for (const f of ctx.inventory.match(globs)) if (isDatasetFile(f.path, globs)) out.set(f.path, { path: f.path, entry: f });
  for (const [path, t] of await store.dvcIndex()) {
    if (out.has(path) || !(matchesAny(path, globs) || matchesAny(t.file, globs))) continue;
    out.set(path, { path, entry: ctx.inventory.get(path) });
  }
  return out;
}

/**
 * A changed dataset invalidates the records that may describe it (a sidecar, a
 * PROVENANCE.yml, croissant.json or card in its directory or above, a .dvc
 * file); a changed record, the datasets under it. The .dvc files and the DVC
 * config are read to resolve any of them.
 */
function datasetDependents(path: string, index: DependencyIndex, params: DatasetProvenanceParams | undefined): Invalidation | undefined {
  const globs = params?.datasets ?? DEFAULT_DATASET_GLOBS;
  const exists = (p: string): boolean => index.inventory.get(p) !== undefined;
  const dvc = { inputs: [...index.matching([`**/*${DVC_SUFFIX}`]), '.dvc/config'].filter(exists) };
  if (isRecordOrMetaFile(path)) {
    const described = path.endsWith(SIDECAR_SUFFIX) ? [path.slice(0, -SIDECAR_SUFFIX.length)] : index.filesUnder(path.endsWith(DVC_SUFFIX) ? path.slice(0, -DVC_SUFFIX.length) : dirOf(path));
    const datasets = [...described].filter((p) => exists(p) && matchesAny(p, globs) && isDatasetFile(p, globs));
    // A dataset's other records are read to resolve it, and findings may land on them.
    return { dependents: [...datasets, ...datasets.flatMap((p) => RecordStore.candidatePaths(p).filter(exists))], ...dvc };
  }
  if (!matchesAny(path, globs) || !isDatasetFile(path, globs)) return undefined;
  return { dependents: RecordStore.candidatePaths(path).filter(exists), ...dvc };
}

async function run(ctx: RuleContext<DatasetProvenanceParams>): Promise<void> {
  const params = ctx.params ?? {};
  const globs = params.datasets ?? DEFAULT_DATASET_GLOBS;
  const require = params.require ?? DEFAULT_REQUIRE;
  const allowedLicenses = params['allowed-licenses'] ?? [];
  const allowedSources = params['allowed-sources'] ?? [];
  const requireUpdate = params['require-update-on-change'] ?? true;
  const maxHash = params['max-hash-bytes'] ?? DEFAULT_MAX_HASH_BYTES;
  const changed = ctx.changed;

  const seen = new Set<string>();
  const report = (f: RuleFinding): void => {
    const key = `${f.code}|${f.path}|${f.line}|${f.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    ctx.report(f);
  };

  const store = new RecordStore(ctx as RuleContext<unknown>);
  const datasets = await findDatasets(ctx, globs, store);
  const selected = [...datasets.values()].filter(
    (d) => !changed || changed.touches(d.path) || store.candidatePaths(d.path).some((p) => changed.touches(p)),
  );

  const unrecorded: Dataset[] = [];
  const missing: { field: ProvenanceField; dataset: Dataset; primary: RecordView; placeholder?: RecordView }[] = [];
  const notUpdated: Dataset[] = [];
  const toVerify: { dataset: Dataset; entry: FileEntry; claims: { view: RecordView; claim: DigestClaim }[] }[] = [];

  for (const d of selected) {
    ctx.signal.throwIfAborted();
    const { views, broken } = await store.resolve(d.path);
    // The cheap pre-selection counts any README.md; only records that really apply select a dataset.
    if (changed && !changed.touches(d.path) && ![...views.map((v) => v.path), ...broken].some((p) => changed.touches(p))) continue;
    if (views.length === 0) {
      if (broken.length === 0) unrecorded.push(d);
      continue;
    }
    if (broken.length === 0) {
      for (const field of require) {
        const has = field === 'sha256' ? views.some((v) => v.digests.length > 0) : views.some((v) => v.fields[field]);
        if (!has) missing.push({ field, dataset: d, primary: views[0]!, placeholder: views.find((v) => v.placeholders.includes(field)) });
      }
    }
    for (const v of views) for (const f of allowListFindings(v, allowedLicenses, allowedSources)) report(f);
    if (changed && requireUpdate && changed.changed.has(d.path) && !views.some((v) => changed.touches(v.path))) notUpdated.push(d);
    const claims = views.flatMap((view) => view.digests.filter((c) => !c.opaque).map((claim) => ({ view, claim })));
    if (d.entry && claims.length > 0) toVerify.push({ dataset: d, entry: d.entry, claims });
  }

  for (const [dir, group] of groupBy(unrecorded, (d) => dirOf(d.path))) {
    const where = dir || 'the repository root';
    report({
      code: 'missing-record',
      path: group[0]!.path,
      message:
        group.length === 1
          ? `${group[0]!.path} has no provenance record: add ${group[0]!.path}${SIDECAR_SUFFIX} or ${dir ? `${dir}/` : ''}${PROVENANCE_FILE} with source, license, collected and sha256 (\`mlgate init\` writes a starter)`
          : `${group.length} dataset files in ${where} have no provenance record (${list(group.map((d) => d.path))}): add ${dir ? `${dir}/` : ''}${PROVENANCE_FILE} with source, license, collected and a sha256 per file (\`mlgate init\` writes a starter)`,
    });
  }

  for (const [, group] of groupBy(missing, (m) => `${m.field}|${m.primary.path}`)) {
    const { field, primary, placeholder } = group[0]!;
    const names = group.map((m) => m.dataset.path);
    const fix = fixHint(field, primary, names[0]!, group.length > 1);
    report({
      code: 'missing-field',
      path: primary.path,
      line: field === 'sha256' ? primary.digestAnchor : undefined,
      message: placeholder
        ? `\`${field}\` of ${list(names)} is still a placeholder in ${placeholder.path}: replace it with the real value (\`${field}: ${FIELD_VALUE[field]}\`)`
        : `no record of ${list(names)} states \`${field}\`: in ${primary.path} (${KIND_LABEL[primary.kind]}) ${fix}`,
    });
  }

  for (const [, group] of groupBy(notUpdated, (d) => dirOf(d.path))) {
    report({
      code: 'record-not-updated',
      path: group[0]!.path,
      message: `${list(group.map((d) => d.path))} changed but none of ${group.length === 1 ? 'its' : 'their'} provenance records did: update the record (at least the sha256) in the same pull request so the data's origin stays answerable`,
    });
  }

  if (changed && requireUpdate) await deletedStillListed(ctx, store, globs, report);
  await staleEntries(ctx, store, datasets, report);

  // SHA-256 on worker threads, one file per core at a time; more jobs in flight keep the pool fed.
  const pool = new HashPool(undefined, ctx.signal);
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < toVerify.length) {
        const job = toVerify[next++]!;
        ctx.signal.throwIfAborted();
        await ctx.guard(job.dataset.path, () => verify(ctx, pool, job.entry, job.claims, maxHash, report));
      }
    };
    await Promise.all(Array.from({ length: Math.min(HASH_CONCURRENCY, toVerify.length) }, worker));
  } finally {
    await pool.close();
  }
}

function allowListFindings(v: RecordView, allowedLicenses: string[], allowedSources: string[]): RuleFinding[] {
  const out: RuleFinding[] = [];
  const license = v.fields.license;
  for (const value of allowedLicenses.length > 0 ? (license?.values ?? []) : []) {
    if (!licenseAllowed(value, allowedLicenses))
      out.push({
        code: 'license-not-allowed',
        path: v.path,
        line: license!.line,
        message: `license \`${value}\` in ${v.path} is not allowed for datasets (allowed: ${allowedLicenses.join(', ')}); use data under an allowed license or request an exception`,
      });
  }
  const source = v.fields.source;
  for (const value of allowedSources.length > 0 ? (source?.values ?? []) : []) {
    const host = sourceHost(value);
    if (!host || !hostAllowed(host, allowedSources))
      out.push({
        code: 'source-not-allowed',
        path: v.path,
        line: source!.line,
        message: host
          ? `source host ${host} in ${v.path} is not an allowed dataset source (allowed: ${allowedSources.join(', ')})`
          : `source \`${value}\` in ${v.path} is not a URL, so its host cannot be checked against the allowed sources (${allowedSources.join(', ')}); write the URL the data came from`,
      });
  }
  return out;
}

async function verify(
  ctx: RuleContext<DatasetProvenanceParams>,
  pool: HashPool,
  entry: FileEntry,
  claims: { view: RecordView; claim: DigestClaim }[],
  maxHash: number,
  report: (f: RuleFinding) => void,
): Promise<void> {
  const mismatch = (view: RecordView, claim: DigestClaim, actual: string, how: string): void =>
    report({
      code: 'digest-mismatch',
      path: view.path,
      line: claim.line,
      message: `${entry.path} does not match the ${claim.algo} ${claim.hex} recorded in ${view.path}${claim.line ? `:${claim.line}` : ''} (${how} ${actual}): if the new data is intended, record its new digest and provenance; otherwise restore the file`,
    });

  if (entry.lfs) {
    for (const { view, claim } of claims) {
      if (claim.algo === 'sha256') {
        if (claim.hex !== entry.lfs.oid) mismatch(view, claim, entry.lfs.oid, 'its Git LFS pointer says sha256');
      } else {
        report({
          code: 'digest-unverifiable',
          path: view.path,
          line: claim.line,
          maxLevel: 'info',
          message: `${entry.path} is a Git LFS pointer, so the ${claim.algo} in ${view.path} cannot be checked without the content; record its sha256 (the LFS oid) as well`,
        });
      }
    }
    return;
  }
  if (entry.size > maxHash) {
    report({
      code: 'budget-exceeded',
      path: entry.path,
      message: `${entry.path} is ${entry.size} bytes, over max-hash-bytes (${maxHash}), so its recorded digest was not verified (fail closed): store it in Git LFS (its oid is checked without reading the file) or raise max-hash-bytes`,
    });
    return;
  }
  const abs = ctx.inventory.abs(entry.path);
  if (claims.some((c) => c.claim.algo === 'sha256')) {
    const { hex } = await pool.hash({ file: abs });
    for (const { view, claim } of claims) if (claim.algo === 'sha256' && claim.hex !== hex) mismatch(view, claim, hex, 'its sha256 is');
  }
  const md5Claims = claims.filter((c) => c.claim.algo === 'md5');
  if (md5Claims.length > 0) {
    const md5 = await md5File(abs, md5Claims.some((c) => c.claim.legacyText), ctx.signal);
    for (const { view, claim } of md5Claims) {
      if (claim.hex !== md5.raw && !(claim.legacyText && claim.hex === md5.lf)) mismatch(view, claim, md5.raw, 'its md5 is');
    }
  }
}

/** In changed mode: a deleted dataset still listed by a record the change did not touch. */
async function deletedStillListed(ctx: RuleContext<DatasetProvenanceParams>, store: RecordStore, globs: string[], report: (f: RuleFinding) => void): Promise<void> {
  const changed = ctx.changed!;
  for (const gone of changed.deleted) {
    if (!matchesAny(gone, globs) || !isDatasetFile(gone, globs)) continue;
    const sidecar = gone + SIDECAR_SUFFIX;
    if (ctx.inventory.get(sidecar) && !changed.touches(sidecar)) {
      report({ code: 'record-not-updated', path: sidecar, message: `${gone} was deleted but its record ${sidecar} was not: delete the record too` });
    }
    for (let d = dirOf(gone); ; d = dirOf(d)) {
      const prov = d ? `${d}/${PROVENANCE_FILE}` : PROVENANCE_FILE;
      if (ctx.inventory.get(prov)) {
        const entry = (await store.provenance(prov, 'directory'))?.files.get(d ? gone.slice(d.length + 1) : gone);
        if (entry && !changed.touches(prov))
          report({ code: 'record-not-updated', path: prov, line: entry.line, message: `${gone} was deleted but ${prov} still lists it: remove its entry` });
        break;
      }
      if (d === '') break;
    }
  }
}

/** Record entries for files that exist nowhere (neither in the tree nor tracked by DVC): records rot silently otherwise. */
async function staleEntries(ctx: RuleContext<DatasetProvenanceParams>, store: RecordStore, datasets: Map<string, Dataset>, report: (f: RuleFinding) => void): Promise<void> {
  const changed = ctx.changed;
  const dvc = await store.dvcIndex();
  const underDvc = (p: string): boolean => {
    for (let d = p; d; d = dirOf(d)) if (dvc.has(d)) return true;
    return false;
  };
  const exists = (p: string): boolean => ctx.inventory.get(p) !== undefined || datasets.has(p) || underDvc(p);
  for (const f of ctx.inventory.files) {
    if (changed && !changed.touches(f.path)) continue;
    const name = f.path.slice(f.path.lastIndexOf('/') + 1);
    if (name.endsWith(SIDECAR_SUFFIX) && name !== SIDECAR_SUFFIX) {
      const target = f.path.slice(0, -SIDECAR_SUFFIX.length);
      if (!exists(target))
        report({ code: 'stale-entry', path: f.path, maxLevel: 'warning', message: `${f.path} describes ${target}, which is not in the repository: delete the record or restore the file` });
    } else if (name === PROVENANCE_FILE) {
      const rec = await store.provenance(f.path, 'directory');
      const dir = dirOf(f.path);
      for (const [rel, entry] of rec?.files ?? []) {
        const target = dir ? `${dir}/${rel}` : rel;
        if (!exists(target))
          report({ code: 'stale-entry', path: f.path, line: entry.line, maxLevel: 'warning', message: `${f.path} lists ${rel}, but ${target} is not in the repository: remove the entry or restore the file` });
      }
    }
  }
}

export const datasetProvenance: Rule<DatasetProvenanceParams> = {
  id: 'dataset-provenance',
  title: 'Datasets carry a provenance record that matches their bytes',
  summary: 'Every dataset file has a provenance record (source, license, collection date, digest) whose digest matches the data, and changes to data update the record.',
  defaultLevel: 'warning',
  references: [atlas('AML.M0025'), atlas('AML.T0020'), owaspLlm('LLM04', 'llm042025-data-and-model-poisoning')],
  paramsSchema,
  tighten: {
    datasets: 'superset',
    require: 'superset',
    'allowed-licenses': 'allow-list',
    'allowed-sources': 'allow-list',
    'require-update-on-change': 'true-stays',
  },
  examples: {
    pass: {
      description: 'A PROVENANCE.yml with source, license, collection date and the file digest',
      files: {
        'data/reviews.csv': 'text,label\ngreat product,1\n',
        'data/PROVENANCE.yml': [
          'source: https://huggingface.co/datasets/acme/reviews',
          'license: CC-BY-4.0',
          'collected: 2026-05-02',
          'files:',
          '  reviews.csv: {sha256: fc31ae85c510a0f51a816f7976d029f366c07fc7b5c60c3f6832b17413f926c3}',
          '',
        ].join('\n'),
      },
      expect: [],
    },
    fail: {
      description: 'A dataset without any record, and a sidecar whose digest does not match',
      files: {
        'data/unknown.csv': 'a,b\n1,2\n',
        'datasets/reviews.csv': 'text,label\ngreat product,1\n',
        'datasets/reviews.csv.provenance.yml': [
          'source: https://huggingface.co/datasets/acme/reviews',
          'license: CC-BY-4.0',
          'collected: 2026-05-02',
          `sha256: ${'0'.repeat(64)}`,
          '',
        ].join('\n'),
      },
      expect: ['missing-record', 'digest-mismatch'],
    },
  },
  invalidates: datasetDependents,
  run,
};
