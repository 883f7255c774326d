/**
 * Rule → iptables match fragments, table-driven: one row per rule field, in Calico's render
 * order, each row citing what it implements. A row returns `null` when the rule cannot match in
 * the family being rendered (the whole rule is then left out of that family's chains), else a
 * list of alternatives (OR) of fragment lists (AND); the rule's iptables rules are the cross
 * product. Every ipset a fragment names is reported as a `SetRef` so the calculator keeps it.
 *
 * Invariant: the same rule renders the same text (sets are named from their content), so
 * policy chains can be cached by policy and compared by hash.
 */
import type { Cidr } from '@tabby/api';
import { ipsetName, namedPortSetId, netsSetId, selectorSetId } from './names.js';
import { iptProtocolName } from './protocol.js';
import type { EndpointMatch, EntityN, PolicyFamily, PolicyConfig, PortMatch, RuleN } from './types.js';

/** An ipset a rendered rule refers to, and how its members are computed. */
export type SetRef =
  | { name: string; family: PolicyFamily; type: 'hash:ip'; kind: 'selector'; match: EndpointMatch }
  | { name: string; family: PolicyFamily; type: 'hash:ip,port'; kind: 'named-port'; match?: EndpointMatch; port: string }
  | { name: string; family: PolicyFamily; type: 'hash:net'; kind: 'nets'; cidrs: string[] };

interface Ctx {
  family: PolicyFamily;
  sets: SetRef[];
}

type Alts = string[][] | null;

interface FieldRow {
  field: string;
  /** What the row implements (Calico's rule semantics / iptables match used). */
  rule: string;
  render(r: RuleN, ctx: Ctx): Alts;
}

/** iptables-extensions multiport: at most 15 ports, a range counting as two. */
const MULTIPORT_MAX = 15;

const one = (...frags: string[]): string[][] => [frags];
const none: string[][] = [[]];

function inFamily(cidrs: Cidr[], family: PolicyFamily): string[] {
  return cidrs.filter((c) => c.family === family).map((c) => c.text);
}

function portChunks(ports: PortMatch[]): string[] {
  const chunks: string[] = [];
  let cur: string[] = [];
  let weight = 0;
  for (const p of ports) {
    if (p.kind !== 'range') continue;
    const w = p.lo === p.hi ? 1 : 2;
    if (weight + w > MULTIPORT_MAX) {
      chunks.push(cur.join(','));
      cur = [];
      weight = 0;
    }
    cur.push(p.lo === p.hi ? String(p.lo) : `${p.lo}:${p.hi}`);
    weight += w;
  }
  if (cur.length) chunks.push(cur.join(','));
  return chunks;
}

function namedSet(ctx: Ctx, e: EntityN, name: string): string {
  const id = namedPortSetId(e.match?.id ?? 'all()', name);
  const ref: SetRef = { name: ipsetName(ctx.family, id), family: ctx.family, type: 'hash:ip,port', kind: 'named-port', port: name };
  if (e.match) ref.match = e.match;
  ctx.sets.push(ref);
  return ref.name;
}

function selSet(ctx: Ctx, m: EndpointMatch): string {
  const name = ipsetName(ctx.family, selectorSetId(m.id));
  ctx.sets.push({ name, family: ctx.family, type: 'hash:ip', kind: 'selector', match: m });
  return name;
}

function netSet(ctx: Ctx, cidrs: string[]): string {
  const name = ipsetName(ctx.family, netsSetId(cidrs));
  ctx.sets.push({ name, family: ctx.family, type: 'hash:net', kind: 'nets', cidrs });
  return name;
}

/** Rows for one side; `s` is src or dst. */
function sideRows(side: 'src' | 'dst'): FieldRow[] {
  const flag = side === 'src' ? '-s' : '-d';
  const dirn = side === 'src' ? 'src' : 'dst';
  const portOpt = side === 'src' ? '--source-ports' : '--destination-ports';
  const portDir = side === 'src' ? 'src,src' : 'dst,dst';
  return [
    {
      field: `${side}.nets`,
      rule: 'Calico: match any of nets; one CIDR inline, several as a hash:net ipset; none of this family → no match here',
      render: (r, ctx) => {
        const e = r[side];
        if (!e.nets.length) return none;
        const mine = inFamily(e.nets, ctx.family);
        if (!mine.length) return null;
        return one(mine.length === 1 ? `${flag} ${mine[0]}` : `-m set --match-set ${netSet(ctx, mine)} ${dirn}`);
      },
    },
    {
      field: `${side}.notNets`,
      rule: 'Calico: match none of notNets (negated -s/-d, or an ipset when nets holds the one -s/-d iptables allows)',
      render: (r, ctx) => {
        const mine = inFamily(r[side].notNets, ctx.family);
        if (!mine.length) return none;
        // iptables takes one -s / -d per rule: inline only when nets did not take it already.
        const inline = mine.length === 1 && inFamily(r[side].nets, ctx.family).length !== 1;
        return one(inline ? `! ${flag} ${mine[0]}` : `-m set ! --match-set ${netSet(ctx, mine)} ${dirn}`);
      },
    },
    {
      field: `${side}.selector`,
      rule: 'Calico: selector (+ namespaceSelector / serviceAccounts) → one hash:ip set of matching endpoints',
      render: (r, ctx) => {
        const m = r[side].match;
        return m ? one(`-m set --match-set ${selSet(ctx, m)} ${dirn}`) : none;
      },
    },
    {
      field: `${side}.notSelector`,
      rule: 'Calico: notSelector → negated set match',
      render: (r, ctx) => {
        const m = r[side].notMatch;
        return m ? one(`-m set ! --match-set ${selSet(ctx, m)} ${dirn}`) : none;
      },
    },
    {
      field: `${side}.ports`,
      rule: 'Calico: numeric ports via multiport (≤15 per rule, split) OR named ports via hash:ip,port sets',
      render: (r, ctx) => {
        const e = r[side];
        if (!e.ports.length) return none;
        const alts: string[][] = portChunks(e.ports).map((c) => [`-m multiport ${portOpt} ${c}`]);
        for (const p of e.ports) if (p.kind === 'named') alts.push([`-m set --match-set ${namedSet(ctx, e, p.name)} ${portDir}`]);
        return alts;
      },
    },
    {
      field: `${side}.notPorts`,
      rule: 'Calico: notPorts → every negated multiport chunk and named-port set must hold',
      render: (r, ctx) => {
        const e = r[side];
        if (!e.notPorts.length) return none;
        const frags = portChunks(e.notPorts).map((c) => `-m multiport ! ${portOpt} ${c}`);
        for (const p of e.notPorts) if (p.kind === 'named') frags.push(`-m set ! --match-set ${namedSet(ctx, e, p.name)} ${portDir}`);
        return one(...frags);
      },
    },
  ];
}

