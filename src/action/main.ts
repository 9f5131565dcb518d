import * as core from '@actions/core';
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigurationError } from '../core/errors.js';
import { evaluate } from '../engine/evaluate.js';
import type { PolicyProvider } from '../policies/provider.js';
import { VERSION } from '../core/version.js';
import type { Report } from '../report/types.js';
import { CheckRun } from '../github/check-run.js';
import { createGitHubClient, isPermissionDenied, type GitHubClient } from '../github/client.js';
import { parseEvent, parseRepository, type GitHubEvent, type Repo } from '../github/event.js';
import { GitHubPolicyProvider } from '../github/policy-provider.js';
import { DEFAULT_POLICY_PATH } from '../policies/load.js';
import { choosePolicy, MISNAMED_POLICY_PATHS } from '../policies/locate.js';
import { resolveScope } from './changes.js';
import { readInputs, type ActionInputs } from './inputs.js';
import { actionLogger } from './logger.js';
import { publish, type RunLinks } from './publish.js';
import { readCommand, runSign } from './sign.js';
import { SigningServiceError } from '../signing/errors.js';

/** Exit codes shared with the CLI (DESIGN §5). */
const EXIT = { passed: 0, failed: 1, configuration: 2, internal: 3 } as const;

/** The action's entry point: one top-level catch that turns every outcome into an exit code. */
export async function run(): Promise<void> {
  try {
    const read = (name: string) => core.getInput(name);
    process.exitCode = readCommand(read) === 'sign' ? await runSign(read, process.env, process.env.GITHUB_WORKSPACE || process.cwd()) : await gate();
  } catch (err) {
    if (err instanceof ConfigurationError) {
      core.error([err.message, ...err.details].join('\n'));
      process.exitCode = EXIT.configuration;
    } else if (err instanceof SigningServiceError) {
      core.error(err.message);
      process.exitCode = EXIT.internal;
    } else {
      core.error(`mlgate internal error (please report it): ${(err as Error)?.stack ?? String(err)}`);
      process.exitCode = EXIT.internal;
    }
  }
}

async function gate(): Promise<number> {
  // Masked before anything else can print it.
  const rawToken = core.getInput('token');
  if (rawToken) core.setSecret(rawToken);
  const inputs = readInputs((name) => core.getInput(name));
  const env = process.env;
  const repo = parseRepository(env.GITHUB_REPOSITORY);
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  const payload = env.GITHUB_EVENT_PATH ? await readFile(env.GITHUB_EVENT_PATH, 'utf8') : '';
  const event = parseEvent(eventName, payload, env.GITHUB_SHA, repo);
  const root = env.GITHUB_WORKSPACE || process.cwd();
  const client = await createGitHubClient({ token: inputs.token, logger: actionLogger });
  const links: RunLinks = {
    run: env.GITHUB_SERVER_URL && env.GITHUB_RUN_ID ? `${env.GITHUB_SERVER_URL}/${repo.owner}/${repo.repo}/actions/runs/${env.GITHUB_RUN_ID}` : undefined,
  };

  const check = await startCheck(client, repo, inputs, event);
  let report: Report;
  try {
    report = await judge(inputs, event, root, repo, client);
  } catch (err) {
    // A run left in progress would block forever without saying why.
    const config = err instanceof ConfigurationError;
    await check?.finishWithoutAnnotations(
      {
        conclusion: 'failure',
        title: config ? 'Configuration error' : 'Internal error',
        summary: config
          ? `mlgate could not run: the configuration is wrong.\n\n\`\`\`text\n${[(err as ConfigurationError).message, ...(err as ConfigurationError).details].join('\n').replace(/```/g, "'''")}\n\`\`\``
          : 'mlgate stopped on an internal error; the job log has the details.',
      },
      actionLogger,
    );
    throw err;
  }

  report.repository = {
    name: `${repo.owner}/${repo.repo}`,
    commit: event.headSha,
    // The head commit of a pull request is what refs/pull/N/head names (GITHUB_REF is the merge ref, another commit).
    ref: event.pullRequest ? `refs/pull/${event.pullRequest.number}/head` : (env.GITHUB_REF ?? null),
    url: `${env.GITHUB_SERVER_URL || 'https://github.com'}/${repo.owner}/${repo.repo}`,
  };
  await publish({ report, inputs, check, root, links, tempDir: env.RUNNER_TEMP, logger: actionLogger });
  return report.conclusion === 'failure' ? EXIT.failed : EXIT.passed;
}

