import { createHash } from 'node:crypto';
import { daysLeftText } from './org-markdown.js';
import type { OrgException, OrgFinding, OrgReport, OrgRepository } from './org-types.js';

/** Every repository-controlled string goes through this before it reaches the page. */
export function escapeHtml(text: string): string {
  // Most strings (names, paths, counts) need nothing: skip the replace.
  return /[&<>"']/.test(text) ? text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`) : text;
}

/** Findings listed per repository on the page; the JSON report keeps more, the repository's own report all. */
export const MAX_HTML_FINDINGS = 10;
const esc = escapeHtml;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const VERDICT = { success: 'passes', failure: 'fails', error: 'not checked' } as const;

/** The file at the evaluated commit on GitHub, when the report says where the repository and commit are. */
function blobUrl(r: OrgRepository, f: OrgFinding): string | undefined {
  if (!r.url || !r.commit || !f.path) return undefined;
  return `${r.url}/blob/${r.commit}/${f.path.split('/').map(encodeURIComponent).join('/')}${f.line ? `#L${f.line}` : ''}`;
}

/** The rule page, at the row of the finding's sub-code (each has an anchor named after it). */
function docsUrl(f: OrgFinding): string {
  if (!f.help || !f.code || f.help.includes('#')) return f.help;
  return `${f.help}#${encodeURIComponent(f.code.slice(f.code.indexOf('/') + 1))}`;
}

const anchor = (name: string) => `r-${name.replace(/[^A-Za-z0-9_-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)}`;

const STYLE = `
:root{--fg:#1b1f24;--muted:#4b5563;--bg:#fff;--line:#d0d7de;--fail:#a40e26;--fail-bg:#ffebe9;--pass:#116329;--pass-bg:#dafbe1;--err:#7d4e00;--err-bg:#fff8c5;--link:#0550ae;--bar:#a40e26;--warnbar:#9a6700}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:1200px;margin:0 auto;padding:0 1rem}
header{border-bottom:1px solid var(--line);padding-bottom:.5rem}
h1{font-size:1.6rem;margin:1rem 0 .25rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid var(--line)}h3{font-size:1.05rem}
a{color:var(--link)}a:focus,button:focus,input:focus,select:focus,summary:focus{outline:3px solid #0969da;outline-offset:2px}
nav ul{list-style:none;padding:0;margin:.5rem 0;display:flex;flex-wrap:wrap;gap:1rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.75rem;margin:1rem 0}
.card{border:1px solid var(--line);border-radius:6px;padding:.5rem .75rem}.card dt{color:var(--muted);font-size:.85rem}.card dd{margin:0;font-size:1.6rem;font-weight:600}
.fail{color:var(--fail)}.pass{color:var(--pass)}.err{color:var(--err)}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
thead th{background:#f6f8fa;position:sticky;top:0}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;color:inherit}
th[aria-sort=ascending] button::after{content:" \\25B2"}th[aria-sort=descending] button::after{content:" \\25BC"}
.badge{display:inline-block;border-radius:1em;padding:0 .6em;font-size:.85rem;font-weight:600}
.badge.failure{background:var(--fail-bg);color:var(--fail)}.badge.success{background:var(--pass-bg);color:var(--pass)}.badge.error{background:var(--err-bg);color:var(--err)}
.controls{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;margin:.5rem 0}
.controls input,.controls select{font:inherit;padding:.2rem .4rem}
.chart text{font:13px system-ui,sans-serif;fill:var(--fg)}
.chart .bar{fill:var(--bar)}.chart .wbar{fill:var(--warnbar)}
details{border:1px solid var(--line);border-radius:6px;margin:.4rem 0;padding:.25rem .75rem}summary{cursor:pointer;font-weight:600}
.findings li{margin:.25rem 0}.code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em}
.month{margin-top:1rem}
.msg{white-space:pre-wrap;overflow-wrap:anywhere}
footer{color:var(--muted);font-size:.85rem;margin-top:2rem;padding-bottom:2rem}
`;

/** Sorts and filters the repository table; the page reads the same without it. */
const SCRIPT = `
(function(){
  var table=document.getElementById('repos');if(!table)return;
  var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
  var filter=document.getElementById('filter'),status=document.getElementById('status'),shown=document.getElementById('shown');
  document.getElementById('controls').hidden=false;
  function apply(){
    var q=filter.value.trim().toLowerCase(),s=status.value,n=0;
    rows.forEach(function(r){var ok=(!q||r.getAttribute('data-name').indexOf(q)>=0)&&(!s||r.getAttribute('data-status')===s);r.hidden=!ok;if(ok)n++;});
    shown.textContent=n+' of '+rows.length+' repositories shown';
  }
  filter.addEventListener('input',apply);status.addEventListener('change',apply);
  var heads=table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads,function(th,col){
    var b=th.querySelector('button');if(!b)return;
    b.addEventListener('click',function(){
      var asc=th.getAttribute('aria-sort')!=='ascending',num=th.getAttribute('data-type')==='number';
      Array.prototype.forEach.call(heads,function(h){h.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',asc?'ascending':'descending');
      rows.sort(function(a,b){
        var x=a.cells[col].getAttribute('data-v'),y=b.cells[col].getAttribute('data-v');
        var c=num?Number(x)-Number(y):x.localeCompare(y);
        return asc?c:-c;
      });
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
  apply();
})();
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The organisation report as one HTML file that needs nothing else: inline
 * CSS, a short script (sorting, filtering) that the page does not depend on,
 * an SVG chart, and a Content-Security-Policy that lets only that script and
 * style run and nothing load, so even a string that slipped past escaping
 * could neither run nor call out.
 */
export function renderOrgHtml(report: OrgReport): string {
  return [...renderOrgHtmlChunks(report)].join('');
}

/** The same page in pieces, for writing a large organisation's page without holding it twice. */
export function* renderOrgHtmlChunks(report: OrgReport): Generator<string> {
  const s = report.summary;
  const date = report.generatedAt.slice(0, 10);
  const csp = `default-src 'none'; style-src ${sha256(STYLE)}; script-src ${sha256(SCRIPT)}; img-src 'none'; base-uri 'none'; form-action 'none'`;
  const parts: string[] = [];
  parts.push(
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>mlgate organisation report, ${esc(date)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<header>',
    `<h1>mlgate organisation report</h1>`,
    `<p>${esc(plural(s.repositories, 'repository', 'repositories'))} checked, merged on <time datetime="${esc(report.generatedAt)}">${esc(date)}</time> by mlgate ${esc(report.tool.version)}.</p>`,
    '<nav aria-label="Sections"><ul>',
    '<li><a href="#summary">Summary</a></li>',
    ...(report.diff ? ['<li><a href="#changes">What changed</a></li>'] : []),
    '<li><a href="#rules">Rules</a></li><li><a href="#repositories">Repositories</a></li><li><a href="#exceptions">Exceptions</a></li><li><a href="#findings">Findings</a></li>',
    '</ul></nav>',
    '</header>',
    '<main>',
  );
  yield `${parts.join('\n')}\n`;
  for (const section of [summary(report), changes(report), chart(report), repoTable(report), exceptionsCalendar(report)]) yield `${section}\n`;
  yield* findingsSection(report);
  const tail: string[] = [];
  if (report.warnings.length) {
    tail.push('<section aria-labelledby="warnings-h"><h2 id="warnings-h">Reports that were not merged</h2><ul>', ...report.warnings.map((w) => `<li class="msg">${esc(w)}</li>`), '</ul></section>');
  }
  tail.push('</main>', `<footer><p>Generated by mlgate ${esc(report.tool.version)}. Each repository was judged by its own policy at the commit shown; the JSON report holds every field.</p></footer>`, `<script>${SCRIPT}</script>`, '</body>', '</html>');
  yield `${tail.join('\n')}\n`;
}

function summary(report: OrgReport): string {
  const s = report.summary;
  const card = (label: string, value: number, cls = '') => `<div class="card"><dt>${label}</dt><dd${cls ? ` class="${cls}"` : ''}>${value}</dd></div>`;
  return [
    '<section id="summary" aria-labelledby="summary-h"><h2 id="summary-h">Summary</h2>',
    '<dl class="cards">',
    card('Repositories', s.repositories),
    card('Pass', s.success, 'pass'),
    card('Fail', s.failure, 'fail'),
    card('Not checked', s.error, 'err'),
    card('Errors', s.counts.error, 'fail'),
    card('Warnings', s.counts.warning),
    card('Waived', s.counts.waived),
    card('Exceptions expired', report.exceptions.filter((e) => e.daysLeft < 0).length, 'fail'),
    '</dl></section>',
  ].join('\n');
}

function changes(report: OrgReport): string {
  const d = report.diff;
  if (!d) return '';
  const list = (label: string, names: string[]) =>
    `<h3>${label} (${names.length})</h3>${names.length ? `<ul>${names.map((n) => `<li><a href="#${anchor(n)}">${esc(n)}</a></li>`).join('')}</ul>` : '<p>None.</p>'}`;
  return [
    `<section id="changes" aria-labelledby="changes-h"><h2 id="changes-h">What changed since <time datetime="${esc(d.previous)}">${esc(d.previous.slice(0, 10))}</time></h2>`,
    list('Newly failing', d.newlyFailing),
    list('Fixed', d.fixed),
    list('No longer checked', d.newlyErrored),
    list('New repositories', d.added),
    `<h3>Repositories gone (${d.removed.length})</h3>${d.removed.length ? `<ul>${d.removed.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '<p>None.</p>'}`,
    `<h3>New exceptions (${d.newExceptions.length})</h3>`,
    d.newExceptions.length ? exceptionTable(d.newExceptions, 'New exceptions since the previous report') : '<p>None.</p>',
    '</section>',
  ].join('\n');
}

