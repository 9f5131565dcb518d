import { createRequire as __mlgateRequire } from 'node:module'; const require = __mlgateRequire(import.meta.url);
import {
  SigningServiceError
} from "./chunk-GMESUHPN.js";
import {
  LEVEL_RANK,
  REPOSITORY_URL,
  RULES,
  helpUrl
} from "./chunk-25IJXI6T.js";
import {
  ConfigurationError
} from "./chunk-AGVL5AVQ.js";

// src/report/annotation-text.ts
var MAX_TITLE_CHARS = 255;
var MAX_TEXT_BYTES = 60 * 1024;
function bySeverity(a, b) {
  return weight(b) - weight(a) || compare(a.path ?? "", b.path ?? "") || (a.line ?? 0) - (b.line ?? 0) || compare(a.rule, b.rule) || compare(a.message, b.message);
}
function weight(f) {
  return f.waived ? 0 : LEVEL_RANK[f.level];
}
var compare = (a, b) => a === b ? 0 : a < b ? -1 : 1;
function annotationTitle(f) {
  return truncateChars(`${f.code ?? f.rule}${f.waived ? " (waived)" : ""}`, MAX_TITLE_CHARS);
}
function annotationMessage(f) {
  const parts = [f.message];
  if (f.waived) parts.push(`Waived until ${f.waived.expires} (owner ${f.waived.owner}): ${f.waived.reason}`);
  return truncateBytes(parts.join("\n"), MAX_TEXT_BYTES);
}
function remediation(f) {
  const lines = [`How to fix: ${f.help}`];
  if (f.references.length > 0) lines.push(`References: ${f.references.map((r) => `${r.id} ${r.url}`).join(", ")}`);
  return truncateBytes(lines.join("\n"), MAX_TEXT_BYTES);
}
function positive(n) {
  return typeof n === "number" && Number.isInteger(n) && n >= 1 ? n : void 0;
}
function truncateChars(s2, max) {
  const chars = [...s2];
  return chars.length <= max ? s2 : `${chars.slice(0, max - 1).join("")}\u2026`;
}
function truncateBytes(s2, max, note = "\u2026") {
  if (Buffer.byteLength(s2) <= max) return s2;
  const budget = max - Buffer.byteLength(note);
  let bytes = 0;
  let out = "";
  for (const ch of s2) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > budget) break;
    bytes += n;
    out += ch;
  }
  return out + note;
}