async function judge(inputs: ActionInputs, event: GitHubEvent, root: string, repo: Repo, client: GitHubClient): Promise<Report> {
  const scope = await resolveScope({ mode: inputs.mode, event, root, repo, client, logger: actionLogger });
  const github = new GitHubPolicyProvider({ root, repo, client, ...(event.policyCommit ? { commit: event.policyCommit } : {}) });
  const provider = rememberLocalReads(github);
  // The same rules as the CLI (one function decides): a policy named in the input must exist where the policy is read
  // (the base commit of a pull request); a policy under another name in the checkout is an error, not silently ignored.
  const explicit = inputs.policy !== DEFAULT_POLICY_PATH ? inputs.policy : undefined;
  const readable = async (p: string) => (await provider.readLocal(p)) !== undefined;
  const misnamed = await Promise.all(MISNAMED_POLICY_PATHS.map(async (p) => ((await isFileIn(root, p)) ? [p] : [])));
  const choice = choosePolicy({
    explicit,
    explicitExists: explicit !== undefined && (await readable(explicit)),
    present: explicit !== undefined ? [] : [...((await readable(DEFAULT_POLICY_PATH)) ? [DEFAULT_POLICY_PATH] : []), ...misnamed.flat()],
    option: 'the "policy" input',
    where: event.policyCommit ? `at the base commit ${event.policyCommit.slice(0, 12)} (a pull request is judged by the policy of its base)` : undefined,
  });
  const policyPath = choice.path ?? DEFAULT_POLICY_PATH;
  actionLogger.info(
    `mlgate ${VERSION}: ${scope.mode} evaluation of ${event.headSha}, policy ${choice.path ? github.describeLocal(policyPath) : 'mlgate:recommended (built in)'}${choice.path && event.policyCommit ? ' (base commit)' : ''}.`,
  );
  return evaluate({
    root,
    policyPath,
    provider,
    mode: scope.mode,
    ...(scope.changes ? { changes: scope.changes } : {}),
    failOn: inputs.failOn,
    logger: actionLogger,
    toolVersion: VERSION,
    notices: scope.notices,
    // A pull request's own inline waivers apply after merge: only comments already in its base commit count.
    ...(event.policyCommit ? { baseFile: (p: string) => github.readLocal(p) } : {}),
  });
}

const isFileIn = (root: string, rel: string) =>
  lstat(path.join(root, ...rel.split('/'))).then(
    (s) => s.isFile(),
    () => false,
  );

/** Looking for the policy reads the same files the loader reads next: ask the checkout or the API once. */
function rememberLocalReads(inner: GitHubPolicyProvider): PolicyProvider {
  const seen = new Map<string, Promise<string | undefined>>();
  return {
    readLocal(p) {
      let text = seen.get(p);
      if (!text) {
        text = inner.readLocal(p);
        seen.set(p, text);
      }
      return text;
    },
    readRemote: (ref, p) => inner.readRemote(ref, p),
    describeLocal: (p) => inner.describeLocal(p),
  };
}

/**
 * Creates the check run before the work starts. A token that may not write
 * checks gets one explanation and the run carries on without it: the verdict
 * never depends on publishing.
 */
async function startCheck(client: GitHubClient, repo: Repo, inputs: ActionInputs, event: GitHubEvent): Promise<CheckRun | undefined> {
  try {
    return await CheckRun.start(client, repo, inputs.checkName, event.headSha);
  } catch (err) {
    if (isPermissionDenied(err)) {
      const why = event.pullRequest?.fromFork
        ? 'This pull request comes from a fork, and GitHub gives workflows triggered by fork pull requests a read-only token.'
        : 'Grant it in the workflow: `permissions: { contents: read, checks: write, pull-requests: read }`.';
      core.warning(
        `mlgate cannot create the "${inputs.checkName}" check run: the token may not write checks (${(err as Error).message}). ${why} The result is reported with annotations, the job summary and this step's exit code instead.`,
      );
    } else {
      core.warning(`mlgate could not create the "${inputs.checkName}" check run (${(err as Error).message}); reporting with annotations, the job summary and the exit code instead.`);
    }
    return undefined;
  }
}
