/** What a verb runs with: parsed arguments, output streams, stdin, and a lazily opened datastore. */
import type { Datastore } from '@tabby/datastore';
import type { Args } from './args.js';
import type { KubeApi } from './k8s-policies.js';

/** The process around a verb (replaced in tests). */
export interface CtlIo {
  out(text: string): void;
  err(text: string): void;
  stdin(): string;
  env: Record<string, string | undefined>;
}

/** One invocation. */
export interface CtlContext {
  args: Args;
  io: CtlIo;
  datastore(): Promise<Datastore>;
  /** The API server's NetworkPolicies and pods; undefined unless the datastore is Kubernetes. */
  kubeApi(): Promise<KubeApi | undefined>;
}
