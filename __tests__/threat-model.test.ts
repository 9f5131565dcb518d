import { describe, expect, it } from 'vitest';
import { threatModel } from '../src/checks/threat-model.js';
import { runRuleOn, summarise } from './helpers/repo.js';

const tm = (front: string, body: string) => `${front ? `---\n${front}\n---\n` : ''}${body}`;
const FULL = '# Threat model\n## Assets\nweights\n## Threats\nPoisoning AML.T0020 and supply chain AML.T0010.003.\n## Mitigations\nAML.M0014 signing.\n';

describe('threat-model', () => {
  const cases: { name: string; files: Record<string, string>; params?: Record<string, unknown>; changed?: string[]; expect: string[] }[] = [
    { name: 'present and current', files: { 'THREAT_MODEL.md': tm('last-reviewed: 2026-10-01', FULL) }, expect: [] },
    { name: 'absent', files: { 'README.md': '# x' }, expect: ['missing@'] },
    { name: 'found in docs/security', files: { 'docs/security/threat-model-serving.md': tm('last-reviewed: 2026-10-01', FULL) }, expect: [] },
    {
      name: 'a missing section',
      files: { 'THREAT_MODEL.md': tm('last-reviewed: 2026-10-01', FULL.replace('## Mitigations\n', '## Notes\n')) },
      expect: ['missing-section@THREAT_MODEL.md:4'],
    },
    {
      name: 'sections match case-insensitively and with numbering',
      files: { 'THREAT_MODEL.md': tm('last-reviewed: 2026-10-01', '## 1. ASSETS\n## 2. threats: data\nAML.T0020\n\nMitigations\n-----------\n') },
      expect: [],
    },
    {
      name: 'headings inside code fences do not count',
      files: { 'THREAT_MODEL.md': tm('last-reviewed: 2026-10-01', '## Assets\n## Threats\nAML.T0020\n```\n## Mitigations\n```\n') },
      expect: ['missing-section@THREAT_MODEL.md:4'],
    },
    {
      name: 'an unknown ATLAS id',
      files: { 'THREAT_MODEL.md': tm('last-reviewed: 2026-10-01', `${FULL}Also AML.T9999 and AML.M0999.\n`) },
      expect: ['unknown-atlas-id@THREAT_MODEL.md:11', 'unknown-atlas-id@THREAT_MODEL.md:11'],
    },
    {
      name: 'no ATLAS technique at all',
      files: { 'THREAT_MODEL.md': tm('last-reviewed: 2026-10-01', '## Assets\n## Threats\n## Mitigations\nAML.M0014\n') },
      expect: ['missing-atlas@THREAT_MODEL.md:4'],
    },
    { name: 'require-atlas off', files: { 'THREAT_MODEL.md': tm('last-reviewed: 2026-10-01', '## Assets\n## Threats\n## Mitigations\n') }, params: { 'require-atlas': false }, expect: [] },
    { name: 'a stale review', files: { 'THREAT_MODEL.md': tm('title: x\nlast-reviewed: 2025-01-10', FULL) }, expect: ['stale-review@THREAT_MODEL.md:3'] },
    { name: 'a custom max age', files: { 'THREAT_MODEL.md': tm('last-reviewed: 2026-10-01', FULL) }, params: { 'max-age-days': 30 }, expect: ['stale-review@THREAT_MODEL.md:2'] },
    { name: 'no review date', files: { 'THREAT_MODEL.md': FULL }, expect: ['missing-review-date@THREAT_MODEL.md:1'] },
    { name: 'an impossible review date', files: { 'THREAT_MODEL.md': tm('last-reviewed: 2026-02-31', FULL) }, expect: ['invalid-review-date@THREAT_MODEL.md:2'] },
    { name: 'a review date in the future', files: { 'THREAT_MODEL.md': tm('last-reviewed: 2027-05-01', FULL) }, expect: ['invalid-review-date@THREAT_MODEL.md:2'] },
    {
      name: 'a risky path changed without touching the threat model',
      files: { 'THREAT_MODEL.md': tm('last-reviewed: 2026-10-01', FULL), 'models/clf/weights.safetensors': 'x' },
      changed: ['models/clf/weights.safetensors'],
      expect: ['not-updated@THREAT_MODEL.md:1'],
    },
    {
      name: 'a risky path changed together with the threat model',
      files: { 'THREAT_MODEL.md': tm('last-reviewed: 2026-10-01', FULL), 'serving/app.py': 'x' },
      changed: ['serving/app.py', 'THREAT_MODEL.md'],
      expect: [],
    },
    {
      name: 'a harmless change',
      files: { 'THREAT_MODEL.md': tm('last-reviewed: 2026-10-01', FULL), 'docs/intro.md': 'x' },
      changed: ['docs/intro.md'],
      expect: [],
    },
    // Changed mode: repository-wide findings only when the change touches what they are about.
    { name: 'absent, and the change touches nothing it covers', files: { 'README.md': '# x', 'src/a.py': '' }, changed: ['src/a.py'], expect: [] },
    { name: 'absent, and the change touches a path it covers', files: { 'README.md': '# x', 'data/train.csv': 'a' }, changed: ['data/train.csv'], expect: ['missing@'] },
    { name: 'deleted by the change', files: { 'README.md': '# x' }, changed: ['THREAT_MODEL.md'], expect: ['missing@'] },
    { name: 'stale, and the change is elsewhere', files: { 'THREAT_MODEL.md': tm('last-reviewed: 2025-01-10', FULL), 'src/a.py': '' }, changed: ['src/a.py'], expect: [] },
    { name: 'stale, and the change edits it', files: { 'THREAT_MODEL.md': tm('last-reviewed: 2025-01-10', FULL) }, changed: ['THREAT_MODEL.md'], expect: ['stale-review@THREAT_MODEL.md:2'] },
    {
      name: 'stale, and the change touches a path it covers',
      files: { 'THREAT_MODEL.md': tm('last-reviewed: 2025-01-10', FULL), 'serving/app.py': '' },
      changed: ['serving/app.py'],
      expect: ['not-updated@THREAT_MODEL.md:1', 'stale-review@THREAT_MODEL.md:2'],
    },
    {
      name: 'front matter that is an alias bomb',
      files: { 'THREAT_MODEL.md': tm(`a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [${'*a,'.repeat(9)}*a]\nc: &c [${'*b,'.repeat(9)}*b]\nd: &d [${'*c,'.repeat(9)}*c]\ne: &e [${'*d,'.repeat(9)}*d]\nf: [${'*e,'.repeat(9)}*e]`, FULL) },
      expect: ['invalid-front-matter@THREAT_MODEL.md:6'],
    },
  ];

  it.each(cases)('$name', async ({ files, params, changed, expect: want }) => {
    const findings = await runRuleOn(threatModel, files, { params, changed });
    expect(summarise(findings)).toEqual([...want].sort());
  });

  it('names what to do in its messages', async () => {
    const [f] = await runRuleOn(threatModel, { 'THREAT_MODEL.md': tm('last-reviewed: 2024-01-01', FULL) });
    expect(f?.message).toMatch(/last reviewed \d+ days ago \(2024-01-01\), more than max-age-days 180: review it and update last-reviewed/);
  });

  it('turns an oversized threat model into a finding on that file', async () => {
    const findings = await runRuleOn(threatModel, { 'THREAT_MODEL.md': FULL + 'x'.repeat(5000) }, { budget: { maxFileBytes: 1000 } });
    expect(summarise(findings)).toEqual(['budget-exceeded@THREAT_MODEL.md']);
  });
});
