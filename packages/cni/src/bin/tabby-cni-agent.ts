#!/usr/bin/env node
/**
 * `tabby-cni-agent`: serves the CNI thin-client protocol on its own, until `tabby-node` embeds
 * `serveCni`. Runs in the host (node) namespace.
 *   tabby-cni-agent --socket /var/run/tabby/cni.sock --etcd-endpoints unix:///x/localhost:2379
 *                   [--etcd-prefix /tabby/] [--nodename NAME] [--log-level warn]
 */
import { hostname } from 'node:os';
import { pino } from 'pino';
import { createEtcdDatastore } from '@tabby/datastore';
import { Ipam } from '@tabby/ipam';
import { serveCni } from '../agent.js';
import { DEFAULT_AGENT_SOCKET } from '../config.js';
import { LinuxDataplane } from '../dataplane-linux.js';

function opt(name: string, dflt?: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const endpoints = opt('--etcd-endpoints', process.env.ETCD_ENDPOINTS);
if (!endpoints) {
  process.stderr.write('tabby-cni-agent: --etcd-endpoints (or ETCD_ENDPOINTS) is required\n');
  process.exit(2);
}
const logger = pino({ name: 'tabby-cni-agent', level: opt('--log-level', 'warn') }, pino.destination({ dest: 2, sync: true }));
const prefix = opt('--etcd-prefix');
const datastore = createEtcdDatastore({ endpoints: endpoints.split(','), ...(prefix ? { prefix } : {}) });
const ipam = new Ipam({ datastore, logger });
await ipam.start();
const dataplane = await LinuxDataplane.open();
const socket = opt('--socket', DEFAULT_AGENT_SOCKET)!;
const server = await serveCni(socket, { datastore, ipam, dataplane, logger, hostname: opt('--nodename', hostname())! });
process.stdout.write(`listening ${socket}\n`);
const stop = async (): Promise<void> => {
  server.close();
  dataplane.close();
  await ipam.stop();
  await datastore.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
