// Prepares a release on the local clone; everything but the push.
//   node scripts/release.mjs <X.Y.Z> [--date YYYY-MM-DD]      (npm run release -- X.Y.Z)
// Checks a clean tree and a version above the current one, bumps package.json
// (the one source of the version), moves CHANGELOG's Unreleased section under
// the version, points the JSON Schema $ids and the SchemaStore catalog at the new tag, rebuilds dist/,
// commits, tags vX.Y.Z and moves the major tag vX, then pins the example workflows to the tagged commit
// in a commit of their own. Then prints the push command:
// pushing the tag runs .github/workflows/release.yml, which publishes.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO = 'https://github.com/mlgate/mlgate';
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

function fail(message) {
  console.error(`release: ${message}`);
  process.exit(1);
}

const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
const read = (file) => readFileSync(path.join(ROOT, file), 'utf8');
const write = (file, text) => writeFileSync(path.join(ROOT, file), text);

const args = process.argv.slice(2);
const dateAt = args.indexOf('--date');
const date = dateAt >= 0 ? args[dateAt + 1] : new Date().toISOString().slice(0, 10);
const version = args.find((a, i) => !a.startsWith('--') && !(dateAt >= 0 && i === dateAt + 1));
if (!version || !SEMVER.test(version)) fail(`usage: node scripts/release.mjs X.Y.Z [--date YYYY-MM-DD] (got ${version ?? 'no version'})`);
if (!/^\d{4}-\d{2}-\d{2}$/.test(date ?? '')) fail(`--date takes YYYY-MM-DD (got ${date})`);

const dirty = git('status', '--porcelain');
if (dirty) fail(`the working tree is not clean; commit or stash first:\n${dirty}`);

const pkg = JSON.parse(read('package.json'));
const previous = pkg.version;
const parts = (v) => v.split('.').map(Number);
const newer = (a, b) => {
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] > y[i];
  return false;
};
if (!newer(version, previous)) fail(`${version} is not above the current version ${previous}`);
const tag = `v${version}`;
if (git('tag', '--list', tag)) fail(`tag ${tag} already exists`);

// CHANGELOG: the Unreleased notes become the version's section; an empty Unreleased section is nothing to release.
const changelog = read('CHANGELOG.md');
const heading = /^## \[Unreleased\][^\n]*\n/m.exec(changelog);
if (!heading) fail('CHANGELOG.md has no "## [Unreleased]" section');
const bodyStart = heading.index + heading[0].length;
const next = changelog.slice(bodyStart).search(/^## \[/m);
const bodyEnd = next < 0 ? changelog.search(/^\[Unreleased\]:/m) : bodyStart + next;
const notes = changelog.slice(bodyStart, bodyEnd < bodyStart ? changelog.length : bodyEnd).trim();
if (!notes) fail('the Unreleased section of CHANGELOG.md is empty: say what this release changes first');
let released = `${changelog.slice(0, bodyStart)}\n## [${version}] - ${date}\n\n${notes}\n\n${changelog.slice(bodyEnd < bodyStart ? changelog.length : bodyEnd)}`;
released = released.replace(/^\[Unreleased\]: .*$/m, `[Unreleased]: ${REPO}/compare/${tag}...HEAD\n[${version}]: ${REPO}/compare/v${previous}...${tag}`);
write('CHANGELOG.md', released);

pkg.version = version;
write('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
const lock = JSON.parse(read('package-lock.json'));
lock.version = version;
lock.packages[''].version = version;
write('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);

// Schema $ids (and the README line that quotes one) name the tag the file is served from.
const oldSchemaPath = `mlgate/mlgate/v${previous}/schema/`;
const schemas = readdirSync(path.join(ROOT, 'schema')).filter((f) => f.endsWith('.schema.json'));
for (const file of [...schemas.map((f) => `schema/${f}`), 'README.md', '.github/mlgate.yml']) {
  write(file, read(file).replaceAll(oldSchemaPath, `mlgate/mlgate/${tag}/schema/`));
}
// The SchemaStore catalog points editors at the major tag (moved below) and lists every release.
const major = `v${parts(version)[0]}`;
const catalog = JSON.parse(read('schema/catalog.json'));
for (const entry of catalog.schemas) {
  const file = entry.url.slice(entry.url.lastIndexOf('/') + 1);
  entry.url = `https://raw.githubusercontent.com/mlgate/mlgate/${major}/schema/${file}`;
  entry.versions = { ...entry.versions, [version]: `https://raw.githubusercontent.com/mlgate/mlgate/${tag}/schema/${file}` };
}
write('schema/catalog.json', `${JSON.stringify(catalog, null, 2)}\n`);

execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
const built = execFileSync(process.execPath, ['dist/cli.js', '--version'], { cwd: ROOT, encoding: 'utf8' }).trim();
if (built !== version) fail(`dist/cli.js --version prints ${built}, not ${version}`);

git('add', '--', 'package.json', 'package-lock.json', 'CHANGELOG.md', 'schema', 'README.md', '.github/mlgate.yml', 'dist');
git('commit', '-q', '-m', `Release ${tag}`);
git('tag', '-a', tag, '-m', `mlgate ${version}`);
git('tag', '-f', major, `${tag}^{commit}`);

// The example workflows pin the action by the full SHA of the newest release (a commit cannot name its own
// hash, so this is the commit after the tag): copying an example gives a pinned, immutable reference.
const releasedSha = git('rev-parse', `${tag}^{commit}`);
const examples = readdirSync(path.join(ROOT, 'examples/workflows')).filter((f) => f.endsWith('.yml')).map((f) => `examples/workflows/${f}`);
for (const file of examples) {
  write(
    file,
    read(file)
      .replace(/(mlgate\/mlgate@)[0-9a-f]{40}( # )\S+/g, `$1${releasedSha}$2${tag}`)
      .replace(/(MLGATE_SHA: ')[0-9a-f]{40}(')(?: # \S+)?/g, `$1${releasedSha}$2 # ${tag}`),
  );
}
if (git('status', '--porcelain', '--', 'examples')) {
  git('add', '--', 'examples');
  git('commit', '-q', '-m', `Point the example workflows at ${tag}`);
}
const leftover = git('status', '--porcelain');
if (leftover) fail(`the release left changes behind:\n${leftover}`);

console.log(`Released ${tag} locally (commit ${releasedSha.slice(0, 12)}); ${major} now points at it, and the examples pin it.`);
console.log(`Push with:  git push --atomic origin HEAD ${tag}`);
console.log(`The release workflow then publishes to npm, creates the GitHub release and moves ${major} on GitHub.`);
