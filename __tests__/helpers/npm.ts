import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * An environment for npm, pre-commit and the installed CLI that shares nothing
 * with the source tree or the user: its own empty cache and npmrc, offline, and
 * none of the npm_* variables `npm test` exports (they would point npm back at
 * this project).
 */
export async function isolatedEnv(home: string, extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  await mkdir(path.join(home, 'cache'), { recursive: true });
  await writeFile(path.join(home, 'npmrc'), '');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'NODE_PATH' && k !== 'INIT_CWD') env[k] = v;
  return {
    ...env,
    HOME: home,
    NO_COLOR: '1',
    npm_config_cache: path.join(home, 'cache'),
    npm_config_userconfig: path.join(home, 'npmrc'),
    npm_config_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...extra,
  };
}

export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeout = 120_000): Run {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
