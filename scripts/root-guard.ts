/**
 * Vitest global setup: a snapshot of the machine's own (root) network namespace before the
 * suite and a comparison after it. Tests must never change it (links, addresses, routes,
 * forwarding sysctls, iptables rules); if anything differs the run fails and says what.
 * It only reads.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

function sysctls(): string {
  const keys = ['net/ipv4/ip_forward', 'net/ipv6/conf/all/forwarding'];
  for (const dev of readdirSync('/proc/sys/net/ipv4/conf')) {
    keys.push(`net/ipv4/conf/${dev}/forwarding`, `net/ipv4/conf/${dev}/proxy_arp`, `net/ipv4/conf/${dev}/rp_filter`);
  }
  return keys
    .map((k) => {
      try {
        return `${k}=${readFileSync(`/proc/sys/${k}`, 'utf8').trim()}`;
      } catch {
        return `${k}=?`;
      }
    })
    .join('\n');
}

function snapshot(): Record<string, string> {
  const strip = (s: string): string => s.replace(/\s+(?:\d+ )?(?:packets|bytes).*$/gm, '');
  return {
    links: sh('ip', ['-o', 'link', 'show']).replace(/ (?:qlen|state) \S+/g, '').replace(/ link\/.*$/gm, ''),
    addresses: sh('ip', ['-o', 'addr', 'show']).replace(/valid_lft.*$/gm, ''),
    routes4: sh('ip', ['route', 'show', 'table', 'all']),
    routes6: sh('ip', ['-6', 'route', 'show', 'table', 'all']).replace(/ expires \S+/g, ''),
    sysctls: sysctls(),
    iptables: strip(sh('iptables-save', [])).split('\n').filter((l) => l.startsWith('-')).join('\n'),
  };
}

export default function setup(): () => void {
  const before = snapshot();
  return () => {
    const after = snapshot();
    const changed = Object.keys(before).filter((k) => before[k] !== after[k]);
    if (changed.length === 0) return;
    const lines = changed.map((k) => {
      const a = new Set(before[k]!.split('\n'));
      const b = new Set(after[k]!.split('\n'));
      const gone = [...a].filter((x) => !b.has(x)).map((x) => `  - ${x}`);
      const added = [...b].filter((x) => !a.has(x)).map((x) => `  + ${x}`);
      return `${k}:\n${[...gone, ...added].join('\n')}`;
    });
    throw new Error(`the tests changed the machine's own network namespace:\n${lines.join('\n')}`);
  };
}
