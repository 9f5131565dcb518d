import { createRequire as __mlgateRequire } from 'node:module'; const require = __mlgateRequire(import.meta.url);
import {
  git
} from "./chunk-AGVL5AVQ.js";

// src/inventory/git-origin.ts
var REPOSITORY_NAME = /^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/;
function parseRemoteUrl(remote) {
  const text = remote.trim();
  let host;
  let rest;
  const scp = /^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):(?!\/)(.+)$/.exec(text);
  if (scp) {
    host = scp[1];
    rest = scp[2];
  } else {
    let u;
    try {
      u = new URL(text);
    } catch {
      return void 0;
    }
    if (!["https:", "http:", "ssh:", "git:"].includes(u.protocol) || !u.hostname) return void 0;
    host = u.hostname;
    rest = u.pathname.replace(/^\//, "");
  }
  const name = rest.replace(/\/$/, "").replace(/\.git$/, "");
  if (!REPOSITORY_NAME.test(name)) return void 0;
  return { name, url: `https://${host}/${name}` };
}
async function originAndHead(root) {
  const quiet = (args) => git(root, args).then((s) => s.trim() || null, () => null);
  const [remote, commit, ref] = await Promise.all([quiet(["remote", "get-url", "origin"]), quiet(["rev-parse", "--verify", "-q", "HEAD"]), quiet(["symbolic-ref", "-q", "HEAD"])]);
  const origin = remote ? parseRemoteUrl(remote) : void 0;
  return { ...origin ? { origin } : {}, commit, ref };
}

export {
  REPOSITORY_NAME,
  originAndHead
};
