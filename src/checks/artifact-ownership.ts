import { setImmediate } from 'node:timers/promises';
import { CODEOWNERS_LOCATIONS, CODEOWNERS_MAX_BYTES, parseCodeowners, type CodeownersEntry } from '../formats/codeowners.js';
import { discoverModelRoots, modelName } from '../inventory/model-roots.js';
import { FileProblem } from '../core/errors.js';
import { DEFAULT_DATASET_GLOBS } from './dataset-provenance/params.js';
import { atlas, type Rule, type RuleContext } from './rule.js';

export interface ArtifactOwnershipParams {
  'required-owners'?: string[];
  protected?: string[];
}

export const DEFAULT_POLICY_PATH = '.github/mlgate.yml';
export const THREAT_MODEL_GLOBS = ['THREAT_MODEL.md', 'docs/threat-model*.md', 'docs/security/threat-model*.md'];
const LISTED = 5;

/** A set of protected files reported together, with the CODEOWNERS pattern that would cover it. */
interface ProtectedGroup {
  label: string;
  pattern: string;
  files: string[];
}

const list = (paths: string[]): string => (paths.length <= LISTED ? paths.join(', ') : `${paths.slice(0, LISTED).join(', ')} and ${paths.length - LISTED} more`);

/** A CODEOWNERS pattern covering what a glob names: `data/**` → `/data/`, `**\/*.csv` → `*.csv`. */
export function patternForGlob(glob: string): string {
  const dir = /^([^*?{}[\]]+)\/\*\*$/.exec(glob);
  if (dir) return `/${dir[1]}/`;
  const anywhere = /^\*\*\/([^/]+)$/.exec(glob);
  if (anywhere && !/[{}]/.test(anywhere[1]!)) return anywhere[1]!;
  return glob.startsWith('/') || glob.startsWith('*') ? glob : `/${glob}`;
}

function protectedGroups(ctx: RuleContext<ArtifactOwnershipParams>, codeowners: string | undefined): ProtectedGroup[] {
  const inv = ctx.inventory;
  const groups: ProtectedGroup[] = [];
  const claimed = new Set<string>();
  const add = (label: string, pattern: string, files: string[]): void => {
    const fresh = files.filter((f) => !claimed.has(f));
    for (const f of fresh) claimed.add(f);
    if (fresh.length > 0) groups.push({ label, pattern, files: fresh });
  };
  const configured = ctx.params?.protected;
  if (configured) {
    for (const g of configured) add(`protected paths ${g}`, patternForGlob(g), inv.match([g]).map((f) => f.path));
    return groups;
  }
  const policy = ctx.policyPath ?? DEFAULT_POLICY_PATH;
  if (inv.get(policy)) add(`the mlgate policy`, `/${policy}`, [policy]);
  if (codeowners) add('CODEOWNERS itself', `/${codeowners}`, [codeowners]);
  for (const g of THREAT_MODEL_GLOBS) add(`the threat model (${g})`, patternForGlob(g), inv.match([g]).map((f) => f.path));
  for (const root of discoverModelRoots(inv)) {
    add(modelName(root.path), root.kind === 'dir' ? (root.path === '.' ? '*' : `/${root.path}/`) : `/${root.path}`, root.files);
  }
  for (const g of DEFAULT_DATASET_GLOBS) add(`datasets (${g})`, patternForGlob(g), inv.match([g]).map((f) => f.path));
  return groups;
}

