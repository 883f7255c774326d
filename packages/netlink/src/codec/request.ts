/**
 * The request union every batch is made of, its encoder and its one-line description. An
 * exhaustive switch keeps a new request kind from compiling until it is encodable and
 * describable.
 */
import type { RequestSummary } from '../errors.js';
import { describeAddress, encodeAddress, type AddressSpec } from './address.js';
import { describeLink, encodeLinkAdd, encodeLinkDel, encodeLinkSet, type LinkChange, type LinkRef, type LinkSpec } from './link.js';
import { describeNeigh, encodeNeigh, type NeighSpec } from './neigh.js';
import { describeRoute, encodeRoute, type RouteOp, type RouteSpec } from './route.js';
import type { NlWriter } from './writer.js';

/** One change to the kernel's state; every request is acknowledged (NLM_F_ACK). */
export type Request =
  | { kind: 'route'; op: RouteOp; route: RouteSpec }
  | { kind: 'address'; op: 'add' | 'del'; address: AddressSpec }
  | { kind: 'neigh'; op: 'add' | 'replace' | 'append' | 'del'; neigh: NeighSpec }
  | { kind: 'link'; op: 'add'; link: LinkSpec }
  | { kind: 'link'; op: 'set'; link: LinkChange }
  | { kind: 'link'; op: 'del'; link: LinkRef };

/** Encodes `r` as one message with sequence number `seq`. Throws NETLINK_INVALID_REQUEST. */
export function encodeRequest(w: NlWriter, r: Request, seq: number): void {
  switch (r.kind) {
    case 'route':
      return encodeRoute(w, r.op, r.route, seq);
    case 'address':
      return encodeAddress(w, r.op, r.address, seq);
    case 'neigh':
      return encodeNeigh(w, r.op, r.neigh, seq);
    case 'link':
      switch (r.op) {
        case 'add':
          return encodeLinkAdd(w, r.link, seq);
        case 'set':
          return encodeLinkSet(w, r.link, seq);
        case 'del':
          return encodeLinkDel(w, r.link, seq);
        default: {
          const never: never = r;
          throw new Error(`unknown link op ${JSON.stringify(never)}`);
        }
      }
    default: {
      const never: never = r;
      throw new Error(`unknown request ${JSON.stringify(never)}`);
    }
  }
}

/** `{ op: 'route.add', summary: '10.0.0.1/32 dev 3 proto 80' }` for error messages. */
export function describeRequest(r: Request): RequestSummary {
  const op = `${r.kind}.${r.op}`;
  switch (r.kind) {
    case 'route':
      return { op, summary: describeRoute(r.route) };
    case 'address':
      return { op, summary: describeAddress(r.address) };
    case 'neigh':
      return { op, summary: describeNeigh(r.neigh) };
    case 'link':
      return { op, summary: describeLink(r.link) };
    default: {
      const never: never = r;
      return { op: 'unknown', summary: JSON.stringify(never) };
    }
  }
}
