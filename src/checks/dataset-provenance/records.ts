import { FileProblem } from '../../core/errors.js';
import { CroissantError, parseCroissant, type CroissantRecord } from '../../formats/croissant.js';
import { DvcError, parseDvcConfig, parseDvcFile, type DvcConfig, type DvcFile, type DvcOut } from '../../formats/dvc.js';
import { FrontMatterError, parseMarkdown, type MarkdownDoc } from '../../formats/markdown.js';
import {
  isPlaceholder,
  normaliseRelative,
  parseProvenance,
  ProvenanceError,
  type ProvenanceField,
  type ProvenanceFields,
  type ProvenanceRecord,
  type StatedValue,
} from '../../formats/provenance.js';
import type { RuleContext } from '../rule.js';
import { spdxFromUrl } from './licenses.js';
import { CARD_FILE, CROISSANT_FILE, DVC_SUFFIX, PROVENANCE_FILE, SIDECAR_SUFFIX } from './params.js';
import type { Claim, DigestClaim, RecordView } from './views.js';

/** Record files are metadata: a few MiB at most, whatever the per-rule read budget. */
const RECORD_MAX_BYTES = 8 * 1024 * 1024;

export interface DvcTarget {
  /** The `.dvc` file. */
  file: string;
  out: DvcOut;
  dvc: DvcFile;
  /** Repository path the out tracks. */
  path: string;
}

export const dirOf = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const join = (dir: string, name: string): string => (dir ? `${dir}/${name}` : name);
const relativeTo = (dir: string, p: string): string => (dir ? p.slice(dir.length + 1) : p);

/** Hugging Face card keys that only dataset cards use. */
const DATASET_CARD_KEYS = ['source_datasets', 'annotations_creators', 'language_creators', 'task_categories', 'task_ids', 'size_categories', 'dataset_info', 'configs', 'pretty_name', 'multilinguality', 'paperswithcode_id'];
/** Keys of model cards and Space READMEs: their `license` is not the data's. */
const NOT_DATASET_CARD_KEYS = ['base_model', 'model-index', 'library_name', 'pipeline_tag', 'model_name', 'sdk', 'app_file', 'emoji'];

export interface ResolvedRecords {
  views: RecordView[];
  /** Records that apply but could not be read (already reported as findings). */
  broken: string[];
}

/**
 * Finds and parses the records that apply to a dataset, each file once. A
 * record that cannot be parsed is reported (`invalid-record`, or the engine's
 * `budget-exceeded`) on that file and treated as unreadable.
 */
export class RecordStore {
  private readonly cache = new Map<string, Promise<unknown>>();
  private dvcTargets?: Promise<Map<string, DvcTarget>>;

  constructor(private readonly ctx: RuleContext<unknown>) {}

  private exists(p: string): boolean {
    return this.ctx.inventory.get(p) !== undefined;
  }

  private load<T>(path: string, parse: (text: string) => T, problems?: (v: T) => { message: string; line: number }[]): Promise<T | null> {
    let p = this.cache.get(path) as Promise<T | null> | undefined;
    if (!p) {
      p = (async () => {
        let value: T | null = null;
        await this.ctx.guard(path, async () => {
          const text = await this.ctx.inventory.readText(path, Math.min(RECORD_MAX_BYTES, this.ctx.maxFileBytes));
          value = parse(text);
        });
        if (value !== null && problems) {
          for (const pr of problems(value)) this.ctx.report({ code: 'invalid-record', path, line: pr.line, message: `${path}:${pr.line}: ${pr.message}` });
        }
        return value;
      })();
      this.cache.set(path, p);
    }
    return p;
  }

  provenance(path: string, kind: 'sidecar' | 'directory'): Promise<ProvenanceRecord | null> {
    return this.load(path, (t) => wrap(path, () => parseProvenance(t, kind), ProvenanceError), (r) => r.problems);
  }

  croissant(path: string): Promise<CroissantRecord | null> {
    return this.load(path, (t) => wrap(path, () => parseCroissant(t), CroissantError), (r) => r.problems);
  }

  card(path: string): Promise<MarkdownDoc | null> {
    return this.load(path, (t) => wrap(path, () => parseMarkdown(t), FrontMatterError));
  }

  dvcFile(path: string): Promise<DvcFile | null> {
    return this.load(path, (t) => wrap(path, () => parseDvcFile(t), DvcError), (r) => r.problems);
  }

  private dvcConfig(): Promise<DvcConfig | null> {
    return this.exists('.dvc/config') ? this.load('.dvc/config', parseDvcConfig) : Promise.resolve(null);
  }

