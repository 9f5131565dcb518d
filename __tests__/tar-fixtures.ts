// Tar archives written field by field (v7, ustar, GNU and pax), for the tar reader's tests.

export interface TarEntry {
  name: string;
  data: Buffer;
  /** Typeflag character; '0' by default. */
  type?: string;
  linkname?: string;
  /** ustar prefix field (joined to the name with '/'). */
  prefix?: string;
  /** Writes 'ustar\0' '00' (default) or leaves the magic empty (v7). */
  magic?: 'ustar' | 'gnu' | 'v7';
  /** Overrides the size field as written (the data written is still `data`). */
  sizeField?: Buffer;
  /** Corrupts the checksum. */
  badChecksum?: boolean;
}

const octal = (n: number, width: number): Buffer => Buffer.from(`${n.toString(8).padStart(width - 1, '0')}\0`, 'latin1');

/** One 512-byte header block with a valid checksum (unless asked otherwise). */
export function tarHeader(e: TarEntry, size = e.data.length): Buffer {
  const h = Buffer.alloc(512);
  Buffer.from(e.name, 'utf8').copy(h, 0, 0, 100);
  octal(0o644, 8).copy(h, 100);
  octal(0, 8).copy(h, 108);
  octal(0, 8).copy(h, 116);
  (e.sizeField ?? octal(size, 12)).copy(h, 124, 0, 12);
  octal(1_700_000_000, 12).copy(h, 136);
  h.write(e.type ?? '0', 156, 'latin1');
  if (e.linkname) Buffer.from(e.linkname, 'utf8').copy(h, 157, 0, 100);
  const magic = e.magic ?? 'ustar';
  if (magic === 'ustar') h.write('ustar\x0000', 257, 'latin1');
  else if (magic === 'gnu') h.write('ustar  \x00', 257, 'latin1');
  if (e.prefix) Buffer.from(e.prefix, 'utf8').copy(h, 345, 0, 155);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of h) sum += c;
  octal(e.badChecksum ? sum + 1 : sum, 7).copy(h, 148);
  h[155] = 0x20;
  return h;
}

const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

/** A GNU long-name ('L') header and its data, for the entry that follows it. */
export function gnuLongName(name: string): Buffer {
  const data = Buffer.from(`${name}\0`, 'utf8');
  return Buffer.concat([tarHeader({ name: '././@LongLink', data, type: 'L', magic: 'gnu' }), pad(data)]);
}

/** A pax record: "<length> <key>=<value>\n", the length counting itself. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** A pax extended ('x') or global ('g') header with its records. */
export function paxHeader(records: Record<string, string>, type: 'x' | 'g' = 'x'): Buffer {
  const data = Buffer.from(Object.entries(records).map(([k, v]) => paxRecord(k, v)).join(''), 'utf8');
  return Buffer.concat([tarHeader({ name: 'PaxHeader/x', data, type }), pad(data)]);
}

/** A member: header and data padded to the block. */
export function tarMember(e: TarEntry): Buffer {
  return Buffer.concat([tarHeader(e), pad(e.data)]);
}

/** A whole archive: members, then the two zero blocks of the end marker. */
export function tar(entries: TarEntry[]): Buffer {
  return Buffer.concat([...entries.map(tarMember), Buffer.alloc(1024)]);
}
