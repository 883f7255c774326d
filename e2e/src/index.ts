/** The end-to-end cluster in network namespaces and what scenarios observe, for the benchmarks. */
export { startNodeCluster, cniPlumber, standInPlumber, type AgentNode, type ClusterPod, type NodeCluster, type NodeClusterOptions, type NodeStatus } from './node-cluster.js';
export { Fabric, type FabricNode } from './fabric.js';
export { blockOf, ContinuousPing, kernelSnapshot, pingOnce, routeTo, type PingCount } from './probe.js';
export { checkNeighbourBudget, neighbourEntries, neighbourLimit, segmentLayout } from './neighbour-budget.js';
