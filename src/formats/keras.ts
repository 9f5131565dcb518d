import { classifyGlobal, type AllowList } from './pickle/classify.js';

/**
 * Keras model configs. A `Lambda` layer carries Python bytecode (Keras 2: a
 * marshalled function in `config.function`; Keras 3: a `__lambda__` object)
 * that runs when the model is loaded with safe_mode off, so each one is a
 * finding. So is any object whose `module` Keras would import from outside
 * Keras itself.
 */

export interface LambdaLayer {
  /** The layer's `config.name`, when it has one. */
  name?: string;
  className: string;
}

export const LAMBDA_CLASSES = new Set(['Lambda', '__lambda__']);
const MAX_DEPTH = 256;
const MAX_NODES = 2_000_000;

/**
 * Visits every object of a parsed config, depth- and size-bounded (a hostile
 * config is a finding, not a hang). `visit` returns false to skip an object's
 * children.
 */
function walkConfig(config: unknown, visit: (o: Record<string, unknown>) => boolean): void {
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
    if (!visit(o)) return;
    for (const x of Object.values(o)) walk(x, depth + 1);
  };
  walk(config, 0);
}

/** Every Lambda layer in a parsed Keras config. */
export function findLambdaLayers(config: unknown): LambdaLayer[] {
  const out: LambdaLayer[] = [];
  walkConfig(config, (o) => {
    const cls = o.class_name;
    if (typeof cls !== 'string' || !LAMBDA_CLASSES.has(cls)) return true;
    const cfg = o.config as Record<string, unknown> | undefined;
    const name = typeof cfg?.name === 'string' ? cfg.name : undefined;
    // Keras 3 nests the `__lambda__` function object inside the Lambda layer: report the layer once.
    if (cls === 'Lambda' || !out.length || out[out.length - 1]!.className !== 'Lambda') out.push({ name, className: cls });
    return cls !== 'Lambda';
  });
  return out;
}

export const HDF5_MAGIC = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A config object that makes Keras import something from outside Keras. */
export interface CustomObject {
  /** `module.name` as Keras would import it. */
  target: string;
  className: string;
  registeredName?: string;
  /** Why it is dangerous beyond being outside Keras, when known. */
  reason?: string;
}

/** Modules Keras itself ships; an object from anywhere else runs that module's code on load. */
const KERAS_MODULE = /^(keras|tf_keras|tensorflow\.keras|tensorflow\.python\.keras)(\.|$)/;
/** Keras callables that are dangerous in a config although they are Keras (CVE-2025-8747: get_file writes arbitrary files). */
const KERAS_DANGEROUS = new Map([['get_file', 'downloads and writes files (CVE-2025-8747)']]);

/**
 * Every object in a Keras 3 config whose `module` is outside Keras (the
 * CVE-2025-1550 class: `{"module": "subprocess", "class_name": "Popen"}`).
 * Keras imports `module` and calls `class_name` from it — or, for
 * `"class_name": "function"`, the function named by `config`. `allow` is the
 * rule's allow-globals; the pickle deny-list still wins over it.
 */
export function findCustomObjects(config: unknown, allow: AllowList): CustomObject[] {
  const out: CustomObject[] = [];
  walkConfig(config, (o) => {
    if (typeof o.class_name !== 'string' || typeof o.module !== 'string' || LAMBDA_CLASSES.has(o.class_name)) return true;
    const name = o.class_name === 'function' && typeof o.config === 'string' ? o.config : o.class_name;
    const registeredName = typeof o.registered_name === 'string' ? o.registered_name : undefined;
    const c = classifyGlobal(o.module, name, allow);
    const target = `${o.module}.${name}`;
    if (c.verdict === 'dangerous') out.push({ target, className: o.class_name, registeredName, reason: c.reason });
    else if (KERAS_MODULE.test(o.module)) {
      const reason = KERAS_DANGEROUS.get(name);
      if (reason) out.push({ target, className: o.class_name, registeredName, reason });
    } else if (c.verdict !== 'safe') out.push({ target, className: o.class_name, registeredName });
    return true;
  });
  return out;
}

/** What a Keras object from outside Keras does on load, and how to fix it. */
export function customObjectMessage(o: CustomObject): string {
  const named = o.registeredName && o.registeredName !== o.className ? ` (registered as ${JSON.stringify(o.registeredName)})` : '';
  if (o.reason) return `has a Keras config object that makes Keras call ${o.target}${named}, which ${o.reason}; loading the model runs it even with safe_mode on in affected Keras versions (the CVE-2025-1550 class). Never load this file; rebuild the model from built-in Keras layers`;
  return `has a Keras config object from outside Keras, ${o.target}${named}; Keras imports that module and calls it when the model is loaded (the CVE-2025-1550 class). Use built-in Keras layers, or — if you reviewed the module — add "${o.target}" to allow-globals`;
}
