/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderOrgHtml } from '../src/report/org-html.js';
import { mergeReports, type ReportInput } from '../src/report/org-merge.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = path.resolve(__dirname, '../test-output');
const NOW = new Date('2026-12-04T09:00:00Z');
const XSS_NAME = 'acme/<img src=x onerror="window.__pwned=1">';
const XSS_MESSAGE = 'weights <script>window.__pwned=2</script><img src=x onerror="window.__pwned=3"> found';

/** 40 repositories: 0–9 pass, 10–29 fail with i % 5 + 1 errors, 30–39 could not be checked. */
function sweep(): ReportInput[] {
  return Array.from({ length: 40 }, (_, i) => {
    const name = `acme/model-${String(i).padStart(2, '0')}`;
    const repository = { name, commit: `${i.toString(16).padStart(2, '0')}${'c'.repeat(38)}`, ref: 'refs/heads/main', url: `https://github.com/${name}` };
    if (i >= 30) return { source: `${i}.json`, data: { version: 1, tool: { name: 'mlgate', version: '0.1.0' }, repository, error: { stage: 'clone', reason: `${XSS_MESSAGE} (clone)` } } };
    const errors = i < 10 ? 0 : (i % 5) + 1;
    const rules = ['model-file-safety', 'model-signing', 'dependency-pinning'];
    const findings = Array.from({ length: errors }, (_, k) => ({
      rule: rules[k % 3],
      code: `${rules[k % 3]}/x`,
      level: 'error',
      message: k === 0 ? XSS_MESSAGE : `finding ${k}`,
      path: `models/m${k}.pkl`,
      line: k + 1,
      help: `https://github.com/mlgate/mlgate/blob/v0.1.0/docs/rules/${rules[k % 3]}.md`,
      references: [],
      fingerprint: '0'.repeat(32),
      waived: null,
    }));
    return {
      source: `${i}.json`,
      data: {
        version: 1,
        tool: { name: 'mlgate', version: '0.1.0' },
        repository,
        mode: 'full',
        conclusion: errors ? 'failure' : 'success',
        counts: { error: errors, warning: i % 3, info: 0, waived: 0 },
        findings,
        rules: [],
        stats: { files: 1, bytesHashed: 0, durationMs: 1 },
        exceptions: i % 4 === 0 ? [{ rule: 'model-card', paths: ['**'], reason: XSS_MESSAGE, owner: '@acme/ml', expires: new Date(NOW.getTime() + (i - 8) * 86_400_000).toISOString().slice(0, 10), matched: 1 }] : [],
      },
    };
  });
}

let browser: Browser;
let file: string;
let html: string;
const requests: string[] = [];
const consoleErrors: string[] = [];

async function open(js = true): Promise<Page> {
  const page = await browser.newPage();
  await page.setJavaScriptEnabled(js);
  await page.setViewport({ width: 1280, height: 900 });
  await page.setRequestInterception(true);
  page.on('request', (req) => {
    if (req.url() === pathToFileURL(file).href) return void req.continue();
    requests.push(req.url());
    void req.abort();
  });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return page;
}

const visibleRows = (page: Page) => page.$$eval('#repos tbody tr', (rows) => rows.filter((r) => !(r as HTMLElement).hidden).map((r) => r.getAttribute('data-name')));
const column = (page: Page, n: number) => page.$$eval('#repos tbody tr', (rows, n) => rows.filter((r) => !(r as HTMLElement).hidden).map((r) => r.children[n]!.textContent!.trim()), n);

