// Header-only formats (issue 16): a 10 GiB sparse safetensors and a 10 GiB
// sparse GGUF must each be checked in under 50 ms, whatever the disk, because
// only the header is read; peak RSS stays ≤ 256 MiB on every corpus,
// hostile ones included. The corpus is generated under .bench/formats/,
// byte by byte here.
import { execFile } from 'node:child_process';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { bundleSources, ensureFile, median } from './common.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dir = path.join(root, '.bench', 'formats');
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const RUNS = 5;
const CHILD = '--check-in-child';

const u32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64 = (n) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const gstr = (s) => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([u64(b.length), b]);
};

/** Writes `header` and extends the file to `size` without writing the rest (a sparse file). */
async function sparse(file, header, size) {
  const h = await open(file, 'w');
  try {
    await h.write(header, 0, header.length, 0);
    await h.truncate(size);
  } finally {
    await h.close();
  }
}

/** 10 GiB safetensors: 1,000 F16 tensors back to back. */
async function makeSafetensors(file) {
  const n = 1024;
  const each = (10 * GiB) / n;
  const header = {};
  for (let i = 0; i < n; i++) header[`model.layers.${i}.weight`] = { dtype: 'F16', shape: [each / 2], data_offsets: [i * each, (i + 1) * each] };
  header.__metadata__ = { format: 'pt' };
  const json = Buffer.from(JSON.stringify(header));
  await sparse(file, Buffer.concat([u64(json.length), json]), 8 + json.length + 10 * GiB);
}

/** 10 GiB GGUF v3: a 150,000-token vocabulary with scores, a chat template, 512 tensors. */
async function makeGguf(file, template) {
  const kv = [];
  const tokens = [];
  for (let i = 0; i < 150_000; i++) tokens.push(gstr(`tok_${i}`));
  const scores = Buffer.alloc(150_000 * 4);
  kv.push(Buffer.concat([gstr('general.architecture'), u32(8), gstr('llama')]));
  kv.push(Buffer.concat([gstr('tokenizer.ggml.tokens'), u32(9), u32(8), u64(150_000), ...tokens]));
  kv.push(Buffer.concat([gstr('tokenizer.ggml.scores'), u32(9), u32(6), u64(150_000), scores]));
  kv.push(Buffer.concat([gstr('tokenizer.chat_template'), u32(8), gstr(template)]));
  const nt = 512;
  const each = (10 * GiB) / nt;
  const infos = [];
  for (let i = 0; i < nt; i++) infos.push(Buffer.concat([gstr(`blk.${i}.weight`), u32(1), u64(each / 2), u32(1), u64(i * each)]));
  let header = Buffer.concat([Buffer.from('GGUF'), u32(3), u64(nt), u64(kv.length), ...kv, ...infos]);
  header = Buffer.concat([header, Buffer.alloc((32 - (header.length % 32)) % 32)]);
  await sparse(file, header, header.length + 10 * GiB);
}

/** Hostile: 8,000,000 empty strings in one GGUF array (64 MB of lengths) — bounded by the value cap, not by memory. */
async function makeHostileGguf(file) {
  const n = 8_000_000;
  const arr = Buffer.alloc(n * 8);
  const header = Buffer.concat([Buffer.from('GGUF'), u32(3), u64(0), u64(1), gstr('x'), u32(9), u32(8), u64(n), arr]);
  await sparse(file, header, header.length);
}

/** Hostile: a header just under the 4 MiB mlgate parses, of 62,000 tiny tensors (the worst case for memory). */
async function makeWideSafetensors(file) {
  const parts = ['{'];
  for (let i = 0; i < 62_000; i++) parts.push(`${i ? ',' : ''}"t${i}":{"dtype":"U8","shape":[1],"data_offsets":[${i},${i + 1}]}`);
  parts.push('}');
  const json = Buffer.from(parts.join(''));
  await sparse(file, Buffer.concat([u64(json.length), json]), 8 + json.length + 62_000);
}

async function bundle() {
  return bundleSources(path.join(dir, 'formats.mjs'), [
    "export { withFileSource } from './src/formats/byte-source.ts';",
    "export { checkGguf } from './src/checks/model-file/gguf.ts';",
    "export { checkSafetensors } from './src/checks/model-file/safetensors.ts';",
    "export { checkChatTemplate } from './src/checks/model-file/chat-template.ts';",
  ]);
}

