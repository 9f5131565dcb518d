import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLfsPointer } from '../src/formats/lfs.js';
import { FrontMatterError, parseMarkdown } from '../src/formats/markdown.js';
import { NotebookError, parseNotebook } from '../src/formats/notebook.js';
import { loadYaml, YamlError } from '../src/formats/yaml.js';

/** Either a result or one of the parser's own located errors — never anything else, never a hang. */
function expectOnly<T>(fn: () => T, ...allowed: (new (...a: never[]) => Error)[]): void {
  try {
    fn();
  } catch (e) {
    expect(allowed.some((c) => e instanceof c), String(e)).toBe(true);
  }
}

const yamlish = fc.array(fc.constantFrom('a: ', '- ', '&x ', '*x', '[', ']', '{', '}', ',', '\n', '  ', '"', "'", '#', '? ', '!!str ', '|', '>', 'b', '1', '---\n', '<<: *x'), { maxLength: 80 }).map((p) => p.join(''));

describe('bounded parsers never throw anything but their own errors', () => {
  it('loadYaml', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), yamlish), (s) => expectOnly(() => loadYaml(s), YamlError)), { numRuns: 2000 });
  });

  it('parseMarkdown', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), yamlish.map((y) => `---\n${y}\n---\n# h\n`)), (s) => expectOnly(() => parseMarkdown(s), FrontMatterError)),
      { numRuns: 1000 },
    );
  });

  it('parseNotebook', () => {
    const jsonish = fc.array(fc.constantFrom('{', '}', '[', ']', '"cells"', ':', ',', '"source"', '"x\\n"', 'null', '1', ' '), { maxLength: 60 }).map((p) => p.join(''));
    fc.assert(fc.property(fc.oneof(fc.string(), jsonish, fc.json()), (s) => expectOnly(() => parseNotebook(s), NotebookError)), { numRuns: 2000 });
  });

  it('parseNotebook survives pathological nesting', () => {
    expectOnly(() => parseNotebook('['.repeat(200_000)), NotebookError);
    expectOnly(() => parseNotebook(`{"cells":${'['.repeat(100_000)}`), NotebookError);
  });

  it('parseLfsPointer', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(parseLfsPointer(b)).toBeUndefined();
      }), { numRuns: 2000 });
  });
});

describe('notebook lines', () => {
  it('maps every cell line to its line in the .ipynb file', () => {
    const text = ['{', ' "cells": [', '  {"cell_type": "markdown", "source": ["# t\\n"]},', '  {"cell_type": "code",', '   "source": [', '    "import torch\\n",', '    "x = torch.load(p)\\n",', '    "y = 1"', '   ]', '  }', ' ],', ' "metadata": {}', '}'].join('\n');
    const nb = parseNotebook(text);
    expect(nb.cells[1]).toMatchObject({ cellType: 'code', source: 'import torch\nx = torch.load(p)\ny = 1', fileLines: [6, 7, 8] });
  });
  it('reports invalid JSON with its line', () => {
    expect(() => parseNotebook('{\n "cells": [\n }')).toThrow(NotebookError);
  });
});
