/** `--help` text of tabbyctl and of each verb, with examples; and the bash completion script. */

export const VERBS = ['create', 'apply', 'replace', 'delete', 'get', 'patch', 'label', 'validate', 'ipam', 'node', 'policy', 'completion'] as const;

const COMMON = `Datastore (flags over environment over the config file):
  --datastore-type etcdv3|kubernetes   DATASTORE_TYPE      spec.datastoreType [etcdv3]
  --etcd-endpoints URL,...             ETCD_ENDPOINTS      spec.etcdEndpoints
  --etcd-prefix P                      ETCD_PREFIX         spec.etcdPrefix
  --kubeconfig FILE                    KUBECONFIG          spec.kubeconfig [~/.kube/config, in-cluster]
                                       K8S_API_ENDPOINT, K8S_API_TOKEN, K8S_CA_FILE,
                                       K8S_INSECURE_SKIP_TLS_VERIFY (spec.k8sAPIEndpoint, ...)
  -c, --config FILE   a CalicoAPIConfig document [/etc/tabby/tabbyctl.yaml]:
      apiVersion: projectcalico.org/v3
      kind: CalicoAPIConfig
      spec: { datastoreType: kubernetes, kubeconfig: /root/.kube/config }
Exit codes: 0 ok, 1 operation failed, 2 usage or configuration, 3 invalid input (nothing
  written), 4 datastore or agent unreachable.`;

export const HELP: Record<string, string> = {
  '': `tabbyctl: manage Tabby (Calico-compatible) resources.

Usage: tabbyctl <verb> [args] [flags]
Verbs:
  create | apply | replace | delete   write resources from -f FILE|DIR|- (-R recurses)
  get <kind> [name]                   read resources (-n NS | -A, -o ps|wide|yaml|json|custom-columns=...)
  patch <kind> <name> -p JSON         JSON merge patch (RFC 7386)
  label <kind> <name> k=v             set (--overwrite) or remove (k --remove) a label
  validate -f ...                     check documents without writing
  ipam show|check|release|configure   IP address management
  node status                         BGP peers of this node
  policy trace <src> <dst>            the verdict for a flow and the policies and rules that decided it
  completion bash                     print a bash completion script
Run 'tabbyctl <verb> --help' for examples.

${COMMON}`,
  create: `Usage: tabbyctl create -f FILE|DIR|- [-R] [-n NS] [--skip-exists]
Creates every resource; all documents are validated first.
Examples:
  tabbyctl create -f pools.yaml
  cat policy.yaml | tabbyctl create -f -
  tabbyctl create -f manifests/ -R`,
  apply: `Usage: tabbyctl apply -f FILE|DIR|- [-R] [-n NS]
Creates resources or replaces existing ones.
Examples:
  tabbyctl apply -f pool.yaml
  tabbyctl apply -f ./calico-resources -R`,
  replace: `Usage: tabbyctl replace -f FILE|DIR|- [-R] [-n NS]
Replaces existing resources (fails for missing ones).
Example:
  tabbyctl replace -f pool.yaml`,
  delete: `Usage: tabbyctl delete -f FILE|DIR|- | delete <kind> <name> [-n NS] [--skip-not-exists]
Examples:
  tabbyctl delete ippool blue
  tabbyctl delete -f pools.yaml`,
  get: `Usage: tabbyctl get <kind> [name] [-n NS | -A] [-o ps|wide|yaml|json|custom-columns=H:.path,...]
Examples:
  tabbyctl get ippools -o wide
  tabbyctl get workloadendpoints -A
  tabbyctl get ippool blue -o yaml
  tabbyctl get ippools -o custom-columns=NAME:.metadata.name,CIDR:.spec.cidr`,
  patch: `Usage: tabbyctl patch <kind> <name> -p '<JSON merge patch>' [-n NS]
Example:
  tabbyctl patch ippool blue -p '{"spec":{"disabled":true}}'`,
  label: `Usage: tabbyctl label <kind> <name> key=value [--overwrite] | key --remove [-n NS]
Examples:
  tabbyctl label node node1 rack=r1
  tabbyctl label node node1 rack --remove`,
  validate: `Usage: tabbyctl validate -f FILE|DIR|- [-R]
Reports every invalid document with its file, document index and field; exit 3 if any.
Example:
  tabbyctl validate -f pools.yaml`,
  ipam: `Usage:
  tabbyctl ipam show [--ip ADDR | --show-blocks | --show-borrowed | --show-configuration]
  tabbyctl ipam check [-o report.json]
  tabbyctl ipam release --ip ADDR | --from-report FILE [--from-report FILE ...]
  tabbyctl ipam configure [--strictaffinity=true|false] [--max-blocks-per-host=N]
  tabbyctl ipam split <N> --cidr=CIDR | --name=POOL
release --from-report: releases the addresses every report marks as leaked, after checking
  each again (still leaked, same handle and sequence number); deletes orphan handles unchanged
  since the report. Reports taken some time apart rule out allocations in progress.
split: replaces a disabled pool by N (a power of 2) equal pools split-<pool>-<i>, enabled,
  with the pool's other settings; existing blocks and allocations stay where they are.
Examples:
  tabbyctl ipam show --show-blocks
  tabbyctl ipam check -o /tmp/report.json
  tabbyctl ipam release --from-report /tmp/report-1h-ago.json --from-report /tmp/report.json
  tabbyctl patch ippool default-ipv4-ippool -p '{"spec":{"disabled":true}}'
  tabbyctl ipam split 4 --name=default-ipv4-ippool`,
  node: `Usage: tabbyctl node status [--socket PATH] [-o json]
BGP peers (IPv4, IPv6) and the nodes reached over the tunnel fallback, from the node agent
(/var/run/tabby/node.sock), else a standalone tabby-bgp (/var/run/tabby/bgp.sock).
Examples:
  tabbyctl node status
  tabbyctl node status --socket /var/run/tabby/bgp.sock -o json`,
  policy: `Usage: tabbyctl policy trace <src> <dst> [--protocol tcp|udp|icmp|sctp|N] [--port N] [-o json]
<src>/<dst>: <namespace>/<pod>, a WorkloadEndpoint name, or an IP address.
Examples:
  tabbyctl policy trace web/frontend data/db --protocol tcp --port 5432
  tabbyctl policy trace 10.244.1.5 10.244.2.9 --protocol icmp`,
  completion: `Usage: tabbyctl completion bash|zsh
Prints a completion script for verbs, sub-commands, resource kinds and flags.
Examples:
  source <(tabbyctl completion bash)
  tabbyctl completion zsh > "\${fpath[1]}/_tabbyctl"`,
};