// src/report/escape.ts
var LINE_BREAKING = /[\n\f\r\u2028\u2029]/u;
var UNSHOWABLE = /[\0-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff]/u;
var CODE_SAFE_RUN = /[^\s\0-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff`|]+/gu;
var LINKISH = /www\.|:\/\/|@|mailto:|xmpp:/i;
var INLINE_SYNTAX = /[\\`*_~[\](){}!#+$]/;
var ref = (ch) => `&#${ch.codePointAt(0)};`;
function escapeText(text, atStart, atEnd) {
  let out = "";
  for (const ch of text) {
    if (ch === "&") out += "&amp;";
    else if (ch === "<") out += "&lt;";
    else if (ch === ">") out += "&gt;";
    else if (ch === "|") out += "&#124;";
    else if (UNSHOWABLE.test(ch)) out += "\uFFFD";
    else if (LINE_BREAKING.test(ch)) out += ref(ch);
    else if (INLINE_SYNTAX.test(ch)) out += `\\${ch}`;
    else out += ch;
  }
  if (atStart) {
    out = out.replace(/^[ \t]/, ref).replace(/^[-=]/, "\\$&").replace(/^(\d{1,9})\./, "$1\\.");
  }
  if (atEnd) out = out.replace(/[ \t]$/, ref);
  return out;
}
function escapeMarkdown(text) {
  let out = "";
  let last = 0;
  const flush = (end) => {
    if (end > last) out += escapeText(text.slice(last, end), last === 0, end === text.length);
  };
  for (const m of text.matchAll(CODE_SAFE_RUN)) {
    if (!LINKISH.test(m[0])) continue;
    flush(m.index);
    out += `\`${m[0]}\``;
    last = m.index + m[0].length;
  }
  flush(text.length);
  return out;
}
function inlineCode(text) {
  const whole = text.match(CODE_SAFE_RUN);
  return whole?.length === 1 && whole[0] === text ? `\`${text}\`` : escapeMarkdown(text);
}
function countsTitle(counts) {
  const plural2 = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const parts = [plural2(counts.error, "error"), plural2(counts.warning, "warning")];
  if (counts.info > 0) parts.push(`${counts.info} info`);
  if (counts.waived > 0) parts.push(`${counts.waived} waived`);
  return parts.join(", ");
}

// src/report/markdown.ts
var ICON = { error: "\u274C", warning: "\u26A0\uFE0F", info: "\u2139\uFE0F" };
var DAY_MS = 864e5;
function location(f) {
  if (!f.path) return "repository";
  return escapeMarkdown(f.line ? `${f.path}:${f.line}` : f.path);
}
function findingLine(f) {
  const code = ` ${inlineCode(f.code ?? f.rule)}`;
  const waived = f.waived ? ` \u2014 _waived until ${escapeMarkdown(f.waived.expires)} (${escapeMarkdown(f.waived.owner)}: ${escapeMarkdown(f.waived.reason)})_` : "";
  return `- ${ICON[f.level]} **${f.level}**${code} ${location(f)}: ${escapeMarkdown(f.message)} ([how to fix](${f.help}))${waived}`;
}
function isBlocking(f, failOn) {
  return !f.waived && failOn !== "never" && LEVEL_RANK[f.level] >= LEVEL_RANK[failOn];
}
function daysLeft(expires, now) {
  const end = /^\d{4}-\d{2}-\d{2}$/.test(expires) ? Date.parse(`${expires}T00:00:00Z`) : NaN;
  if (Number.isNaN(end)) return "\u2014";
  const days = Math.round((end - Date.parse(`${now.toISOString().slice(0, 10)}T00:00:00Z`)) / DAY_MS);
  return days < 0 ? "expired" : days === 0 ? "last day" : `${days} day${days === 1 ? "" : "s"}`;
}
var plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
var LEVEL_NAMES = {
  error: (n) => plural(n, "error"),
  warning: (n) => plural(n, "warning"),
  info: (n) => `${n} info`
};
function renderMarkdown(report, opts = {}) {
  const max = opts.maxChars ?? Number.POSITIVE_INFINITY;
  const now = opts.now ?? /* @__PURE__ */ new Date();
  const findings = [...report.findings].sort(bySeverity);
  const blocking = findings.filter((f) => isBlocking(f, report.failOn));
  const verdict = report.conclusion === "failure" ? "\u274C **Gate failed**" : "\u2705 **Gate passed**";
  const head = [
    `## mlgate ${report.tool.version}`,
    "",
    `${verdict} \u2014 ${countsTitle(report.counts)} (${report.mode} evaluation of ${report.stats.files} files, fails on: ${report.failOn})`,
    ""
  ];
  const groups = [];
  if (blocking.length > 0) {
    const what = blocking.length === 1 ? "this finding blocks" : `these ${blocking.length} findings block`;
    groups.push({ open: [`**What blocks this PR** \u2014 ${what} the merge: fix each, or add an owned, expiring exception to the policy.`, ""], close: [""], findings: blocking });
  }
  const table = [];
  if (findings.length > 0) table.push("### Findings", "");
  else table.push("No findings.", "");
  const byRule = /* @__PURE__ */ new Map();
  for (const f of findings) {
    const row = byRule.get(f.rule) ?? { error: 0, warning: 0, info: 0, waived: 0 };
    if (f.waived) row.waived++;
    else row[f.level]++;
    byRule.set(f.rule, row);
  }
  const evaluated = report.rules.filter((r) => r.evaluated);
  const ruleIds = [.../* @__PURE__ */ new Set([...evaluated.map((r) => r.id), ...byRule.keys()])];
  if (ruleIds.length > 0) {
    table.push("| Rule | Level | Errors | Warnings | Info | Waived |", "| --- | --- | ---: | ---: | ---: | ---: |");
    for (const id of ruleIds) {
      const row = byRule.get(id) ?? { error: 0, warning: 0, info: 0, waived: 0 };
      const level = report.rules.find((r) => r.id === id)?.level ?? "\u2014";
      table.push(`| [${escapeMarkdown(id)}](${helpUrl(id, report.tool.version)}) | ${level} | ${row.error} | ${row.warning} | ${row.info} | ${row.waived} |`);
    }
    table.push("");
  }
  const rest = [];
  for (const level of ["error", "warning", "info"]) {
    const these = findings.filter((f) => !f.waived && f.level === level && !isBlocking(f, report.failOn));
    if (these.length > 0) rest.push(collapsed(`${ICON[level]} ${LEVEL_NAMES[level](these.length)} that ${these.length === 1 ? "does" : "do"} not block this PR`, these));
  }
  const waived = findings.filter((f) => f.waived);
  if (waived.length > 0) rest.push(collapsed(`${plural(waived.length, "waived finding")} (an exception in force covers ${waived.length === 1 ? "it" : "them"})`, waived));
  const tail = exceptionsTable(report.exceptions, now);
  const note = (left2) => [`> **${left2} more finding${left2 === 1 ? "" : "s"} not shown here.** ${escapeMarkdown(opts.overflowNote ?? "See the full JSON report.")}`, ""];
  const frame = [...head, ...table, ...tail, ...[...groups, ...rest].flatMap((g) => [...g.open, ...g.close])];
  let size = frame.join("\n").length + note(findings.length).join("\n").length + 2;
  let left = 0;
  const kept = /* @__PURE__ */ new Map();
  for (const g of [...groups, ...rest]) {
    const lines = [];
    for (const f of g.findings) {
      const line = findingLine(f);
      if (left > 0 || size + line.length + 1 > max) left++;
      else {
        lines.push(line);
        size += line.length + 1;
      }
    }
    kept.set(g, lines);
  }
  const render = (g) => kept.get(g).length > 0 ? [...g.open, ...kept.get(g), ...g.close] : [];
  const out = [...head, ...groups.flatMap(render), ...table, ...rest.flatMap(render), ...left > 0 ? note(left) : [], ...tail];
  while (out.at(-1) === "") out.pop();
  const text = out.join("\n");
  return text.length > max ? cut(text, max, escapeMarkdown(opts.overflowNote ?? "See the full JSON report.")) : text;
}
function cut(text, max, where) {
  const mark = `

> **Summary truncated.** ${where}`;
  const lines = text.slice(0, Math.max(0, max - mark.length)).split("\n");
  return `${lines.slice(0, -1).join("\n")}${mark}`;
}
function collapsed(summary, findings) {
  return { open: [`<details><summary>${summary}</summary>`, ""], close: ["", "</details>", ""], findings };
}
function exceptionsTable(exceptions, now) {
  if (exceptions.length === 0) return [];
  const out = ["### Exceptions in force", "", "| Rule | Paths | Owner | Expires | Reason | Waived here | Days left |", "| --- | --- | --- | --- | --- | ---: | ---: |"];
  for (const ex of exceptions) {
    const where = ex.source === "baseline" ? `baseline: ${ex.fingerprints ?? 0} ${ex.fingerprints === 1 ? "entry" : "entries"} on ${ex.paths.length} ${ex.paths.length === 1 ? "path" : "paths"}` : ex.paths.join(", ");
    out.push(`| ${escapeMarkdown(ex.rule)}${ex.codes ? ` (${escapeMarkdown(ex.codes.join(", "))})` : ""} | ${escapeMarkdown(where)} | ${escapeMarkdown(ex.owner)} | ${escapeMarkdown(ex.expires)} | ${escapeMarkdown(ex.reason)} | ${ex.matched} | ${daysLeft(ex.expires, now)} |`);
  }
  return out;
}

// src/report/code-docs.ts
var ANCHOR = /<a id="([^"]*)"><\/a>\s*/g;
var stripAnchors = (markdown) => markdown.replace(ANCHOR, "");
var tableCells = (line) => line.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());
function codesOfPage(page, text) {
  const lines = text.split("\n");
  const out = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i].trimStart().startsWith("|") || !/^\s*\|[\s:|-]+\|?\s*$/.test(lines[i + 1])) continue;
    if (!/^(sub-)?code$/i.test(tableCells(lines[i])[0] ?? "")) continue;
    const header = [lines[i], lines[i + 1]];
    for (let j = i + 2; j < lines.length && lines[j].trimStart().startsWith("|"); j++) {
      const anchors = [...lines[j].matchAll(ANCHOR)].map((m) => m[1]);
      const row = stripAnchors(lines[j]);
      for (const m of (tableCells(row)[0] ?? "").matchAll(/`([^`]+)`/g)) {
        const name = m[1];
        const sub = name.startsWith(`${page}/`) ? name.slice(page.length + 1) : name;
        const anchor = anchors.find((a) => a === sub);
        out.push({ code: `${page}/${sub}`, page, header, row, ...anchor !== void 0 ? { anchor } : {} });
      }
    }
  }
  return out;
}
function rowAsText(doc) {
  const names = tableCells(doc.header[0]);
  return tableCells(doc.row).slice(1).map((cell, i) => `${capitalise(names[i + 1] ?? "")}: ${plainText(cell)}`.replace(/^: /, "")).filter((line) => !/:\s*$/.test(line));
}
var capitalise = (s2) => s2.charAt(0).toUpperCase() + s2.slice(1);
function rowColumn(doc, name) {
  const at = tableCells(doc.header[0]).findIndex((h) => name.test(h));
  return at < 1 ? void 0 : plainText(tableCells(doc.row)[at] ?? "") || void 0;
}
function plainText(markdown) {
  return markdown.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/`([^`]*)`/g, "$1").replace(/\*\*([^*]*)\*\*/g, "$1").replace(/\\\|/g, "|").trim();
}

// src/report/rule-pages.ts
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
var ENGINE_PAGES = ["policy", "inventory"];
async function docsDir() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of [path.join(here, "..", "docs", "rules"), path.join(here, "..", "..", "docs", "rules")]) {
    try {
      await readdir(dir);
      return dir;
    } catch {
    }
  }
  return void 0;
}
async function readPage(id) {
  const dir = await docsDir();
  return dir === void 0 ? void 0 : readFile(path.join(dir, `${id}.md`), "utf8").catch(() => void 0);
}
async function allCodes() {
  const pages = [...RULES.map((r) => r.id), ...ENGINE_PAGES];
  const texts = await Promise.all(pages.map(async (p) => [p, await readPage(p)]));
  return texts.flatMap(([p, t]) => t === void 0 ? [] : codesOfPage(p, t));
}