  /** Every path tracked by a `.dvc` file of the inventory. */
  dvcIndex(): Promise<Map<string, DvcTarget>> {
    this.dvcTargets ??= (async () => {
      const map = new Map<string, DvcTarget>();
      for (const f of this.ctx.inventory.files) {
        if (!f.path.endsWith(DVC_SUFFIX) || f.path.startsWith('.dvc/')) continue;
        this.ctx.signal.throwIfAborted();
        const dvc = await this.dvcFile(f.path);
        for (const out of dvc?.outs ?? []) {
          const target = normaliseRelative(join(dirOf(f.path), out.path));
          if (!target || target.split('/').includes('..')) {
            this.ctx.report({ code: 'invalid-record', path: f.path, line: out.line, message: `${f.path}:${out.line}: out path \`${out.path}\` leaves the repository` });
            continue;
          }
          map.set(target, { file: f.path, out, dvc: dvc!, path: target });
        }
      }
      return map;
    })();
    return this.dvcTargets;
  }

  /** Every record that applies to a dataset, nearest kind first: sidecar, PROVENANCE.yml, DVC, Croissant, Hugging Face card. */
  async resolve(dataset: string): Promise<ResolvedRecords> {
    const views: RecordView[] = [];
    const broken: string[] = [];
    const add = (path: string, view: RecordView | undefined | null, ok: boolean): void => {
      if (!ok) broken.push(path);
      else if (view) views.push(view);
    };

    const sidecar = dataset + SIDECAR_SUFFIX;
    if (this.exists(sidecar)) {
      const rec = await this.provenance(sidecar, 'sidecar');
      add(sidecar, rec && fromProvenance(sidecar, rec, undefined, 'sidecar'), rec !== null);
    }
    const prov = this.nearest(dirOf(dataset), PROVENANCE_FILE);
    if (prov) {
      const rec = await this.provenance(prov, 'directory');
      const entry = rec?.files.get(relativeTo(dirOf(prov), dataset));
      add(prov, rec && fromProvenance(prov, rec, entry, 'provenance'), rec !== null);
    }
    const dvc = await this.dvcFor(dataset);
    if (dvc) add(dvc.file, await this.fromDvc(dvc, dataset), true);
    const croissant = this.nearest(dirOf(dataset), CROISSANT_FILE);
    if (croissant) {
      const rec = await this.croissant(croissant);
      add(croissant, rec && fromCroissant(croissant, rec, dataset), rec !== null);
    }
    for (let d = dirOf(dataset); ; d = dirOf(d)) {
      const readme = join(d, CARD_FILE);
      if (this.exists(readme)) {
        const doc = await this.card(readme);
        if (doc === null) {
          broken.push(readme);
          break;
        }
        if (isDatasetCard(doc.frontMatter)) {
          views.push(fromCard(readme, doc));
          break;
        }
      }
      if (d === '') break;
    }
    return { views, broken };
  }

  /** Paths whose change counts as updating a dataset's records (existing or not). */
  candidatePaths(dataset: string): string[] {
    return RecordStore.candidatePaths(dataset);
  }

  /** Where a record of `dataset` may be, nearest first: also what a change to the dataset invalidates. */
  static candidatePaths(dataset: string): string[] {
    const out = [dataset + SIDECAR_SUFFIX];
    for (let d = dirOf(dataset); ; d = dirOf(d)) {
      out.push(join(d, PROVENANCE_FILE), join(d, CROISSANT_FILE), join(d, CARD_FILE));
      if (d === '') break;
    }
    for (let p = dataset; p; p = dirOf(p)) out.push(p + DVC_SUFFIX);
    return out;
  }

  private nearest(dir: string, name: string): string | undefined {
    for (let d = dir; ; d = dirOf(d)) {
      if (this.exists(join(d, name))) return join(d, name);
      if (d === '') return undefined;
    }
  }

  private async dvcFor(dataset: string): Promise<DvcTarget | undefined> {
    const index = await this.dvcIndex();
    for (let p = dataset; p; p = dirOf(p)) {
      const t = index.get(p);
      if (t && (p === dataset || t.out.isDir)) return t;
    }
    return undefined;
  }

  private async fromDvc(t: DvcTarget, dataset: string): Promise<RecordView> {
    const fields: RecordView['fields'] = {};
    const { meta } = t.out;
    const config = await this.dvcConfig();
    const remoteName = t.out.remote?.value ?? config?.defaultRemote;
    const remoteUrl = remoteName ? config?.remotes.get(remoteName) : undefined;
    const source = meta.source ?? t.dvc.importedFrom ?? (remoteUrl ? { value: remoteUrl, line: t.out.remote?.line ?? t.out.line } : undefined);
    if (source && !isPlaceholder(source.value)) fields.source = { values: [source.value], line: source.line };
    if (meta.license && !isPlaceholder(meta.license.value)) fields.license = { values: [meta.license.value], line: meta.license.line };
    if (meta.collected && !isPlaceholder(meta.collected.value)) fields.collected = { values: [meta.collected.value], line: meta.collected.line };
    const digests: DigestClaim[] = [];
    if (t.out.md5) {
      const opaque = t.out.isDir || t.path !== dataset;
      digests.push({ algo: 'md5', hex: t.out.md5.value, line: t.out.md5.line, legacyText: t.out.legacyHash, opaque });
    }
    return { kind: 'dvc', path: t.file, fields, digests, placeholders: [] };
  }
}

