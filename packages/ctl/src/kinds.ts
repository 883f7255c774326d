/** Kind names as typed on the command line (calicoctl's: `ippool`, `ippools`, `IPPool`, short names). Pure. */
import { KINDS, type Kind } from '@tabby/api';
import { ctlError } from './errors.js';

/** calicoctl's aliases (its resource managers' name lists); full names and plurals are matched below. */
const SHORT: Record<string, Kind> = {
  pool: 'IPPool', pools: 'IPPool', ipp: 'IPPool', ipps: 'IPPool',
  wep: 'WorkloadEndpoint', weps: 'WorkloadEndpoint',
  netpol: 'NetworkPolicy', policy: 'NetworkPolicy', policies: 'NetworkPolicy', np: 'NetworkPolicy', pol: 'NetworkPolicy', pols: 'NetworkPolicy',
  gnp: 'GlobalNetworkPolicy', gnps: 'GlobalNetworkPolicy',
  bgpp: 'BGPPeer', bgpps: 'BGPPeer', bp: 'BGPPeer', bps: 'BGPPeer',
  bgpconfig: 'BGPConfiguration', bgpconfigs: 'BGPConfiguration',
  felixconfig: 'FelixConfiguration', felixconfigs: 'FelixConfiguration',
  ipamconfig: 'IPAMConfiguration', ipamconfigs: 'IPAMConfiguration',
  pro: 'Profile', pros: 'Profile', no: 'Node', nos: 'Node',
};

/** Resolves a kind word; throws usage listing the kinds. */
export function resolveKind(word: string): Kind {
  const w = word.toLowerCase();
  const hit = SHORT[w] ?? KINDS.find((k) => k.toLowerCase() === w || `${k.toLowerCase()}s` === w || (k.toLowerCase().endsWith('y') && `${k.toLowerCase().slice(0, -1)}ies` === w));
  if (!hit) throw ctlError('usage', `unknown resource type "${word}"; one of: ${KINDS.join(', ')}`);
  return hit;
}
