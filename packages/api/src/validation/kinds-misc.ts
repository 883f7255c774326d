/**
 * Validation of WorkloadEndpoint and FelixConfiguration. FelixConfiguration keeps fields it does
 * not model (Calico has over a hundred) so Calico documents load unchanged; the modelled ones
 * are checked.
 */
import { z } from 'zod';
import type { FelixConfigurationSpec, WorkloadEndpointSpec } from '../kinds/index.js';
import { bool, cidr, duration, field, intIn, ip, mac, nonEmpty, oneOf, str } from './fields.js';
import { describeValue } from './issues.js';
import { arrayAt, objectAt, type KindRules } from './rules.js';

/** Linux interface names: 1-15 bytes, no "/", no whitespace, not "." or "..". */
const interfaceName = field<string>((v) => {
  if (typeof v !== 'string') return { error: `expected a string, got ${describeValue(v)}` };
  if (v.length < 1 || v.length > 15 || /[/\s:]/.test(v) || v === '.' || v === '..') {
    return { error: `${describeValue(v)} is not a Linux interface name (1-15 characters, no "/", ":" or spaces)` };
  }
  return { value: v };
}, { type: 'string', minLength: 1, maxLength: 15, description: 'A Linux interface name.' });

/** WorkloadEndpoint. */
export const workloadEndpointRules: KindRules<WorkloadEndpointSpec> = {
  spec: z
    .object({
      orchestrator: str.optional(),
      workload: str.optional(),
      node: nonEmpty,
      containerID: str.optional(),
      pod: str.optional(),
      endpoint: str.optional(),
      serviceAccountName: str.optional(),
      ipNetworks: z.array(cidr({ allowIp: true })).default(() => []),
      ipNATs: z.array(z.object({ internalIP: ip(), externalIP: ip() }).strict()).optional(),
      ipv4Gateway: ip(4).optional(),
      ipv6Gateway: ip(6).optional(),
      profiles: z.array(nonEmpty).optional(),
      interfaceName,
      mac: mac.optional(),
      ports: z
        .array(
          z
            .object({
              name: str.optional(),
              protocol: oneOf(['TCP', 'UDP', 'SCTP'] as const),
              port: intIn(1, 65535),
              hostPort: intIn(0, 65535).optional(),
              hostIP: ip().optional(),
            })
            .strict(),
        )
        .optional(),
      allowSpoofedSourcePrefixes: z.array(cidr()).optional(),
    })
    .strict() as z.ZodType<WorkloadEndpointSpec, z.ZodTypeDef, unknown>,
  check(raw, add) {
    arrayAt(raw, 'ports')?.forEach((p, i) => {
      const port = objectAt({ p }, 'p');
      if (port && !port.name && !port.hostPort) add(['ports', i, 'name'], 'required unless hostPort is set');
    });
  },
};

const failsafePort = z.object({ protocol: oneOf(['TCP', 'UDP', 'SCTP'] as const), port: intIn(1, 65535), net: cidr().optional() }).strict();

/** FelixConfiguration. */
export const felixConfigurationRules: KindRules<FelixConfigurationSpec> = {
  spec: z
    .object({
      logSeverityScreen: oneOf(['Trace', 'Debug', 'Info', 'Warning', 'Error', 'Fatal'] as const).optional(),
      ipipEnabled: bool.optional(),
      ipipMTU: intIn(0, 65535).optional(),
      vxlanEnabled: bool.optional(),
      vxlanMTU: intIn(0, 65535).optional(),
      vxlanMTUV6: intIn(0, 65535).optional(),
      vxlanPort: intIn(1, 65535).optional(),
      vxlanVNI: intIn(0, 16777215).optional(),
      routeRefreshInterval: duration.optional(),
      iptablesRefreshInterval: duration.optional(),
      defaultEndpointToHostAction: oneOf(['Drop', 'Accept', 'Return'] as const).optional(),
      chainInsertMode: oneOf(['Insert', 'Append'] as const).optional(),
      interfacePrefix: nonEmpty.optional(),
      interfaceExclude: str.optional(),
      ipv6Support: bool.optional(),
      natOutgoingAddress: ip().optional(),
      failsafeInboundHostPorts: z.array(failsafePort).optional(),
      failsafeOutboundHostPorts: z.array(failsafePort).optional(),
      healthPort: intIn(1, 65535).optional(),
      healthEnabled: bool.optional(),
      prometheusMetricsEnabled: bool.optional(),
      prometheusMetricsPort: intIn(1, 65535).optional(),
      reportingInterval: duration.optional(),
      routeTableRange: z.object({ min: intIn(1, 250), max: intIn(1, 250) }).strict().optional(),
      wireguardEnabled: bool.optional(),
      bpfEnabled: bool.optional(),
    })
    .passthrough() as z.ZodType<FelixConfigurationSpec, z.ZodTypeDef, unknown>,
  check(raw, add) {
    const r = raw.routeTableRange as { min?: unknown; max?: unknown } | undefined;
    if (r && typeof r.min === 'number' && typeof r.max === 'number' && r.min > r.max) {
      add(['routeTableRange'], `min ${r.min} is greater than max ${r.max}`);
    }
  },
};
