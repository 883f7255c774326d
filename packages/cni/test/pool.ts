/** An IPPool resource for tests. */
import { API_VERSION, type IPPool } from '@tabby/api';

export function pool(name: string, cidr: string, extra: Partial<IPPool['spec']> = {}): IPPool {
  const v6 = cidr.includes(':');
  return {
    apiVersion: API_VERSION, kind: 'IPPool', metadata: { name },
    spec: {
      cidr, blockSize: v6 ? 122 : 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false,
      disabled: false, disableBGPExport: false, nodeSelector: 'all()', allowedUses: ['Workload', 'Tunnel'], ...extra,
    },
  };
}
