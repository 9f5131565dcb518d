import { execFileSync } from 'node:child_process';

/**
 * Differential tests ask CPython's standard library (zipfile, tarfile,
 * pickletools, ast.literal_eval) what it sees in the same bytes mlgate scans.
 * Only parsers that never execute the data are used. `.ci/run` makes sure a
 * python3 exists, so a missing interpreter fails the suite instead of skipping.
 */
export const PYTHON = process.env.MLGATE_PYTHON ?? 'python3';

const PRELUDE = `
import base64, json, sys
samples = [base64.b64decode(s) for s in json.load(sys.stdin)]
out = []
`;
const EPILOGUE = `
sys.stdout.write(json.dumps(out))
`;

/**
 * Runs `body` once over every sample in one interpreter (spawning one per
 * sample would dominate a property test). `body` reads the list `samples`
 * (bytes) and appends one JSON-serialisable answer per sample to `out`.
 */
export function pythonBatch<T>(body: string, samples: readonly Buffer[]): T[] {
  const script = PRELUDE + body + EPILOGUE;
  const stdout = execFileSync(PYTHON, ['-I', '-S', '-c', script], {
    input: JSON.stringify(samples.map((s) => s.toString('base64'))),
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000,
  });
  const out = JSON.parse(stdout.toString('utf8')) as T[];
  if (out.length !== samples.length) throw new Error(`python answered ${out.length} times for ${samples.length} samples`);
  return out;
}
