import { createRequire as __mlgateRequire } from 'node:module'; const require = __mlgateRequire(import.meta.url);
import {
  gitChanges,
  httpStatus,
  normaliseRepoPath
} from "./chunk-25IJXI6T.js";
import {
  ConfigurationError,
  git
} from "./chunk-AGVL5AVQ.js";

// src/github/policy-provider.ts
import { lstat, readFile } from "node:fs/promises";
import path from "node:path";

// src/github/changed-files.ts
var API_FILE_CAP = 3e3;
function emptyChangeList() {
  return { added: [], modified: [], deleted: [], renamed: [] };
}
async function hasCommit(root, sha) {
  try {
    await git(root, ["cat-file", "-e", `${sha}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}
async function changesFromGit(root, base, head) {
  if (!await hasCommit(root, base) || !await hasCommit(root, head)) return void 0;
  try {
    return await gitChanges(root, base, head);
  } catch {
    return void 0;
  }
}
async function changesFromApi(client, repo, pullNumber, expected) {
  const list = emptyChangeList();
  let listed = 0;
  const pages = client.paginate.iterator(client.rest.pulls.listFiles, { ...repo, pull_number: pullNumber, per_page: 100 });
  for await (const page of pages) {
    for (const f of page.data) {
      listed++;
      switch (f.status) {
        case "added":
        case "copied":
          list.added.push(f.filename);
          break;
        case "removed":
          list.deleted.push(f.filename);
          break;
        case "renamed":
          if (f.previous_filename) list.renamed.push([f.filename, f.previous_filename]);
          else list.added.push(f.filename);
          break;
        case "unchanged":
          break;
        default:
          list.modified.push(f.filename);
      }
    }
  }
  const capped = listed >= API_FILE_CAP || expected !== void 0 && expected > listed;
  return { changes: { ...list, untracked: [] }, listed, capped };
}

// src/github/policy-provider.ts
var MAX_READ_BYTES = 4 * 1024 * 1024;
var GitHubPolicyProvider = class {
  constructor(opts) {
    this.opts = opts;
  }
  opts;
  baseInCheckout;
  describeLocal(file) {
    return this.opts.commit ? `${file}@${this.opts.commit.slice(0, 12)}` : file;
  }
  async readLocal(file) {
    const rel = repoPath(file);
    const { commit, root } = this.opts;
    if (!commit) return readWorkTree(root, rel);
    this.baseInCheckout ??= hasCommit(root, commit);
    if (await this.baseInCheckout) return readAtCommit(root, commit, rel);
    if (!this.opts.client) {
      throw new ConfigurationError(`Cannot read ${rel} at the base commit ${commit}: the checkout does not have it and no token was given. Check out with \`fetch-depth: 0\` or pass \`token\`.`);
    }
    return this.fetch(
      this.opts.repo,
      rel,
      commit,
      (status) => status === 404 ? void 0 : `Cannot read ${rel} at the base commit ${commit} through the contents API (HTTP ${status}); grant \`contents: read\` or check out with \`fetch-depth: 0\`.`
    );
  }
  async readRemote(ref, file) {
    const rel = repoPath(file ?? ref.path);
    const name = `${ref.owner}/${ref.repo}/${rel}@${ref.ref}`;
    if (!this.opts.client) throw new ConfigurationError(`extends: ${name}: a remote policy needs the \`token\` input to read ${ref.owner}/${ref.repo}.`);
    const text = await this.fetch(
      { owner: ref.owner, repo: ref.repo },
      rel,
      ref.ref,
      (status) => status === 404 ? `extends: ${name}: not found (HTTP 404). Check the path and the ref, and that the token can read ${ref.owner}/${ref.repo} (the default GITHUB_TOKEN reads only this repository; pass a token with contents: read on the policy repository).` : `extends: ${name}: cannot be read (HTTP ${status}). Pass a \`token\` with contents: read on ${ref.owner}/${ref.repo}.`
    );
    if (text === void 0) throw new ConfigurationError(`extends: ${name}: not found.`);
    return text;
  }
  /** `onError` turns an HTTP status into undefined (absent file) or the message of a ConfigurationError. */
  async fetch(repo, file, ref, onError) {
    const client = this.opts.client;
    let data;
    try {
      ({ data } = await client.rest.repos.getContent({ ...repo, path: file, ref, mediaType: { format: "raw" } }));
    } catch (err) {
      const status = httpStatus(err);
      if (status === void 0) throw err;
      const message = onError(status);
      if (message === void 0) return void 0;
      throw new ConfigurationError(message);
    }
    if (typeof data !== "string") throw new ConfigurationError(`${repo.owner}/${repo.repo}/${file}@${ref} is not a file.`);
    if (Buffer.byteLength(data) > MAX_READ_BYTES) throw new ConfigurationError(`${repo.owner}/${repo.repo}/${file}@${ref} is larger than ${MAX_READ_BYTES} bytes; it is not a policy file.`);
    return data;
  }
};
function repoPath(file) {
  const rel = normaliseRepoPath(file);
  if (!rel) throw new ConfigurationError(`${JSON.stringify(file)} is not a path inside the repository.`);
  return rel;
}
async function readWorkTree(root, rel) {
  const abs = path.join(root, rel);
  let size;
  try {
    const st = await lstat(abs);
    if (!st.isFile()) throw new ConfigurationError(`${rel} is not a regular file (symbolic links are not followed).`);
    size = st.size;
  } catch (err) {
    if (err.code === "ENOENT" || err.code === "ENOTDIR") return void 0;
    throw err;
  }
  if (size > MAX_READ_BYTES) throw new ConfigurationError(`${rel} is larger than ${MAX_READ_BYTES} bytes; it is not a policy file.`);
  return readFile(abs, "utf8");
}
async function readAtCommit(root, commit, rel) {
  const spec = `${commit}:${rel}`;
  let type;
  try {
    type = (await git(root, ["cat-file", "-t", spec])).trim();
  } catch {
    return void 0;
  }
  if (type !== "blob") throw new ConfigurationError(`${rel} at ${commit} is not a file.`);
  const size = Number((await git(root, ["cat-file", "-s", spec])).trim());
  if (size > MAX_READ_BYTES) throw new ConfigurationError(`${rel} at ${commit} is larger than ${MAX_READ_BYTES} bytes; it is not a policy file.`);
  return git(root, ["cat-file", "blob", spec], MAX_READ_BYTES + 1024);
}

export {
  API_FILE_CAP,
  changesFromGit,
  changesFromApi,
  GitHubPolicyProvider
};
