import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { modelFileSafety } from '../src/checks/model-file-safety.js';
import { checkChatTemplate, checkTokenizerConfig } from '../src/checks/model-file/chat-template.js';
import { analyzeChatTemplate, TEMPLATE_MAX_CHARS } from '../src/formats/chat-template.js';
import { FAMILY_TEMPLATES } from './chat-template-fixtures.js';
import { runRuleOn, summarise } from './helpers/repo.js';

const kind = (t: string) => analyzeChatTemplate(t).kind;

describe('ordinary chat templates pass', () => {
  it.each(Object.entries(FAMILY_TEMPLATES))('%s', (_name, t) => {
    expect(analyzeChatTemplate(t)).toEqual({ kind: 'ok' });
  });

  it('covers at least eight families', () => {
    expect(Object.keys(FAMILY_TEMPLATES).length).toBeGreaterThanOrEqual(8);
  });
});

/** Constructs of newer published templates (Qwen3 reasoning, multimodal content lists, dictsort, call blocks). */
const CONSTRUCTS = [
  '{%- set x = y if z else w %}{{ x | tojson(ensure_ascii=False) }}',
  "{% if x is not none and x|length > 0 %}{{ messages | selectattr('role', 'equalto', 'system') | first }}{% endif %}",
  '{%- for message in messages[::-1] %}{% if loop.index0 > 2 %}{% break %}{% endif %}{% endfor %}',
  "{% set ns = namespace(x=[]) %}{% set ns.x = ns.x + ['a'] %}{{ 'a'.startswith('a') }}{{ x in ['a', 'b'] }}",
  "{% set d = {'a': 1} %}{{ d.get('a') }}{% for k, v in d.items() %}{{ k }}{% endfor %}{% for k, v in d | dictsort %}{{ v }}{% endfor %}",
  "{{ tools | map(attribute='function') | list }}{{ x|default('a') }}{{ x | int }}{{ x|string|length }}",
  "{% macro f(a, b=none) %}{{ a }}{% endmacro %}{{ f(1) }}{{ x.split('\\n')[-1].lstrip('\\n') }}{{ (x | trim).rstrip() }}{{ x|last }}",
  "{%- if ns.multi_step_tool and message.role == 'user' and message.content is string and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}x{% endif %}",
  "{%- set reasoning_content = message.reasoning_content %}{%- if '</think>' in content %}{%- set reasoning_content = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}{% endif %}",
  "{{ message['content'] | selectattr('type', 'equalto', 'text') | map(attribute='text') | join('') }}",
  "{% if message.content is not string %}{% for c in message.content %}{% if c.type == 'image' %}<image>{% endif %}{% endfor %}{% endif %}",
  "{{ x | items }}{{ x|unique|list }}{{ x|capitalize }}{{ x|replace('a', 'b') }}{{ x|indent(2) }}{{ '%s' | format(strftime_now('%d %B %Y')) }}",
  '{% macro f() %}{{ caller() }}{% endmacro %}{% call f() %}x{% endcall %}',
];

describe('constructs of newer templates pass', () => {
  it.each(CONSTRUCTS)('%s', (t) => {
    expect(analyzeChatTemplate(t)).toEqual({ kind: 'ok' });
  });
});

