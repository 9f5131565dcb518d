import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigurationError } from '../core/errors.js';
import { OrgMerger, type MergeOptions } from '../report/org-merge.js';
import type { OrgReport } from '../report/org-types.js';

/** A JSON report larger than this is not one mlgate wrote (a run with every finding of a huge repository stays far below). */
export const MAX_REPORT_BYTES = 64 * 1024 * 1024;

/** Every `*.json` under the arguments (files as given, directories recursively), sorted for a stable merge. */
export async function reportFiles(args: string[]): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && e.name.toLowerCase().endsWith('.json')) files.push(p);
    }
  };
  for (const a of args) {
    const st = await stat(a).catch(() => undefined);
    if (!st) throw new ConfigurationError(`${a}: no such file or directory`);
    if (st.isDirectory()) await walk(a);
    else files.push(a);
  }
  return [...new Set(files)].sort();
}

async function readCapped(file: string): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size > MAX_REPORT_BYTES) throw new Error(`larger than ${MAX_REPORT_BYTES / 1024 / 1024} MiB, not an mlgate report`);
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

/**
 * `report merge`: reads the reports a few at a time and keeps only the
 * merged form of each, so memory follows the organisation, not the files.
 * The `--previous` merged report is excluded if it lies among the inputs.
 */
export async function mergeReportFiles(args: string[], opts: MergeOptions & { exclude?: string[] }): Promise<OrgReport> {
  const skip = new Set((opts.exclude ?? []).map((p) => path.resolve(p)));
  const files = (await reportFiles(args)).filter((f) => !skip.has(path.resolve(f)));
  if (files.length === 0) throw new ConfigurationError(`${args.join(' ')}: no .json reports found`);
  const merger = new OrgMerger(opts);
  const CONCURRENT = 16;
  for (let i = 0; i < files.length; i += CONCURRENT) {
    const chunk = files.slice(i, i + CONCURRENT);
    const texts = await Promise.all(chunk.map((f) => readCapped(f).then((t) => ({ ok: true as const, t }), (e: Error) => ({ ok: false as const, t: e.message }))));
    texts.forEach((r, j) => {
      const source = chunk[j]!;
      if (!r.ok) return merger.skip(source, `cannot be read (${r.t})`);
      let data: unknown;
      try {
        data = JSON.parse(r.t);
      } catch (err) {
        return merger.skip(source, `not valid JSON (${(err as Error).message})`);
      }
      // A merged organisation report among the inputs (last week's, left in the directory) is not a repository.
      if ((data as { kind?: unknown } | null)?.kind === 'mlgate-org-report') return merger.skip(source, 'a merged organisation report, not a repository report');
      merger.add({ source, data });
    });
  }
  return merger.finish();
}

/** `--previous merged.json`: last run's merged report, to say what changed. */
export async function readPrevious(file: string): Promise<OrgReport> {
  let data: unknown;
  try {
    data = JSON.parse(await readCapped(file));
  } catch (err) {
    throw new ConfigurationError(`--previous ${file}: cannot be read as JSON (${(err as Error).message})`);
  }
  const d = data as Partial<OrgReport> | null;
  if (d?.kind !== 'mlgate-org-report' || d.version !== 1 || !Array.isArray(d.repositories) || !Array.isArray(d.exceptions)) {
    throw new ConfigurationError(`--previous ${file}: not a merged mlgate organisation report (report merge --format json)`);
  }
  return d as OrgReport;
}
