import { spawn } from 'node:child_process';

export interface CloneOptions {
  url: string;
  branch?: string;
  dir: string;
  /** Sent as an HTTP Authorization header to this origin only (never in the URL, never on the command line). */
  token?: string;
  tokenOrigin?: string;
  timeoutMs: number;
}

/** Longest stderr kept for the reason of a failed clone. */
const MAX_REASON = 600;

/**
 * A shallow, single-branch clone with Git LFS objects left as pointers (the
 * pointer's oid is what the rules compare; weights are never downloaded).
 * Hooks and fsmonitor are off, submodules are not fetched, only the https,
 * ssh and file transports are allowed, and git never prompts.
 */
export function shallowClone(opts: CloneOptions): Promise<void> {
  const config: Array<[string, string]> = [
    ['core.hooksPath', '/dev/null'],
    ['core.fsmonitor', 'false'],
    ['protocol.allow', 'never'],
    ['protocol.https.allow', 'always'],
    ['protocol.ssh.allow', 'always'],
    ['protocol.file.allow', 'always'],
  ];
  if (opts.token && opts.tokenOrigin) config.push([`http.${opts.tokenOrigin}/.extraheader`, `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${opts.token}`).toString('base64')}`]);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GIT_LFS_SKIP_SMUDGE: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GIT_CONFIG_COUNT: String(config.length),
  };
  config.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  const args = ['clone', '--quiet', '--depth=1', '--single-branch', '--no-tags', ...(opts.branch ? [`--branch=${opts.branch}`] : []), '--', opts.url, opts.dir];
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: opts.timeoutMs, killSignal: 'SIGKILL' });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += b.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      if (signal) return reject(new Error(`git clone did not finish within ${Math.round(opts.timeoutMs / 1000)} s`));
      const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
      const reason = lines.filter((l) => /^(fatal|error|remote):/i.test(l)).join(' ') || lines.join(' ') || `git clone exited with code ${code}`;
      reject(new Error(redact(reason, opts.token).slice(0, MAX_REASON)));
    });
  });
}

function redact(text: string, token: string | undefined): string {
  return token ? text.split(token).join('***') : text;
}