/** Each attack, and a benign template of the same shape that must pass. */
const ATTACKS: Array<[string, string, string]> = [
  ['MRO walk from a string', "{{ ''.__class__.__mro__[1].__subclasses__() }}", "{{ ''.strip() }}"],
  ['cycler globals (CVE-2024-34359 payload shape)', "{{ cycler.__init__.__globals__.os.popen('id').read() }}", '{% set c = cycler(1, 2) %}{{ c.next() }}'],
  ['joiner gadget', '{{ joiner.__init__.__globals__ }}', '{% set j = joiner(", ") %}{{ j() }}'],
  ['namespace gadget', '{{ namespace.__init__.__globals__.__builtins__ }}', '{% set ns = namespace(found=false) %}{% set ns.found = true %}{{ ns.found }}'],
  ['lipsum globals by subscript', "{{ lipsum.__globals__['os'] }}", '{{ lipsum(1) }}'],
  ['gadget attribute without a dunder', '{{ lipsum.func_globals }}', '{{ messages.content }}'],
  ['|attr with a dunder', "{{ messages|attr('__class__') }}", "{{ message|attr('content') }}"],
  ['|attr with a private name', "{{ messages|attr('_private') }}", "{{ message|attr('role') }}"],
  ['|attr with a computed name', '{{ messages|attr(name) }}', "{{ messages|attr('role') }}"],
  ['|attr with a name assembled by ~', "{{ messages|attr('__cla' ~ 'ss__') }}", "{{ messages|attr('ro' ~ 'le') }}"],
  ['|attr with underscores multiplied', "{{ x|attr('_' * 2 ~ 'class' ~ '_' * 2) }}", "{{ '=' * 20 }}"],
  ['|attr with a joined list', "{{ x|attr(['_', '_', 'class', '_', '_']|join) }}", "{{ ['a', 'b']|join(', ') }}"],
  ['|attr with a lowered name', "{{ x|attr('__CLASS__'|lower) }}", "{{ 'ASSISTANT'|lower }}"],
  ['subscript built from pieces', "{{ x['__cla' ~ 'ss__'] }}", "{{ message['con' ~ 'tent'] }}"],
  ['subscript through a set variable', "{% set a = '__glo' + 'bals__' %}{{ lipsum[a] }}", "{% set a = 'con' + 'tent' %}{{ message[a] }}"],
  ['subscript reversed with [::-1]', "{{ x['__ssalc__'[::-1]] }}", '{{ messages[::-1] }}'],
  ['a dunder string looped over', "{% for k in ['__globals__'] %}{{ lipsum[k] }}{% endfor %}", "{% for k in ['role', 'content'] %}{{ message[k] }}{% endfor %}"],
  ['self._TemplateReference__context', '{{ self._TemplateReference__context.cycler }}', '{{ bos_token }}'],
  ['map(attribute=) reaching a dunder', "{{ messages|map(attribute='__class__')|list }}", "{{ messages|map(attribute='role')|list }}"],
  ['selectattr on a dunder', "{{ messages|selectattr('__class__') }}", "{{ messages|selectattr('role', 'equalto', 'user')|list }}"],
  ['str.format with an attribute field', "{{ '{0.__class__}'.format(x) }}", "{{ '{} says {}'.format(a, b) }}"],
  ['str.format on a template-built string', "{{ ('{0.' ~ n ~ '}').format(x) }}", "{{ 'Hello {}'.format(name) }}"],
  ["'%' on a template-built string", "{{ ('%s' ~ suffix) % x }}", "{{ 'Today is %s' % date }}"],
  ["'%c' character building", "{{ '%c%c%s%c%c' % (95, 95, 'class', 95, 95) }}", '{{ loop.index0 % 2 }}'],
  ['generator frame walk', '{{ g.gi_frame.f_back.f_globals }}', '{{ g.name }}'],
  ['a dunder keyword', '{{ dict(__builtins__=1) }}', '{{ dict(role=1) }}'],
  ['a dunder in a dead branch still counts', '{% if false %}{{ x.__init__ }}{% endif %}', '{% if false %}{{ x.init }}{% endif %}'],
  ['a block set holding a dunder', '{% set a %}__class__{% endset %}{{ x[a] }}', '{% set a %}content{% endset %}{{ message[a] }}'],
  ['a macro that writes the name', '{% macro n() %}__class__{% endmacro %}{{ x[n()] }}', '{% macro n() %}content{% endmacro %}{{ n() }}'],
  ['underscore picked out of an object\'s text', "{% set u = (messages|select|string)[24] %}{% set n = u * 2 ~ 'class' ~ u * 2 %}{{ x[n] }}", "{% set n = 'a' ~ 'b' %}{{ n }}"],
  ['a built name looped over', "{% set u = (messages|select|string)[24] %}{% for k in [u ~ u ~ 'class' ~ u ~ u] %}{{ x[k] }}{% endfor %}", "{% for k in ['role'] %}{{ message[k] }}{% endfor %}"],
  ['hex escapes in a string', "{{ x['\\x5f\\x5fclass\\x5f\\x5f'] }}", "{{ x['\\x41'] }}"],
  ['request globals (Flask-style gadget)', '{{ request.application.__globals__ }}', '{{ messages[0].content }}'],
];

describe('template injection', () => {
  it.each(ATTACKS)('%s is found', (_name, attack) => {
    const v = analyzeChatTemplate(attack);
    expect(v.kind).toBe('injection');
  });

  it.each(ATTACKS)('%s: the benign counterpart passes', (_name, _attack, benign) => {
    expect(analyzeChatTemplate(benign)).toEqual({ kind: 'ok' });
  });

  it('text outside tags is output, not code: it may mention dunders', () => {
    expect(kind('Use __init__ and __class__ carefully.\n{{ messages[0].content }}')).toBe('ok');
  });

  it('an attack appended to any family template is found', () => {
    for (const t of Object.values(FAMILY_TEMPLATES)) {
      for (const [, attack] of ATTACKS) expect(kind(t + attack)).toBe('injection');
    }
  });
});