beforeAll(async () => {
  const report = mergeReports(sweep(), { now: NOW, toolVersion: '0.1.0' });
  // A name merge would refuse, forced in: the page must escape it all the same.
  report.repositories[12]!.name = XSS_NAME;
  html = renderOrgHtml(report);
  await mkdir(OUT, { recursive: true });
  file = path.join(OUT, 'org-report.html');
  await writeFile(file, html);
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--headless=new', '--disable-gpu'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

describe('the HTML organisation report in Chromium', () => {
  it('shows the summary and a first screen worth a screenshot', async () => {
    const page = await open();
    const cards = await page.$$eval('.cards .card', (cs) => cs.map((c) => `${c.querySelector('dt')!.textContent}=${c.querySelector('dd')!.textContent}`));
    expect(cards.slice(0, 4)).toEqual(['Repositories=40', 'Pass=10', 'Fail=20', 'Not checked=10']);
    const shot = path.join(OUT, 'org-report.png');
    await page.screenshot({ path: shot });
    expect((await readFile(shot)).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    await page.close();
  });

  it('sorts the table by a column, both ways', async () => {
    const page = await open();
    expect((await column(page, 0)).slice(0, 2)).toEqual(['acme/model-00', 'acme/model-01']);
    const errorsHead = (await page.$$('#repos thead th button'))[2]!;
    await errorsHead.click();
    const up = (await column(page, 2)).map(Number);
    expect(up).toEqual([...up].sort((a, b) => a - b));
    expect(await page.$eval('#repos thead th:nth-child(3)', (th) => th.getAttribute('aria-sort'))).toBe('ascending');
    await errorsHead.click();
    const down = (await column(page, 2)).map(Number);
    expect(down).toEqual([...up].sort((a, b) => b - a));
    expect(down[0]).toBe(5);
    expect(await page.$eval('#repos thead th:nth-child(3)', (th) => th.getAttribute('aria-sort'))).toBe('descending');
    expect(await page.$eval('#repos thead th:nth-child(1)', (th) => th.getAttribute('aria-sort'))).toBeNull();
    await page.close();
  });

  it('filters the table by name and by verdict', async () => {
    const page = await open();
    expect(await visibleRows(page)).toHaveLength(40);
    await page.type('#filter', 'model-1');
    expect(await visibleRows(page)).toEqual(Array.from({ length: 10 }, (_, i) => `acme/model-1${i}`).filter((n) => n !== 'acme/model-12'));
    expect(await page.$eval('#shown', (e) => e.textContent)).toBe('9 of 40 repositories shown');
    await page.select('#status', 'failure');
    expect(await visibleRows(page)).toEqual(['acme/model-10', 'acme/model-11', 'acme/model-13', 'acme/model-14', 'acme/model-15', 'acme/model-16', 'acme/model-17', 'acme/model-18', 'acme/model-19']);
    await page.$eval('#filter', (e) => ((e as HTMLInputElement).value = ''));
    await page.type('#filter', ' ');
    await page.select('#status', 'error');
    expect(await visibleRows(page)).toHaveLength(10);
    await page.close();
  });

  it('draws one bar per failing rule', async () => {
    const page = await open();
    const bars = await page.$$eval('#rule-chart rect.bar', (rs) => rs.map((r) => r.getBoundingClientRect().width));
    expect(bars).toHaveLength(3);
    expect(bars.every((w) => w > 0)).toBe(true);
    // The rule failing the most repositories draws the longest bar.
    expect(bars[0]).toBe(Math.max(...bars));
    const labels = await page.$$eval('#rule-chart text', (ts) => ts.map((t) => t.textContent));
    expect(labels).toContain('model-file-safety');
    await page.close();
  });

  it('runs no script but its own, loads nothing and logs no error', async () => {
    const page = await open();
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.$$eval('img', (i) => i.length)).toBe(0);
    expect(await page.$$eval('script', (s) => s.length)).toBe(1);
    expect(await page.$$eval('#repos tbody tr th', (ths) => ths.map((th) => th.textContent))).toContain('acme/<img src=x onerror="window.__pwned=1"> details');
    expect(await page.$$eval('.msg', (ms) => ms.some((m) => m.textContent!.includes('<script>window.__pwned=2</script>')))).toBe(true);
    await page.close();
    expect(requests).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('reads the same without JavaScript: every row shown, the controls that need it hidden', async () => {
    const page = await open(false);
    expect(await visibleRows(page)).toHaveLength(40);
    expect(await page.$eval('#controls', (c) => (c as HTMLElement).hidden)).toBe(true);
    // Repositories 0, 4, …, 28 hold one exception each.
    expect(await page.$$eval('#exceptions table tbody tr', (r) => r.length)).toBe(8);
    await page.close();
  });

  it('is navigable: landmarks, table headers with scope, contrast of at least 4.5:1', async () => {
    const page = await open();
    for (const sel of ['header', 'nav', 'main', 'footer']) expect(await page.$(sel), sel).not.toBeNull();
    expect(await page.$$eval('thead th', (ths) => ths.every((t) => t.getAttribute('scope') === 'col'))).toBe(true);
    expect(await page.$$eval('#repos tbody tr', (rows) => rows.every((r) => r.children[0]!.tagName === 'TH' && r.children[0]!.getAttribute('scope') === 'row'))).toBe(true);
    const ratios = await page.$$eval('body, .badge, a, th, .fail, .err, .pass, footer, .card dt', (els) => {
      const lum = (c: string) => {
        const [r, g, b] = c.match(/\d+(\.\d+)?/g)!.slice(0, 3).map((v) => {
          const s = Number(v) / 255;
          return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
        }) as [number, number, number];
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const background = (el: Element | null): string => {
        for (; el; el = el.parentElement) {
          const bg = getComputedStyle(el).backgroundColor;
          if (bg && !bg.startsWith('rgba(0, 0, 0, 0)') && bg !== 'transparent') return bg;
        }
        return 'rgb(255, 255, 255)';
      };
      return els.map((el) => {
        const a = lum(getComputedStyle(el).color);
        const b = lum(background(el));
        return { el: el.className || el.tagName, ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) };
      });
    });
    expect(ratios.filter((r) => r.ratio < 4.5)).toEqual([]);
    await page.close();
  });
});

it('writes the report where the test output goes', () => {
  expect(existsSync(path.join(OUT, 'org-report.html'))).toBe(true);
  expect(html.length).toBeGreaterThan(1000);
});
