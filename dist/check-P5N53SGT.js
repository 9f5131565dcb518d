import { createRequire as __mlgateRequire } from 'node:module'; const require = __mlgateRequire(import.meta.url);
import {
  GitHubPolicyProvider
} from "./chunk-KE5FAX3G.js";
import {
  originAndHead
} from "./chunk-4T64UGMV.js";
import {
  DEFAULT_POLICY_PATH,
  POLICY_CANDIDATES,
  VERSION,
  choosePolicy,
  createGitHubClient,
  evaluate,
  renderJson
} from "./chunk-25IJXI6T.js";
import "./chunk-LFRXUDOZ.js";
import {
  ConfigurationError
} from "./chunk-AGVL5AVQ.js";
import "./chunk-4HVYFWLT.js";

// src/org/check.ts
import { lstat, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

// src/org/clone.ts
import { spawn } from "node:child_process";
var MAX_REASON = 600;
function shallowClone(opts) {
  const config = [
    ["core.hooksPath", "/dev/null"],
    ["core.fsmonitor", "false"],
    ["protocol.allow", "never"],
    ["protocol.https.allow", "always"],
    ["protocol.ssh.allow", "always"],
    ["protocol.file.allow", "always"]
  ];
  if (opts.token && opts.tokenOrigin) config.push([`http.${opts.tokenOrigin}/.extraheader`, `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${opts.token}`).toString("base64")}`]);
  const env = {
    ...process.env,
    GIT_LFS_SKIP_SMUDGE: "1",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "",
    SSH_ASKPASS: "",
    GIT_CONFIG_COUNT: String(config.length)
  };
  config.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  const args = ["clone", "--quiet", "--depth=1", "--single-branch", "--no-tags", ...opts.branch ? [`--branch=${opts.branch}`] : [], "--", opts.url, opts.dir];
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { env, stdio: ["ignore", "ignore", "pipe"], timeout: opts.timeoutMs, killSignal: "SIGKILL" });
    let stderr = "";
    child.stderr.on("data", (b) => {
      if (stderr.length < 64 * 1024) stderr += b.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) return resolve();
      if (signal) return reject(new Error(`git clone did not finish within ${Math.round(opts.timeoutMs / 1e3)} s`));
      const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
      const reason = lines.filter((l) => /^(fatal|error|remote):/i.test(l)).join(" ") || lines.join(" ") || `git clone exited with code ${code}`;
      reject(new Error(redact(reason, opts.token).slice(0, MAX_REASON)));
    });
  });
}
function redact(text, token) {
  return token ? text.split(token).join("***") : text;
}

// src/org/check.ts
var resultFileName = (name) => `${name.replace("/", "__")}.json`;
async function checkBatch(opts) {
  await mkdir(opts.outputDir, { recursive: true });
  const work = await mkdtemp(path.join(tmpdir(), "mlgate-org-"));
  const results = [];
  const client = opts.token ? await createGitHubClient({ token: opts.token, logger: opts.logger, ...opts.apiUrl ? { baseUrl: opts.apiUrl } : {} }) : void 0;
  const remote = /* @__PURE__ */ new Map();
  try {
    for (const entry of opts.entries) results.push(await checkOne(entry, work, opts, client, remote));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return results;
}
async function checkOne(entry, work, opts, client, remote) {
  const [owner, repo] = entry.name.split("/");
  const file = path.join(opts.outputDir, resultFileName(entry.name));
  const url = `${opts.serverUrl.replace(/\/$/, "")}/${entry.name}`;
  const info = { name: entry.name, commit: null, ref: entry.branch ? `refs/heads/${entry.branch}` : null, url };
  const dir = path.join(work, `${owner}__${repo}`);
  const fail = async (stage, reason) => {
    const result = { version: 1, tool: { name: "mlgate", version: VERSION }, repository: info, error: { stage, reason } };
    await writeFile(file, `${JSON.stringify(result, null, 2)}
`);
    opts.logger.warning(`${entry.name}: ${stage} error: ${reason}`);
    return { name: entry.name, status: "error", file, detail: `${stage} error: ${reason}` };
  };
  try {
    const cloneUrl = opts.cloneUrlTemplate.replaceAll("{name}", entry.name).replaceAll("{owner}", owner).replaceAll("{repo}", repo);
    try {
      await shallowClone({ url: cloneUrl, branch: entry.branch, dir, token: opts.token, tokenOrigin: new URL(opts.serverUrl).origin, timeoutMs: opts.cloneTimeoutMs });
    } catch (err) {
      return await fail("clone", `cannot clone ${entry.branch ? `branch ${entry.branch} of ` : ""}${entry.name}: ${err.message}`);
    }
    const head = await originAndHead(dir);
    info.commit = head.commit;
    info.ref = head.ref ?? info.ref;
    try {
      const present = (await Promise.all(POLICY_CANDIDATES.map(async (p) => await isFileIn(dir, p) ? [p] : []))).flat();
      const choice = choosePolicy({ present, option: "a policy file", where: `in ${entry.name}` });
      const report = await evaluate({
        root: dir,
        policyPath: choice.path ?? DEFAULT_POLICY_PATH,
        provider: sharingRemote(new GitHubPolicyProvider({ root: dir, repo: { owner, repo }, ...client ? { client } : {} }), remote),
        mode: "full",
        failOn: opts.failOn,
        logger: prefixed(opts.logger, entry.name),
        toolVersion: VERSION,
        now: opts.now
      });
      report.repository = info;
      await writeFile(file, renderJson(report));
      const c = report.counts;
      return { name: entry.name, status: report.conclusion, file, detail: `${c.error} errors, ${c.warning} warnings, ${c.waived} waived` };
    } catch (err) {
      if (err instanceof ConfigurationError) return await fail("policy", [err.message, ...err.details].join("\n"));
      return await fail("evaluate", `mlgate stopped on an internal error: ${err.message ?? String(err)}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
function sharingRemote(inner, cache) {
  return {
    readLocal: (p) => inner.readLocal(p),
    readRemote(ref, file) {
      const key = JSON.stringify([ref.owner.toLowerCase(), ref.repo.toLowerCase(), file ?? ref.path, ref.ref]);
      let text = cache.get(key);
      if (!text) cache.set(key, text = inner.readRemote(ref, file));
      return text;
    },
    ...inner.describeLocal ? { describeLocal: (p) => inner.describeLocal(p) } : {}
  };
}
var isFileIn = (root, rel) => lstat(path.join(root, ...rel.split("/"))).then(
  (s) => s.isFile(),
  () => false
);
function prefixed(logger, name) {
  return {
    debug: (m) => logger.debug(`${name}: ${m}`),
    info: (m) => logger.info(`${name}: ${m}`),
    warning: (m) => logger.warning(`${name}: ${m}`),
    error: (m) => logger.error(`${name}: ${m}`)
  };
}
export {
  checkBatch,
  resultFileName
};
