/**
 * The real `Dataplane`: @tabby/netlink sockets in the host namespace (the namespace this
 * process runs in, as kubelet runs plugins) and in the pod's namespace (opened by path, the
 * socket stays there), and sysctls written synchronously through /proc/sys. Pod-side sysctls
 * are written on the main thread while it is switched into the pod's namespace (`withNetns`),
 * synchronously, never across an await: libuv's pool threads never follow a setns.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { Netlink, RT_SCOPE_LINK, withNetns, type Link, type Request } from '@tabby/netlink';
import type { AttachmentState, Dataplane, HostLinkState, PodAddressing, VethInfo, VethSpec } from './dataplane.js';
import { cniError } from './errors.js';
import { HOST_MAC, POD_GATEWAY_V4, POD_GATEWAY_V6 } from './names.js';

/** Route protocol of every route Tabby programs. */
export const RTPROT_TABBY = 80;

function sysctl(key: string, value: string): void {
  writeFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, value);
}

/** A random locally administered unicast MAC (IEEE 802: bit 1 of the first octet set, bit 0 clear). */
function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfc) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function errnoOf(e: unknown): string | undefined {
  const o = e as { errnoName?: unknown; code?: unknown };
  return typeof o.errnoName === 'string' ? o.errnoName : typeof o.code === 'string' ? o.code : undefined;
}

/** The Linux dataplane. `host` is a client in the host namespace, owned by this object. */
export class LinuxDataplane implements Dataplane {
  private constructor(private readonly host: Netlink) {}

  /** Opens the host-namespace socket. */
  static async open(): Promise<LinuxDataplane> {
    return new LinuxDataplane(await Netlink.open());
  }

  async hostLinkState(name: string): Promise<HostLinkState> {
    const l = await this.host.links.find(name);
    if (!l) return 'absent';
    return l.kind === 'veth' && l.mac === HOST_MAC ? 'ours' : 'foreign';
  }

  async checkNetns(path: string): Promise<void> {
    try {
      closeSync(openSync(path, 'r'));
    } catch (e: unknown) {
      throw cniError('netns-gone', `network namespace ${path} cannot be opened (${errnoOf(e) ?? String(e)}); the sandbox is gone`, '', e);
    }
  }

  private async inPod<T>(podNetns: string, fn: (nl: Netlink) => Promise<T>): Promise<T> {
    let nl: Netlink;
    try {
      nl = await Netlink.open({ netns: podNetns });
    } catch (e: unknown) {
      throw cniError('netns-gone', `cannot enter network namespace ${podNetns}: ${e instanceof Error ? e.message : String(e)}`, '', e);
    }
    try {
      return await fn(nl);
    } finally {
      nl.close();
    }
  }

  async createVeth(spec: VethSpec): Promise<VethInfo> {
    // The pod side's MAC is chosen here (random, locally administered, unicast: what the kernel
    // would pick), so nothing has to be read back from the pod's namespace: one request.
    const podMac = randomMac();
    try {
      await this.host.links.add({
        name: spec.host,
        mac: HOST_MAC,
        mtu: spec.mtu,
        info: { kind: 'veth', peer: { name: spec.podIf, mtu: spec.mtu, netns: { name: spec.podNetns }, mac: podMac } },
      });
    } catch (e: unknown) {
      if (errnoOf(e) === 'EEXIST') throw cniError('link-name-taken', `interface ${spec.host} (host) or ${spec.podIf} (pod) already exists`, 'delete the stale interface or the stale sandbox, then retry', e);
      throw e;
    }
    return { podMac };
  }

  async configureHost(host: string, f: { v4: boolean; v6: boolean }): Promise<void> {
    if (f.v4) {
      sysctl(`net.ipv4.conf.${host}.proxy_arp`, '1');
      sysctl(`net.ipv4.conf.${host}.forwarding`, '1');
      // Answer proxy ARP at once (the default delays each reply up to 0.8 s), as Calico does.
      sysctl(`net.ipv4.neigh.${host}.proxy_delay`, '0');
    }
    if (f.v6) {
      sysctl(`net.ipv6.conf.${host}.disable_ipv6`, '0');
      sysctl(`net.ipv6.conf.${host}.accept_ra`, '0');
      // The link-local next hop must be usable at once: no duplicate address detection.
      sysctl(`net.ipv6.conf.${host}.accept_dad`, '0');
      sysctl(`net.ipv6.conf.${host}.forwarding`, '1');
    }
    await this.host.links.setUp(host, true);
  }

