import { modelName } from '../../inventory/model-roots.js';

const FIX = 'fetch LFS content in this job (actions/checkout with lfs: true) so it is scanned, or store the weights as safetensors in the repository';
/** Names a grouped finding lists before "and N more". */
const LISTED = 5;

const dirOf = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '.');

/**
 * LFS pointers of model files, one finding per directory: the shards of one
 * model (`model-00001-of-00040.safetensors`…) are one thing to fix, so they
 * are one finding on the first shard listing the rest, not forty.
 */
export class LfsPointers {
  private readonly byDir = new Map<string, { path: string; size: number }[]>();

  add(path: string, size: number): void {
    const dir = dirOf(path);
    const list = this.byDir.get(dir);
    if (list) list.push({ path, size });
    else this.byDir.set(dir, [{ path, size }]);
  }

  findings(): { code: 'lfs-pointer-not-scanned'; path: string; message: string }[] {
    return [...this.byDir].map(([dir, files]) => {
      files.sort((a, b) => (a.path < b.path ? -1 : 1));
      const first = files[0]!;
      if (files.length === 1) {
        return { code: 'lfs-pointer-not-scanned', path: first.path, message: `${first.path} is stored in Git LFS and only its pointer is checked out, so its ${first.size}-byte content was not scanned and could be anything, a pickle that runs code included: ${FIX}` };
      }
      const bytes = files.reduce((n, f) => n + f.size, 0);
      const names = files.slice(0, LISTED).map((f) => f.path);
      const more = files.length > LISTED ? ` and ${files.length - LISTED} more` : '';
      return {
        code: 'lfs-pointer-not-scanned',
        path: first.path,
        message: `${files.length} files of ${modelName(dir)} are stored in Git LFS and only their pointers are checked out (${names.join(', ')}${more}), so their ${bytes} bytes of content were not scanned and could be anything, a pickle that runs code included: ${FIX}`,
      };
    });
  }
}