/** One horizontal bar per rule: repositories failing on it, and those with warnings only. */
function chart(report: OrgReport): string {
  const rules = report.rules;
  if (!rules.length) return '<section id="rules" aria-labelledby="rules-h"><h2 id="rules-h">Rules</h2><p>No rule fails or warns in any repository.</p></section>';
  const max = Math.max(1, ...rules.map((r) => r.failing.length + r.warning.length));
  const label = 230;
  const width = 900;
  const room = width - label - 120;
  const row = 26;
  const height = rules.length * row + 10;
  const bars = rules.map((r, i) => {
    const y = i * row + 5;
    const wf = (r.failing.length / max) * room;
    const ww = (r.warning.length / max) * room;
    return [
      `<g><title>${esc(r.rule)}: ${r.failing.length} failing, ${r.warning.length} with warnings only</title>`,
      `<text x="${label - 8}" y="${y + 16}" text-anchor="end">${esc(r.rule)}</text>`,
      `<rect class="bar" x="${label}" y="${y + 3}" width="${wf.toFixed(1)}" height="${row - 8}"></rect>`,
      `<rect class="wbar" x="${(label + wf).toFixed(1)}" y="${y + 3}" width="${ww.toFixed(1)}" height="${row - 8}"></rect>`,
      `<text x="${(label + wf + ww + 6).toFixed(1)}" y="${y + 16}">${r.failing.length}${r.warning.length ? ` + ${r.warning.length}` : ''}</text></g>`,
    ].join('');
  });
  const table = rules
    .map((r) => `<tr><th scope="row"><span class="code">${esc(r.rule)}</span></th><td class="n">${r.failing.length}</td><td class="n">${r.warning.length}</td><td>${r.failing.slice(0, 20).map((n) => `<a href="#${anchor(n)}">${esc(n)}</a>`).join(', ')}${r.failing.length > 20 ? ` and ${r.failing.length - 20} more` : ''}</td></tr>`)
    .join('\n');
  return [
    '<section id="rules" aria-labelledby="rules-h"><h2 id="rules-h">Failing repositories per rule</h2>',
    `<svg class="chart" id="rule-chart" role="img" aria-labelledby="chart-title" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet"><title id="chart-title">Repositories failing each rule (red) and with warnings only (amber)</title>`,
    ...bars,
    '</svg>',
    '<table><caption>Failing repositories per rule</caption><thead><tr><th scope="col">Rule</th><th scope="col" class="n">Failing</th><th scope="col" class="n">Warnings only</th><th scope="col">Failing repositories</th></tr></thead><tbody>',
    table,
    '</tbody></table></section>',
  ].join('\n');
}