// src/report/repository-locations.ts
var CODEOWNERS_PATH = ".github/CODEOWNERS";
var THREAT_MODEL_PATH = "THREAT_MODEL.md";
var POLICY_PATH = ".github/mlgate.yml";
function repositoryLevelPath(finding, policyPath) {
  if (finding.code === "artifact-ownership/no-codeowners") return CODEOWNERS_PATH;
  if (finding.code === "threat-model/missing") return THREAT_MODEL_PATH;
  return policyPath;
}

// src/report/severity.ts
var s = (score, precision = "high") => ({ score, precision });
var CODE_SEVERITY = {
  // Tampering: the bytes are not the ones signed or recorded.
  "model-signing/digest-mismatch": s(9.5, "very-high"),
  "model-signing/invalid-signature": s(9.1, "very-high"),
  "model-signing/renamed-file": s(9, "very-high"),
  // A link inside a signed model points the loader at bytes nobody signed.
  "model-signing/symlink": s(9, "very-high"),
  "model-signing/missing-file": s(8, "very-high"),
  "model-signing/extra-file": s(7.5, "very-high"),
  "model-signing/untrusted-signer": s(8.5, "very-high"),
  "model-signing/unsupported-format": s(6),
  "model-signing/unsigned": s(6, "very-high"),
  "model-signing/lfs-shard-unverifiable": s(4),
  "model-signing/lfs-unverifiable": s(4),
  "model-signing/unreadable": s(7),
  "dataset-provenance/digest-mismatch": s(9, "very-high"),
  "dataset-provenance/source-not-allowed": s(6.5),
  "dataset-provenance/license-not-allowed": s(4.5),
  "dataset-provenance/missing-record": s(4),
  "dataset-provenance/missing-field": s(3),
  "dataset-provenance/record-not-updated": s(4, "medium"),
  "dataset-provenance/invalid-record": s(5),
  "dataset-provenance/stale-entry": s(2),
  "dataset-provenance/budget-exceeded": s(7),
  "dataset-provenance/digest-unverifiable": s(2),
  // Malicious model files: loading them runs code.
  "model-file-safety/dangerous-global": s(9.8, "very-high"),
  "model-file-safety/dynamic-import": s(9.3, "high"),
  "model-file-safety/global-mutation": s(9.3, "high"),
  "model-file-safety/lambda-layer": s(9, "high"),
  "model-file-safety/keras-custom-object": s(9, "high"),
  "model-file-safety/format-mismatch": s(9, "high"),
  "model-file-safety/template-injection": s(9.8, "high"),
  "model-file-safety/malformed": s(8, "medium"),
  "model-file-safety/unscannable": s(8, "medium"),
  "model-file-safety/template-unparsable": s(8, "medium"),
  "model-file-safety/budget-exceeded": s(8, "medium"),
  "model-file-safety/submodule-not-scanned": s(7.5, "medium"),
  "model-file-safety/lfs-pointer-not-scanned": s(7.5, "medium"),
  "model-file-safety/unknown-global": s(7, "medium"),
  "model-file-safety/new-pickle": s(5, "medium"),
  // Formats beyond the pickle family (issue 16, part B).
  "model-file-safety/keras-bytecode": s(9, "high"),
  "model-file-safety/tf-op-lambda": s(7.5, "medium"),
  "model-file-safety/savedmodel-unsafe-op": s(9, "high"),
  "model-file-safety/onnx-external-data": s(9, "high"),
  "model-file-safety/onnx-custom-op": s(6, "medium"),
  "model-file-safety/onnx-version": s(5, "medium"),
  "model-file-safety/archive-member-escape": s(8.5, "high"),
  "model-file-safety/format-not-allowed": s(6.5, "very-high"),
  // Unsafe loads in code.
  "unsafe-deserialization/torch-load": s(9),
  "unsafe-deserialization/pickle-load": s(9),
  "unsafe-deserialization/dill-load": s(9),
  "unsafe-deserialization/joblib-load": s(9),
  "unsafe-deserialization/pandas-read-pickle": s(9),
  "unsafe-deserialization/numpy-allow-pickle": s(9),
  "unsafe-deserialization/yaml-unsafe-load": s(9),
  "unsafe-deserialization/keras-unsafe-mode": s(9),
  "unsafe-deserialization/trust-remote-code": s(9.3),
  "unsafe-deserialization/unsafe-loader": s(9),
  "unsafe-deserialization/auto-map": s(8),
  "unsafe-deserialization/unparsable": s(3, "medium"),
  "unsafe-deserialization/budget-exceeded": s(5, "medium"),
  // Unpinned supply chain.
  "dependency-pinning/download-and-run": s(8),
  "dependency-pinning/unpinned-action": s(6.5, "very-high"),
  "dependency-pinning/unpinned-requirement": s(6, "very-high"),
  "dependency-pinning/unpinned-install": s(6),
  "dependency-pinning/unpinned-image": s(5.5, "very-high"),
  "dependency-pinning/missing-lockfile": s(5.5),
  "dependency-pinning/stale-lockfile": s(5),
  "dependency-pinning/missing-hash": s(5, "very-high"),
  "dependency-pinning/unresolved-include": s(4),
  "dependency-pinning/extra-index": s(6.5),
  "dependency-pinning/unverified-download": s(6),
  "dependency-pinning/malformed": s(4, "medium"),
  "dependency-pinning/budget-exceeded": s(5, "medium"),
  "model-hub-pinning/unpinned": s(6),
  "model-hub-pinning/mutable-revision": s(5.5),
  "model-hub-pinning/unverifiable-revision": s(3, "low"),
  "model-hub-pinning/unverifiable-repo": s(2, "low"),
  "model-hub-pinning/unparsable": s(2, "medium"),
  "model-hub-pinning/budget-exceeded": s(4, "medium"),
  // Ownership.
  "artifact-ownership/no-codeowners": s(4.5, "very-high"),
  "artifact-ownership/unowned": s(4.5),
  "artifact-ownership/wrong-owner": s(5),
  "artifact-ownership/invalid-line": s(3),
  // Documentation and hygiene.
  "threat-model/missing": s(3, "very-high"),
  "threat-model/missing-section": s(2),
  "threat-model/unknown-atlas-id": s(1.5),
  "threat-model/missing-atlas": s(2),
  "threat-model/missing-review-date": s(2),
  "threat-model/invalid-review-date": s(2),
  "threat-model/stale-review": s(2.5),
  "threat-model/not-updated": s(3, "medium"),
  "threat-model/invalid-front-matter": s(2),
  "threat-model/unreadable": s(2),
  "model-card/missing-card": s(3),
  "model-card/missing-field": s(2),
  "model-card/missing-section": s(2),
  "model-card/invalid-front-matter": s(2),
  "model-card/unreadable": s(2),
  // The policy and the run itself.
  "policy/expired-exception": s(5, "very-high"),
  "policy/unpinned-extends": s(5.5),
  "policy/expiring-exception": s(2, "very-high"),
  "policy/unused-exception": s(1),
  "policy/invalid-inline-waiver": s(5, "very-high"),
  "policy/expired-inline-waiver": s(5, "very-high"),
  "policy/inline-waiver-pending": s(1),
  "policy/inline-waivers-disabled": s(1),
  "policy/changed-in-pr": s(1),
  "policy/pending-baseline-entry": s(1),
  "inventory/truncated": s(7, "very-high"),
  "inventory/symlink": s(4),
  "inventory/submodule-not-checked-out": s(4),
  "inventory/unsafe-path": s(4),
  "inventory/nothing-evaluated": s(3),
  "inventory/full-evaluation": s(1),
  "inventory/changed-files-capped": s(1)
};
var BY_LEVEL = { error: s(7, "medium"), warning: s(5, "medium"), note: s(2, "medium") };
function severityOf(code, level) {
  return (code !== void 0 ? CODE_SEVERITY[code] : void 0) ?? BY_LEVEL[level];
}

