/**
 * Zod field schemas shared by the kinds: addresses, CIDRs, AS numbers, ports, protocols,
 * selectors, label maps, names and durations. Each produces one plain-English message that
 * names the bad value (translated by issues.ts), and normalises where Calico does (AS number
 * strings become numbers, protocol names get Calico's spelling).
 */
import { z } from 'zod';
import { isTabbyError } from '../errors.js';
import { parseCidr, parseCidrOrIp, tryParseIp, type Cidr, type IpFamily } from '../net/cidr.js';
import { parseSelector } from '../selector/parser.js';
import { describeValue } from './issues.js';
import { withOpenApi, type OpenApiSchema } from './openapi-hints.js';

/** Outcome of parsing one field. */
export type FieldResult<T> = { value: T } | { error: string };

/**
 * A schema for a required field from a parse function; a missing value is reported as such.
 * `openapi` is the field's shape in the CRDs (crd-schema.ts).
 */
export function field<T>(parse: (v: unknown) => FieldResult<T>, openapi: OpenApiSchema): z.ZodType<T, z.ZodTypeDef, unknown> {
  const schema = z.unknown().transform((v, ctx) => {
    if (v === undefined) {
      ctx.addIssue({ code: 'custom', message: 'required field is missing' });
      return z.NEVER;
    }
    const r = parse(v);
    if ('error' in r) {
      ctx.addIssue({ code: 'custom', message: r.error });
      return z.NEVER;
    }
    return r.value;
  });
  return withOpenApi(schema, openapi);
}

function stringOf(v: unknown): FieldResult<string> {
  return typeof v === 'string' ? { value: v } : { error: `expected a string, got ${describeValue(v)}` };
}

/** An integer in [min, max]: `33 is outside 20-32`. */
export function intIn(min: number, max: number): z.ZodType<number, z.ZodTypeDef, unknown> {
  return field<number>((v) => {
    if (typeof v !== 'number') return { error: `expected a number, got ${describeValue(v)}` };
    if (!Number.isInteger(v)) return { error: `${v} is not a whole number` };
    if (v < min || v > max) return { error: `${v} is outside ${min}-${max}` };
    return { value: v };
  }, { type: 'integer', minimum: min, maximum: max });
}

/** true or false. */
export const bool = field<boolean>((v) =>
  typeof v === 'boolean' ? { value: v } : { error: `expected true or false, got ${describeValue(v)}` },
{ type: 'boolean' });

/** A non-empty string. */
export const nonEmpty = field<string>((v) => {
  const s = stringOf(v);
  if ('error' in s) return s;
  return s.value === '' ? { error: 'must not be empty' } : s;
}, { type: 'string', minLength: 1 });

/** Any string. */
export const str = field<string>(stringOf, { type: 'string' });

/** One of the given strings: `"Sometimes" is not one of Never, Always, CrossSubnet`. */
export function oneOf<const T extends string>(values: readonly T[]): z.ZodType<T, z.ZodTypeDef, unknown> {
  return field<T>((v) => {
    if (typeof v === 'string' && (values as readonly string[]).includes(v)) return { value: v as T };
    return { error: `${describeValue(v)} is not one of ${values.join(', ')}` };
  }, { type: 'string', enum: [...values] });
}

/** A CIDR; with `canonical`, returned in canonical form (host bits cleared, RFC 5952). */
export function cidr(opts: { canonical?: boolean; family?: IpFamily; allowIp?: boolean } = {}): z.ZodType<string, z.ZodTypeDef, unknown> {
  return field<string>((v) => {
    const s = stringOf(v);
    if ('error' in s) return s;
    let c: Cidr;
    try {
      c = opts.allowIp ? parseCidrOrIp(s.value) : parseCidr(s.value);
    } catch (e: unknown) {
      if (isTabbyError(e)) return { error: e.message };
      throw e;
    }
    if (opts.family !== undefined && c.family !== opts.family) {
      return { error: `${describeValue(s.value)} is not an IPv${opts.family} CIDR` };
    }
    return { value: opts.canonical ? c.text : s.value };
  }, { type: 'string', description: `An IPv${opts.family ?? '4 or IPv6'} CIDR${opts.allowIp ? ' or address' : ''}, e.g. ${opts.family === 6 ? 'fd00::/64' : '192.168.0.0/16'}.` });
}

