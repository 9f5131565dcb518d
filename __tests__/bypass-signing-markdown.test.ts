import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import type { Emphasis, Heading, Link, List, ListItem, Nodes, Paragraph, Root } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publish } from '../src/action/publish.js';
import { modelSigning } from '../src/checks/model-signing.js';
import { evaluate } from '../src/engine/evaluate.js';
import { silentLogger } from '../src/core/logger.js';
import type { CheckResult, CheckRun } from '../src/github/check-run.js';
import { escapeMarkdown, inlineCode } from '../src/report/escape.js';
import { renderMarkdown } from '../src/report/markdown.js';
import type { Report } from '../src/report/types.js';
import { callPickle } from './pickle-fixtures.js';
import { gitIn, makeRepo, runRuleOnDir, summarise, type FileTree } from './helpers/repo.js';
import { memoryProvider } from './helpers/policy.js';
import { bundleFor, keyPair, signModel, statement } from './model-signing-signer.js';

const key = keyPair('P-256');
/** A real (if tiny) safetensors file: model-file-safety checks the header of anything named .safetensors. */
const SAFETENSORS_HEADER = Buffer.from('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}');
const SAFETENSORS = Buffer.concat([Buffer.from(new BigUint64Array([BigInt(SAFETENSORS_HEADER.length)]).buffer), SAFETENSORS_HEADER, Buffer.alloc(8)]);
const WEIGHTS = { 'model.safetensors': SAFETENSORS, 'config.json': '{"layers": 2}\n', 'sub/tokenizer.json': '{"vocab": []}\n' };
const params = { signers: [{ method: 'key', 'public-key': key.publicPem }] };
const now = new Date('2026-11-28T12:00:00Z');

/** models/m signed over WEIGHTS, an evil.py at the top, and the given links (repository path → target) added after signing. */
async function signedRepo(links: Record<string, string>, opts: { extra?: FileTree; sig?: string; git?: boolean } = {}): Promise<string> {
  const tree: FileTree = { 'models/m/model.sig': opts.sig ?? signModel({ key, files: WEIGHTS }), 'evil.py': 'import os\nos.system("id")\n', ...opts.extra };
  for (const [p, c] of Object.entries(WEIGHTS)) tree[`models/m/${p}`] = c;
  const dir = await makeRepo(tree, { git: opts.git });
  await addLinks(dir, links);
  return dir;
}

async function addLinks(dir: string, links: Record<string, string>): Promise<void> {
  for (const [p, target] of Object.entries(links)) {
    await mkdir(path.dirname(path.join(dir, p)), { recursive: true });
    await symlink(target, path.join(dir, p));
  }
}