// src/report/sarif.ts
var SARIF_LEVEL = { error: "error", warning: "warning", info: "note" };
var PROBLEM_SEVERITY = { error: "error", warning: "warning", note: "recommendation" };
var MAX_SARIF_RESULTS = 25e3;
var ENGINE_FAMILIES = [
  { id: "policy", title: "Policy", summary: "Findings about the policy itself: expired or unused exceptions, unpinned extends, policy changes in a PR." },
  { id: "inventory", title: "Inventory", summary: "Findings about the repository listing: symlinks, truncated inventories, unsafe paths." }
];
var pascalCase = (code) => code.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join("");
function documentedLevel(doc, fallback) {
  const cell = rowColumn(doc, /^level$/i);
  const word = cell?.match(/^(error|warning|info)\b/)?.[1];
  return word ?? fallback;
}
function codeDescriptor(doc, family, version) {
  const level = SARIF_LEVEL[documentedLevel(doc, family.level)];
  const sev = severityOf(doc.code, level);
  const page = helpUrl(doc.page, version);
  const uri = doc.anchor ? `${page}#${doc.anchor}` : page;
  const meaning = rowColumn(doc, /^(meaning|reported for)$/i) ?? plainText(doc.row);
  return {
    id: doc.code,
    name: pascalCase(doc.code),
    shortDescription: { text: `${family.title}: ${meaning}`.slice(0, 1024) },
    fullDescription: { text: `${family.title}. ${rowAsText(doc).join(". ")}.`.replace(/\.\.$/, ".") },
    helpUri: uri,
    help: {
      text: [`${doc.code}: ${family.summary}`, "", ...rowAsText(doc), "", `Documentation: ${uri}`].join("\n"),
      markdown: [`**${doc.code}** \u2014 ${family.summary}`, "", doc.header[0], doc.header[1], doc.row, "", `[Documentation of ${doc.code}](${uri})`].join("\n")
    },
    defaultConfiguration: { level },
    properties: descriptorProperties(family, sev, level)
  };
}
function familyDescriptor(family, version) {
  const level = SARIF_LEVEL[family.level];
  const uri = helpUrl(family.id, version);
  return {
    id: family.id,
    name: pascalCase(family.id),
    shortDescription: { text: family.title },
    fullDescription: { text: family.summary },
    helpUri: uri,
    help: { text: `${family.summary}

Documentation: ${uri}`, markdown: `**${family.id}** \u2014 ${family.summary}

[Documentation of ${family.id}](${uri})` },
    defaultConfiguration: { level },
    properties: descriptorProperties(family, severityOf(void 0, level), level)
  };
}
function descriptorProperties(family, sev, level) {
  return {
    // Code scanning keeps 10 tags per rule and rejects more than 20.
    tags: [.../* @__PURE__ */ new Set(["security", "ml", ...family.tags])].slice(0, 10),
    precision: sev.precision,
    "problem.severity": PROBLEM_SEVERITY[level],
    "security-severity": sev.score.toFixed(1)
  };
}
var pathToUri = (p) => p.split("/").map(encodeURIComponent).join("/");
function mostSevereFirst(findings) {
  return findings.map((f, i) => ({ f, i, rank: (f.waived ? 0 : 100) + LEVEL_RANK[f.level] * 10 + severityOf(f.code, SARIF_LEVEL[f.level]).score })).sort((a, b) => b.rank - a.rank || a.i - b.i).map((x) => x.f);
}
function renderSarif(report, options = {}) {
  const version = report.tool.version;
  const families = [
    ...(options.rules ?? RULES).map((r) => ({ id: r.id, title: r.title, summary: r.summary, level: r.defaultLevel, tags: r.references.map((x) => x.id) })),
    ...ENGINE_FAMILIES.map((f) => ({ ...f, level: "warning", tags: [] }))
  ];
  const familyById = new Map(families.map((f) => [f.id, f]));
  const codes = (options.codes ?? []).filter((c) => familyById.has(c.page));
  const seen = /* @__PURE__ */ new Set();
  const descriptors = [
    ...families.map((f) => familyDescriptor(f, version)),
    ...codes.filter((c) => !seen.has(c.code) && seen.add(c.code)).map((c) => codeDescriptor(c, familyById.get(c.page), version))
  ];
  const index = new Map(descriptors.map((d, i) => [d.id, i]));
  const policyPath = options.policyPath ?? POLICY_PATH;
  const kept = report.findings.length > MAX_SARIF_RESULTS ? mostSevereFirst(report.findings).slice(0, MAX_SARIF_RESULTS) : report.findings;
  const left = report.findings.length - kept.length;
  const result = (f) => {
    const ruleId = f.code !== void 0 && index.has(f.code) ? f.code : f.rule;
    const at = f.path ?? repositoryLevelPath(f, policyPath);
    const message = f.message.replace(/\.$/, "");
    const text = f.code ? `${message} (${f.code})` : message;
    return {
      ruleId,
      ...index.has(ruleId) ? { ruleIndex: index.get(ruleId) } : {},
      level: SARIF_LEVEL[f.level],
      message: {
        text: f.path ? text : `${text}. This is about the repository as a whole, so it is shown on ${at}, the file that would fix it.`
      },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: pathToUri(at), uriBaseId: "%SRCROOT%" },
            region: f.path && f.line ? { startLine: f.line, ...f.column ? { startColumn: f.column } : {}, ...f.endLine ? { endLine: f.endLine } : {} } : { startLine: 1 }
          }
        }
      ],
      partialFingerprints: { "mlgateFingerprint/v1": f.fingerprint },
      ...f.waived ? { suppressions: [{ kind: f.waived.source === "inline" ? "inSource" : "external", status: "accepted", justification: `${f.waived.reason} (owner ${f.waived.owner}, expires ${f.waived.expires})` }] } : {},
      properties: { ...f.code ? { code: f.code } : {}, help: f.help }
    };
  };
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: { name: "mlgate", version, semanticVersion: version, informationUri: REPOSITORY_URL, rules: descriptors }
        },
        // Code scanning keeps the alerts of each category apart: a changed-mode upload must not close a full run's alerts.
        // An id that ends with "/" is all category, as the CodeQL action writes it.
        automationDetails: { id: `${options.checkName ?? "mlgate"}/${report.mode}/` },
        invocations: [
          {
            executionSuccessful: true,
            ...left > 0 ? {
              toolExecutionNotifications: [
                {
                  level: "warning",
                  message: {
                    text: `${report.findings.length} findings, more than the ${MAX_SARIF_RESULTS} results GitHub code scanning accepts in one run: the ${left} least severe are left out of this file; the JSON report lists every finding.`
                  }
                }
              ]
            } : {}
          }
        ],
        results: kept.map(result),
        columnKind: "unicodeCodePoints",
        originalUriBaseIds: { "%SRCROOT%": { description: { text: "The repository root." } } }
      }
    ]
  };
}

