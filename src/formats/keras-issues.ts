import { customObjectMessage, findBytecode, findCustomObjects, findLambdaLayers, findTfOpLambdas } from './keras.js';
import type { AllowList } from './pickle/classify.js';

/** A finding on a Keras config, before the rule locates it. */
export interface KerasIssue {
  code: 'lambda-layer' | 'keras-custom-object' | 'tf-op-lambda' | 'keras-bytecode' | 'budget-exceeded';
  message: string;
  severity: 'error' | 'warning';
}

/** What a parsed Keras config would import or run; `where` prefixes each message. */
export function kerasConfigIssues(config: unknown, allow: AllowList, where = ''): KerasIssue[] {
  const out: KerasIssue[] = [];
  try {
    // A `__lambda__` outside a Lambda layer (a loss, a metric) is reported by findBytecode, where it is.
    for (const l of findLambdaLayers(config).filter((x) => x.className === 'Lambda')) {
      out.push({ code: 'lambda-layer', severity: 'error', message: `${where}has a Keras Lambda layer${l.name ? ` "${l.name}"` : ''}; a Lambda layer carries Python bytecode that runs when the model is loaded with safe_mode off. Replace it with a built-in or registered custom layer` });
    }
    for (const o of findCustomObjects(config, allow)) out.push({ code: 'keras-custom-object', severity: 'error', message: `${where}${customObjectMessage(o)}` });
    for (const t of findTfOpLambdas(config)) {
      const layer = t.name ? ` "${t.name}"` : '';
      out.push(
        t.reason
          ? { code: 'tf-op-lambda', severity: 'error', message: `${where}has a TFOpLambda layer${layer} that calls tf.${t.symbol}, which ${t.reason}; tf.keras replays that call when it loads the model, so loading it can touch files or run Python. Rebuild the model without it (a built-in layer, or a registered custom layer whose code you ship)` }
          : { code: 'tf-op-lambda', severity: 'warning', message: `${where}has a TFOpLambda layer${layer} that calls tf.${t.symbol}; tf.keras looks that name up in TensorFlow and calls it when it loads the model, so the config decides which TensorFlow function runs. It is an ordinary math call here: re-export the model with Keras 3 built-in layers (keras.ops) to drop it, or lower the code to info if you reviewed it` },
      );
    }
    for (const b of findBytecode(config)) {
      out.push({ code: 'keras-bytecode', severity: 'error', message: `${where}holds ${b.kind === 'marshal' ? 'marshalled Python bytecode' : 'a serialized Python lambda (__lambda__)'} at ${b.at || 'its top level'}; Keras turns it back into a function and runs it when the model is loaded or used. Never load this file with safe_mode off; rebuild the model with named, registered functions instead of lambdas` });
    }
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    out.push({ code: 'budget-exceeded', severity: 'error', message: `${where}${e.message}; the scan is incomplete, so the file fails closed` });
  }
  return out;
}