function repoTable(report: OrgReport): string {
  const head = [
    ['Repository', 'text'],
    ['Verdict', 'text'],
    ['Errors', 'number'],
    ['Warnings', 'number'],
    ['Info', 'number'],
    ['Waived', 'number'],
    ['Commit', 'text'],
  ] as const;
  const rank = { failure: 0, error: 1, success: 2 } as const;
  const rows = report.repositories.map((r) => {
    const commit = r.commit ? (r.url ? `<a href="${esc(`${r.url}/tree/${r.commit}`)}" class="code">${r.commit.slice(0, 12)}</a>` : `<span class="code">${r.commit.slice(0, 12)}</span>`) : '—';
    const name = r.url ? `<a href="${esc(r.url)}">${esc(r.name)}</a>` : esc(r.name);
    const more = r.status !== 'success' ? ` <a href="#${anchor(r.name)}" aria-label="findings of ${esc(r.name)}">details</a>` : '';
    return (
      `<tr data-name="${esc(r.name.toLowerCase())}" data-status="${r.status}">` +
      `<th scope="row" data-v="${esc(r.name.toLowerCase())}">${name}${more}</th>` +
      `<td data-v="${rank[r.status]}"><span class="badge ${r.status}">${VERDICT[r.status]}</span></td>` +
      `<td class="n" data-v="${r.counts.error}">${r.counts.error}</td><td class="n" data-v="${r.counts.warning}">${r.counts.warning}</td>` +
      `<td class="n" data-v="${r.counts.info}">${r.counts.info}</td><td class="n" data-v="${r.counts.waived}">${r.counts.waived}</td>` +
      `<td data-v="${esc(r.commit ?? '')}">${commit}</td></tr>`
    );
  });
  return [
    '<section id="repositories" aria-labelledby="repos-h"><h2 id="repos-h">Repositories</h2>',
    '<div class="controls" id="controls" hidden>',
    '<label>Filter by name <input type="search" id="filter" autocomplete="off"></label>',
    '<label>Verdict <select id="status"><option value="">all</option><option value="failure">fails</option><option value="error">not checked</option><option value="success">passes</option></select></label>',
    '<span id="shown" role="status"></span>',
    '</div>',
    '<table id="repos"><caption>Every repository of the sweep, with its verdict and counts</caption>',
    `<thead><tr>${head.map(([label, type], i) => `<th scope="col" data-type="${type}"${type === 'number' ? ' class="n"' : ''}${i === 0 ? ' aria-sort="ascending"' : ''}><button type="button">${label}</button></th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...rows,
    '</tbody></table></section>',
  ].join('\n');
}

