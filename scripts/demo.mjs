// `npm run demo`: the main job on the bundled example repository with the built-in policy.
// The example is deliberately insecure, so the gate is expected to fail (exit code 1).
import { spawnSync } from 'node:child_process';

const r = spawnSync(process.execPath, ['dist/cli.js', 'check', 'examples/demo-repo'], { stdio: 'inherit' });
if (r.status === 1) {
  console.log('\n(exit code 1: the gate failed, as it should on this deliberately insecure example repository)');
  process.exit(0);
}
process.exit(r.status ?? 3);
