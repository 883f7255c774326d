/**
 * iptables backend (legacy or nft) and the binaries of each, detected as kube-proxy's
 * iptables-wrapper and Felix do: a KUBE-IPTABLES-HINT or KUBE-KUBELET-CANARY chain in the mangle
 * table of one backend (written by kubelet) decides; otherwise the backend with more rules
 * wins, nft on a tie. Overridable by configuration.
 */
import type { CommandRunner } from './runner.js';
import type { PolicyFamily } from '../policy/types.js';

/** An iptables backend. */
export type IptablesBackend = 'legacy' | 'nft';

/** The save / restore binaries of a backend and family. */
export function iptablesBinaries(backend: IptablesBackend, family: PolicyFamily): { save: string; restore: string; cmd: string } {
  const base = family === 4 ? 'iptables' : 'ip6tables';
  return { save: `${base}-${backend}-save`, restore: `${base}-${backend}-restore`, cmd: `${base}-${backend}` };
}

async function saveText(runner: CommandRunner, backend: IptablesBackend, family: PolicyFamily, table?: string): Promise<string> {
  const args = table ? ['-t', table] : [];
  try {
    const r = await runner.run(iptablesBinaries(backend, family).save, args);
    return r.code === 0 ? r.stdout : '';
  } catch {
    return '';
  }
}

const HINT = /KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY/;
const countRules = (t: string): number => t.split('\n').filter((l) => l.startsWith('-')).length;

/** Detects the backend in use in the runner's namespace. */
export async function detectBackend(runner: CommandRunner): Promise<{ backend: IptablesBackend; reason: string }> {
  for (const b of ['nft', 'legacy'] as const) {
    for (const f of [4, 6] as const) {
      if (HINT.test(await saveText(runner, b, f, 'mangle'))) return { backend: b, reason: `kubelet's hint chain is in the ${b} mangle table` };
    }
  }
  const legacy = countRules(await saveText(runner, 'legacy', 4)) + countRules(await saveText(runner, 'legacy', 6));
  const nft = countRules(await saveText(runner, 'nft', 4)) + countRules(await saveText(runner, 'nft', 6));
  if (legacy > nft) return { backend: 'legacy', reason: `legacy has more rules (${legacy} > ${nft})` };
  return { backend: 'nft', reason: `nft has at least as many rules (${nft} ≥ ${legacy})` };
}
