import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/core/types.js';
import { batches, toAnnotations, truncateBytes } from '../../src/github/annotations.js';

function finding(over: Partial<Finding>): Finding {
  return { rule: 'threat-model', level: 'error', message: 'msg', help: 'https://example.test/docs/rules/threat-model.md', references: [], fingerprint: 'f', waived: null, ...over };
}

describe('toAnnotations', () => {
  it('maps levels, lines and columns the way the Checks API wants them', () => {
    const out = toAnnotations([
      finding({ level: 'info', path: 'c.md', line: 3 }),
      finding({ level: 'warning', path: 'b.md', line: 2, endLine: 4, column: 7 }),
      finding({ level: 'error', code: 'threat-model/unknown-atlas-id', path: 'a.md', line: 9, column: 5 }),
      finding({ level: 'error', path: 'a.md' }),
      finding({ level: 'error', message: 'no path: stays in the summary' }),
      finding({ level: 'error', path: 'w.md', line: 1, waived: { reason: 'legacy', owner: '@acme/ml', expires: '2027-01-31' } }),
    ]);
    expect(out.map((a) => [a.annotation_level, a.path, a.start_line, a.end_line, a.start_column])).toEqual([
      ['failure', 'a.md', 1, 1, undefined],
      ['failure', 'a.md', 9, 9, 5],
      ['warning', 'b.md', 2, 4, undefined],
      ['notice', 'c.md', 3, 3, undefined],
      ['notice', 'w.md', 1, 1, undefined],
    ]);
    // The title is the sub-code; the message ends with the fix; the details hold where it is documented.
    expect(out[1]!.title).toBe('threat-model/unknown-atlas-id');
    expect(out[0]!.title).toBe('threat-model');
    expect(out[1]!.message).toBe('msg');
    expect(out[1]!.raw_details).toBe('How to fix: https://example.test/docs/rules/threat-model.md');
    expect(out[4]!.title).toContain('(waived)');
    expect(out[4]!.message).toContain('Waived until 2027-01-31 (owner @acme/ml): legacy');
  });

  it('repairs impossible positions instead of sending them', () => {
    const [a] = toAnnotations([finding({ path: 'x', line: 0, endLine: -3, column: 0 })]);
    expect(a).toMatchObject({ start_line: 1, end_line: 1 });
    expect(a!.start_column).toBeUndefined();
    const [b] = toAnnotations([finding({ path: 'x', line: 5, endLine: 2 })]);
    expect(b).toMatchObject({ start_line: 5, end_line: 5 });
  });

  it('lists the references after the remediation page', () => {
    const [a] = toAnnotations([finding({ path: 'x', references: [{ id: 'AML.M0014', url: 'https://atlas.mitre.org/mitigations/AML.M0014' }, { id: 'LLM03', url: 'https://genai.owasp.org/llmrisk/llm03' }] })]);
    expect(a!.raw_details).toBe('How to fix: https://example.test/docs/rules/threat-model.md\nReferences: AML.M0014 https://atlas.mitre.org/mitigations/AML.M0014, LLM03 https://genai.owasp.org/llmrisk/llm03');
  });

  it('keeps messages, details and titles within the API limits', () => {
    const [a] = toAnnotations([finding({ path: 'x', message: 'é'.repeat(70_000), code: 'c'.repeat(300), help: `https://x/${'h'.repeat(70_000)}` })]);
    expect(Buffer.byteLength(a!.message)).toBeLessThanOrEqual(64 * 1024);
    expect(Buffer.byteLength(a!.raw_details)).toBeLessThanOrEqual(64 * 1024);
    expect([...a!.title].length).toBeLessThanOrEqual(255);
  });
});

describe('batches and truncation', () => {
  it.each([
    [0, []],
    [50, [50]],
    [51, [50, 1]],
    [130, [50, 50, 30]],
  ])('%i annotations → %j', (n, sizes) => {
    expect(batches(Array.from({ length: n }, (_, i) => i)).map((b) => b.length)).toEqual(sizes);
  });

  it.each([
    ['short', 10, 'short'],
    ['ééééé', 7, 'éé…'],
    ['😀😀', 5, '…'],
  ])('truncateBytes(%j, %i)', (s, max, expected) => {
    const out = truncateBytes(s, max);
    expect(out).toBe(expected);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(max);
  });
});
