/**
 * Kubernetes NetworkPolicy (networking.k8s.io/v1) in felix: the translation into a Calico
 * NetworkPolicy `knp.default.<name>` is @tabby/api's `convertK8sNetworkPolicy` (as Calico's
 * Kubernetes datastore converts it), shared with tabby-node's Kubernetes mode and tabbyctl.
 */
export {
  convertK8sNetworkPolicy as translateK8sPolicy,
  type K8sLabelSelector,
  type K8sNetworkPolicy,
  type K8sNetworkPolicyPeer as K8sPeer,
  type K8sNetworkPolicyPort as K8sPort,
} from '@tabby/api';
