#!/usr/bin/env node
/**
 * `felix-node --node NAME --netns NS --etcd unix:///path [--bgp-status SOCK | --bgp-disabled] [--resync-ms N]`:
 * one node's felix (routing) as its own process, fed from etcd (and a tabby-bgp status socket).
 * `--bgp-disabled` tells felix BGP is off for every other node, so their blocks take the
 * datastore-derived tunnel fallback.
 * A stand-in for tabby-node's embedding, for end-to-end tests that kill it (-9) and restart it.
 * Prints `ready` once the kernel is programmed after the first full sync; SIGTERM stops it.
 */
import { parseArgs } from 'node:util';
import { createEtcdDatastore } from '@tabby/datastore';
import { Felix, NetlinkKernel, NetnsSysctl } from '@tabby/felix';
import { feedFromBgpStatus, feedFromDatastore } from '../felix-feed.js';

const { values } = parseArgs({
  options: { node: { type: 'string' }, netns: { type: 'string' }, etcd: { type: 'string' }, 'bgp-status': { type: 'string' }, 'bgp-disabled': { type: 'boolean' }, 'resync-ms': { type: 'string' } },
});
if (!values.node || !values.netns || !values.etcd) {
  process.stderr.write('usage: felix-node --node NAME --netns NS --etcd unix:///path [--bgp-status SOCK]\n');
  process.exit(2);
}
const nodeName = values.node;
const store = createEtcdDatastore({ endpoints: values.etcd });
const kernel = await NetlinkKernel.open(values.netns);
const warn = (o: Record<string, unknown>, msg?: string): void => void process.stderr.write(`${msg ?? ''} ${JSON.stringify(o)}\n`);
const felix = new Felix(
  { kernel, sysctl: new NetnsSysctl(values.netns), logger: { info: () => {}, debug: () => {}, warn, error: warn } },
  { nodeName, resyncIntervalMs: values['resync-ms'] ? Number(values['resync-ms']) : undefined },
);
const abort = new AbortController();
felix.start();
await feedFromDatastore(store, felix, nodeName, abort.signal, (e) => warn({ err: String(e) }, 'datastore feed failed'));
if (values['bgp-status']) await feedFromBgpStatus(values['bgp-status'], felix, abort.signal);
if (values['bgp-disabled']) {
  const nodes = await store.list({ kind: 'Node' });
  const since = Date.now();
  felix.apply(nodes.items.filter((n) => n.metadata.name !== nodeName).map((n) => ({ type: 'bgp-node-state' as const, node: n.metadata.name, available: false, since })));
}
felix.apply([{ type: 'in-sync' }]);
const waitReady = async (): Promise<void> => {
  while (!felix.health().ready) await new Promise((r) => setTimeout(r, 20));
  process.stdout.write('ready\n');
};
void waitReady();
process.on('SIGTERM', () => {
  abort.abort();
  void felix.stop().then(async () => {
    kernel.close();
    await store.close();
    process.exit(0);
  });
});
