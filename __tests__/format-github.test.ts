import * as core from '@actions/core';
import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { emitWorkflowAnnotations } from '../src/action/fallback-annotations.js';
import type { Finding } from '../src/core/types.js';
import { renderWorkflowCommands, workflowCommand } from '../src/report/workflow-commands.js';
import { runCli } from './helpers/cli.js';
import { makeRepo } from './helpers/repo.js';

function finding(over: Partial<Finding>): Finding {
  return { rule: 'model-signing', code: 'model-signing/unsigned', level: 'error', message: 'm', help: 'https://github.com/mlgate/mlgate/blob/v1.0.0/docs/rules/model-signing.md', references: [], fingerprint: 'f', waived: null, ...over };
}

/**
 * The runner's reading of a stdout line: `::` command, a space, `key=value`
 * properties split on `,` and `=`, `::`, the data; then its unescaping.
 */
function parseCommand(line: string): { command: string; props: Record<string, string>; data: string } | undefined {
  if (!line.startsWith('::')) return undefined;
  const end = line.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = line.slice(2, end);
  const space = info.indexOf(' ');
  const props: Record<string, string> = {};
  if (space >= 0) {
    for (const kv of info.slice(space + 1).split(',')) {
      const eq = kv.indexOf('=');
      props[kv.slice(0, eq)] = kv.slice(eq + 1).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
    }
  }
  const data = line.slice(end + 2).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
  return { command: space >= 0 ? info.slice(0, space) : info, props, data };
}

/** The runner splits stdout into lines on CR, LF and CRLF. */
const runnerLines = (out: string) => out.split(/\r\n|\r|\n/).filter((l) => l !== '');