  async configurePod(a: PodAddressing): Promise<void> {
    const v4 = a.addresses.filter((x) => !x.includes(':'));
    const v6 = a.addresses.filter((x) => x.includes(':'));
    if (v6.length > 0) {
      withNetns(a.podNetns, () => {
        sysctl('net.ipv6.conf.all.disable_ipv6', '0');
        sysctl(`net.ipv6.conf.${a.podIf}.disable_ipv6`, '0');
        // RFC 4862 §5.4: skipped for the pod's /128 (unique by IPAM), as Calico sets IFA_F_NODAD.
        sysctl(`net.ipv6.conf.${a.podIf}.accept_dad`, '0');
      });
    }
    await this.inPod(a.podNetns, async (nl) => {
      const link = await nl.links.get(a.podIf);
      const oif = link.index;
      // One batch (one sendto): addresses, links up, the link route and the default route(s).
      const reqs: Request[] = [
        ...a.addresses.map((address): Request => ({ kind: 'address', op: 'add', address: { index: oif, address } })),
        { kind: 'link', op: 'set', link: { name: 'lo', up: true } },
        { kind: 'link', op: 'set', link: { index: oif, up: true } },
      ];
      if (v4.length > 0) {
        reqs.push({ kind: 'route', op: 'add', route: { dst: `${POD_GATEWAY_V4}/32`, oif, scope: RT_SCOPE_LINK } });
        reqs.push({ kind: 'route', op: 'add', route: { dst: '0.0.0.0/0', gateway: POD_GATEWAY_V4, oif } });
      }
      if (v6.length > 0) reqs.push({ kind: 'route', op: 'add', route: { dst: '::/0', gateway: POD_GATEWAY_V6, oif } });
      const res = await nl.batch(reqs);
      if (res.failed[0]) throw res.failed[0].error;
    });
  }

  async addHostRoutes(host: string, addresses: string[]): Promise<void> {
    const link = await this.host.links.get(host);
    for (const dst of addresses) {
      await this.host.routes.replace({ dst, oif: link.index, scope: RT_SCOPE_LINK, protocol: RTPROT_TABBY });
    }
  }

  async deleteHostLink(name: string): Promise<boolean> {
    try {
      await this.host.links.del(name);
      return true;
    } catch (e: unknown) {
      if (errnoOf(e) === 'ENODEV') return false;
      throw e;
    }
  }

  async deletePodLink(podNetns: string, podIf: string): Promise<boolean> {
    if (!podNetns) return false;
    try {
      closeSync(openSync(podNetns, 'r'));
    } catch {
      return false; // SPEC.md: DEL succeeds when the namespace is gone
    }
    try {
      return await this.inPod(podNetns, async (nl) => {
        const l = await nl.links.find(podIf);
        if (!l) return false;
        await nl.links.del(l.index);
        return true;
      });
    } catch (e: unknown) {
      if (e instanceof Error && 'code' in e && (e as { code: unknown }).code === 'netns-gone') return false;
      throw e;
    }
  }

  async inspect(host: string, podNetns: string, podIf: string): Promise<AttachmentState> {
    const h: Link | undefined = await this.host.links.find(host);
    const hostRoutes = h ? (await this.host.routes.dump({ oif: h.index, table: 254 })).map((r) => r.dst) : [];
    const out: AttachmentState = { hostRoutes, netnsExists: true };
    if (h) out.host = { index: h.index, mac: h.mac, up: h.up, kind: h.kind };
    try {
      closeSync(openSync(podNetns, 'r'));
    } catch {
      return { ...out, netnsExists: false };
    }
    await this.inPod(podNetns, async (nl) => {
      const l = await nl.links.find(podIf);
      if (!l) return;
      const addrs = (await nl.addresses.list({ index: l.index })).filter((a) => a.scope === 0).map((a) => a.address);
      const routes = await nl.routes.dump({ oif: l.index, table: 254 });
      const d4 = routes.find((r) => r.dst === '0.0.0.0/0');
      const d6 = routes.find((r) => r.dst === '::/0');
      out.pod = { index: l.index, mac: l.mac, up: l.up, addresses: addrs, defaultV4: d4?.gateway, defaultV6: d6?.gateway };
    });
    return out;
  }

  close(): void {
    this.host.close();
  }
}
