/**
 * `tabbyctl ipam show`, in calicoctl's shapes: the utilization table (IP Pool rows, with
 * `--show-blocks` each block under its pool; counts right-aligned, as Go's `%.5g`), `--ip`
 * (handle and owner attributes), `--show-borrowed` (addresses allocated by a node other than
 * the block's owner) and `--show-configuration`.
 */
import { cidrContains, cidrSize, isIp, isTabbyError, nthAddress, parseCidr, parseIp, type IPAMBlock, type IPAMConfiguration, type IPPool } from '@tabby/api';
import type { Datastore } from '@tabby/datastore';
import type { CtlContext } from './context.js';
import { ctlError } from './errors.js';
import { box } from './output.js';

/** A count as Go's `%.5g` prints it (65536, 1.2089e+24). Pure. */
export function g5(n: number): string {
  if (n === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp >= -4 && exp < 5) return String(Number(n.toPrecision(5)));
  const [mant = '', e = '0'] = n.toExponential(4).split('e');
  const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
  const ev = Number(e);
  return `${m}e${ev < 0 ? '-' : '+'}${String(Math.abs(ev)).padStart(2, '0')}`;
}

function pct(n: number, total: number): string {
  return `${g5(n)} (${total === 0 ? 0 : Math.round((100 * n) / total)}%)`;
}

function used(b: IPAMBlock): number {
  return b.spec.allocations.filter((a) => a !== null).length;
}

function showIp(ip: string, blocks: IPAMBlock[]): string {
  if (!isIp(ip)) throw ctlError('usage', `--ip ${ip}: not an IPv4 or IPv6 address`);
  const b = blocks.find((x) => cidrContains(parseCidr(x.spec.cidr), parseIp(ip)));
  const ord = b ? Number(parseIp(ip).addr - parseCidr(b.spec.cidr).addr) : -1;
  const a = b?.spec.allocations[ord];
  if (!b || a === null || a === undefined) return `${ip} is not assigned\n`;
  const attr = b.spec.attributes[a];
  const owner = Object.entries(attr?.secondary ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return `IP ${ip} is in use\nHandle ID: ${attr?.handle_id ?? '<none>'}\n` +
    (owner.length ? `Active Owner Attributes:\n${owner.map(([k, v]) => `  ${k}: ${v}\n`).join('')}` : 'No Active Owner attributes defined\n');
}

async function showConfiguration(ds: Datastore): Promise<string> {
  let spec: IPAMConfiguration['spec'] = { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 };
  try {
    spec = { ...spec, ...(await ds.get<IPAMConfiguration>({ kind: 'IPAMConfiguration', name: 'default' })).spec };
  } catch (e: unknown) {
    if (!isTabbyError(e, 'NotFound')) throw e;
  }
  return box(['PROPERTY', 'VALUE'], [['StrictAffinity', String(spec.strictAffinity)], ['AutoAllocateBlocks', String(spec.autoAllocateBlocks)], ['MaxBlocksPerHost', String(spec.maxBlocksPerHost)]]);
}

function showBorrowed(blocks: IPAMBlock[]): string {
  const rows: string[][] = [];
  for (const b of blocks) {
    const owner = b.spec.affinity?.replace(/^host:/, '') ?? '';
    b.spec.allocations.forEach((a, i) => {
      if (a === null) return;
      const sec = b.spec.attributes[a]?.secondary ?? {};
      const node = sec['node'];
      if (!node || node === owner) return;
      const pod = sec['pod'];
      const type = pod !== undefined ? 'pod' : sec['type'] ?? '';
      rows.push([nthAddress(b.spec.cidr, i), node, b.spec.cidr, owner, type, pod !== undefined ? `${sec['namespace'] ?? ''}/${pod}` : '']);
    });
  }
  return box(['IP', 'BORROWING-NODE', 'BLOCK', 'BLOCK OWNER', 'TYPE', 'ALLOCATED-TO'], rows);
}

function utilization(pools: IPPool[], blocks: IPAMBlock[], withBlocks: boolean): string {
  const rows: string[][] = [];
  for (const p of pools) {
    const pc = parseCidr(p.spec.cidr);
    const inPool = blocks.filter((b) => cidrContains(pc, parseCidr(b.spec.cidr)));
    const total = Number(cidrSize(pc));
    const u = inPool.reduce((n, b) => n + used(b), 0);
    rows.push(['IP Pool', p.spec.cidr, g5(total), pct(u, total), pct(total - u, total)]);
    if (!withBlocks) continue;
    for (const b of inPool) {
      const size = b.spec.allocations.length;
      rows.push(['Block', b.spec.cidr, g5(size), pct(used(b), size), pct(size - used(b), size)]);
    }
  }
  return box(['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS FREE'], rows, { right: [2, 3, 4] });
}

/** `tabbyctl ipam show`. */
export async function show(ctx: CtlContext): Promise<void> {
  const ds = await ctx.datastore();
  const f = ctx.args.flags;
  if (f.has('--show-configuration')) return ctx.io.out(await showConfiguration(ds));
  const blocks = (await ds.list<IPAMBlock>({ kind: 'IPAMBlock' })).items;
  const ip = f.get('--ip');
  if (typeof ip === 'string') return ctx.io.out(showIp(ip, blocks));
  if (f.has('--show-borrowed')) return ctx.io.out(showBorrowed(blocks));
  const pools = (await ds.list<IPPool>({ kind: 'IPPool' })).items;
  ctx.io.out(utilization(pools, blocks, f.has('--show-blocks')));
}
