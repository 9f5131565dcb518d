import { isDigestPinned, pinnedForm, readDockerfile } from '../../formats/dockerfile.js';
import { analyseArgv, analyseShell, newShellState, unverifiedDownloads } from '../../formats/shell.js';
import { dirOf, MAX_DOCKERFILE_BYTES, type PinningContext } from './context.js';
import type { RequirementsLoader } from './pip.js';
import { reportShellIssues } from './shell-issues.js';

export const DOCKERFILE_GLOBS = [
  '**/Dockerfile',
  '**/Dockerfile.*',
  '**/Dockerfile-*',
  '**/Dockerfile_*',
  '**/*.Dockerfile',
  '**/*.dockerfile',
  '**/Containerfile',
  '**/Containerfile.*',
  '**/Containerfile-*',
];

/** `Dockerfile.py`, `Dockerfile.go`…: code that writes Dockerfiles (templates, generators), not one. */
const CODE_EXTENSIONS = /\.(?:py|go|sh|bash|js|mjs|cjs|ts|rb|java|rs|md|txt|json|ya?ml|toml|j2|jinja|jinja2|tpl|tmpl|template|erb|bak|orig|swp)$/i;

export function isDockerfileName(name: string): boolean {
  return !CODE_EXTENSIONS.test(name) && /^(?:dockerfile|containerfile)(?:$|[._-])|[._-]dockerfile$/i.test(name) && !/\.dockerignore$/i.test(name);
}

/** `FROM` digests (stage names, `scratch` and `ARG` defaults understood) and `RUN` installs. */
export async function checkDockerfile(d: PinningContext, loader: RequirementsLoader, path: string): Promise<void> {
  await d.guard(path, async () => {
    const df = readDockerfile(await d.read(path, MAX_DOCKERFILE_BYTES));
    for (const img of df.images) {
      if (img.internal || img.digestVariable) continue;
      if (img.unresolved) {
        d.report({
          code: 'unpinned-image',
          path,
          line: img.line,
          message: `\`FROM ${img.written}\` names its image through a build argument that has no default before the first FROM, so whoever runs the build chooses the image; declare a pinned default: ARG <name>=${pinnedForm('<image>:<tag>')}`,
        });
      } else if (!isDigestPinned(img.resolved)) {
        const via = img.written === img.resolved ? '' : ` (resolved from ${img.written})`;
        d.report({
          code: 'unpinned-image',
          path,
          line: img.line,
          message: `base image ${img.resolved || '(none)'}${via} is not pinned to a digest, so the build can pick up a different image; pin it: FROM ${pinnedForm(img.resolved)}`,
        });
      }
    }
    const state = newShellState(df.vars);
    const signal = d.rule.signal;
    for (const run of df.runs) {
      const issues =
        run.form === 'exec'
          ? analyseArgv(run.argv, run.line, { state, signal })
          : analyseShell(run.text, { state, signal, lineOf: (l) => run.lines[l] ?? run.lines[run.lines.length - 1]! });
      await reportShellIssues(d, loader, path, issues, [dirOf(path), '']);
    }
    await reportShellIssues(d, loader, path, unverifiedDownloads(state), [dirOf(path), '']);
  });
}
