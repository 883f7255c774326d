#!/usr/bin/env node
// Installs the Debian packages the tests and the demo need, when they are missing.
// As root: `apt-get update` once, then `apt-get install -y ...`, with a policy-rc.d in place so
// that no installed daemon (etcd, bird, frr, gobgpd) is started or left running as a service.
// Not root: prints the exact command to run and exits non-zero.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, rmSync } from 'node:fs';

// command to look for -> Debian package providing it
const needs = [
  ['ip', 'iproute2'],
  ['iptables', 'iptables'],
  ['ipset', 'ipset'],
  ['etcd', 'etcd-server'],
  ['etcdctl', 'etcd-client'],
  ['bird', 'bird2'],
  ['gobgpd', 'gobgpd'],
  ['vtysh', 'frr'],
  ['ping', 'iputils-ping'],
  // the policy tests' traffic prober (felix/test/policy/netprobe.py)
  ['python3', 'python3'],
  ['tcpdump', 'tcpdump'],
  // CNI reference plugins (portmap, tuning, bandwidth, bridge, host-local): chained after tabby in the CNI tests
  ['/usr/lib/cni/portmap', 'containernetworking-plugins'],
];

const has = (cmd) =>
  spawnSync('sh', ['-c', `command -v ${cmd} || test -x /usr/sbin/${cmd} || test -x /sbin/${cmd}`], { stdio: 'ignore' }).status === 0;
const missing = [...new Set(needs.filter(([cmd]) => !has(cmd)).map(([, pkg]) => pkg))];
if (missing.length === 0) process.exit(0);

const cmd = `apt-get update && apt-get install -y ${missing.join(' ')}`;
if (process.getuid?.() !== 0) {
  console.error(`Missing Debian packages: ${missing.join(' ')}\nRun as root:\n  ${cmd}`);
  process.exit(1);
}
console.error(`installing Debian packages: ${missing.join(' ')}`);
const policy = '/usr/sbin/policy-rc.d';
const ownPolicy = !existsSync(policy);
if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
try {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-q', ...missing], { stdio: 'inherit', env });
} finally {
  if (ownPolicy) rmSync(policy, { force: true });
}
