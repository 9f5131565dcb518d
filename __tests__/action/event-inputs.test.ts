import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readInputs } from '../../src/action/inputs.js';
import { defuse } from '../../src/action/logger.js';
import { ConfigurationError } from '../../src/core/errors.js';
import { parseEvent, parseRepository } from '../../src/github/event.js';

const REPO = { owner: 'acme', repo: 'clf' };
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

const pr = (headRepo: string | null) =>
  JSON.stringify({ number: 7, pull_request: { number: 7, changed_files: 3, head: { sha: A, repo: headRepo === null ? null : { full_name: headRepo } }, base: { sha: B, ref: 'main' } } });

describe('parseEvent', () => {
  it.each([
    ['pull_request', pr('acme/clf'), { headSha: A, base: { sha: B }, policyCommit: B, pullRequest: { number: 7, changedFiles: 3, fromFork: false } }],
    ['pull_request', pr('ACME/Clf'), { pullRequest: { fromFork: false } }],
    ['pull_request_target', pr('mallory/clf'), { headSha: A, policyCommit: B, pullRequest: { fromFork: true } }],
    ['pull_request', pr(null), { pullRequest: { fromFork: true } }],
    ['merge_group', JSON.stringify({ merge_group: { head_sha: A, base_sha: B } }), { headSha: A, base: { sha: B }, policyCommit: B }],
    ['push', JSON.stringify({ before: B, after: A }), { headSha: A, base: { sha: B } }],
    ['workflow_dispatch', '{}', { headSha: C }],
    ['schedule', JSON.stringify({ schedule: '0 0 * * *' }), { headSha: C }],
  ])('%s → the commit to judge and where the policy comes from', (name, payload, expected) => {
    expect(parseEvent(name, payload, C, REPO)).toMatchObject({ name, ...expected });
  });

  it('judges the pushed commit and has no base for a new branch', () => {
    const e = parseEvent('push', JSON.stringify({ before: '0'.repeat(40), after: A }), C, REPO);
    expect(e.headSha).toBe(A);
    expect(e.base).toBeUndefined();
    expect(e.policyCommit).toBeUndefined();
  });

  it.each([
    ['pull_request', '{"pull_request": {"number": 1, "head": {"sha": "nope"}, "base": {"sha": "x"}}}', /pull_request\.head\.sha/],
    ['pull_request', '{}', /pull_request\.number/],
    ['merge_group', '{"merge_group": {"head_sha": "' + A + '"}}', /merge_group\.base_sha/],
    ['pull_request', '{not json', /not valid JSON/],
  ])('names what is missing from a %s payload', (name, payload, message) => {
    expect(() => parseEvent(name, payload, C, REPO)).toThrow(message);
  });

  it('needs GITHUB_SHA on events without a commit in the payload', () => {
    expect(() => parseEvent('schedule', '{}', undefined, REPO)).toThrow(/GITHUB_SHA/);
  });

  it('never throws anything but a ConfigurationError on arbitrary payloads', () => {
    fc.assert(
      fc.property(fc.constantFrom('pull_request', 'pull_request_target', 'push', 'merge_group', 'schedule', 'other'), fc.oneof(fc.string(), fc.json()), (name, payload) => {
        try {
          parseEvent(name, payload, C, REPO);
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigurationError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseRepository', () => {
  it.each([
    ['acme/clf', REPO],
    ['a-b/c.d_e', { owner: 'a-b', repo: 'c.d_e' }],
  ])('%s', (value, expected) => expect(parseRepository(value)).toEqual(expected));
  it.each([undefined, '', 'acme', 'acme/clf/x', '../x/y'])('refuses %s', (value) => expect(() => parseRepository(value)).toThrow(ConfigurationError));
});

describe('readInputs', () => {
  const defaults: Record<string, string> = { policy: '.github/mlgate.yml', token: 't', mode: 'auto', 'fail-on': 'error', 'check-name': 'mlgate', sarif: '' };
  const read = (over: Record<string, string>) => (name: string) => ({ ...defaults, ...over })[name] ?? '';

  it('reads the defaults', () => {
    expect(readInputs(read({}))).toEqual({ policy: '.github/mlgate.yml', token: 't', mode: 'auto', failOn: 'error', checkName: 'mlgate', sarif: '' });
  });

  it.each([
    [{ mode: 'FULL' }, { mode: 'full' }],
    [{ 'fail-on': 'warning' }, { failOn: 'warning' }],
    [{ policy: './policies/ml.yml' }, { policy: 'policies/ml.yml' }],
    [{ mode: '', 'fail-on': '' }, { mode: 'auto', failOn: 'error' }],
  ])('accepts %j', (over, expected) => expect(readInputs(read(over))).toMatchObject(expected));

  it.each([
    [{ mode: 'partial' }, /Input "mode" must be one of "auto", "changed", "full"; got "partial"/],
    [{ 'fail-on': 'info' }, /Input "fail-on" must be one of "error", "warning", "never"/],
    [{ policy: '../other/policy.yml' }, /Input "policy" must be a path inside the repository/],
    [{ policy: '/etc/mlgate.yml' }, /Input "policy"/],
    [{ token: '' }, /Input "token" is empty/],
    [{ 'check-name': 'a\nb' }, /Input "check-name"/],
  ])('refuses %j naming the input', (over, message) => {
    expect(() => readInputs(read(over))).toThrow(message);
  });

  it('never throws anything but a ConfigurationError', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('policy', 'token', 'mode', 'fail-on', 'check-name', 'sarif'), fc.string()), (over) => {
        try {
          readInputs(read(over));
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigurationError);
        }
      }),
    );
  });
});

describe('defuse', () => {
  it.each([
    ['plain text', 'plain text'],
    ['models/a.pt\n::set-output name=x::y', 'models/a.pt\n:\u200b:set-output name=x::y'],
    ['  ::add-mask::x', '  :\u200b:add-mask::x'],
    ['a\r\n::error::x', 'a\n:\u200b:error::x'],
    ['see a::b', 'see a::b'],
  ])('%j', (input, expected) => expect(defuse(input)).toBe(expected));

  it('leaves no line that the runner would read as a command', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(':', '\n', '\r', ' ', 'a', '\t') }), (s) => {
        for (const line of defuse(s).split('\n')) expect(line.trimStart().startsWith('::')).toBe(false);
      }),
    );
  });
});