function wrap<T>(path: string, fn: () => T, errorType: new (...a: never[]) => Error & { line?: number }): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof errorType) throw new FileProblem(path, `${path}${e.line ? `:${e.line}` : ''}: ${e.message}`, 'invalid-record', e.line);
    throw e;
  }
}

function fromProvenance(path: string, rec: ProvenanceRecord, entry: (ProvenanceFields & { line: number }) | undefined, kind: 'sidecar' | 'provenance'): RecordView {
  const fields: RecordView['fields'] = {};
  const placeholders = new Set<ProvenanceField>();
  let digests: DigestClaim[] = [];
  // A `files:` entry overrides the shared fields of its PROVENANCE.yml.
  for (const layer of entry ? [rec, entry] : [rec]) {
    for (const f of layer.placeholders) placeholders.add(f);
    for (const [field, stated] of Object.entries(layer.stated) as [ProvenanceField, StatedValue][]) {
      if (field === 'sha256') digests = [{ algo: 'sha256', hex: stated.values[0]!, line: stated.line }];
      else fields[field] = { values: stated.values, line: stated.line };
    }
  }
  for (const f of Object.keys(fields)) placeholders.delete(f as ProvenanceField);
  if (digests.length > 0) placeholders.delete('sha256');
  return { kind, path, fields, digests, placeholders: [...placeholders], digestAnchor: kind === 'provenance' ? (entry?.line ?? rec.filesLine) : undefined };
}

function fromCroissant(path: string, rec: CroissantRecord, dataset: string): RecordView {
  const fields: RecordView['fields'] = {};
  if (rec.license) fields.license = { values: rec.license.value.map(spdxFromUrl), line: rec.license.line };
  if (rec.url) fields.source = { values: [rec.url.value], line: rec.url.line };
  if (rec.datePublished) fields.collected = { values: [rec.datePublished.value], line: rec.datePublished.line };
  const digests: DigestClaim[] = [];
  const base = dirOf(path);
  for (const file of rec.files) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(file.contentUrl)) continue;
    const target = normaliseRelative(join(base, file.contentUrl.replace(/^\.\//, '')));
    if (target !== dataset) continue;
    if (file.sha256) digests.push({ algo: 'sha256', hex: file.sha256.value, line: file.sha256.line });
    if (file.md5) digests.push({ algo: 'md5', hex: file.md5.value, line: file.md5.line });
  }
  return { kind: 'croissant', path, fields, digests, placeholders: [] };
}

function isDatasetCard(fm: Record<string, unknown> | null): boolean {
  if (!fm) return false;
  if (DATASET_CARD_KEYS.some((k) => k in fm)) return true;
  return !NOT_DATASET_CARD_KEYS.some((k) => k in fm) && ('license' in fm || 'source' in fm || 'collected' in fm);
}

const strings = (v: unknown): string[] =>
  (Array.isArray(v) ? v : [v]).filter((x) => typeof x === 'string' || typeof x === 'number').map((x) => String(x).trim()).filter((x) => x && !isPlaceholder(x));

/**
 * Hugging Face dataset card front matter → provenance fields: `license`;
 * `source` (an mlgate key) or else `source_datasets` (`extended|squad` →
 * https://huggingface.co/datasets/squad, `original` kept as is); `collected`
 * (an mlgate key); `collection-process` or else the annotation/language creators.
 */
function fromCard(path: string, doc: MarkdownDoc): RecordView {
  const fm = doc.frontMatter ?? {};
  const fields: RecordView['fields'] = {};
  const claim = (key: string, values: string[]): Claim | undefined => (values.length > 0 ? { values, line: doc.frontMatterLine(key) } : undefined);
  // `license: other` defers to `license_name`, as the Hub does.
  const license = claim('license', strings(fm.license).map((l) => (l === 'other' && typeof fm.license_name === 'string' ? fm.license_name : l)));
  if (license) fields.license = license;
  const source =
    claim('source', strings(fm.source)) ??
    claim(
      'source_datasets',
      strings(fm.source_datasets).map((s) => {
        const id = s.replace(/^extended\|/, '');
        return id === 'original' || /^[a-z]+:\/\//i.test(id) ? id : `https://huggingface.co/datasets/${id}`;
      }),
    );
  if (source) fields.source = source;
  const collected = claim('collected', strings(fm.collected));
  if (collected) fields.collected = collected;
  const creators = [...strings(fm.annotations_creators).map((c) => `annotations: ${c}`), ...strings(fm.language_creators).map((c) => `language: ${c}`)];
  const process = claim('collection-process', strings(fm['collection-process'])) ?? claim(fm.annotations_creators ? 'annotations_creators' : 'language_creators', creators);
  if (process) fields['collection-process'] = process;
  return { kind: 'hf-card', path, fields, digests: [], placeholders: [] };
}
