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
    if (typeof o.class_name !== 'string' || LAMBDA_CLASSES.has(o.class_name)) return true;
    if (typeof o.module !== 'string') {
      // No module: Keras looks the registered name up among the custom objects the loading code registered.
      const registered = registeredOutsideKeras(o);
      const dot = registered?.lastIndexOf('.') ?? -1;
      if (registered && classifyGlobal(registered.slice(0, dot), registered.slice(dot + 1), allow).verdict !== 'safe') out.push({ target: registered, className: o.class_name, registeredName: o.registered_name as string });
      return true;
    }
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

/** A `TFOpLambda` layer: tf.keras replays a TensorFlow API call named by a string when it loads the model. */
export interface TfOpLambda {
  name?: string;
  /** The TensorFlow symbol under `tf.` it calls (`math.add`), as written. */
  symbol: string;
  /** Why the call is dangerous, when it reaches files, Python or the raw op registry. */
  reason?: string;
}

/** TensorFlow namespaces a `TFOpLambda` could reach files, Python callbacks or new op libraries through. */
const TF_DANGEROUS_SYMBOL = /^(?:compat\.v[12]\.)?(?:io|gfile|raw_ops|summary|saved_model|data|lookup|sysconfig|distribute|debugging\.experimental|keras\.utils|py_function|numpy_function|py_func|load_op_library|load_library|print|experimental)(?:\.|$)/;

/** Every `TFOpLambda` layer of a parsed config. */
export function findTfOpLambdas(config: unknown): TfOpLambda[] {
  const out: TfOpLambda[] = [];
  walkConfig(config, (o) => {
    if (o.class_name !== 'TFOpLambda') return true;
    const cfg = (typeof o.config === 'object' && o.config !== null ? o.config : {}) as Record<string, unknown>;
    const symbol = typeof cfg.function === 'string' ? cfg.function : '';
    const name = typeof cfg.name === 'string' ? cfg.name : undefined;
    const plain = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(symbol);
    const reason = !plain
      ? `names the call ${JSON.stringify(symbol.slice(0, 80))}, which is not a plain TensorFlow API path`
      : TF_DANGEROUS_SYMBOL.test(symbol)
        ? 'reaches files, Python callbacks or raw TensorFlow ops'
        : undefined;
    out.push({ ...(name !== undefined ? { name } : {}), symbol, ...(reason ? { reason } : {}) });
    return true;
  });
  return out;
}

/** Python bytecode serialized into a config outside a Lambda layer (a Lambda reports its own). */
export interface BytecodePayload {
  /** Dotted path of the key inside the config, e.g. `config.layers[3].config.loss`. */
  at: string;
  kind: 'marshal' | 'lambda-object';
}

/** marshal's code-object type byte (`c`), with and without the FLAG_REF bit Python 3.8+ sets. */
const MARSHAL_CODE = new Set([0x63, 0xe3]);
const BASE64 = /^[A-Za-z0-9+/\r\n]+={0,2}\s*$/;

/** Whether a string is base64 of a marshalled code object (what Keras' `func_dump` writes). */
export function isMarshalledCode(s: string): boolean {
  if (s.length < 24 || !BASE64.test(s.slice(0, 4096))) return false;
  // The type byte, then co_argcount as a little-endian int32: a small number.
  const head = Buffer.from(s.replace(/\s+/g, '').slice(0, 8), 'base64');
  return head.length >= 5 && MARSHAL_CODE.has(head[0]!) && head[1]! < 0x40 && head[2] === 0 && head[3] === 0 && head[4] === 0;
}

/**
 * Function payloads anywhere in a config: marshalled bytecode in a string (or
 * a `[code, defaults, closure]` list), a Keras 2 `function_type`/`output_shape_type`
 * of `lambda`, and Keras 3 `__lambda__` objects outside a Lambda layer (a
 * loss, metric, initializer or custom object's argument).
 */
export function findBytecode(config: unknown): BytecodePayload[] {
  const out: BytecodePayload[] = [];
  let nodes = 0;
  const walk = (v: unknown, at: string, depth: number): void => {
    if (++nodes > MAX_NODES) throw new RangeError(`the Keras config has over ${MAX_NODES} nodes`);
    if (depth > MAX_DEPTH) throw new RangeError(`the Keras config nests deeper than ${MAX_DEPTH}`);
    if (typeof v === 'string') {
      if (isMarshalledCode(v)) out.push({ at, kind: 'marshal' });
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${at}[${i}]`, depth + 1));
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if (o.class_name === 'Lambda') return;
    if (o.class_name === '__lambda__') {
      out.push({ at, kind: 'lambda-object' });
      return;
    }
    // Keras 2 writes `function_type: lambda` beside the payload it describes: one function, one finding.
    if (o.function_type === 'lambda' || o.output_shape_type === 'lambda') {
      out.push({ at, kind: 'marshal' });
      return;
    }
    for (const [k, x] of Object.entries(o)) walk(x, at ? `${at}.${k}` : k, depth + 1);
  };
  walk(config, '', 0);
  return out;
}

/** A Keras 3 `registered_name` (`package>Name`) outside Keras, for an object that names no module. */
export function registeredOutsideKeras(o: Record<string, unknown>): string | undefined {
  if (typeof o.module === 'string' || typeof o.registered_name !== 'string' || typeof o.class_name !== 'string') return undefined;
  const r = o.registered_name;
  const sep = r.indexOf('>');
  if (sep <= 0) return undefined;
  const pkg = r.slice(0, sep);
  return KERAS_MODULE.test(pkg) ? undefined : `${pkg}.${r.slice(sep + 1)}`;
}
