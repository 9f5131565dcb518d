import { describe, expect, it } from 'vitest';
import { OWNER, REPO, onlyCheckRunOf, pullRequestEvent, pullRequestRepo, readReport, runAction, threatModel, useApiServer } from './harness.js';

// The bundled action on a pull request that tries to waive its own new finding with an inline comment.
const api = useApiServer();

// Within max-exception-days of whenever the test runs.
const EXPIRES = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
const POLICY = 'version: 1\nextends: [mlgate:recommended]\ninline-exceptions: allowed\n';
const OLD_WAIVER = `# mlgate: ignore[unsafe-deserialization] reason="legacy checkpoint, re-export in SEC-12" owner=@acme/ml-platform expires=${EXPIRES}`;
const NEW_WAIVER = `# mlgate: ignore[unsafe-deserialization/pickle-load] reason="trust me" owner=@alice expires=${EXPIRES}`;
const BASE = {
  '.github/mlgate.yml': POLICY,
  'THREAT_MODEL.md': threatModel(),
  'legacy.py': `import pickle\n${OLD_WAIVER}\nm = pickle.load(open("old.pkl", "rb"))\n`,
  'train.py': 'import torch\n',
};
// The PR touches the legacy file (its waiver was in the base) and adds a pickle load with its own waiver.
const HEAD = {
  'legacy.py': `import pickle\n\n# loaded once at start-up\n${OLD_WAIVER}\nm = pickle.load(open("old.pkl", "rb"))\n`,
  'train.py': `import pickle\nimport torch\n${NEW_WAIVER}\nstate = pickle.load(open("new.pkl", "rb"))\n`,
};

type Finding = { code: string; level: string; message: string; path?: string; line?: number; waived: unknown };

async function expectPending(run: Awaited<ReturnType<typeof runAction>>) {
  expect(run.code, run.stdout + run.stderr).toBe(1);
  const report = (await readReport(run)) as unknown as { conclusion: string; findings: Finding[] };
  expect(report.conclusion).toBe('failure');
  const shown = report.findings.filter((f) => f.path === 'train.py' || f.path === 'legacy.py').map((f) => `${f.level} ${f.code} ${f.path}:${f.line}${f.waived ? ' waived' : ''}`).sort();
  expect(shown).toEqual([
    'error unsafe-deserialization/pickle-load legacy.py:5 waived',
    'error unsafe-deserialization/pickle-load train.py:4',
    'info policy/inline-waiver-pending train.py:3',
  ]);
  expect(report.findings.find((f) => f.code === 'policy/inline-waiver-pending')!.message).toMatch(/applies after merge: this pull request adds it/);
  const check = onlyCheckRunOf(api());
  expect(check.conclusion).toBe('failure');
  const notes = check.annotations.map((a) => `${a.annotation_level}:${a.path}:${a.start_line}:${String(a.title)}`).sort();
  expect(notes).toContain('failure:train.py:4:unsafe-deserialization/pickle-load');
  expect(notes).toContain('notice:train.py:3:policy/inline-waiver-pending');
  expect(notes.some((n) => n.startsWith('failure:legacy.py'))).toBe(false);
}

describe('inline waivers on a pull request', () => {
  it('a waiver the PR adds for its own finding applies after merge: the gate still fails; one already in the base commit counts', async () => {
    const pr = await pullRequestRepo(BASE, HEAD);
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles: 2 }), sha: pr.mergeSha });
    await expectPending(run);
    // The base commit was in the checkout: git answered, not the contents API.
    expect(api().requestsTo('repos/get-content')).toEqual([]);
  });

  it('with a shallow checkout the base versions come from the contents API at the base commit', async () => {
    const pr = await pullRequestRepo(BASE, HEAD, { shallow: true });
    for (const [file, text] of Object.entries(BASE)) api().state.contents.set(`${OWNER}/${REPO}@${pr.baseSha}:${file}`, text);
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles: 2 }), sha: pr.mergeSha });
    await expectPending(run);
    const asked = api().requestsTo('repos/get-content').map((r) => decodeURIComponent(`${r.path}${r.query}`));
    expect(asked).toContain(`/repos/${OWNER}/${REPO}/contents/legacy.py?ref=${pr.baseSha}`);
    expect(asked).toContain(`/repos/${OWNER}/${REPO}/contents/train.py?ref=${pr.baseSha}`);
  });
});