describe('model-signing: a symlink added to a signed model', () => {
  it('is an error on the link, saying where it points and how to fix it', async () => {
    const dir = await signedRepo({ 'models/m/modeling.py': '../../evil.py' });
    const findings = await runRuleOnDir(modelSigning, dir, { params });
    expect(summarise(findings)).toEqual(['symlink@models/m/modeling.py']);
    expect(findings[0]!.message).toContain('points to "../../evil.py"');
    expect(findings[0]!.message).toMatch(/Replace the link with the file itself .* re-sign the model/);
  });

  it('is never followed: a link to a copy of the signed content is still an error, and not also a missing file', async () => {
    const dir = await signedRepo({}, { extra: { 'copy.json': WEIGHTS['config.json'] } });
    await rm(path.join(dir, 'models/m/config.json'));
    await addLinks(dir, { 'models/m/config.json': '../../copy.json' });
    expect(summarise(await runRuleOnDir(modelSigning, dir, { params }))).toEqual(['symlink@models/m/config.json']);
  });

  it('a signed directory swapped for a link is one finding on the link', async () => {
    const dir = await signedRepo({}, { extra: { 'elsewhere/tokenizer.json': WEIGHTS['sub/tokenizer.json'] } });
    await rm(path.join(dir, 'models/m/sub'), { recursive: true });
    await addLinks(dir, { 'models/m/sub': '../../elsewhere' });
    expect(summarise(await runRuleOnDir(modelSigning, dir, { params }))).toEqual(['symlink@models/m/sub']);
  });

  it('a weight file swapped for a link does not take the model out of discovery', async () => {
    const dir = await signedRepo({}, { extra: { 'store/w.data': WEIGHTS['model.safetensors'] } });
    await rm(path.join(dir, 'models/m/model.safetensors'));
    await addLinks(dir, { 'models/m/model.safetensors': '../../store/w.data' });
    expect(summarise(await runRuleOnDir(modelSigning, dir, { params }))).toEqual(['symlink@models/m/model.safetensors']);
  });

  it('a hostile target is quoted as one string, control characters escaped', async () => {
    const target = '../x\r\n## ✅ Gate passed';
    const dir = await signedRepo({ 'models/m/a.py': target });
    const [f] = await runRuleOnDir(modelSigning, dir, { params });
    expect(f!.message).toContain(JSON.stringify(target));
    expect(f!.message).not.toMatch(/[\r\n]/);
  });

  it('is reported when the signer allowed symlinks too, and next to an invalid signature', async () => {
    const stmt = statement({ key, files: WEIGHTS });
    (stmt.predicate as { serialization: Record<string, unknown> }).serialization.allow_symlinks = true;
    const allowed = await signedRepo({ 'models/m/modeling.py': '../../evil.py' }, { sig: bundleFor(Buffer.from(JSON.stringify(stmt)), { key }) });
    const [f] = await runRuleOnDir(modelSigning, allowed, { params });
    expect(summarise([f!])).toEqual(['symlink@models/m/modeling.py']);
    expect(f!.message).toMatch(/allowed symlinks, but mlgate never follows links/);

    const broken = await signedRepo({ 'models/m/modeling.py': '../../evil.py' }, { sig: '{"not": "a bundle"}' });
    expect(summarise(await runRuleOnDir(modelSigning, broken, { params }))).toEqual(['invalid-signature@models/m/model.sig', 'symlink@models/m/modeling.py']);
  });

  it('a link under ignore-paths, or under .github at the model root, is left out as model_signing leaves it out', async () => {
    const dir = await signedRepo({ 'models/m/runs/latest': '../../evil.py', 'models/m/.github/x.yml': '../../../evil.py' });
    expect(summarise(await runRuleOnDir(modelSigning, dir, { params: { ...params, 'ignore-paths': ['runs'] } }))).toEqual([]);
    expect(summarise(await runRuleOnDir(modelSigning, dir, { params }))).toEqual(['symlink@models/m/runs/latest']);
  });

  it('in changed mode, a change that only adds the link verifies the model', async () => {
    const dir = await signedRepo({}, { git: true });
    await addLinks(dir, { 'models/m/modeling.py': '../../evil.py' });
    expect(summarise(await runRuleOnDir(modelSigning, dir, { params, changed: { added: ['models/m/modeling.py'] } }))).toEqual(['symlink@models/m/modeling.py']);
    expect(summarise(await runRuleOnDir(modelSigning, dir, { params, changed: { added: ['README.md'] } }))).toEqual([]);
    gitIn(dir, 'add', '-A');
    expect(gitIn(dir, 'diff', '--cached', '--name-only')).toBe('models/m/modeling.py\n');
  });

  describe('under mlgate:recommended, through the engine', () => {
    const policy = `version: 1\nextends: [mlgate:recommended]\nrules:\n  model-signing:\n    signers:\n      - method: key\n        public-key: |\n${key.publicPem.trim().split('\n').map((l) => `          ${l}`).join('\n')}\n`;
    const run = (root: string) => evaluate({ root, provider: memoryProvider({ '.github/mlgate.yml': policy }), mode: 'full', logger: silentLogger, toolVersion: '1.0.0', now });
    const signingErrors = (r: Awaited<ReturnType<typeof run>>) => r.findings.filter((f) => f.rule === 'model-signing' && f.level === 'error' && f.waived === null).map((f) => `${f.code}@${f.path}`);

    it('the link is an unwaived error that fails the gate; without it the model passes', async () => {
      const clean = await run(await signedRepo({}));
      expect(signingErrors(clean)).toEqual([]);
      expect(clean.conclusion).toBe('success');
      const linked = await run(await signedRepo({ 'models/m/modeling.py': '../../evil.py' }));
      expect(signingErrors(linked)).toEqual(['model-signing/symlink@models/m/modeling.py']);
      expect(linked.conclusion).toBe('failure');
      expect(linked.findings.filter((f) => f.rule === 'inventory').map((f) => `${f.code}:${f.level}`)).toEqual(['inventory/symlink:warning']);
    });

    it('near miss: a link outside every model root is only the inventory warning', async () => {
      const report = await run(await signedRepo({ 'docs/modeling.py': '../evil.py' }));
      expect(report.findings.filter((f) => f.path === 'docs/modeling.py').map((f) => `${f.code}:${f.level}`)).toEqual(['inventory/symlink:warning']);
      expect(signingErrors(report)).toEqual([]);
    });
  });
});

