/**
 * The server side of the thin-client protocol (`agent-protocol.ts`), for the node agent: it
 * listens on a unix socket and runs each call with long-lived components — one datastore
 * client, one Ipam (caches started: an allocation is one transaction), one netlink socket in
 * the agent's (host) namespace. Calls run concurrently; IPAM serialises per node itself.
 * The conflist's datastore fields are ignored: the agent's own datastore serves every call; its
 * `kubernetes.kubeconfig` is read for the pod's facts.
 */
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import type { Datastore } from '@tabby/datastore';
import type { Ipam } from '@tabby/ipam';
import { formatTextResponse, parseTextRequest, type AgentRequest, type AgentResponse } from './agent-protocol.js';
import type { CniLogger } from './context.js';
import type { Dataplane } from './dataplane.js';
import { rawCniEnv } from './env.js';
import { DelegatedIpam, InProcessIpam } from './ipam-driver.js';
import { inProcessIpam } from './direct.js';
import { runPlugin, type Backend } from './plugin.js';
import { noPods, type PodSource } from './pods.js';
import { KubePodSource, readKubeconfig } from './kube.js';

/** What the agent serves calls with. */
export interface CniAgentComponents {
  datastore: Datastore;
  ipam: Ipam;
  dataplane: Dataplane;
  pods?: PodSource;
  logger: CniLogger;
  hostname: string;
}

/** A backend over long-lived components (nothing is closed after a call). */
export function agentBackend(c: CniAgentComponents): Backend {
  const driver = new InProcessIpam(c.ipam);
  // The conflist's `kubernetes.kubeconfig` gives the pod facts (labels, IPAM annotations), as
  // when the plugin runs alone; one reader per file.
  const kubePods = new Map<string, PodSource>();
  const podsFor = (kubeconfig: string | undefined): PodSource => {
    if (c.pods) return c.pods;
    if (!kubeconfig) return noPods;
    let p = kubePods.get(kubeconfig);
    if (!p) kubePods.set(kubeconfig, (p = new KubePodSource(readKubeconfig(kubeconfig))));
    return p;
  };
  return {
    async components(conf, env) {
      const ipam = inProcessIpam(conf) ? driver : new DelegatedIpam(conf.ipam.type, env, conf.raw, { PATH: process.env.PATH, ...rawCniEnv(env) });
      return {
        c: { datastore: c.datastore, ipam, dataplane: c.dataplane, pods: podsFor(conf.kubeconfig), logger: c.logger, hostname: c.hostname, opTimeoutMs: 120_000 },
        ipam: c.ipam,
        done: async () => {},
      };
    },
  };
}

/** Serves CNI calls on `socketPath` (mode 0600) until closed. */
export async function serveCni(socketPath: string, c: CniAgentComponents): Promise<Server> {
  const backend = agentBackend(c);
  mkdirSync(dirname(socketPath), { recursive: true });
  rmSync(socketPath, { force: true });
  // Half-open: the C client half-closes after its request and reads the answer.
  const server = createServer({ allowHalfOpen: true }, (sock) => {
    let buf = '';
    let mode: 'json' | 'text' | undefined;
    sock.setEncoding('utf8');
    sock.on('error', () => sock.destroy());
    const run = (plugin: 'tabby' | 'tabby-ipam', env: Record<string, string>, stdin: string, reply: (r: { stdout: string; code: number }) => void): void => {
      void runPlugin({ env, stdin }, backend, plugin).then(reply);
    };
    sock.on('data', (d: string) => {
      buf += d;
      mode ??= buf.startsWith('{') ? 'json' : 'text';
      if (mode === 'text') return; // read to the end: the C client half-closes
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      sock.removeAllListeners('data');
      const answer = (r: AgentResponse): void => {
        sock.end(JSON.stringify(r) + '\n');
      };
      let req: AgentRequest;
      try {
        req = JSON.parse(buf.slice(0, nl)) as AgentRequest;
      } catch {
        return answer({ v: 1, error: 'request is not JSON' });
      }
      if (req.v !== 1 || (req.plugin !== 'tabby' && req.plugin !== 'tabby-ipam')) return answer({ v: 1, error: 'unsupported request' });
      run(req.plugin, req.env, req.stdin, (r) => answer({ v: 1, stdout: r.stdout, code: r.code }));
    });
    sock.on('end', () => {
      if (mode !== 'text') return;
      const req = parseTextRequest(buf);
      if (!req) return void sock.end('');
      run(req.plugin, req.env, req.stdin, (r) => sock.end(formatTextResponse(r)));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o600);
  return server;
}