function icmpFrag(family: PolicyFamily, m: { type?: number; code?: number }, neg: boolean): string {
  const v = m.code !== undefined ? `${m.type ?? 0}/${m.code}` : String(m.type ?? 0);
  return family === 4 ? `-m icmp ${neg ? '! ' : ''}--icmp-type ${v}` : `-m icmp6 ${neg ? '! ' : ''}--icmpv6-type ${v}`;
}

const ICMP_OF: Record<PolicyFamily, number> = { 4: 1, 6: 58 };

/** The table: one row per field, in render order. */
export const RULE_FIELDS: readonly FieldRow[] = [
  { field: 'ipVersion', rule: 'Calico: ipVersion restricts the rule to one family', render: (r, ctx) => (r.ipVersion !== undefined && r.ipVersion !== ctx.family ? null : none) },
  {
    field: 'protocol',
    rule: 'Calico: protocol → -p; ICMP (1) only in IPv4 tables, ICMPv6 (58) only in IPv6',
    render: (r, ctx) => {
      if (r.protocol === undefined) return none;
      if ((r.protocol === 1 || r.protocol === 58) && r.protocol !== ICMP_OF[ctx.family]) return null;
      return one(`-p ${iptProtocolName(r.protocol)}`);
    },
  },
  { field: 'notProtocol', rule: 'Calico: notProtocol → ! -p', render: (r) => (r.notProtocol === undefined ? none : one(`! -p ${iptProtocolName(r.notProtocol)}`)) },
  ...sideRows('src'),
  ...sideRows('dst'),
  { field: 'icmp', rule: 'Calico: icmp type[/code] (iptables icmp / icmp6 match)', render: (r, ctx) => (r.icmp ? one(icmpFrag(ctx.family, r.icmp, false)) : none) },
  { field: 'notICMP', rule: 'Calico: notICMP → negated icmp match', render: (r, ctx) => (r.notICMP ? one(icmpFrag(ctx.family, r.notICMP, true)) : none) },
];

/** A rendered rule: its alternatives' match texts (OR), and the sets they use. */
export interface RenderedMatch {
  alternatives: string[];
  sets: SetRef[];
}

/** Renders a rule's matches for one family, or null when it cannot match there. */
export function renderRuleMatch(r: RuleN, family: PolicyFamily): RenderedMatch | null {
  const ctx: Ctx = { family, sets: [] };
  let acc: string[][] = [[]];
  for (const row of RULE_FIELDS) {
    const alts = row.render(r, ctx);
    if (alts === null) return null;
    const next: string[][] = [];
    for (const a of acc) for (const b of alts) next.push([...a, ...b]);
    acc = next;
  }
  return { alternatives: acc.map((a) => a.join(' ')), sets: ctx.sets };
}

/** The iptables jump (`-j …`) of a rule action, and the match of the RETURN that follows Allow / Pass (the accept / pass marks under the configured bits). */
export function actionTargets(action: RuleN['action'], cfg: Pick<PolicyConfig, 'markAccept' | 'markPass'>): { target: string; thenReturn?: string } {
  const hex = (n: number): string => '0x' + n.toString(16);
  switch (action) {
    case 'Allow':
      return { target: `-j MARK --set-xmark ${hex(cfg.markAccept)}/${hex(cfg.markAccept)}`, thenReturn: `-m mark --mark ${hex(cfg.markAccept)}/${hex(cfg.markAccept)}` };
    case 'Pass':
      return { target: `-j MARK --set-xmark ${hex(cfg.markPass)}/${hex(cfg.markPass)}`, thenReturn: `-m mark --mark ${hex(cfg.markPass)}/${hex(cfg.markPass)}` };
    case 'Deny':
      return { target: '-j DROP' };
    case 'Log':
      return { target: '-j LOG --log-prefix "calico-packet: " --log-level 5' };
  }
}
