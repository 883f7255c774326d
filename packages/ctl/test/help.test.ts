/** `--help` on every verb (usage and examples), exit codes of help, and the completion scripts run by bash. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { VERBS } from '../src/help.js';
import { runWith } from './harness.js';

describe('tabbyctl --help', () => {
  it('every verb has usage and examples, by --help and by help <verb>', async () => {
    for (const verb of VERBS) {
      const r = await runWith({}, [verb, '--help']);
      expect(r.code, verb).toBe(0);
      expect(r.out, verb).toMatch(/^Usage/);
      expect(r.out, verb).toMatch(/Examples?:\n {2}(source |tabbyctl |cat )/);
      expect((await runWith({}, ['help', verb])).out).toBe(r.out);
    }
  });

  it('without a verb prints the overview with the exit codes, and exits 2', async () => {
    const r = await runWith({}, []);
    expect(r.code).toBe(2);
    expect(r.out).toContain('Exit codes: 0 ok, 1 operation failed, 2 usage or configuration, 3 invalid input');
    expect((await runWith({}, ['--help'])).code).toBe(0);
  });
});

describe('tabbyctl completion', () => {
  const complete = (script: string, words: string[]): string =>
    execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _tabbyctl; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8' }).trim();

  it('bash completes verbs, sub-commands, kinds and flags', async () => {
    const script = (await runWith({}, ['completion', 'bash'])).out;
    expect(complete(script, ['tabbyctl', 'v'])).toBe('validate');
    expect(complete(script, ['tabbyctl', 'ipam', 's'])).toBe('show split');
    expect(complete(script, ['tabbyctl', 'get', 'ipp'])).toBe('ippool');
    expect(complete(script, ['tabbyctl', 'ipam', 'release', '--from'])).toBe('--from-report');
  });

  it('zsh gets the bash script through bashcompinit; another shell is a usage error', async () => {
    expect((await runWith({}, ['completion', 'zsh'])).out).toMatch(/^#compdef tabbyctl\nautoload -U \+X bashcompinit && bashcompinit\n# tabbyctl bash completion/);
    expect((await runWith({}, ['completion', 'fish'])).code).toBe(2);
  });
});
