// Pickle scanner throughput (DESIGN §10): opcode-dense pickles must scan at
// ≥ 100 MB/s, and large byte payloads must be skipped at I/O speed.
// The corpus is generated under .bench/pickle/, assembled opcode by opcode
// here: nothing is produced by Python and nothing is ever unpickled.
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, open, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { bundleSources, ensureFile, median } from './common.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dir = path.join(root, '.bench', 'pickle');
const MiB = 1024 * 1024;
const RUNS = 5;
/** argv[2] of the child process that does the scanning. */
const CHILD = '--scan-in-child';

/** An opcode-dense pickle body: a list of ints, floats, memoised short strings, tuples and small dicts, in APPENDS batches of 1000. */
function densePickle(targetBytes, proto, seed) {
  const buf = Buffer.allocUnsafe(targetBytes + 64 * 1024);
  let o = 0;
  let memo = 0;
  const put = () => {
    if (proto >= 4) {
      buf[o++] = 0x94; // MEMOIZE
    } else if (memo < 256) {
      buf[o++] = 0x71; // BINPUT
      buf[o++] = memo;
    } else {
      buf[o++] = 0x72; // LONG_BINPUT
      buf.writeUInt32LE(memo, o);
      o += 4;
    }
    memo++;
  };
  const str = (s) => {
    if (proto < 4) {
      buf[o++] = 0x58; // BINUNICODE
      buf.writeUInt32LE(s.length, o);
      o += 4;
    } else {
      buf[o++] = 0x8c; // SHORT_BINUNICODE
      buf[o++] = s.length;
    }
    o += buf.write(s, o, 'latin1');
    put();
  };
  buf[o++] = 0x80;
  buf[o++] = proto;
  buf[o++] = 0x5d; // EMPTY_LIST
  put();
  let i = seed;
  while (o < targetBytes) {
    buf[o++] = 0x28; // MARK
    for (let k = 0; k < 1000 && o < targetBytes; k++, i++) {
      switch (i % 6) {
        case 0:
          buf[o++] = 0x4a; // BININT
          buf.writeInt32LE(i | 0, o);
          o += 4;
          break;
        case 1:
          buf[o++] = 0x47; // BINFLOAT
          buf.writeDoubleBE(i / 7, o);
          o += 8;
          break;
        case 2:
          str(`tok${i % 5000}`);
          break;
        case 3:
          buf[o++] = 0x4b; // BININT1
          buf[o++] = i & 0xff;
          buf[o++] = 0x4e; // NONE
          buf[o++] = 0x86; // TUPLE2
          put();
          break;
        case 4:
          buf[o++] = 0x7d; // EMPTY_DICT
          put();
          str('k');
          buf[o++] = 0x4d; // BININT2
          buf.writeUInt16LE(i & 0xffff, o);
          o += 2;
          buf[o++] = 0x73; // SETITEM
          break;
        default:
          buf[o++] = 0x88 + (i & 1); // NEWTRUE / NEWFALSE
      }
    }
    buf[o++] = 0x65; // APPENDS
  }
  buf[o++] = 0x2e; // STOP
  return buf.subarray(0, o);
}

/** The memo's worst case: 4,000,000 distinct short strings, each memoised (the memo cap), in APPENDS batches of 1000. */
function memoWidePickle() {
  const n = 4_000_000;
  const buf = Buffer.allocUnsafe(n * 12);
  let o = 0;
  buf[o++] = 0x80;
  buf[o++] = 4;
  buf[o++] = 0x5d; // EMPTY_LIST
  for (let i = 0; i < n; i += 1000) {
    buf[o++] = 0x28; // MARK
    for (let j = i; j < i + 1000; j++) {
      const s = `s${j.toString(36)}`;
      buf[o++] = 0x8c; // SHORT_BINUNICODE
      buf[o++] = s.length;
      o += buf.write(s, o, 'latin1');
      buf[o++] = 0x94; // MEMOIZE
    }
    buf[o++] = 0x65; // APPENDS
  }
  buf[o++] = 0x2e; // STOP
  return buf.subarray(0, o);
}

