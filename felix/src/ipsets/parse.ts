/**
 * Parsing `ipset save` output and canonical member text. ipset prints a hash:net member of full
 * length without its prefix (`10.0.0.1`, not `10.0.0.1/32`) and IPv6 in canonical form; members
 * are compared in that form.
 */
import { canonicalCidr, canonicalIp } from '@tabby/api';

/** One set as saved. */
export interface SavedSet {
  name: string;
  type: string;
  family: 4 | 6;
  maxelem: number;
  members: Set<string>;
}

/** Parses `ipset save`; keeps only sets whose name passes `keep`. */
export function parseIpsetSave(text: string, keep: (name: string) => boolean): Map<string, SavedSet> {
  const out = new Map<string, SavedSet>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'create' && f[1] && keep(f[1])) {
      const fam = f[f.indexOf('family') + 1] === 'inet6' ? 6 : 4;
      const mi = f.indexOf('maxelem');
      out.set(f[1], { name: f[1], type: f[2] ?? '', family: fam, maxelem: mi > 0 ? Number(f[mi + 1]) : 65536, members: new Set() });
    } else if (f[0] === 'add' && f[1] && f[2]) {
      const s = out.get(f[1]);
      if (s) s.members.add(canonicalMember(s.type, f[2]));
    }
  }
  return out;
}

/** A member in the form ipset prints it. */
export function canonicalMember(type: string, m: string): string {
  try {
    if (type === 'hash:net') {
      if (!m.includes('/')) return canonicalIp(m);
      const c = canonicalCidr(m);
      const [ip, len] = c.split('/');
      return (c.includes(':') ? len === '128' : len === '32') ? (ip ?? c) : c;
    }
    if (type === 'hash:ip') return canonicalIp(m);
    if (type === 'hash:ip,port') {
      const i = m.lastIndexOf(',');
      return `${canonicalIp(m.slice(0, i))}${m.slice(i)}`;
    }
  } catch {
    /* keep as is */
  }
  return m;
}