function exceptionTable(list: OrgException[], caption: string): string {
  const rows = list.map(
    (e) =>
      `<tr><td data-v="${e.daysLeft}" class="${e.daysLeft < 0 ? 'fail' : e.daysLeft <= 30 ? 'err' : ''}">${esc(daysLeftText(e.daysLeft))}</td>` +
      `<td><time datetime="${esc(e.expires)}">${esc(e.expires)}</time></td><th scope="row">${esc(e.repository)}</th>` +
      `<td class="code">${esc(e.rule)}${e.codes?.length ? ` (${esc(e.codes.join(', '))})` : ''}</td><td>${esc(e.owner)}</td><td class="msg">${esc(e.reason)}</td>` +
      `<td class="msg">${esc(e.paths.join(', '))}${e.fingerprints ? ` (${e.fingerprints} finding${e.fingerprints === 1 ? '' : 's'} by fingerprint)` : ''}</td></tr>`,
  );
  return `<table><caption>${esc(caption)}</caption><thead><tr><th scope="col">Days left</th><th scope="col">Expires</th><th scope="col">Repository</th><th scope="col">Rule</th><th scope="col">Owner</th><th scope="col">Reason</th><th scope="col">Covers</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

/** Exceptions grouped like a calendar: the expired, then each month, soonest first. */
function exceptionsCalendar(report: OrgReport): string {
  const out = ['<section id="exceptions" aria-labelledby="exc-h"><h2 id="exc-h">Exceptions calendar</h2>'];
  if (!report.exceptions.length) out.push('<p>No exception is in force in any repository.</p>');
  const groups = new Map<string, OrgException[]>();
  for (const e of report.exceptions) {
    const key = e.daysLeft < 0 ? 'Expired' : /^\d{4}-\d{2}/.test(e.expires) ? monthName(e.expires) : 'Unreadable date';
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(e);
  }
  for (const [month, list] of groups) {
    out.push(`<div class="month"><h3>${esc(month)} (${list.length})</h3>`, exceptionTable(list, month === 'Expired' ? 'Expired exceptions: the findings they covered count again' : `Exceptions that expire in ${month}`), '</div>');
  }
  out.push('</section>');
  return out.join('\n');
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const monthName = (date: string) => `${MONTHS[Number(date.slice(5, 7)) - 1] ?? date.slice(5, 7)} ${date.slice(0, 4)}`;

function* findingsSection(report: OrgReport): Generator<string> {
  yield '<section id="findings" aria-labelledby="findings-h"><h2 id="findings-h">Findings of the repositories that fail or could not be checked</h2>\n';
  const bad = report.repositories.filter((r) => r.status !== 'success');
  if (!bad.length) yield '<p>Every repository passes.</p>\n';
  for (const r of bad) {
    const out: string[] = [];
    const head = r.error ? `not checked (${esc(r.error.stage)} error)` : `${plural(r.counts.error, 'error')}, ${plural(r.counts.warning, 'warning')}`;
    out.push(`<details id="${anchor(r.name)}"${r.status === 'error' ? ' open' : ''}><summary>${esc(r.name)}: ${head}</summary>`);
    if (r.error) out.push(`<p class="msg">${esc(r.error.reason)}</p>`);
    else {
      out.push('<ul class="findings">');
      for (const f of r.findings.slice(0, MAX_HTML_FINDINGS)) {
        const where = f.path ? `${f.path}${f.line ? `:${f.line}` : ''}` : 'repository';
        const blob = blobUrl(r, f);
        out.push(
          `<li><strong class="${f.level === 'error' ? 'fail' : 'err'}">${f.level}</strong> <span class="code">${esc(f.code ?? f.rule)}</span> ` +
            `${blob ? `<a href="${esc(blob)}" class="code">${esc(where)}</a>` : `<span class="code">${esc(where)}</span>`}: <span class="msg">${esc(f.message)}</span>` +
            `${f.help ? ` <a href="${esc(docsUrl(f))}">how to fix</a>` : ''}</li>`,
        );
      }
      out.push('</ul>');
      const more = r.omitted + Math.max(0, r.findings.length - MAX_HTML_FINDINGS);
      if (more) out.push(`<p>${more} more in the repository's own report.</p>`);
    }
    out.push('</details>');
    yield `${out.join('\n')}\n`;
  }
  yield '</section>\n';
}
