/**
 * An in-memory `Dataplane` for unit tests: links, pod addresses and host routes in maps, and
 * `failOn` to make any method throw (as the kernel would: EEXIST, ENODEV, a lost socket).
 */
import type { AttachmentState, Dataplane, HostLinkState, PodAddressing, VethInfo, VethSpec } from '../src/dataplane.js';
import { HOST_MAC } from '../src/names.js';

interface FakeLink {
  spec: VethSpec;
  up: boolean;
  addresses: string[];
  routes: string[];
}

/** The fake. */
export class FakeDataplane implements Dataplane {
  readonly links = new Map<string, FakeLink>();
  readonly foreign = new Set<string>();
  readonly goneNetns = new Set<string>();
  failOn: keyof Dataplane | undefined;

  private maybeFail(m: keyof Dataplane): void {
    if (this.failOn === m) throw new Error(`injected failure in ${m}`);
  }

  async hostLinkState(name: string): Promise<HostLinkState> {
    this.maybeFail('hostLinkState');
    return this.foreign.has(name) ? 'foreign' : this.links.has(name) ? 'ours' : 'absent';
  }

  async checkNetns(path: string): Promise<void> {
    this.maybeFail('checkNetns');
    if (this.goneNetns.has(path)) throw Object.assign(new Error('gone'), { code: 'netns-gone' });
  }

  async createVeth(spec: VethSpec): Promise<VethInfo> {
    this.maybeFail('createVeth');
    this.links.set(spec.host, { spec, up: false, addresses: [], routes: [] });
    return { podMac: '02:00:00:00:00:01' };
  }

  async configureHost(host: string): Promise<void> {
    this.maybeFail('configureHost');
    this.links.get(host)!.up = true;
  }

  async configurePod(a: PodAddressing): Promise<void> {
    this.maybeFail('configurePod');
    for (const l of this.links.values()) if (l.spec.podNetns === a.podNetns) l.addresses.push(...a.addresses);
  }

  async addHostRoutes(host: string, addresses: string[]): Promise<void> {
    this.maybeFail('addHostRoutes');
    this.links.get(host)!.routes.push(...addresses);
  }

  async deleteHostLink(name: string): Promise<boolean> {
    this.maybeFail('deleteHostLink');
    return this.links.delete(name);
  }

  async deletePodLink(podNetns: string, podIf: string): Promise<boolean> {
    this.maybeFail('deletePodLink');
    for (const [k, l] of this.links) if (l.spec.podNetns === podNetns && l.spec.podIf === podIf) return this.links.delete(k);
    return false;
  }

  async inspect(host: string, podNetns: string): Promise<AttachmentState> {
    const l = this.links.get(host);
    return {
      netnsExists: !this.goneNetns.has(podNetns),
      hostRoutes: l?.routes ?? [],
      ...(l ? { host: { index: 1, mac: HOST_MAC, up: l.up, kind: 'veth' }, pod: { index: 2, mac: '02:00:00:00:00:01', up: true, addresses: l.addresses, defaultV4: '169.254.1.1', defaultV6: 'fe80::ecee:eeff:feee:eeee' } } : {}),
    };
  }

  close(): void {}
}
