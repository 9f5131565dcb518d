import { posix } from 'node:path';
import { readTar, TarError, looksLikeTar, TAR_BLOCK } from '../../formats/tar.js';
import { ZipError, looksLikeZipStart, openMember, readZip } from '../../formats/zip.js';
import { bufferAccess, readRange, subAccess, type RandomAccess } from '../../formats/pickle/source.js';
import { escapingPath, kerasMetadataAccessIssues, savedModelAccessIssues } from './savedmodel.js';
import { onnxAccessIssues } from './onnx.js';
import { withFile, type FormatCheckOptions, type FormatIssue } from './types.js';

/**
 * ONNX models and SavedModels inside a tar or zip model bundle, checked as if
 * they were files of the repository (the pickle scan already reads every
 * member by content; these formats are recognised by name). Members are read
 * in place when stored, or inflated in memory up to a cap.
 */

const MEMBER = /(^|\/)(saved_model\.pb|keras_metadata\.pb|[^/]*\.onnx)$/i;
const INFLATE_MAX = 64 * 1024 * 1024;

interface Member {
  name: string;
  open(): Promise<RandomAccess | undefined>;
}

async function members(ra: RandomAccess): Promise<Member[]> {
  const head = await readRange(ra, 0, TAR_BLOCK);
  if (looksLikeTar(head)) {
    const { members: list } = await readTar(ra);
    return list.filter((m) => m.isFile && !m.sparse && MEMBER.test(m.name)).map((m) => ({ name: m.name, open: async () => subAccess(ra, m.dataOffset, m.size) }));
  }
  if (!looksLikeZipStart(head)) return [];
  const { entries } = await readZip(ra);
  return entries
    .filter((e) => MEMBER.test(e.name))
    .map((e) => ({
      name: e.name,
      open: async () => {
        const m = await openMember(ra, e);
        try {
          if (m.access) return m.access;
          if (e.size > INFLATE_MAX) return undefined;
          const buf = Buffer.alloc(e.size);
          let got = 0;
          while (got < e.size) {
            const n = await m.source.read(buf, got, e.size - got);
            if (n === 0) break;
            got += n;
          }
          return bufferAccess(buf.subarray(0, got));
        } finally {
          m.close();
        }
      },
    }));
}

/** External data of an ONNX member: resolved against the member's directory inside the archive. */
async function memberLocation(location: string | undefined, member: string): Promise<string | undefined> {
  if (location === undefined || location === '') return 'names no location';
  const why = escapingPath(location);
  if (why) return `${why}, so the runtime reads a file outside the model's directory`;
  const dir = posix.dirname(member);
  const target = posix.normalize(posix.join(dir, location.replace(/\\/g, '/')));
  return target.startsWith('../') || (dir !== '.' && !target.startsWith(`${dir}/`)) ? "leaves the model's directory" : undefined;
}

export async function checkBundle(abs: string, opts: FormatCheckOptions): Promise<FormatIssue[]> {
  return withFile(abs, async (ra) => {
    let list: Member[];
    try {
      list = await members(ra);
    } catch (e) {
      // An archive that cannot be listed is the pickle scan's finding already.
      if (e instanceof TarError || e instanceof ZipError) return [];
      throw e;
    }
    const out: FormatIssue[] = [];
    for (const m of list) {
      opts.signal?.throwIfAborted();
      const label = `member ${JSON.stringify(m.name)}: `;
      let access: RandomAccess | undefined;
      try {
        access = await m.open();
      } catch (e) {
        if (e instanceof ZipError) continue; // reported by the pickle scan
        throw e;
      }
      if (!access) {
        out.push({ code: 'budget-exceeded', severity: 'error', message: `${label}is compressed and over ${INFLATE_MAX} bytes, more than mlgate inflates in memory, so it was not checked and fails closed; store it uncompressed in the archive` });
        continue;
      }
      const base = m.name.slice(m.name.lastIndexOf('/') + 1).toLowerCase();
      const found =
        base === 'saved_model.pb'
          ? await savedModelAccessIssues(access, opts)
          : base === 'keras_metadata.pb'
            ? await kerasMetadataAccessIssues(access, opts)
            : await onnxAccessIssues(access, opts, (location) => memberLocation(location, m.name));
      for (const i of found) out.push({ ...i, message: `${label}${i.message}` });
    }
    return out;
  });
}
