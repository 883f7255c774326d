/**
 * The ADD result (SPEC.md "Success"): interfaces (host side without `sandbox`, pod side with
 * it), ips with the index of their interface, routes and dns. Versions 0.3.x/0.4.0 carry
 * `ips[].version`; 1.0.0 and later drop it. Pure.
 */
import { atLeast1 } from './config.js';
import { cniError } from './errors.js';

/** One interface of a result. */
export interface ResultInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}

/** One address of a result. */
export interface ResultIp {
  /** CIDR: the address with its prefix length (/32, /128 for pods). */
  address: string;
  gateway?: string;
  interface?: number;
  version?: '4' | '6';
}

/** One route of a result. */
export interface ResultRoute {
  dst: string;
  gw?: string;
}

/** The success result of ADD (and the prevResult of CHECK and DEL). */
export interface CniResult {
  cniVersion: string;
  interfaces?: ResultInterface[];
  ips?: ResultIp[];
  routes?: ResultRoute[];
  dns?: Record<string, unknown>;
}

/** Sets `version` on each IP for pre-1.0 results, and removes it from 1.0+ ones. */
export function forVersion(r: CniResult, cniVersion: string): CniResult {
  const v1 = atLeast1(cniVersion);
  const ips = r.ips?.map((ip) => {
    const rest: ResultIp = { ...ip };
    delete rest.version;
    return v1 ? rest : { ...rest, version: ip.address.includes(':') ? ('6' as const) : ('4' as const) };
  });
  return { ...r, cniVersion, ...(ips ? { ips } : {}) };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a prevResult; throws invalid-config naming the field when its shape is wrong. */
export function parseResult(v: unknown, field = 'prevResult'): CniResult {
  if (!isObj(v)) throw cniError('invalid-config', `${field}: expected an object`);
  const out: CniResult = { cniVersion: typeof v.cniVersion === 'string' ? v.cniVersion : '' };
  if (v.interfaces !== undefined) {
    if (!Array.isArray(v.interfaces)) throw cniError('invalid-config', `${field}.interfaces: expected a list`);
    out.interfaces = v.interfaces.map((i: unknown, n) => {
      if (!isObj(i) || typeof i.name !== 'string') throw cniError('invalid-config', `${field}.interfaces[${n}].name: expected a string`);
      return { name: i.name, ...(typeof i.mac === 'string' ? { mac: i.mac } : {}), ...(typeof i.sandbox === 'string' ? { sandbox: i.sandbox } : {}) };
    });
  }
  if (v.ips !== undefined) {
    if (!Array.isArray(v.ips)) throw cniError('invalid-config', `${field}.ips: expected a list`);
    out.ips = v.ips.map((i: unknown, n) => {
      if (!isObj(i) || typeof i.address !== 'string') throw cniError('invalid-config', `${field}.ips[${n}].address: expected a string`);
      return {
        address: i.address,
        ...(typeof i.gateway === 'string' ? { gateway: i.gateway } : {}),
        ...(typeof i.interface === 'number' ? { interface: i.interface } : {}),
      };
    });
  }
  if (v.routes !== undefined) {
    if (!Array.isArray(v.routes)) throw cniError('invalid-config', `${field}.routes: expected a list`);
    out.routes = v.routes.map((r: unknown, n) => {
      if (!isObj(r) || typeof r.dst !== 'string') throw cniError('invalid-config', `${field}.routes[${n}].dst: expected a string`);
      return { dst: r.dst, ...(typeof r.gw === 'string' ? { gw: r.gw } : {}) };
    });
  }
  if (isObj(v.dns)) out.dns = v.dns;
  return out;
}

/** The address part of a CIDR ("10.0.0.5/32" → "10.0.0.5"). */
export function addrOf(cidr: string): string {
  const i = cidr.indexOf('/');
  return i < 0 ? cidr : cidr.slice(0, i);
}

/** A host CIDR for an address: /32 or /128. */
export function hostCidr(ip: string): string {
  return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
}
