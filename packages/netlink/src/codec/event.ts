/**
 * Decodes multicast notifications (RTNLGRP_*) into a typed event union: link, address, route
 * and neighbour, each `new` or `del`. Messages of other types or families yield `undefined`.
 */
import { decodeAddress, type Address } from './address.js';
import * as C from './constants.js';
import { decodeLink, type Link } from './link.js';
import { decodeNeigh, type Neigh } from './neigh.js';
import type { NlMsg } from './reader.js';
import { decodeRoute, type Route } from './route.js';

/** new: created or changed; del: removed. */
export type EventAction = 'new' | 'del';

/** One kernel notification. */
export type NetlinkEvent =
  | { type: 'link'; action: EventAction; link: Link }
  | { type: 'address'; action: EventAction; address: Address }
  | { type: 'route'; action: EventAction; route: Route }
  | { type: 'neigh'; action: EventAction; neigh: Neigh };

/** Decodes one notification message. */
export function decodeEvent(buf: Uint8Array, m: NlMsg): NetlinkEvent | undefined {
  switch (m.type) {
    case C.RTM_NEWLINK:
    case C.RTM_DELLINK:
      return { type: 'link', action: m.type === C.RTM_NEWLINK ? 'new' : 'del', link: decodeLink(buf, m) };
    case C.RTM_NEWADDR:
    case C.RTM_DELADDR: {
      const address = decodeAddress(buf, m);
      return address && { type: 'address', action: m.type === C.RTM_NEWADDR ? 'new' : 'del', address };
    }
    case C.RTM_NEWROUTE:
    case C.RTM_DELROUTE: {
      const route = decodeRoute(buf, m);
      return route && { type: 'route', action: m.type === C.RTM_NEWROUTE ? 'new' : 'del', route };
    }
    case C.RTM_NEWNEIGH:
    case C.RTM_DELNEIGH: {
      const neigh = decodeNeigh(buf, m);
      return neigh && { type: 'neigh', action: m.type === C.RTM_NEWNEIGH ? 'new' : 'del', neigh };
    }
    default:
      return undefined;
  }
}

/** Multicast groups by name, for `subscribe`. */
export type GroupName = 'link' | 'neigh' | 'ipv4-addr' | 'ipv6-addr' | 'ipv4-route' | 'ipv6-route';

/** RTNLGRP_* number of a group name. */
export function groupNumber(g: GroupName): number {
  switch (g) {
    case 'link': return C.RTNLGRP_LINK;
    case 'neigh': return C.RTNLGRP_NEIGH;
    case 'ipv4-addr': return C.RTNLGRP_IPV4_IFADDR;
    case 'ipv6-addr': return C.RTNLGRP_IPV6_IFADDR;
    case 'ipv4-route': return C.RTNLGRP_IPV4_ROUTE;
    case 'ipv6-route': return C.RTNLGRP_IPV6_ROUTE;
    default: {
      const never: never = g;
      throw new Error(`unknown group ${String(never)}`);
    }
  }
}