// src/report/workflow-commands.ts
var escapeData = (s2) => s2.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
var escapeProperty = (s2) => escapeData(s2).replace(/:/g, "%3A").replace(/,/g, "%2C");
function workflowCommand(f) {
  const props = [];
  if (f.path) {
    props.push(["file", f.path]);
    const line = positive(f.line);
    if (line !== void 0) {
      props.push(["line", line]);
      const end = positive(f.endLine);
      if (end !== void 0 && end > line) props.push(["endLine", end]);
      else if (positive(f.column) !== void 0) props.push(["col", f.column]);
    }
  }
  props.push(["title", annotationTitle(f)]);
  const command = f.waived || f.level === "info" ? "notice" : f.level;
  const data = truncateBytes(`${annotationMessage(f)}
${remediation(f)}`, MAX_TEXT_BYTES);
  return `::${command} ${props.map(([k, v]) => `${k}=${escapeProperty(String(v))}`).join(",")}::${escapeData(data)}`;
}
function renderWorkflowCommands(findings) {
  return [...findings].sort(bySeverity).map((f) => `${workflowCommand(f)}
`).join("");
}

// src/signing/instances.ts
var SIGSTORE_INSTANCES = {
  production: { fulcio: "https://fulcio.sigstore.dev", rekor: "https://rekor.sigstore.dev" },
  staging: { fulcio: "https://fulcio.sigstage.dev", rekor: "https://rekor.sigstage.dev" }
};