/** Strings built from what the runner treats specially, and arbitrary code points. */
const text = fc.oneof(
  fc.array(fc.constantFrom('%', '%25', '%0A', '%3A', ':', '::', ',', '=', '\r', '\n', '\r\n', ' ', 'a', 'é', '\u2028', '::error::'), { maxLength: 12 }).map((a) => a.join('')),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('workflow commands', () => {
  it('maps levels, positions and titles as the runner reads them', () => {
    const out = renderWorkflowCommands([
      finding({ level: 'info', code: 'policy/changed-in-pr', rule: 'policy', path: '.github/mlgate.yml', message: 'fyi' }),
      finding({ level: 'warning', code: 'dependency-pinning/unpinned-image', rule: 'dependency-pinning', path: 'Dockerfile', line: 2, endLine: 4, column: 3, message: 'pin it' }),
      finding({ path: 'models/m.safetensors', message: 'unsigned; sign it' }),
      finding({ path: 'train.py', line: 5, column: 9, endLine: 5, code: 'unsafe-deserialization/torch-load', rule: 'unsafe-deserialization', message: 'pass weights_only=True' }),
      finding({ code: 'artifact-ownership/no-codeowners', rule: 'artifact-ownership', level: 'warning', message: 'no CODEOWNERS' }),
      finding({ path: 'w.pkl', line: 1, waived: { reason: 'legacy', owner: '@acme/ml', expires: '2027-01-31' } }),
    ]);
    const commands = runnerLines(out).map((l) => parseCommand(l)!);
    expect(commands.map((c) => [c.command, c.props])).toEqual([
      ['error', { file: 'models/m.safetensors', title: 'model-signing/unsigned' }],
      ['error', { file: 'train.py', line: '5', col: '9', title: 'unsafe-deserialization/torch-load' }],
      ['warning', { title: 'artifact-ownership/no-codeowners' }],
      ['warning', { file: 'Dockerfile', line: '2', endLine: '4', title: 'dependency-pinning/unpinned-image' }],
      ['notice', { file: '.github/mlgate.yml', title: 'policy/changed-in-pr' }],
      ['notice', { file: 'w.pkl', line: '1', title: 'model-signing/unsigned (waived)' }],
    ]);
    expect(commands[1]!.data).toBe('pass weights_only=True\nHow to fix: https://github.com/mlgate/mlgate/blob/v1.0.0/docs/rules/model-signing.md');
    expect(commands[5]!.data).toContain('Waived until 2027-01-31 (owner @acme/ml): legacy');
    expect(out.endsWith('\n')).toBe(true);
  });

  it('keeps a hostile file name and message inside one command: no new line, property or command', () => {
    const path = 'notes\n::error file=evil.py,line=1::injected\r,title=x:y%0A.txt';
    const message = 'bad\r\n::set-output name=x::y\u2028%25 done';
    const lines = runnerLines(workflowCommand(finding({ path, line: 3, message })));
    expect(lines).toHaveLength(1);
    const c = parseCommand(lines[0]!)!;
    expect(c.props).toEqual({ file: path, line: '3', title: 'model-signing/unsigned' });
    expect(c.data.split('\nHow to fix: ')[0]).toBe(message);
  });

  it('round-trips any file name, code and message through the runner’s parser', () => {
    fc.assert(
      fc.property(text.filter((s) => s !== ''), text, text, fc.integer({ min: -2, max: 9 }), (file, code, message, line) => {
        const lines = runnerLines(workflowCommand(finding({ path: file, code: code || undefined, message, line })));
        expect(lines).toHaveLength(1);
        const c = parseCommand(lines[0]!)!;
        expect(c.command).toBe('error');
        expect(c.props.file).toBe(file);
        expect(c.props.title).toBe(code || 'model-signing');
        expect(c.props.line).toBe(line >= 1 ? String(line) : undefined);
        expect(c.data).toBe(`${message}\nHow to fix: https://github.com/mlgate/mlgate/blob/v1.0.0/docs/rules/model-signing.md`);
      }),
      { numRuns: 800 },
    );
  });

  it('escapes exactly as @actions/core does (differential)', () => {
    fc.assert(
      fc.property(text.filter((s) => s !== ''), text.filter((s) => s !== ''), text, fc.constantFrom('error', 'warning', 'notice'), (file, code, message, command) => {
        const f = finding({ path: file, code, message, line: 7, level: command === 'notice' ? 'info' : (command as Finding['level']) });
        const ours = workflowCommand(f);
        let theirs = '';
        const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((theirs += String(s)), true));
        const data = ours.slice(ours.indexOf('::', 2) + 2).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
        core[command as 'error'](data, { title: code, file, startLine: 7 });
        spy.mockRestore();
        const a = parseCommand(ours)!;
        const b = parseCommand(theirs.trimEnd())!;
        expect(a).toEqual(b);
        // Byte for byte too, once the properties are in the toolkit's order.
        expect(theirs.trimEnd()).toBe(`::${command} title=${ours.match(/,title=([^:]*)::/)![1]},file=${ours.match(/ file=([^,]*),/)![1]},line=7::${ours.slice(ours.indexOf('::', 2) + 2)}`);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps titles and messages within GitHub’s limits', () => {
    const c = parseCommand(workflowCommand(finding({ path: 'x', code: 'c'.repeat(400), message: 'é'.repeat(70_000) })))!;
    expect([...c.props.title!].length).toBeLessThanOrEqual(255);
    expect(Buffer.byteLength(c.data)).toBeLessThanOrEqual(64 * 1024);
  });
});

describe('one code path for the CLI and the action’s fallback', () => {
  it('the fallback writes exactly what --format github prints, in the same order', () => {
    const findings = [
      finding({ level: 'info', path: 'c', message: 'i' }),
      finding({ level: 'warning', path: 'b', line: 2, message: 'w' }),
      finding({ path: 'a', line: 9, message: 'e' }),
      finding({ path: 'a', line: 1, message: 'e\nsecond line' }),
    ];
    let written = '';
    expect(emitWorkflowAnnotations(findings, (s) => (written += s))).toBe(4);
    expect(written).toBe(renderWorkflowCommands(findings));
    expect(runnerLines(written).map((l) => parseCommand(l)!.props.file + ':' + parseCommand(l)!.props.line)).toEqual(['a:1', 'a:9', 'b:2', 'c:undefined']);
  });

  it('the CLI reaches no @actions package: the writer is plain code both front doors share', async () => {
    const seen = new Set<string>();
    const packages = new Set<string>();
    // The organisation sweep (org plan/check) calls the GitHub API through the client factory the action uses; the gate does not.
    const sweep = path.resolve(__dirname, '../src/cli/org.ts');
    const visit = async (file: string): Promise<void> => {
      if (seen.has(file) || file === sweep) return;
      seen.add(file);
      const source = await readFile(file, 'utf8');
      for (const m of source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/gm)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) await visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
        else packages.add(spec);
      }
    };
    await visit(path.resolve(__dirname, '../src/cli.ts'));
    expect(seen.has(path.resolve(__dirname, '../src/report/workflow-commands.ts'))).toBe(true);
    expect([...packages].filter((p) => p.startsWith('@actions/'))).toEqual([]);
  });

  it('the bundled CLI annotates with --format github, alone or beside other formats', async () => {
    const dir = await makeRepo({ 'train.py': 'import torch\nimport pickle\nm = pickle.load(open("m", "rb"))\n', 'requirements.txt': 'numpy\n' });
    const r = runCli(['check', dir, '--format', 'github']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const commands = runnerLines(r.stdout).map((l) => parseCommand(l));
    expect(commands.every((c) => c !== undefined)).toBe(true);
    expect(commands[0]).toMatchObject({ command: 'error', props: { file: 'train.py', line: '3', title: 'unsafe-deserialization/pickle-load' } });
    expect(commands.some((c) => c!.command === 'warning' && c!.props.file === 'requirements.txt')).toBe(true);

    const json = path.join(dir, 'report.json');
    const both = runCli(['check', dir, '--format', 'json', '--output', json, '--format', 'github']);
    expect(both.code).toBe(1);
    expect(both.stdout).toBe(r.stdout);
    expect(JSON.parse(await readFile(json, 'utf8')).findings).toHaveLength(commands.length);
  });
});
