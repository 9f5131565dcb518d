/**
 * Keras model configs. A `Lambda` layer carries Python bytecode (Keras 2: a
 * marshalled function in `config.function`; Keras 3: a `__lambda__` object)
 * that runs when the model is loaded with safe_mode off, so each one is a
 * finding.
 */

export interface LambdaLayer {
  /** The layer's `config.name`, when it has one. */
  name?: string;
  className: string;
}

const LAMBDA_CLASSES = new Set(['Lambda', '__lambda__']);
const MAX_DEPTH = 256;
const MAX_NODES = 2_000_000;

/** Every Lambda layer in a parsed Keras config (depth- and size-bounded walk). */
export function findLambdaLayers(config: unknown): LambdaLayer[] {
  const out: LambdaLayer[] = [];
  let nodes = 0;
  const walk = (v: unknown, depth: number): void => {
    if (++nodes > MAX_NODES) throw new RangeError(`the Keras config has over ${MAX_NODES} nodes`);
    if (depth > MAX_DEPTH) throw new RangeError(`the Keras config nests deeper than ${MAX_DEPTH}`);
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    const cls = o.class_name;
    if (typeof cls === 'string' && LAMBDA_CLASSES.has(cls)) {
      const cfg = o.config as Record<string, unknown> | undefined;
      const name = typeof cfg?.name === 'string' ? cfg.name : undefined;
      // Keras 3 nests the `__lambda__` function object inside the Lambda layer: report the layer once.
      if (cls === 'Lambda' || !out.length || out[out.length - 1]!.className !== 'Lambda') out.push({ name, className: cls });
      if (cls === 'Lambda') return;
    }
    for (const x of Object.values(o)) walk(x, depth + 1);
  };
  walk(config, 0);
  return out;
}

export const HDF5_MAGIC = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Markers of a Lambda layer inside the `model_config` JSON attribute of a
 * Keras HDF5 file. mlgate does not parse HDF5: it searches the file's bytes
 * for these (json.dumps writes `"class_name": "Lambda"`), which finds the
 * attribute wherever HDF5 stored it, in compact or dense attribute storage.
 */
export const H5_LAMBDA_MARKERS: readonly Buffer[] = ['"class_name": "Lambda"', '"class_name":"Lambda"', '"class_name": "__lambda__"', '"class_name":"__lambda__"'].map((s) => Buffer.from(s));

/** The layer name that follows a marker at `at`, if it is within the bytes given. */
export function lambdaNameAfter(buf: Buffer, at: number): string | undefined {
  const m = /"name":\s*"([^"\\]{1,200})"/.exec(buf.toString('latin1', at, Math.min(buf.length, at + 400)));
  return m?.[1];
}