/** An address `a.b.c.d/len` or `v6/len` (a host address with its subnet, as Node.bgp uses). */
export function addressWithPrefix(family: IpFamily): z.ZodType<string, z.ZodTypeDef, unknown> {
  return field<string>((v) => {
    const s = stringOf(v);
    if ('error' in s) return s;
    const [ip, len, extra] = s.value.split('/');
    const addr = tryParseIp(ip ?? '');
    const max = family === 4 ? 32 : 128;
    const n = Number(len);
    if (!addr || addr.family !== family || extra !== undefined || (len !== undefined && !(/^\d{1,3}$/.test(len) && n <= max))) {
      return { error: `${describeValue(s.value)} is not an IPv${family} address with optional /prefix-length (for example ${family === 4 ? '10.0.0.1/24' : 'fd00::1/64'})` };
    }
    return { value: s.value };
  }, { type: 'string', description: `An IPv${family} address with optional /prefix-length, e.g. ${family === 4 ? '10.0.0.1/24' : 'fd00::1/64'}.` });
}

/** An IP address of either (or the given) family. */
export function ip(family?: IpFamily): z.ZodType<string, z.ZodTypeDef, unknown> {
  return field<string>((v) => {
    const s = stringOf(v);
    if ('error' in s) return s;
    const a = tryParseIp(s.value);
    if (!a) return { error: `${describeValue(s.value)} is not a valid ${family ? `IPv${family}` : 'IP'} address` };
    if (family !== undefined && a.family !== family) return { error: `${describeValue(s.value)} is not an IPv${family} address` };
    return { value: s.value };
  }, { type: 'string', description: `An IPv${family ?? '4 or IPv6'} address.` });
}

/** Largest 4-byte AS number (RFC 6793). */
export const MAX_AS_NUMBER = 4294967295;

/**
 * An AS number 1-4294967295. Like Calico's numorstring.ASNumber it also accepts a string of
 * digits ("64512") and the asdot form "1.10" (RFC 5396: high.low = high*65536 + low).
 */
export const asNumber = field<number>((v) => {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\d{1,10}$/.test(v)) n = Number(v);
  else if (typeof v === 'string' && /^\d{1,5}\.\d{1,5}$/.test(v)) {
    const [hi, lo] = v.split('.').map(Number) as [number, number];
    if (hi > 65535 || lo > 65535) return { error: `${describeValue(v)} is not a valid asdot AS number (both parts must be 0-65535)` };
    n = hi * 65536 + lo;
  } else {
    return { error: `${describeValue(v)} is not an AS number (use 1-${MAX_AS_NUMBER} or the dotted form like 1.10)` };
  }
  if (!Number.isInteger(n) || n < 1 || n > MAX_AS_NUMBER) return { error: `${describeValue(v)} is outside 1-${MAX_AS_NUMBER}` };
  return { value: n };
}, { 'x-kubernetes-int-or-string': true, description: `An AS number 1-${MAX_AS_NUMBER}, or a string of digits or asdot (1.10).` });

/** A selector that parses; the message names the column and what was expected. */
export const selector = field<string>((v) => {
  const s = stringOf(v);
  if ('error' in s) return s;
  try {
    parseSelector(s.value);
    return s;
  } catch (e: unknown) {
    if (isTabbyError(e, 'InvalidSelector')) {
      return { error: `invalid selector ${describeValue(s.value)}: at column ${String(e.details.column)}: ${String(e.details.reason)}` };
    }
    throw e;
  }
}, { type: 'string', description: 'A Calico selector expression, e.g. `role == "db" && has(zone)`.' });

/** A Go duration like `90s`, `1m30s`, `500ms`, `0`. */
export const duration = field<string>((v) => {
  const s = stringOf(v);
  if ('error' in s) return s;
  if (s.value === '0' || /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(s.value)) return s;
  return { error: `${describeValue(s.value)} is not a duration (for example 90s, 1m30s, 500ms)` };
}, { type: 'string', description: 'A duration, e.g. 90s, 1m30s, 500ms.' });

/** A MAC address aa:bb:cc:dd:ee:ff. */
export const mac = field<string>((v) => {
  const s = stringOf(v);
  if ('error' in s) return s;
  return /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(s.value) ? s : { error: `${describeValue(s.value)} is not a MAC address (aa:bb:cc:dd:ee:ff)` };
}, { type: 'string', description: 'A MAC address aa:bb:cc:dd:ee:ff.' });

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Why `key` is not a valid Kubernetes label key (`[prefix/]name`), or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) {
      return `label key prefix ${describeValue(prefix)} must be a lowercase DNS subdomain of at most 253 characters`;
    }
  }
  if (name.length === 0) return 'label key name must not be empty';
  if (name.length > 63) return `label key name is ${name.length} characters long; at most 63 are allowed`;
  if (!LABEL_NAME.test(name)) {
    return `label key name ${describeValue(name)} must start and end with a letter or digit and contain only letters, digits, "-", "_" and "."`;
  }
  return undefined;
}

