/**
 * Output formats of `get`: `ps` (calicoctl's table: NAME, plus a few kind-specific columns),
 * `wide` (more columns), `yaml` / `json` (projectcalico.org/v3 documents; a `<Kind>List` for a
 * list query), `custom-columns=HEADER:.path,...`. Pure.
 */
import { CALICO_API_VERSION, formatDocuments, isNamespaced, type AnyResource, type Kind } from '@tabby/api';
import { stringify } from 'yaml';
import { ctlError } from './errors.js';

/** A column: its header and a `.path` into the resource, or a function (calicoctl's templates with conditions). */
type Col = [header: string, path: string | ((r: AnyResource) => string)];

/** `value`, or calicoctl's `-` for unset. */
const orDash = (path: string) => (r: AnyResource): string => pathValue(r, path) || '-';
/** A BGPPeer's NODE as calicoctl prints it: the node, else its node selector, else `(global)`. */
const peerNode = (r: AnyResource): string => pathValue(r, '.spec.node') || pathValue(r, '.spec.nodeSelector') || '(global)';
const BGP_CONFIG: Col[] = [['NAME', '.metadata.name'], ['LOGSEVERITY', '.spec.logSeverityScreen'], ['MESHENABLED', orDash('.spec.nodeToNodeMeshEnabled')], ['ASNUMBER', orDash('.spec.asNumber')]];
const BGP_PEER: Col[] = [['NAME', '.metadata.name'], ['PEERIP', '.spec.peerIP'], ['NODE', peerNode], ['ASN', '.spec.asNumber']];

const PS: Partial<Record<Kind, Col[]>> = {
  IPPool: [['NAME', '.metadata.name'], ['CIDR', '.spec.cidr'], ['SELECTOR', '.spec.nodeSelector']],
  WorkloadEndpoint: [['WORKLOAD', '.spec.pod'], ['NODE', '.spec.node'], ['NETWORKS', '.spec.ipNetworks'], ['INTERFACE', '.spec.interfaceName']],
  BGPPeer: BGP_PEER,
  BGPConfiguration: BGP_CONFIG,
  Node: [['NAME', '.metadata.name']],
};

const WIDE: Partial<Record<Kind, Col[]>> = {
  IPPool: [['NAME', '.metadata.name'], ['CIDR', '.spec.cidr'], ['NAT', '.spec.natOutgoing'], ['IPIPMODE', '.spec.ipipMode'], ['VXLANMODE', '.spec.vxlanMode'], ['DISABLED', '.spec.disabled'], ['DISABLEBGPEXPORT', '.spec.disableBGPExport'], ['SELECTOR', '.spec.nodeSelector']],
  WorkloadEndpoint: [['NAME', '.metadata.name'], ['WORKLOAD', '.spec.pod'], ['NODE', '.spec.node'], ['NETWORKS', '.spec.ipNetworks'], ['INTERFACE', '.spec.interfaceName'], ['PROFILES', '.spec.profiles'], ['NATS', '.spec.ipNATs']],
  Node: [['NAME', '.metadata.name'], ['ASN', '.spec.bgp.asNumber'], ['IPV4', '.spec.bgp.ipv4Address'], ['IPV6', '.spec.bgp.ipv6Address']],
};

/** The value at `.a.b.c` (arrays joined with ','; absent as ''). */
export function pathValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const part of path.replace(/^\./, '').split('.').filter(Boolean)) {
    if (typeof cur !== 'object' || cur === null) return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return '';
  if (Array.isArray(cur)) return cur.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(',');
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

/** A left-aligned table, columns separated by at least three spaces (calicoctl's look). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** A boxed table with `+---+` borders (calicoctl's `ipam show` and `node status` look); `right`: right-aligned columns. */
export function box(header: string[], rows: string[][], opts: { right?: number[] } = {}): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const sep = '+' + w.map((n) => '-'.repeat(n + 2)).join('+') + '+';
  const pad = (c: string, i: number, head: boolean): string => (!head && opts.right?.includes(i) ? c.padStart(w[i] ?? 0) : c.padEnd(w[i] ?? 0));
  const line = (cells: string[], head = false): string => '| ' + cells.map((c, i) => pad(c, i, head)).join(' | ') + ' |';
  return [sep, line(header, true), sep, ...rows.map((r) => line(r)), sep].join('\n') + '\n';
}

function columnsFor(kind: Kind, wide: boolean, withNamespace: boolean): Col[] {
  const cols = (wide ? WIDE[kind] ?? PS[kind] : PS[kind]) ?? [['NAME', '.metadata.name']];
  return withNamespace && isNamespaced(kind) ? [['NAMESPACE', '.metadata.namespace'], ...cols] : cols;
}

/**
 * Renders resources of one kind in `format`. A list query (`asList`) prints, in yaml and json,
 * one `<Kind>List` as calicoctl does (keys in its order), even for zero or one item.
 */
export function render(kind: Kind, items: AnyResource[], format: string, allNamespaces: boolean, asList = false): string {
  if (format === 'yaml' || format === 'json') {
    const docs = items.map((r) => ({ ...r, apiVersion: CALICO_API_VERSION, metadata: { ...r.metadata } }));
    if (!asList) return formatDocuments(docs, format, { apiVersion: CALICO_API_VERSION });
    const list = { apiVersion: CALICO_API_VERSION, items: docs, kind: `${kind}List`, metadata: {} };
    return format === 'json' ? `${JSON.stringify(list, null, 2)}\n` : stringify(list, { lineWidth: 0, version: '1.2' });
  }
  let cols: Col[];
  if (format === 'ps' || format === 'wide') cols = columnsFor(kind, format === 'wide', allNamespaces);
  else if (format.startsWith('custom-columns=')) {
    cols = format.slice('custom-columns='.length).split(',').map((spec) => {
      const i = spec.indexOf(':');
      if (i <= 0) throw ctlError('usage', `custom-columns: "${spec}" is not HEADER:.path`);
      return [spec.slice(0, i), spec.slice(i + 1)] as Col;
    });
  } else throw ctlError('usage', `unknown output format "${format}"; one of ps, wide, yaml, json, custom-columns=H:.path,...`);
  return table(cols.map((c) => c[0]), items.map((r) => cols.map(([, at]) => (typeof at === 'string' ? pathValue(r, at) : at(r)))));
}
