import { describe, expect, it } from 'vitest';
import { closest, didYouMean } from '../src/core/suggest.js';

const LEVELS = ['off', 'info', 'warning', 'error'];
const SETS = ['mlgate:recommended', 'mlgate:strict'];

describe('did you mean', () => {
  it.each([
    ['warn', LEVELS, 'warning'],
    ['eror', LEVELS, 'error'],
    ['Error', LEVELS, 'error'],
    ['mlgate:recomended', SETS, 'mlgate:recommended'],
    ['model-signin', ['model-signing', 'model-card'], 'model-signing'],
    ['--polciy', ['--policy', '--policy-dir'], '--policy'],
  ])('%s → %s', (input, candidates, want) => {
    expect(closest(input, candidates)).toBe(want);
    expect(didYouMean(input, candidates)).toBe(` (did you mean "${want}"?)`);
  });

  it.each([
    ['banana', LEVELS],
    ['x', ['model-signing']],
    ['', LEVELS],
  ])('offers nothing for %s', (input, candidates) => {
    expect(closest(input, candidates)).toBeUndefined();
    expect(didYouMean(input, candidates)).toBe('');
  });
});
