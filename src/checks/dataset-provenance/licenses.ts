/**
 * License identifiers as records write them — SPDX ids, Hugging Face's
 * lower-case ids, or a license URL (Croissant) — compared with an allow-list
 * of SPDX ids, case-insensitively.
 */

const CC_URL = /^https?:\/\/(?:www\.)?creativecommons\.org\/licenses\/([a-z-]+)\/(\d\.\d)\b/i;
const CC0_URL = /^https?:\/\/(?:www\.)?creativecommons\.org\/publicdomain\/zero\/1\.0\b/i;
const SPDX_URL = /^https?:\/\/(?:www\.)?spdx\.org\/licenses\/([A-Za-z0-9.+-]+?)(?:\.html|\.json)?\/?$/;
const OSI_URL = /^https?:\/\/(?:www\.)?opensource\.org\/licenses?\/([A-Za-z0-9.+-]+?)(?:\.php|\.html)?\/?$/;
const APACHE_URL = /^https?:\/\/(?:www\.)?apache\.org\/licenses\/LICENSE-2\.0\b/i;

/** A license URL → its SPDX id where the URL names one; anything else unchanged. */
export function spdxFromUrl(value: string): string {
  const v = value.trim();
  let m: RegExpExecArray | null;
  if ((m = CC_URL.exec(v))) return `CC-${m[1]!.toUpperCase()}-${m[2]}`;
  if (CC0_URL.test(v)) return 'CC0-1.0';
  if ((m = SPDX_URL.exec(v))) return m[1]!;
  if ((m = OSI_URL.exec(v))) return m[1]!;
  if (APACHE_URL.test(v)) return 'Apache-2.0';
  return v;
}

const MAX_TOKENS = 64;

/**
 * Whether a license (an SPDX expression, or a single id) is allowed: `A OR B`
 * needs one allowed side, `A AND B` both, and `A WITH exception` is judged by
 * `A` (an exception only adds permissions). What does not parse as an
 * expression is compared whole.
 */
export function licenseAllowed(license: string, allowed: readonly string[]): boolean {
  const allow = new Set(allowed.map((a) => a.toLowerCase()));
  const id = spdxFromUrl(license);
  if (allow.has(id.toLowerCase())) return true;
  const tokens = id.replace(/([()])/g, ' $1 ').trim().split(/\s+/);
  if (tokens.length < 2 || tokens.length > MAX_TOKENS) return false;
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const or = (): boolean | undefined => {
    let v = and();
    while (v !== undefined && peek()?.toUpperCase() === 'OR') {
      i++;
      const r = and();
      v = r === undefined ? undefined : v || r;
    }
    return v;
  };
  const and = (): boolean | undefined => {
    let v = atom();
    while (v !== undefined && peek()?.toUpperCase() === 'AND') {
      i++;
      const r = atom();
      v = r === undefined ? undefined : v && r;
    }
    return v;
  };
  const atom = (): boolean | undefined => {
    const t = tokens[i++];
    if (t === undefined || t === ')' || /^(AND|OR|WITH)$/i.test(t)) return undefined;
    if (t === '(') {
      const v = or();
      return tokens[i++] === ')' ? v : undefined;
    }
    if (peek()?.toUpperCase() === 'WITH') i += 2;
    return allow.has(t.toLowerCase()) || allow.has(t.replace(/\+$/, '').toLowerCase());
  };
  const result = or();
  return result === true && i === tokens.length;
}
