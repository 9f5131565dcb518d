import { isDigestPinned, pinnedForm } from '../../formats/dockerfile.js';
import { analyseShell, newShellState, unverifiedDownloads, type ShellState } from '../../formats/shell.js';
import { judgeUses, readWorkflow } from '../../formats/workflow.js';
import { YamlError } from '../../formats/yaml.js';
import { FileProblem } from '../../core/errors.js';
import type { PinningContext } from './context.js';
import type { RequirementsLoader } from './pip.js';
import { reportShellIssues } from './shell-issues.js';

export const WORKFLOW_GLOBS = ['.github/workflows/*.yml', '.github/workflows/*.yaml', '**/action.yml', '**/action.yaml'];

/** `run:` steps in these shells are not shell text. */
const NON_SHELL = /^(python|node|perl|ruby|cmd)\b/;

function usesFix(value: string): string {
  if (value.startsWith('docker://')) return `uses: ${pinnedForm(value)}`;
  const at = value.lastIndexOf('@');
  const name = at === -1 ? value : value.slice(0, at);
  const ref = at === -1 ? '' : value.slice(at + 1);
  return `uses: ${name}@<40-hex commit>${ref ? ` # ${ref}` : ''}`;
}

/** Workflow and composite-action `uses:` at full commits, container images at digests, and `run:` installs. */
export async function checkWorkflow(d: PinningContext, loader: RequirementsLoader, path: string): Promise<void> {
  await d.guard(path, async () => {
    let wf;
    try {
      wf = readWorkflow(await d.read(path));
    } catch (e) {
      if (e instanceof YamlError) throw new FileProblem(path, `${path} is not valid YAML (${e.message}); fix it so its dependencies can be checked`, 'malformed', e.line);
      throw e;
    }
    for (const u of wf.uses) {
      if (judgeUses(u.value) !== 'unpinned') continue;
      const what = u.value.startsWith('docker://') ? 'image is not pinned to a digest' : u.kind === 'job' ? 'reusable workflow is not pinned to a commit' : 'action is not pinned to a commit';
      d.report({ code: 'unpinned-action', path, line: u.line, message: `\`${u.value}\`: the ${what}, so a moved tag or branch changes what runs; pin it: ${usesFix(u.value)}` });
    }
    for (const img of wf.images) {
      if (!img.value.includes('${{')) {
        if (!isDigestPinned(img.value)) d.report({ code: 'unpinned-image', path, line: img.line, message: `container image ${img.value} is not pinned to a digest; pin it: image: ${pinnedForm(img.value)}` });
        continue;
      }
      if (!img.resolved) {
        d.report({ code: 'unpinned-image', path, line: img.line, maxLevel: 'info', message: `container image \`${img.value}\` is chosen by an expression that cannot be resolved from this file, so its pin cannot be checked; give the literal image (or a matrix of literal images) with a digest: image: ${pinnedForm('<image>:<tag>')}` });
        continue;
      }
      for (const value of img.resolved) {
        if (isDigestPinned(value)) continue;
        d.report({ code: 'unpinned-image', path, line: img.line, message: `container image ${value} (from \`${img.value}\`) is not pinned to a digest; pin it where the matrix lists it: ${pinnedForm(value)}` });
      }
    }
    const states = new Map<string, ShellState>();
    for (const run of wf.runs) {
      if (run.shell && NON_SHELL.test(run.shell)) continue;
      let state = states.get(run.group);
      if (!state) states.set(run.group, (state = newShellState()));
      // Each step is a new shell: files on disk carry over, variables come from `env:` only.
      state.vars = new Map(Object.entries(run.env));
      const issues = analyseShell(run.text, { state, signal: d.rule.signal, lineOf: (l) => run.lines[l] ?? run.lines[run.lines.length - 1]! });
      const wd = run.workingDirectory?.replace(/^\.\/?/, '').replace(/\/$/, '');
      await reportShellIssues(d, loader, path, issues, wd ? [wd, ''] : ['']);
    }
    for (const state of states.values()) await reportShellIssues(d, loader, path, unverifiedDownloads(state), ['']);
  });
}