/** A torch.save-style data.pkl: OrderedDict of tensors rebuilt by _rebuild_tensor_v2 over persistent storages. */
function torchDataPkl(tensors) {
  const parts = [Buffer.from('\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01(', 'latin1')];
  for (let t = 0; t < tensors; t++) {
    const key = `layer${t}.weight`;
    parts.push(Buffer.from(`X${String.fromCharCode(key.length)}\x00\x00\x00${key}ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX${String.fromCharCode(String(t).length)}\x00\x00\x00${t}X\x03\x00\x00\x00cpuJ\x00\x00\x00\x01tQK\x00M\x00\x10K\x10\x86K\x10K\x01\x86\x89ccollections\nOrderedDict\n)RtR`, 'latin1'));
  }
  parts.push(Buffer.from('u.', 'latin1'));
  return Buffer.concat(parts);
}

/** Writes a stored zip (PyTorch layout) with one big data member streamed to disk. */
async function writeTorchZip(file, dataBytes) {
  const h = await open(file, 'w');
  let off = 0;
  const central = [];
  const add = async (name, size, writeBody) => {
    const n = Buffer.from(name);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(45, 4);
    lh.writeUInt32LE(size > 0xffffffff ? 0xffffffff : size, 18);
    lh.writeUInt32LE(size > 0xffffffff ? 0xffffffff : size, 22);
    lh.writeUInt16LE(n.length, 26);
    const at = off;
    await h.write(Buffer.concat([lh, n]));
    off += 30 + n.length;
    await writeBody();
    off += size;
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(45, 4);
    ch.writeUInt16LE(45, 6);
    ch.writeUInt32LE(0xffffffff, 20);
    ch.writeUInt32LE(0xffffffff, 24);
    ch.writeUInt16LE(n.length, 28);
    ch.writeUInt16LE(28, 30);
    ch.writeUInt32LE(0xffffffff, 42);
    const extra = Buffer.alloc(28);
    extra.writeUInt16LE(1, 0);
    extra.writeUInt16LE(24, 2);
    extra.writeBigUInt64LE(BigInt(size), 4);
    extra.writeBigUInt64LE(BigInt(size), 12);
    extra.writeBigUInt64LE(BigInt(at), 20);
    central.push(Buffer.concat([ch, n, extra]));
  };
  const pkl = torchDataPkl(2000);
  await add('archive/data.pkl', pkl.length, () => h.write(pkl));
  await add('archive/version', 2, () => h.write('3\n'));
  const chunk = Buffer.alloc(16 * MiB);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeFloatLE(Math.sin(i), i);
  await add('archive/data/0', dataBytes, async () => {
    for (let left = dataBytes; left > 0; left -= chunk.length) await h.write(chunk, 0, Math.min(chunk.length, left));
  });
  const cdAt = off;
  const cd = Buffer.concat(central);
  const e64 = Buffer.alloc(56);
  e64.writeUInt32LE(0x06064b50, 0);
  e64.writeBigUInt64LE(44n, 4);
  e64.writeBigUInt64LE(BigInt(central.length), 24);
  e64.writeBigUInt64LE(BigInt(central.length), 32);
  e64.writeBigUInt64LE(BigInt(cd.length), 40);
  e64.writeBigUInt64LE(BigInt(cdAt), 48);
  const loc = Buffer.alloc(20);
  loc.writeUInt32LE(0x07064b50, 0);
  loc.writeBigUInt64LE(BigInt(cdAt + cd.length), 8);
  // Total number of disks: 1, as zipfile and PyTorch write it; miniz refuses any other value.
  loc.writeUInt32LE(1, 16);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.fill(0xff, 8, 20);
  await h.write(Buffer.concat([cd, e64, loc, eocd]));
  await h.close();
}

/** A raw protocol-4 pickle holding big BINBYTES8 blobs in a list. */
async function writeBlobPickle(file, blobs, blobBytes) {
  const h = await open(file, 'w');
  await h.write(Buffer.from([0x80, 4, 0x5d, 0x94, 0x28]));
  const head = Buffer.alloc(9);
  head[0] = 0x8e;
  head.writeBigUInt64LE(BigInt(blobBytes), 1);
  const chunk = Buffer.alloc(16 * MiB, 0x5a);
  for (let b = 0; b < blobs; b++) {
    await h.write(head);
    for (let left = blobBytes; left > 0; left -= chunk.length) await h.write(chunk, 0, Math.min(chunk.length, left));
  }
  await h.write(Buffer.from([0x65, 0x2e]));
  await h.close();
}

/**
 * The scanner as the action runs it: one esbuild bundle, no TypeScript loader
 * (whose own thread and heap would otherwise be counted as the scanner's).
 */
async function bundleScanner() {
  return bundleSources(path.join(dir, 'scanner.mjs'), [
    "export { scanModelFile } from './src/formats/pickle/model-file.ts';",
    "export { compileAllowList } from './src/formats/pickle/classify.ts';",
  ]);
}