const FLAGS = '-f -R -n -A -o -c --config --datastore-type --etcd-endpoints --etcd-prefix --kubeconfig --help';
const SUBCOMMANDS: Record<string, string> = {
  ipam: 'show check release configure split --ip --show-blocks --show-borrowed --show-configuration --from-report --strictaffinity --max-blocks-per-host --cidr --name',
  node: 'status --socket',
  policy: 'trace --protocol --port',
  completion: 'bash zsh',
};

/** A bash completion script for verbs, sub-commands, kinds and flags. */
export function bashCompletion(kinds: readonly string[]): string {
  const sub = Object.entries(SUBCOMMANDS).map(([v, w]) => `    ${v}) COMPREPLY=( $(compgen -W "${w} ${FLAGS}" -- "$cur") ) ;;`).join('\n');
  return `# tabbyctl bash completion
_tabbyctl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${VERBS.join(' ')}" -- "$cur") ); return
  fi
  case "\${COMP_WORDS[1]}" in
    get|delete|patch|label) COMPREPLY=( $(compgen -W "${kinds.map((k) => k.toLowerCase()).join(' ')} ${FLAGS} -p --overwrite --remove --skip-not-exists" -- "$cur") ) ;;
${sub}
    *) COMPREPLY=( $(compgen -f -W "${FLAGS} --skip-exists" -- "$cur") ) ;;
  esac
}
complete -F _tabbyctl tabbyctl
`;
}

/** The completion script for `shell` (zsh runs the bash one through bashcompinit). */
export function completion(shell: string | undefined, kinds: readonly string[]): string | undefined {
  if (shell === 'bash') return bashCompletion(kinds);
  if (shell === 'zsh') return `#compdef tabbyctl\nautoload -U +X bashcompinit && bashcompinit\n${bashCompletion(kinds)}`;
  return undefined;
}