async function checkInChild([bundlePath, kind, file, expect]) {
  const m = await import(pathToFileURL(bundlePath).href);
  const template = kind === 'template' ? await readFile(file, 'utf8') : undefined;
  const baseRss = process.resourceUsage().maxRSS * 1024;
  const times = [];
  const cpu = [];
  let codes = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const found =
      kind === 'template'
        ? m.checkChatTemplate(template, { path: file, label: 'the chat template' })
        : m.withFileSource(file, (src) => (kind === 'gguf' ? m.checkGguf(file, src) : m.checkSafetensors(file, src)));
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    codes = found.map((f) => f.code);
  }
  if (codes.join(',') !== expect) throw new Error(`${file}: expected [${expect}], got [${codes.join(',')}]`);
  process.stdout.write(JSON.stringify({ times, cpu, baseRss, peakRss: process.resourceUsage().maxRSS * 1024 }));
}

async function measure(bundlePath, kind, file, expect = '') {
  const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(import.meta.url), CHILD, bundlePath, kind, file, expect], { maxBuffer: MiB });
  const { times, cpu, baseRss, peakRss } = JSON.parse(stdout);
  return { size: (await stat(file)).size, ms: median(times), cpuMs: median(cpu), first: Math.max(...times), baseRss, peakRss };
}

export default async function bench() {
  await mkdir(dir, { recursive: true });
  const st = path.join(dir, 'sparse-10g.safetensors');
  const gg = path.join(dir, 'sparse-10g.gguf');
  const evil = path.join(dir, 'sparse-10g-ssti.gguf');
  const hostile = path.join(dir, 'hostile-8m-strings.gguf');
  const wide = path.join(dir, 'wide-62k-tensors.safetensors');
  const tpl = path.join(dir, 'tool-template.jinja');
  await ensureFile(st, makeSafetensors);
  await ensureFile(gg, (f) => makeGguf(f, "{% for m in messages %}{{ '<|' + m['role'] + '|>' + m['content'] }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"));
  await ensureFile(evil, (f) => makeGguf(f, "{{ cycler.__init__.__globals__.os.popen('id').read() }}"));
  await ensureFile(hostile, makeHostileGguf);
  await ensureFile(wide, makeWideSafetensors);
  // A 60 KiB template: a tool-use loop repeated, twice the size of the largest published ones.
  await ensureFile(tpl, async (f) => {
    const h = await open(f, 'w');
    await h.write("{%- set ns = namespace(first=true) %}" + "{%- for m in messages %}{%- if m.role == 'tool' %}{{- '<tool>' + m.content|tojson + '</tool>' }}{%- elif m.tool_calls %}{%- for c in m.tool_calls %}{{- c.function.name ~ '(' ~ c.function.arguments|tojson ~ ')' }}{%- endfor %}{%- else %}{{- '<|' + m.role + '|>' + m.content|trim }}{%- endif %}{%- endfor %}\n".repeat(200));
    await h.close();
  });
  const b = await bundle();
  const rows = [
    ['safetensors, 10 GiB sparse, 1,024 tensors', await measure(b, 'safetensors', st)],
    ['GGUF v3, 10 GiB sparse, 150k-token vocabulary, 512 tensors', await measure(b, 'gguf', gg)],
    ['GGUF v3, 10 GiB sparse, injected chat template', await measure(b, 'gguf', evil, 'template-injection')],
    ['hostile GGUF: 8,000,000 strings in one array', await measure(b, 'gguf', hostile)],
    ['hostile safetensors: 62,000 tensors, a header at the 4 MiB cap', await measure(b, 'safetensors', wide)],
    ['chat template, 60 KiB tool-use loop', await measure(b, 'template', tpl)],
  ];
  // CPU time is shown too: on a shared runner, wall time also measures the neighbours.
  console.log(`| corpus | file size | wall (median of ${RUNS}) | CPU time (median) | slowest run | peak RSS (after loading) |`);
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, r] of rows) {
    const size = r.size >= GiB ? `${(r.size / GiB).toFixed(1)} GiB` : `${(r.size / MiB).toFixed(1)} MiB`;
    console.log(`| ${name} | ${size} | ${r.ms.toFixed(1)} ms | ${r.cpuMs.toFixed(1)} ms | ${r.first.toFixed(1)} ms | ${(r.peakRss / MiB).toFixed(0)} MiB (${(r.baseRss / MiB).toFixed(0)} MiB) |`);
  }
  // Judged on CPU time: on a loaded runner wall time waits for other processes.
  const slow = rows.slice(0, 3).filter(([, r]) => r.cpuMs >= 50);
  const fat = rows.filter(([, r]) => r.peakRss > 256 * MiB);
  console.log(`\nTargets: 10 GiB headers < 50 ms of CPU (${slow.length ? `MISSED: ${slow.map(([n]) => n).join('; ')}` : 'met'}), peak RSS ≤ 256 MiB (${fat.length ? `MISSED: ${fat.map(([n]) => n).join('; ')}` : 'met'}).`);
}

if (process.argv[2] === CHILD) await checkInChild(process.argv.slice(3));