/**
 * Child side: scans the files RUNS times and prints timings and the kernel's
 * peak RSS of this process, which only ever held the scanner and its input.
 */
async function scanInChild([bundle, ...files]) {
  const { scanModelFile, compileAllowList } = await import(pathToFileURL(bundle).href);
  const opts = { allow: compileAllowList([]), maxBytes: 512 * MiB };
  const baseRss = process.resourceUsage().maxRSS * 1024;
  const times = [];
  const cpu = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (const f of files) {
      const res = await scanModelFile(f, 'strict', opts);
      if (res.issues.length) throw new Error(`false positive on ${f}: ${res.issues[0].message}`);
    }
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    times.push(performance.now() - t0);
  }
  process.stdout.write(JSON.stringify({ times, cpu, baseRss, peakRss: process.resourceUsage().maxRSS * 1024 }));
}

/** Each corpus in a fresh process, so one's heap neither helps nor burdens the next. */
async function measure(bundle, files) {
  let bytes = 0;
  for (const f of files) bytes += (await stat(f)).size;
  const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(import.meta.url), CHILD, bundle, ...files], { maxBuffer: 1024 * 1024 });
  const { times, cpu, baseRss, peakRss } = JSON.parse(stdout);
  const ms = median(times);
  const cpuMs = median(cpu);
  return { bytes, ms, cpuMs, mbps: bytes / 1e6 / (ms / 1000), cpuMbps: bytes / 1e6 / (Math.max(cpuMs, 0.001) / 1000), baseRss, peakRss };
}

export default async function bench() {
  await mkdir(dir, { recursive: true });
  const dense = [];
  for (let i = 0; i < 24; i++) {
    const f = path.join(dir, `dense-${i}.pkl`);
    await ensureFile(f, (x) => writeFile(x, densePickle(8 * MiB, i % 2 ? 4 : 2, i * 7919)));
    dense.push(f);
  }
  const zipFile = path.join(dir, 'checkpoint-zip.pt');
  await ensureFile(zipFile, (x) => writeTorchZip(x, 2048 * MiB));
  const blobFile = path.join(dir, 'blobs.pkl');
  await ensureFile(blobFile, (x) => writeBlobPickle(x, 8, 128 * MiB));
  const wideFile = path.join(dir, 'memo-wide.pkl');
  await ensureFile(wideFile, (x) => writeFile(x, memoWidePickle()));
  const bundle = await bundleScanner();

  const rows = [
    ['opcode-dense pickles (24 × 8 MiB, protocols 2 and 4)', await measure(bundle, dense)],
    ['PyTorch zip checkpoint (2 GiB stored data member, 2000-tensor data.pkl)', await measure(bundle, [zipFile])],
    ['raw pickle of 8 × 128 MiB BINBYTES8 blobs', await measure(bundle, [blobFile])],
    ['4,000,000 distinct memoised strings (the memo cap; RSS must stay bounded)', await measure(bundle, [wideFile])],
  ];
  // CPU time is shown too: on a shared runner, wall time also measures the neighbours.
  console.log(`| corpus | bytes | wall (median of ${RUNS}) | throughput | CPU time | per CPU second | peak RSS (after loading) |`);
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, r] of rows) {
    console.log(`| ${name} | ${(r.bytes / MiB).toFixed(0)} MiB | ${r.ms.toFixed(0)} ms | ${r.mbps.toFixed(0)} MB/s | ${r.cpuMs.toFixed(0)} ms | ${r.cpuMbps.toFixed(0)} MB/s | ${(r.peakRss / MiB).toFixed(0)} MiB (${(r.baseRss / MiB).toFixed(0)} MiB) |`);
  }
  console.log('\nPeak RSS is the kernel\'s high-water mark of a process that only loads the bundled scanner and scans that corpus.');
  try {
    execFileSync('python3', ['-c', 'import picklescan'], { stdio: 'ignore' });
    const t0 = performance.now();
    execFileSync('python3', ['-m', 'picklescan', '--path', dense[0]], { stdio: 'ignore' });
    const s = (performance.now() - t0) / 1000;
    console.log(`picklescan on one 8 MiB dense pickle: ${(8 * 1.048576 / s).toFixed(1)} MB/s (including interpreter start-up)`);
  } catch {
    console.log('picklescan is not installed: no comparison run');
  }
}

if (process.argv[2] === CHILD) await scanInChild(process.argv.slice(3));