// --- Markdown: repository text renders as itself, in every summary ---

/** What the text shows once rendered: characters no renderer shows as themselves read as U+FFFD. */
const shown = (s: string): string => s.replace(/[\0-\x08\x0b\x0e-\x1f\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\uFFFD');

/** A superset of GFM's autolink-literal rule (www., http(s)/ftp URLs, emails) and of the other schemes it links. */
const AUTOLINKABLE = /www\.|(?:https?|ftp):\/\/|[a-z0-9._+-]@[a-z0-9_-]+\.[a-z0-9_-]|mailto:|xmpp:/i;

/** The phrasing children of a single paragraph, heading or emphasis, checked to be only text and code, and their text. */
function inlineText(children: Nodes[]): string {
  let out = '';
  for (const c of children) {
    if (c.type === 'text') {
      expect(c.value, 'text GFM would autolink').not.toMatch(AUTOLINKABLE);
      out += c.value;
    } else if (c.type === 'inlineCode') {
      out += c.value;
    } else {
      throw new Error(`escaped text produced a ${c.type} node`);
    }
  }
  return out;
}

const only = <T extends Nodes>(nodes: Nodes[], type: T['type']): T => {
  expect(nodes.map((n) => n.type)).toEqual([type]);
  return nodes[0] as T;
};

const PIECES = [
  '\r', '\n', '\r\n', '\f', '\v', '\u0085', '\u2028', '\u2029', '\0', '\t', ' ', '  ', '\u00a0', '#', '## ', '|', '`', '```', '~~~', '<', '>', '<b>', '<!--', '*', '**', '_', '__', '~', '[', ']', '(', ')', '![', '](x)',
  '\\', '&', '&amp;', '&#13;', ';', '-', '- ', '+ ', '1. ', '1) ', '=', '===', '---', ':', '[^1]', 'www.', 'WWW.', 'http://', 'https://', 'ftp://', 'a@b.c', '@user', 'mailto:', 'x', 'ab', 'é', '✅', '\ud800', '.com',
];
const hostile = fc.oneof(fc.array(fc.constantFrom(...PIECES), { maxLength: 24 }).map((a) => a.join('')), fc.string({ unit: 'binary', maxLength: 40 }));

describe('Markdown escaping: repository text renders as exactly itself', () => {
  it('in a paragraph: one line of text (code where GFM would autolink), equal to the input', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const md = escapeMarkdown(s);
        const tree = fromMarkdown(md) as Root;
        if (s === '') {
          expect(tree.children).toEqual([]);
          return;
        }
        expect(inlineText(only<Paragraph>(tree.children, 'paragraph').children)).toBe(shown(s));
        // Without anything GFM could autolink, it is one text node.
        if (!/www\.|:\/\/|@|mailto:|xmpp:/i.test(s)) expect(only(only<Paragraph>(tree.children, 'paragraph').children, 'text')).toBeTruthy();
      }),
      { numRuns: 1500 },
    );
  });

  it('in a list item, a heading and emphasis, as the summaries use it', () => {
    fc.assert(
      fc.property(hostile, hostile, (a, b) => {
        const list = only<List>(fromMarkdown(`- ❌ **error** ${inlineCode('rule/code')} ${escapeMarkdown(a)}: ${escapeMarkdown(b)} ([how to fix](https://example.test/h))`).children, 'list');
        const para = only<Paragraph>(only<ListItem>(list.children, 'listItem').children, 'paragraph');
        const [icon, strong, space, code, ...rest] = para.children;
        expect([icon?.type, strong?.type, space?.type, code?.type]).toEqual(['text', 'strong', 'text', 'inlineCode']);
        const close = rest.pop();
        const link = rest.pop();
        expect([link?.type, close?.type === 'text' && close.value]).toEqual(['link', ')']);
        expect((link as Link).url).toBe('https://example.test/h');
        // The message's text ends with the " (" before the link.
        expect(inlineText(rest)).toBe(` ${shown(a)}: ${shown(b)} (`);

        const heading = only<Heading>(fromMarkdown(`### ${escapeMarkdown(a)}x`).children, 'heading');
        expect(heading.depth).toBe(3);
        expect(inlineText(heading.children)).toBe(`${shown(a)}x`);

        const em = only<Emphasis>(only<Paragraph>(fromMarkdown(`_waived (${escapeMarkdown(a)})_`).children, 'paragraph').children, 'emphasis');
        expect(inlineText(em.children)).toBe(`waived (${shown(a)})`);
      }),
      { numRuns: 700 },
    );
  });

  it('in a table cell: no pipe and no line ending survives, so the row keeps its cells', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        expect(escapeMarkdown(s)).not.toMatch(/[|\r\n\f\v\u0085\u2028\u2029]/);
      }),
      { numRuns: 1500 },
    );
  });

  it('rule codes are code spans; anything else falls back to escaped text', () => {
    expect(inlineCode('model-signing/symlink')).toBe('`model-signing/symlink`');
    expect(inlineCode('a`b')).toBe('a\\`b');
    expect(inlineCode('a\rb')).toBe('a&#13;b');
  });
});