describe('templates that cannot be analysed fail closed', () => {
  it.each([
    ['an unclosed loop', '{% for m in messages %}{{ m }}'],
    ['include', "{% include 'other.jinja' %}"],
    ['raw blocks', '{% raw %}{{ x }}{% endraw %}'],
    ['an unterminated expression', '{{ messages[0'],
    ['nesting deeper than the parser goes', '{{' + '('.repeat(20_000) + '1' + ')'.repeat(20_000) + '}}'],
  ])('%s', (_name, t) => {
    expect(kind(t)).toBe('unparsable');
  });

  it('an oversized template is not analysed', () => {
    expect(analyzeChatTemplate('x'.repeat(TEMPLATE_MAX_CHARS + 1))).toEqual({ kind: 'too-large', chars: TEMPLATE_MAX_CHARS + 1 });
    expect(checkChatTemplate('x'.repeat(TEMPLATE_MAX_CHARS + 1), { path: 'c.jinja', label: 'the chat template' })[0]?.code).toBe('budget-exceeded');
  });
});

describe('hostile templates stay bounded', () => {
  const fill = (size: number, unit: (i: number) => string) => {
    const parts: string[] = [];
    for (let i = 0, n = 0; n < size; i++) n += parts[parts.push(unit(i)) - 1]!.length;
    return parts.join('');
  };
  const size = 256 * 1024;
  it.each([
    ['thousands of distinct dunders', fill(size, (i) => `{{ x.__a${i}__ }}`), 'injection'],
    ['a long concatenation chain', '{{ a' + fill(size, () => ' ~ a') + ' }}', undefined],
    ['sets that refer to each other', fill(size, (i) => `{% set a${i % 50} = 'x' ~ a${(i + 1) % 50} %}`), 'ok'],
    ['thousands of computed attrs', fill(size, (i) => `{{ x|attr(y${i}) }}`), 'injection'],
    ['ifs nested 20,000 deep', '{% if a %}'.repeat(20_000) + '{% endif %}'.repeat(20_000), 'unparsable'],
  ])('%s', (_name, t, want) => {
    const t0 = performance.now();
    const v = analyzeChatTemplate(t);
    expect(performance.now() - t0).toBeLessThan(20_000);
    if (want) expect(v.kind).toBe(want);
    else expect(['ok', 'injection', 'unparsable']).toContain(v.kind);
    if (v.kind === 'injection') expect(v.hits.length).toBeLessThanOrEqual(16);
  });
});

describe('locations', () => {
  it('a chat_template.jinja finding is on the line of the expression', () => {
    const t = '{% for m in messages %}\n{{ m.content }}\n{{ m.__class__ }}\n{% endfor %}\n';
    const [f] = checkChatTemplate(t, { path: 'chat_template.jinja', line: 1, textual: true, label: 'the chat template' });
    expect(f).toMatchObject({ code: 'template-injection', line: 3 });
    expect(f!.message).toMatch(/^chat_template\.jinja: the chat template reads the attribute '\.__class__'.*Jinja2.*remove these expressions/);
  });

  it('a tokenizer_config.json finding is on the line of the chat_template key', () => {
    const json = JSON.stringify({ bos_token: '<s>', added_tokens_decoder: { '0': { content: '<s>' } }, chat_template: "{{ x|attr('__class__') }}" }, null, 2);
    const line = json.split('\n').findIndex((l) => l.includes('"chat_template"')) + 1;
    expect(checkTokenizerConfig('tokenizer_config.json', json)).toMatchObject([{ code: 'template-injection', line }]);
  });

  it('a list of named templates: each on the line of its template key', () => {
    const json = JSON.stringify({ chat_template: [{ name: 'default', template: '{{ messages[0].content }}' }, { name: 'tool_use', template: '{{ lipsum.__globals__ }}' }] }, null, 2);
    const line = json.split('\n').findLastIndex((l) => l.includes('"template"')) + 1;
    const [f] = checkTokenizerConfig('tokenizer_config.json', json);
    expect(f).toMatchObject({ code: 'template-injection', line });
    expect(f!.message).toMatch(/'tool_use'/);
  });

  it('bad shapes and bad JSON fail closed; no chat_template is no finding', () => {
    expect(checkTokenizerConfig('t.json', '{"chat_template": 3}').map((f) => f.code)).toEqual(['malformed']);
    expect(checkTokenizerConfig('t.json', '{"chat_template": [{"name": "a"}]}').map((f) => f.code)).toEqual(['malformed']);
    expect(checkTokenizerConfig('t.json', '{"chat_template": ').map((f) => f.code)).toEqual(['malformed']);
    expect(checkTokenizerConfig('t.json', '{"model_max_length": 2048}')).toEqual([]);
    expect(checkTokenizerConfig('t.json', '[1, 2]')).toEqual([]);
  });
});

