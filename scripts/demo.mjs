// `npm run demo`: the main job on the bundled example repository with the built-in policy.
// The example is deliberately insecure, so the gate is expected to fail (exit code 1). That must not be
// confused with the CLI failing to run: node also exits 1 when a module is missing, so the demo asks for a
// JSON report beside the text and only calls a run "the gate failed" when that report says so.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const cli = 'dist/cli.js';
if (!existsSync(cli)) {
  console.error(`demo: ${cli} is missing; run \`npm run build\` first (npm ci does not build it in a fresh clone without dist/)`);
  process.exit(2);
}
const dir = mkdtempSync(path.join(tmpdir(), 'mlgate-demo-'));
const json = path.join(dir, 'report.json');
// --root: the example is a repository of its own, although it sits inside this one's git work tree.
const r = spawnSync(process.execPath, [cli, 'check', '--root', 'examples/demo-repo', '--format', 'json', '--output', json, '--format', 'text'], { stdio: 'inherit' });
let report;
try {
  report = JSON.parse(readFileSync(json, 'utf8'));
} catch {
  report = undefined;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (r.error) {
  console.error(`\ndemo: could not start the CLI: ${r.error.message}`);
  process.exit(3);
}
if (r.status === 1 && report?.conclusion === 'failure') {
  console.log('\n(exit code 1: the gate failed, as it should on this deliberately insecure example repository)');
  process.exit(0);
}
if (r.status === 0) {
  console.error('\ndemo: the gate passed on a repository built to fail it; a rule has stopped finding what it should');
  process.exit(1);
}
console.error(`\ndemo: the CLI could not run (exit code ${r.status ?? `signal ${r.signal}`}${r.status === 1 ? ', and no report was written' : ''}); see the messages above`);
process.exit(r.status === 2 || r.status === 3 ? r.status : 3);
