/**
 * The direct path: a plugin process builds its own datastore client (etcd v3 or Kubernetes,
 * from the conflist), an in-process Ipam (or a delegated IPAM binary), a netlink dataplane in
 * its own (host) namespace, and a pod source from `kubernetes.kubeconfig`; closes them after
 * the call. Used when no node agent answers on `agent_socket`.
 */
import { hostname } from 'node:os';
import { pino } from 'pino';
import type { Datastore } from '@tabby/datastore';
import type { Ipam } from '@tabby/ipam';
import type { NetConf } from './config.js';
import type { CniComponents, CniLogger } from './context.js';
import { LinuxDataplane } from './dataplane-linux.js';
import type { CniEnv } from './env.js';
import { cniError } from './errors.js';
import { DelegatedIpam, InProcessIpam, type IpamDriver } from './ipam-driver.js';
import { KubePodSource, readKubeconfig } from './kube.js';
import type { Backend } from './plugin.js';
import { noPods } from './pods.js';

/** Builds the datastore the conflist names. */
export async function openDatastore(conf: NetConf): Promise<Datastore> {
  const ds = await import('@tabby/datastore');
  if (conf.datastoreType === 'etcdv3') return ds.createEtcdDatastore({ endpoints: conf.etcdEndpoints, ...(conf.etcdPrefix ? { prefix: conf.etcdPrefix } : {}) });
  const t = readKubeconfig(conf.kubeconfig ?? '');
  return ds.createKubernetesDatastore({ server: t.server, token: t.token, insecureSkipTLSVerify: t.insecure });
}

/** A pino logger writing to `log_file_path`, or stderr. */
export function makeLogger(conf: NetConf, name: string): CniLogger {
  const dest = pino.destination({ dest: conf.logFilePath ?? 2, sync: true, mkdir: true });
  return pino({ name, level: conf.logLevel, base: { pid: process.pid } }, dest);
}

/** Whether the in-process IPAM serves this conflist. */
export function inProcessIpam(conf: NetConf): boolean {
  return conf.ipam.type === 'tabby-ipam' || conf.ipam.type === 'calico-ipam';
}

/** The backend of a plugin process. */
export function directBackend(processEnv: NodeJS.ProcessEnv): Backend {
  return {
    async components(conf: NetConf, env: CniEnv) {
      const logger = makeLogger(conf, 'tabby-cni');
      const datastore = await openDatastore(conf);
      let ipamObj: Ipam | undefined;
      let driver: IpamDriver;
      if (inProcessIpam(conf)) {
        const { Ipam } = await import('@tabby/ipam');
        ipamObj = new Ipam({ datastore, logger });
        driver = new InProcessIpam(ipamObj);
      } else {
        driver = new DelegatedIpam(conf.ipam.type, env, conf.raw, processEnv);
      }
      const needsKernel = env.command === 'ADD' || env.command === 'DEL' || env.command === 'CHECK';
      let dataplane: LinuxDataplane | undefined;
      try {
        dataplane = needsKernel ? await LinuxDataplane.open() : undefined;
      } catch (e: unknown) {
        await datastore.close();
        throw cniError('io-failure', `cannot open a netlink socket: ${e instanceof Error ? e.message : String(e)}`);
      }
      const c: CniComponents = {
        datastore,
        ipam: driver,
        dataplane: dataplane ?? unavailableDataplane,
        pods: conf.kubeconfig ? new KubePodSource(readKubeconfig(conf.kubeconfig)) : noPods,
        logger,
        hostname: hostname(),
      };
      return {
        c,
        ipam: ipamObj,
        async done() {
          dataplane?.close();
          await ipamObj?.stop();
          await datastore.close();
        },
      };
    },
  };
}

const nope = (): never => {
  throw cniError('internal', 'no dataplane for this command');
};

/** Stands in for the dataplane where a command needs none (GC, STATUS). */
const unavailableDataplane: CniComponents['dataplane'] = {
  hostLinkState: nope, checkNetns: nope, createVeth: nope, configureHost: nope, configurePod: nope,
  addHostRoutes: nope, deleteHostLink: nope, deletePodLink: nope, inspect: nope, close: () => {},
};