/** Why `value` is not a valid Kubernetes label value, or undefined. */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return `label value is ${value.length} characters long; at most 63 are allowed`;
  if (value !== '' && !LABEL_NAME.test(value)) {
    return `label value ${describeValue(value)} must start and end with a letter or digit and contain only letters, digits, "-", "_" and "."`;
  }
  return undefined;
}

/** A label map with Kubernetes-valid keys and values; issues point at the key. */
export const labels = z.record(z.string(), z.unknown()).superRefine((m, ctx) => {
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'string') {
      ctx.addIssue({ code: 'custom', path: [k], message: `label values must be strings, got ${describeValue(v)} (quote it in YAML)` });
      continue;
    }
    const problem = labelKeyProblem(k) ?? labelValueProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', path: [k], message: problem });
  }
}) as unknown as z.ZodType<Record<string, string>, z.ZodTypeDef, unknown>;
withOpenApi(labels, { type: 'object', additionalProperties: { type: 'string' } });

/** Annotations: string values, keys as label keys (values unrestricted). */
export const annotations = z.record(z.string(), z.unknown()).superRefine((m, ctx) => {
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'string') ctx.addIssue({ code: 'custom', path: [k], message: `annotation values must be strings, got ${describeValue(v)}` });
    const problem = labelKeyProblem(k);
    if (problem) ctx.addIssue({ code: 'custom', path: [k], message: problem.replace('label key', 'annotation key') });
  }
}) as unknown as z.ZodType<Record<string, string>, z.ZodTypeDef, unknown>;
withOpenApi(annotations, { type: 'object', additionalProperties: { type: 'string' } });

/** Why `name` is not a lowercase RFC 1123 subdomain (≤253), or undefined. */
export function dnsSubdomainProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 253) return `${describeValue(name)} is longer than 253 characters`;
  if (!DNS1123_SUBDOMAIN.test(name)) {
    return `${describeValue(name)} must consist of lowercase letters, digits, "-" and ".", and start and end with a letter or digit`;
  }
  return undefined;
}

/** Protocol names Calico accepts in rules, in Calico's spelling. */
export const PROTOCOL_NAMES = ['TCP', 'UDP', 'ICMP', 'ICMPv6', 'SCTP', 'UDPLite'] as const;

/** A protocol: one of PROTOCOL_NAMES (any case; normalised) or a number 1-255 (numeric strings too). */
export const protocol = field<string | number>((v) => {
  if (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v))) {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 255) return { error: `protocol number ${describeValue(v)} is outside 1-255` };
    return { value: n };
  }
  if (typeof v === 'string') {
    const name = PROTOCOL_NAMES.find((p) => p.toLowerCase() === v.toLowerCase());
    if (name) return { value: name };
  }
  return { error: `${describeValue(v)} is not a protocol (use ${PROTOCOL_NAMES.join(', ')} or a number 1-255)` };
}, { 'x-kubernetes-int-or-string': true, description: `A protocol: ${PROTOCOL_NAMES.join(', ')} or a number 1-255.` });

const NAMED_PORT = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** A rule port: a number 0-65535, a range "80:90", or a named port (IANA service name rules). */
export const port = field<number | string>((v) => {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 65535) return { error: `port ${v} is outside 0-65535` };
    return { value: v };
  }
  if (typeof v !== 'string') return { error: `expected a port number, range or name, got ${describeValue(v)}` };
  const range = /^(\d+)(?::(\d+))?$/.exec(v);
  if (range) {
    const lo = Number(range[1]);
    const hi = range[2] === undefined ? lo : Number(range[2]);
    if (lo > 65535 || hi > 65535) return { error: `port range ${describeValue(v)} is outside 0-65535` };
    if (lo > hi) return { error: `port range ${describeValue(v)} has its first port after its last` };
    return { value: v };
  }
  if (v.length <= 15 && NAMED_PORT.test(v) && /[a-z]/.test(v) && !v.includes('--')) return { value: v };
  return { error: `${describeValue(v)} is not a port (use a number 0-65535, a range like "80:90", or a named port of at most 15 lowercase letters, digits and "-")` };
}, { 'x-kubernetes-int-or-string': true, description: 'A port number 0-65535, a range "80:90", or a named port.' });