async function run(ctx: RuleContext<ArtifactOwnershipParams>): Promise<void> {
  const required = (ctx.params?.['required-owners'] ?? []).map((o) => o.toLowerCase());
  const codeownersPath = CODEOWNERS_LOCATIONS.find((p) => ctx.inventory.get(p));
  const changed = ctx.changed;
  const policy = ctx.policyPath ?? DEFAULT_POLICY_PATH;
  // Ownership is repository-wide: a change to CODEOWNERS or the policy re-checks everything, anything else only what it touched.
  const whole = !changed || CODEOWNERS_LOCATIONS.some((p) => changed.touches(p)) || changed.touches(policy);
  let groups = protectedGroups(ctx, codeownersPath);
  if (!whole) groups = groups.map((g) => ({ ...g, files: g.files.filter((f) => changed.touches(f)) })).filter((g) => g.files.length > 0);
  const total = groups.reduce((n, g) => n + g.files.length, 0);
  const want = required.length > 0 ? `one of ${ctx.params!['required-owners']!.join(', ')}` : 'an owner';
  const suggestion = (g: ProtectedGroup): string => `\`${g.pattern} ${required.length > 0 ? ctx.params!['required-owners']![0] : '@org/team'}\``;

  if (!codeownersPath) {
    if (total > 0)
      ctx.report({
        code: 'no-codeowners',
        message: `no CODEOWNERS file (.github/CODEOWNERS, CODEOWNERS or docs/CODEOWNERS), so nobody's review is required for ${total} protected files (${list(groups.map((g) => g.label))}): add .github/CODEOWNERS assigning them to ${want}`,
      });
    return;
  }
  const entry = ctx.inventory.get(codeownersPath)!;
  if (entry.size >= CODEOWNERS_MAX_BYTES) {
    ctx.report({ code: 'no-codeowners', path: codeownersPath, message: `${codeownersPath} is ${entry.size} bytes; GitHub ignores CODEOWNERS files of 3 MB or more, so no owner is enforced: shorten it with directory patterns` });
    return;
  }
  await ctx.guard(codeownersPath, async () => {
    const text = await ctx.inventory.readText(codeownersPath, CODEOWNERS_MAX_BYTES);
    if (text.includes('\0')) throw new FileProblem(codeownersPath, `${codeownersPath} is not a text file`, 'invalid-line');
    const co = parseCodeowners(text);
    if (whole) for (const p of co.problems) ctx.report({ code: 'invalid-line', path: codeownersPath, line: p.line, message: `${codeownersPath}:${p.line}: ${p.message}` });

    const owns = (e: CodeownersEntry): boolean => e.owners.length > 0 && (required.length === 0 || e.owners.some((o) => required.includes(o.toLowerCase())));
    const byLine = new Map<number, { entry: CodeownersEntry; files: string[]; labels: Set<string>; groups: ProtectedGroup[] }>();
    let checked = 0;
    for (const g of groups) {
      const unmatched: string[] = [];
      for (const f of g.files) {
        if (++checked % 1024 === 0) {
          ctx.signal.throwIfAborted();
          await setImmediate();
        }
        const e = co.ownerOf(f);
        if (!e) unmatched.push(f);
        else if (!owns(e)) {
          const slot = byLine.get(e.line) ?? { entry: e, files: [], labels: new Set<string>(), groups: [] };
          slot.files.push(f);
          if (!slot.labels.has(g.label)) {
            slot.labels.add(g.label);
            slot.groups.push(g);
          }
          byLine.set(e.line, slot);
        }
      }
      if (unmatched.length > 0)
        ctx.report({
          code: 'unowned',
          path: codeownersPath,
          message: `no line of ${codeownersPath} matches ${unmatched.length === 1 ? unmatched[0] : `${unmatched.length} files of ${g.label} (${list(unmatched)})`}${unmatched.length === 1 ? ` (${g.label})` : ''}: add ${suggestion(g)}`,
        });
    }
    for (const [line, { entry: e, files, labels, groups: gs }] of [...byLine].sort(([a], [b]) => a - b)) {
      const what = `${files.length === 1 ? files[0] : `${files.length} protected files (${list(files)})`} of ${[...labels].join(', ')}`;
      ctx.report(
        e.owners.length === 0
          ? {
              code: 'unowned',
              path: codeownersPath,
              line,
              message: `\`${e.pattern}\` on line ${line} has no owners, so it un-assigns ${what}: give it ${want}, or add a later line ${suggestion(gs[0]!)}`,
            }
          : {
              code: 'wrong-owner',
              path: codeownersPath,
              line,
              message: `line ${line} (\`${e.pattern} ${e.owners.join(' ')}\`) is the last match, so it decides the owners of ${what}, and it names none of ${ctx.params!['required-owners']!.join(', ')}: add one to this line, or add a later line ${suggestion(gs[0]!)}`,
            },
      );
    }
  });
}

export const artifactOwnership: Rule<ArtifactOwnershipParams> = {
  id: 'artifact-ownership',
  title: 'CODEOWNERS assigns models, data and policy to the required reviewers',
  summary: 'Model roots, datasets, the mlgate policy, the threat model and CODEOWNERS itself are owned in CODEOWNERS by one of the required owners.',
  defaultLevel: 'warning',
  references: [atlas('AML.M0005')],
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      'required-owners': {
        type: 'array',
        items: { type: 'string', pattern: '^(@[A-Za-z0-9][A-Za-z0-9-]*(/[A-Za-z0-9._-]+)?|[^@\\s]+@[^@\\s]+)$' },
        maxItems: 64,
        default: [],
        description: 'Owners (@user, @org/team or email; case-insensitive) of which the deciding CODEOWNERS line must name at least one. Empty: any owner will do.',
      },
      protected: {
        type: 'array',
        items: { type: 'string', format: 'glob' },
        maxItems: 256,
        description:
          'Globs of the files that must be owned; replaces the default: model roots, dataset paths (the dataset-provenance defaults), the policy file, the threat model and CODEOWNERS itself.',
      },
    },
  },
  tighten: { 'required-owners': 'allow-list', protected: 'superset' },
  examples: {
    pass: {
      description: 'The security team owns data, models, the policy and CODEOWNERS',
      files: {
        '.github/CODEOWNERS': '* @acme/developers\n/data/ @acme/ml-security\n/models/ @acme/ml-security\n/.github/ @acme/ml-security\n',
        '.github/mlgate.yml': 'version: 1\n',
        'data/train.csv': 'a,b\n',
        'models/clf/model.safetensors': 'weights',
      },
      params: { 'required-owners': ['@acme/ml-security'] },
      expect: [],
    },
    fail: {
      description: 'A later catch-all line takes data away from the security team; the models are owned by nobody listed',
      files: {
        '.github/CODEOWNERS': '/data/ @acme/ml-security\n/models/ @acme/ml-platform\n*.csv @acme/analysts\n!/secret @acme/x\n',
        'data/train.csv': 'a,b\n',
        'models/clf/model.safetensors': 'weights',
      },
      params: { 'required-owners': ['@acme/ml-security'] },
      expect: ['wrong-owner', 'wrong-owner', 'unowned', 'invalid-line'],
    },
  },
  run,
};
