/** Kind names as typed on the command line (calicoctl's: `ippool`, `ippools`, `IPPool`, short names). Pure. */
import { KINDS, type Kind } from '@tabby/api';
import { ctlError } from './errors.js';

const SHORT: Record<string, Kind> = {
  pool: 'IPPool', pools: 'IPPool', ippool: 'IPPool', wep: 'WorkloadEndpoint', weps: 'WorkloadEndpoint',
  netpol: 'NetworkPolicy', networkpolicy: 'NetworkPolicy', gnp: 'GlobalNetworkPolicy', bgppeer: 'BGPPeer',
  bgpconfig: 'BGPConfiguration', felixconfig: 'FelixConfiguration', ipamconfig: 'IPAMConfiguration',
};

/** Resolves a kind word; throws usage listing the kinds. */
export function resolveKind(word: string): Kind {
  const w = word.toLowerCase();
  const hit = SHORT[w] ?? KINDS.find((k) => k.toLowerCase() === w || `${k.toLowerCase()}s` === w || (k.toLowerCase().endsWith('y') && `${k.toLowerCase().slice(0, -1)}ies` === w));
  if (!hit) throw ctlError('usage', `unknown resource type "${word}"; one of: ${KINDS.join(', ')}`);
  return hit;
}