describe('model-file-safety on chat templates', () => {
  it('finds templates in tokenizer_config.json, chat_template.json and chat_template.jinja, and passes the families', async () => {
    const files: Record<string, string> = {
      'models/evil/tokenizer_config.json': JSON.stringify({ chat_template: "{{ cycler.__init__.__globals__.os.popen('id').read() }}" }, null, 2),
      'models/evil/chat_template.jinja': '{{ bos_token }}\n{{ self._TemplateReference__context }}\n',
      'models/evil/chat_template.json': JSON.stringify({ chat_template: '{% for m in messages %}' }),
      'models/evil/additional_chat_templates/rag.jinja': "{{ messages|attr('__cla' ~ 'ss__') }}",
      'models/docs/notes.jinja': '{{ x.__class__ }}',
    };
    Object.values(FAMILY_TEMPLATES).forEach((t, i) => {
      files[`models/family${i}/tokenizer_config.json`] = JSON.stringify({ bos_token: '<s>', chat_template: t }, null, 2);
      files[`models/family${i}/chat_template.jinja`] = t;
    });
    const found = await runRuleOn(modelFileSafety, files);
    expect(summarise(found)).toEqual([
      'template-injection@models/evil/additional_chat_templates/rag.jinja:1',
      'template-injection@models/evil/chat_template.jinja:2',
      'template-injection@models/evil/tokenizer_config.json:2',
      'template-unparsable@models/evil/chat_template.json:1',
    ]);
    expect(found.every((f) => f.maxLevel === undefined)).toBe(true);
  });

  it('an oversized tokenizer_config.json fails closed', async () => {
    const found = await runRuleOn(modelFileSafety, { 'tokenizer_config.json': JSON.stringify({ chat_template: '{{ x }}', pad: 'y'.repeat(4096) }) }, { budget: { maxFileBytes: 1024 } });
    expect(summarise(found)).toEqual(['budget-exceeded@tokenizer_config.json']);
  });
});

describe('template analysis properties', () => {
  const jinjaish = fc
    .array(fc.constantFrom('{{', '}}', '{%', '%}', 'for', 'in', 'if', 'endif', 'endfor', 'set', '=', 'x', '.', '__class__', '[', ']', '(', ')', "'", '"', '~', '+', '%', '|', 'attr', 'join', ',', ' ', 'messages', 'lipsum', '-', '::', '1', '\n', '{#', '#}'), { maxLength: 60 })
    .map((p) => p.join(''));

  it('arbitrary and jinja-shaped input never throws and never hangs', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), jinjaish), (s) => {
        expect(['ok', 'injection', 'unparsable']).toContain(kind(s));
      }), { numRuns: 3000 });
  });

  it('mutated family templates never throw', () => {
    const families = Object.values(FAMILY_TEMPLATES);
    fc.assert(
      fc.property(fc.nat(families.length - 1), fc.array(fc.tuple(fc.nat(), fc.string({ maxLength: 6 })), { minLength: 1, maxLength: 5 }), (i, muts) => {
        let t = families[i]!;
        for (const [at, ins] of muts) t = t.slice(0, at % (t.length + 1)) + ins + t.slice(at % (t.length + 1));
        expect(['ok', 'injection', 'unparsable']).toContain(kind(t));
      }),
      { numRuns: 1500 },
    );
  });

  it('any dunder attribute read anywhere in an expression is found', () => {
    const dunders = ['__class__', '__mro__', '__subclasses__', '__globals__', '__builtins__', '__init__', '__import__', '__dict__', '__getattribute__', '__base__'];
    fc.assert(
      fc.property(fc.constantFrom(...dunders), fc.constantFrom('x', 'messages', "''", 'loop', '[]', '(1)'), fc.nat(Object.keys(FAMILY_TEMPLATES).length - 1), (d, obj, i) => {
        const t = Object.values(FAMILY_TEMPLATES)[i]!;
        expect(kind(`${t}{{ ${obj}.${d} }}`)).toBe('injection');
        expect(kind(`{% if ${obj}['${d}'] %}{% endif %}${t}`)).toBe('injection');
      }),
      { numRuns: 300 },
    );
  });
});