// src/signing/oidc.ts
var TOKEN_MAX_BYTES = 64 * 1024;
async function actionsIdToken(env, audience = "sigstore") {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !bearer) {
    throw new ConfigurationError(
      "keyless signing needs an OIDC identity token: in GitHub Actions grant the job `permissions: id-token: write`; elsewhere pass --identity-token, or sign with --key"
    );
  }
  let target;
  try {
    target = new URL(url);
  } catch {
    throw new ConfigurationError("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL");
  }
  target.searchParams.set("audience", audience);
  let response;
  try {
    response = await fetch(target, { headers: { Authorization: `bearer ${bearer}`, Accept: "application/json" }, signal: AbortSignal.timeout(3e4) });
  } catch (e) {
    throw new SigningServiceError(`the GitHub Actions OIDC token request to ${target.origin} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const text = (await response.text()).slice(0, TOKEN_MAX_BYTES);
  if (!response.ok) throw new SigningServiceError(`the GitHub Actions OIDC token request was refused (HTTP ${response.status}); check that the job has \`permissions: id-token: write\``);
  let value;
  try {
    value = JSON.parse(text).value;
  } catch {
    value = void 0;
  }
  if (typeof value !== "string" || value === "") throw new SigningServiceError("the GitHub Actions OIDC token response holds no token");
  return value;
}

export {
  bySeverity,
  annotationTitle,
  annotationMessage,
  remediation,
  positive,
  truncateBytes,
  escapeMarkdown,
  inlineCode,
  countsTitle,
  renderMarkdown,
  stripAnchors,
  ENGINE_PAGES,
  readPage,
  allCodes,
  renderSarif,
  renderWorkflowCommands,
  SIGSTORE_INSTANCES,
  actionsIdToken
};
