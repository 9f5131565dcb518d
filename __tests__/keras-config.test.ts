import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { modelFileSafety } from '../src/checks/model-file-safety.js';
import { kerasConfigIssues } from '../src/formats/keras-issues.js';
import { isMarshalledCode } from '../src/formats/keras.js';
import { compileAllowList } from '../src/formats/pickle/classify.js';
import { runRuleOn, summarise } from './helpers/repo.js';
import { makeZip } from './pickle-fixtures.js';

const NONE = compileAllowList([]);
const kerasObj = (module: string, cls: string, config: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({ module, class_name: cls, config, registered_name: null, ...extra });
const tensor = (from: string) => ({ class_name: '__keras_tensor__', config: { shape: [null, 784], dtype: 'float32', keras_history: [from, 0, 0] } });
const layer = (cls: string, name: string, config: Record<string, unknown>, from?: string) =>
  kerasObj('keras.layers', cls, { name, trainable: true, dtype: kerasObj('keras', 'DTypePolicy', { name: 'float32' }), ...config }, { name, inbound_nodes: from ? [{ args: [tensor(from)], kwargs: {} }] : [] });

/** What keras.Model.to_json / model.save write for a small Keras 3 functional classifier. */
function functional(extraLayers: unknown[] = [], compile: Record<string, unknown> = {}) {
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: {
      name: 'functional',
      trainable: true,
      layers: [
        kerasObj('keras.layers', 'InputLayer', { batch_shape: [null, 784], dtype: 'float32', sparse: false, name: 'input_layer' }, { name: 'input_layer', inbound_nodes: [] }),
        layer('Dense', 'dense', { units: 64, activation: 'relu', use_bias: true, kernel_initializer: kerasObj('keras.initializers', 'GlorotUniform', { seed: null }), bias_initializer: kerasObj('keras.initializers', 'Zeros'), kernel_regularizer: null }, 'input_layer'),
        layer('Dropout', 'dropout', { rate: 0.2, seed: null, noise_shape: null }, 'dense'),
        layer('Dense', 'dense_1', { units: 10, activation: 'softmax', use_bias: true, kernel_initializer: kerasObj('keras.initializers', 'GlorotUniform', { seed: null }) }, 'dropout'),
        ...extraLayers,
      ],
      input_layers: [['input_layer', 0, 0]],
      output_layers: [['dense_1', 0, 0]],
    },
    registered_name: 'Functional',
    build_config: { input_shape: null },
    compile_config: { optimizer: kerasObj('keras.optimizers', 'Adam', { name: 'adam', learning_rate: 0.001 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'], ...compile },
  };
}

/** base64 of what marshal.dumps(code) starts with in CPython 3.8+ (type byte 'c' | FLAG_REF, then co_argcount), as Keras 2's func_dump writes it. */
const MARSHALLED = Buffer.concat([Buffer.from([0xe3, 0x01, 0, 0, 0, 0, 0, 0, 0]), Buffer.alloc(80, 0x41)]).toString('base64').replace(/(.{76})/g, '$1\n');
const tfop = (symbol: string) => ({ class_name: 'TFOpLambda', config: { name: `tf.${symbol}`, trainable: true, dtype: 'float32', function: symbol }, name: `tf.${symbol}`, inbound_nodes: [] });

const CFG = 'models/clf/config.json';
const runCfg = async (cfg: unknown, params: Record<string, unknown> = {}) => runRuleOn(modelFileSafety, { [CFG]: JSON.stringify(cfg, null, 2), 'models/clf/model.weights.h5': '' }, { params });

describe('Keras v3 config.json', () => {
  it('a Keras 3 functional model with standard layers passes', async () => {
    expect(await runCfg(functional())).toEqual([]);
    expect(kerasConfigIssues(functional(), NONE)).toEqual([]);
  });

  const attacks: Array<[string, unknown, string, RegExp]> = [
    ['a Lambda layer', functional([{ class_name: 'Lambda', config: { name: 'lam', function: { class_name: '__lambda__', config: { code: MARSHALLED } } } }]), 'lambda-layer', /Lambda layer "lam"/],
    ['a TFOpLambda writing a file', functional([tfop('io.write_file')]), 'tf-op-lambda', /calls tf\.io\.write_file, which reaches files/],
    ['a TFOpLambda calling a raw op', functional([tfop('raw_ops.ReadFile')]), 'tf-op-lambda', /raw_ops\.ReadFile/],
    ['a TFOpLambda with a name that is no API path', functional([tfop('math.add; import os')]), 'tf-op-lambda', /not a plain TensorFlow API path/],
    ['a layer from a module outside Keras (CVE-2025-1550)', functional([kerasObj('subprocess', 'Popen', { args: ['sh', '-c', 'id'] })]), 'keras-custom-object', /subprocess\.Popen/],
    ['a Keras-dangerous callable (CVE-2025-8747)', functional([kerasObj('keras.utils', 'function', 'get_file' as never)]), 'keras-custom-object', /get_file/],
    ['a registered name outside Keras with no module', functional([{ class_name: 'Backdoor', config: {}, registered_name: 'evilpkg>Backdoor' }]), 'keras-custom-object', /evilpkg\.Backdoor \(registered as "evilpkg>Backdoor"\)/],
    ['a __lambda__ loss', functional([], { loss: { class_name: '__lambda__', config: { code: MARSHALLED, defaults: null, closure: null } } }), 'keras-bytecode', /serialized Python lambda \(__lambda__\) at compile_config\.loss/],
    ['marshalled bytecode in a custom object argument', functional([], { metrics: [kerasObj('keras.metrics', 'MeanMetricWrapper', { fn: MARSHALLED })] }), 'keras-bytecode', /marshalled Python bytecode at compile_config\.metrics\[0\]\.config\.fn/],
    ['a Keras 2 function_type lambda outside a Lambda layer', functional([], { loss: { function: [MARSHALLED, null, null], function_type: 'lambda' } }), 'keras-bytecode', /marshalled Python bytecode at compile_config\.loss/],
  ];
  it.each(attacks)('%s is reported', async (_n, cfg, code, says) => {
    const found = await runCfg(cfg);
    expect(summarise(found)).toEqual([`${code}@${CFG}`]);
    expect(found[0]!.message).toMatch(says);
  });

  it('an ordinary TFOpLambda is a warning; allow-globals accepts a registered custom object', async () => {
    const [warn] = await runCfg(functional([tfop('math.add')]));
    expect(warn?.code).toBe('tf-op-lambda');
    expect(warn?.maxLevel).toBe('warning');
    const custom = functional([{ class_name: 'MyLayer', config: {}, registered_name: 'acme_layers>MyLayer' }]);
    expect(await runCfg(custom, { 'allow-globals': ['acme_layers.MyLayer'] })).toEqual([]);
  });

  it('a config written with sorted keys (module after a long config) is still read', async () => {
    const sortKeys = (v: unknown): unknown => (Array.isArray(v) ? v.map(sortKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sortKeys(x)])) : v);
    const cfg = sortKeys(functional(Array.from({ length: 60 }, (_, i) => layer('Dense', `d${i}`, { units: 8 }, 'dense')).concat([kerasObj('subprocess', 'Popen')])));
    const text = JSON.stringify(cfg, null, 2);
    expect(text.indexOf('\n  "module"')).toBeGreaterThan(4096);
    expect(summarise(await runRuleOn(modelFileSafety, { [CFG]: text }))).toEqual([`keras-custom-object@${CFG}`]);
  });

  it('other config.json files (transformers, diffusers) are not read as Keras', async () => {
    const found = await runRuleOn(modelFileSafety, {
      'bert/config.json': JSON.stringify({ architectures: ['BertModel'], model_type: 'bert', hidden_size: 768 }),
      'other/config.json': JSON.stringify({ class_name: 'Trainer', config: { lr: 0.1 } }),
      'unet/config.json': JSON.stringify({ _class_name: 'UNet2DConditionModel', _diffusers_version: '0.30.0' }),
      'broken/config.json': '{"model_type": "gpt2", ',
    });
    expect(found).toEqual([]);
  });

  it('a truncated Keras config is malformed at every cut (a finding, never a crash)', async () => {
    const text = JSON.stringify(functional());
    const cuts = [1, 2, 10, 40, 60, 100, 500, 1000, text.length - 1];
    for (const n of cuts) {
      const found = await runRuleOn(modelFileSafety, { [CFG]: text.slice(0, n) });
      // Too short to say "class_name" and "module" is not recognisable as Keras: nothing to report.
      expect(summarise(found), `cut at ${n}`).toEqual(/"class_name"\s*:/.test(text.slice(0, n)) ? [`malformed@${CFG}`] : []);
    }
  });

  it('.keras archives get the same checks', async () => {
    const keras = makeZip([{ name: 'metadata.json', data: Buffer.from('{"keras_version": "3.6.0"}') }, { name: 'config.json', data: Buffer.from(JSON.stringify(functional([tfop('io.gfile.GFile')]))) }, { name: 'model.weights.h5', data: Buffer.alloc(0) }]);
    const found = await runRuleOn(modelFileSafety, { 'models/m.keras': keras });
    expect(summarise(found)).toEqual(['tf-op-lambda@models/m.keras']);
    expect(found[0]!.message).toMatch(/^member "config\.json": has a TFOpLambda layer/);
  });

  it('recognises marshalled code and nothing else', () => {
    expect(isMarshalledCode(MARSHALLED)).toBe(true);
    expect(isMarshalledCode(Buffer.from([0x63, 0x02, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]).toString('base64'))).toBe(true);
    expect(isMarshalledCode('sparse_categorical_crossentropy')).toBe(false);
    expect(isMarshalledCode(Buffer.from('{"a": 1, "b": 2, "c": 3}').toString('base64'))).toBe(false);
    fc.assert(fc.property(fc.string({ maxLength: 23 }), (s) => !isMarshalledCode(s)));
    fc.assert(fc.property(fc.uint8Array({ minLength: 24, maxLength: 200 }), (u) => isMarshalledCode(Buffer.from(u).toString('base64')) === ((u[0] === 0x63 || u[0] === 0xe3) && u[1]! < 0x40 && u[2] === 0 && u[3] === 0 && u[4] === 0)));
  });
});

describe('Keras config checks are bounded', () => {
  it('never throw on arbitrary JSON, with or without Keras shapes', () => {
    const keras = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom('Lambda', 'TFOpLambda', '__lambda__', MARSHALLED, 'keras.layers', 'os', 'a>b', null, 1),
        fc.record({ class_name: fc.constantFrom('Lambda', 'TFOpLambda', 'Dense', '__lambda__', 'X'), module: fc.option(fc.constantFrom('keras.layers', 'os', 'subprocess')), registered_name: fc.option(fc.constantFrom('a>b', 'keras>X', '>')), config: tie('node'), function_type: fc.option(fc.constant('lambda')) }),
        fc.array(tie('node'), { maxLength: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), keras), (v) => {
        for (const i of kerasConfigIssues(v, NONE)) expect(['lambda-layer', 'keras-custom-object', 'tf-op-lambda', 'keras-bytecode']).toContain(i.code);
      }),
      { numRuns: 2000 },
    );
  });

  it('a config nested past the cap is budget-exceeded', () => {
    let deep: unknown = { class_name: 'Dense', config: {} };
    for (let i = 0; i < 1000; i++) deep = { config: deep };
    expect(kerasConfigIssues(deep, NONE).map((i) => i.code)).toEqual(['budget-exceeded']);
  });
});
