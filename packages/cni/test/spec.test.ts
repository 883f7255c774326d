/**
 * The pure parts of the plugin: CNI_* parsing, the conflist, results per version, Calico's
 * annotations, names, and the agent protocol's text framing. No root, no network.
 */
import { describe, expect, it } from 'vitest';
import { formatTextResponse, parseTextRequest } from '../src/agent-protocol.js';
import { parseNetConf } from '../src/config.js';
import { parseCniArgs, parseEnv, podRef } from '../src/env.js';
import { CniError } from '../src/errors.js';
import { handleId, vethName, wepName } from '../src/names.js';
import { annotationChoice } from '../src/pods.js';
import { forVersion, parseResult } from '../src/result.js';
import { versionJson } from '../src/version.js';

function code(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e: unknown) {
    return e instanceof CniError ? e.number : -1;
  }
  return undefined;
}

describe('environment', () => {
  it('parses CNI_ARGS and requires what each command needs (code 4)', () => {
    expect(parseCniArgs('IgnoreUnknown=1;K8S_POD_NAMESPACE=a;K8S_POD_NAME=b')).toEqual({ IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'a', K8S_POD_NAME: 'b' });
    expect(code(() => parseCniArgs('oops'))).toBe(4);
    expect(code(() => parseEnv({ CNI_COMMAND: 'ADD', CNI_IFNAME: 'eth0', CNI_NETNS: '/x' }))).toBe(4);
    expect(code(() => parseEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_IFNAME: 'eth0' }))).toBe(4);
    expect(code(() => parseEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c/1', CNI_IFNAME: 'eth0', CNI_NETNS: '/x' }))).toBe(4);
    expect(code(() => parseEnv({ CNI_COMMAND: 'NOPE' }))).toBe(4);
    expect(parseEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c', CNI_IFNAME: 'eth0' }).netns).toBe('');
    expect(podRef(parseEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c9', CNI_IFNAME: 'eth0' }))).toEqual({ namespace: 'default', name: 'c9', k8s: false });
  });
});

describe('network configuration', () => {
  const base = { cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tabby', etcd_endpoints: 'unix:///x' };
  it('reads Calico fields, string booleans included', () => {
    const c = parseNetConf(JSON.stringify({ ...base, mtu: 1440, nodename: 'n1', ipam: { type: 'calico-ipam', assign_ipv4: 'false', assign_ipv6: 'true', ipv6_pools: ['v6'] }, log_level: 'WARNING' }));
    expect(c).toMatchObject({ mtu: 1440, nodename: 'n1', datastoreType: 'etcdv3', etcdEndpoints: ['unix:///x'], logLevel: 'warn', ipam: { type: 'calico-ipam', assignIpv4: false, assignIpv6: true, ipv6Pools: ['v6'] } });
  });
  it('rejects with the right code and field', () => {
    expect(code(() => parseNetConf('{'))).toBe(6);
    expect(code(() => parseNetConf(JSON.stringify({ ...base, cniVersion: '0.2.0' })))).toBe(1);
    expect(code(() => parseNetConf(JSON.stringify({ ...base, etcd_endpoints: undefined })))).toBe(7);
    expect(() => parseNetConf(JSON.stringify({ ...base, ipam: { assign_ipv4: 'maybe' } }))).toThrow(/ipam.assign_ipv4/);
    expect(() => parseNetConf(JSON.stringify({ ...base, datastore_type: 'kubernetes' }))).toThrow(/kubernetes.kubeconfig/);
  });
});

describe('results', () => {
  it('adds ips[].version before 1.0.0 and drops it after', () => {
    const r = { cniVersion: '', ips: [{ address: '10.0.0.1/32', interface: 1 }, { address: 'fd00::1/128', interface: 1 }] };
    expect(forVersion(r, '0.3.1').ips).toEqual([{ address: '10.0.0.1/32', interface: 1, version: '4' }, { address: 'fd00::1/128', interface: 1, version: '6' }]);
    expect(forVersion(forVersion(r, '0.3.1'), '1.0.0').ips).toEqual(r.ips);
    expect(() => parseResult({ ips: [{}] })).toThrow(/prevResult.ips\[0\].address/);
  });
  it('VERSION lists every supported version', () => {
    expect(JSON.parse(versionJson('{"cniVersion":"0.4.0"}'))).toEqual({ cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });
});

describe('names and annotations (as Calico)', () => {
  it('derives names', () => {
    expect(vethName('default', 'web-0')).toMatch(/^cali[0-9a-f]{11}$/);
    expect(handleId('k8s-pod-network', 'abc')).toBe('k8s-pod-network.abc');
    expect(wepName('node-1', 'k8s', 'web-0', 'eth0')).toBe('node--1-k8s-web--0-eth0');
  });
  it('reads pool and address annotations, pod over namespace', () => {
    const info = { labels: {}, annotations: { 'cni.projectcalico.org/ipv4pools': '["blue"]' }, namespaceLabels: {}, namespaceAnnotations: { 'cni.projectcalico.org/ipv4pools': '["ns"]', 'cni.projectcalico.org/ipv6pools': '["v6"]' } };
    expect(annotationChoice(info)).toEqual({ ipv4Pools: ['blue'], ipv6Pools: ['v6'] });
    expect(annotationChoice({ ...info, annotations: { 'cni.projectcalico.org/ipAddrs': '["10.0.0.9"]' }, namespaceAnnotations: {} })).toEqual({ ipAddrs: ['10.0.0.9'] });
    expect(code(() => annotationChoice({ ...info, annotations: { 'cni.projectcalico.org/ipv4pools': 'blue' } }))).toBe(7);
  });
});

describe('agent text framing', () => {
  it('round-trips a call', () => {
    const req = parseTextRequest('TABBY_PLUGIN=tabby-ipam\nCNI_COMMAND=ADD\nCNI_ARGS=A=1;B=2\nHOME=/x\n\n{"a":\n1}');
    expect(req).toEqual({ v: 1, plugin: 'tabby-ipam', env: { CNI_COMMAND: 'ADD', CNI_ARGS: 'A=1;B=2' }, stdin: '{"a":\n1}' });
    expect(parseTextRequest('TABBY_PLUGIN=evil\n\n{}')).toBeUndefined();
    expect(formatTextResponse({ code: 1, stdout: '{}' })).toBe('1\n{}');
  });
});