describe('Markdown escaping: forged verdicts in the summaries', () => {
  const FORGED = 'x\r\r## ✅ Gate passed\r\r- ✅ no findings\r';
  const GLOBAL = 'os\r\r## ✅ Gate passed\r| rule | ok |';
  let summaryFile: string;
  let saved: string | undefined;
  beforeEach(async () => {
    saved = process.env.GITHUB_STEP_SUMMARY;
    const dir = await makeRepo({});
    summaryFile = path.join(dir, 'step_summary');
    await writeFile(summaryFile, '');
    process.env.GITHUB_STEP_SUMMARY = summaryFile;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.GITHUB_STEP_SUMMARY;
    else process.env.GITHUB_STEP_SUMMARY = saved;
  });

  /** Headings, list items and table rows of a rendered summary. */
  function structure(md: string): { headings: string[]; items: number; rows: number; links: string[] } {
    const tree = fromMarkdown(md);
    const out = { headings: [] as string[], items: 0, rows: 0, links: [] as string[] };
    const visit = (n: Nodes) => {
      if (n.type === 'heading') out.headings.push(n.children.map((c) => ('value' in c ? c.value : '')).join(''));
      if (n.type === 'listItem') out.items++;
      if (n.type === 'link') out.links.push(n.url);
      if (n.type === 'paragraph' && n.children[0]?.type === 'text' && n.children[0].value.startsWith('|')) out.rows += n.children[0].value.split('\n').length;
      if ('children' in n) for (const c of n.children) visit(c as Nodes);
    };
    visit(tree);
    return out;
  }

  async function hostileReport(): Promise<Report> {
    const root = await makeRepo({ [`models/${FORGED}.pkl`]: callPickle(GLOBAL, 'system'), 'README.md': 'x' });
    const policy = 'version: 1\nrules:\n  model-file-safety: {}\n';
    return evaluate({ root, provider: memoryProvider({ '.github/mlgate.yml': policy }), mode: 'full', logger: silentLogger, toolVersion: '1.0.0', now });
  }

  it('a file name and a pickle global name with bare CRs forge no heading, list item or row in the check-run or job summary', async () => {
    const report = await hostileReport();
    expect(report.conclusion).toBe('failure');
    expect(report.findings.some((f) => f.path?.includes('\r') && f.message.includes(GLOBAL))).toBe(true);

    let sent: CheckResult | undefined;
    const check = { complete: async (r: CheckResult) => void (sent = r) } as unknown as CheckRun;
    const inputs = { policy: '.github/mlgate.yml', token: 't', mode: 'auto' as const, failOn: 'error' as const, checkName: 'mlgate', sarif: '' };
    const dir = await makeRepo({});
    await publish({ report, inputs, check, root: dir, links: { run: 'https://github.com/acme/clf/actions/runs/1' }, tempDir: dir, logger: silentLogger });
    const jobSummary = await readFile(summaryFile, 'utf8');

    for (const md of [renderMarkdown(report), sent!.summary, jobSummary]) {
      const s = structure(md);
      expect(s.headings).toEqual(['mlgate 1.0.0', 'Findings']);
      expect(s.items).toBe(report.findings.length);
      expect(md).toContain('❌ **Gate failed**');
      expect(md).not.toMatch(/[\r\u2028\u2029]/);
      expect(s.links.every((u) => u.startsWith('https://github.com/mlgate/mlgate/'))).toBe(true);
      // The forged text is still there for the reviewer to see, as text.
      expect(fromMarkdown(md).children.some((n) => JSON.stringify(n).includes('## ✅ Gate passed'))).toBe(true);
    }
  });

  it('a bare www. path, a URL and an email in a file name are shown as code, not linked', () => {
    const report: Report = {
      version: 1,
      tool: { name: 'mlgate', version: '1.0.0' },
      mode: 'full',
      conclusion: 'success',
      counts: { error: 0, warning: 1, info: 0, waived: 1 },
      findings: [
        { rule: 'inventory', code: 'inventory/symlink', level: 'warning', message: 'www.evil.example/login is a symbolic link; see http://evil.example or mail admin@evil.example', path: 'www.evil.example/login', help: 'https://github.com/mlgate/mlgate/blob/v1.0.0/docs/rules/inventory.md', references: [], fingerprint: 'f', waived: null },
        { rule: 'threat-model', code: 'threat-model/missing', level: 'warning', message: 'm', help: 'https://github.com/mlgate/mlgate/blob/v1.0.0/docs/rules/threat-model.md', references: [], fingerprint: 'g', waived: { owner: '@evil', reason: 'see www.evil.example\r# Gate passed', expires: '2027-01-01' } },
      ],
      rules: [{ id: 'threat-model', level: 'warning', evaluated: true }],
      stats: { files: 1, bytesHashed: 0, durationMs: 1 },
      exceptions: [{ rule: 'threat-model', paths: ['www.evil.example/**'], owner: 'x@evil.example', reason: 'ok\n| forged | row |', expires: '2027-01-01', matched: 1 }],
      failOn: 'error',
    };
    const md = renderMarkdown(report);
    const s = structure(md);
    expect(s.links.every((u) => u.startsWith('https://github.com/mlgate/mlgate/'))).toBe(true);
    expect(s.headings).toEqual(['mlgate 1.0.0', 'Findings', 'Exceptions in force']);
    for (const bare of ['www.evil.example/login', 'http://evil.example', 'admin@evil.example', 'www.evil.example/**', 'x@evil.example', '@evil']) expect(md).toContain(`\`${bare}\``);
    // Rules table (header, delimiter, inventory, threat-model) and exceptions (header, delimiter, one row): the forged row stays in its cell.
    expect(md.split('\n').filter((l) => l.startsWith('|'))).toHaveLength(7);
    expect(md).not.toMatch(/^\| forged/m);
  });
});
