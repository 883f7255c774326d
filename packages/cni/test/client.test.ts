/**
 * The installed plugins' C thin client (native/cni-client.c) against a stand-in agent on a unix
 * socket in a temporary directory: what it sends (text framing, CNI_* only, the configuration
 * as stdin), how it prints the answer and exits, error 11 when the agent drops the call, and the
 * fallback to Node (VERSION, no agent, `agent_socket: ""`) with stdin handed on. No root: no
 * call reaches the kernel (the Node fallback fails on the configuration first).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTextResponse, parseTextRequest, type AgentRequest } from '../src/agent-protocol.js';
import { installCniPlugins } from '../src/install.js';

let dir = '';
let server: Server;
const sock = (): string => join(dir, 'agent.sock');
let answer: ((req: AgentRequest) => string | undefined) | undefined;
const seen: AgentRequest[] = [];

function plugin(name: string, env: Record<string, string>, stdin: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile(join(dir, 'bin', name), [], { env: { PATH: process.env.PATH, ...env } }, (err, stdout) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout });
    });
    child.stdin?.end(stdin);
  });
}

const conf = (extra: Record<string, unknown> = {}): string => JSON.stringify({ cniVersion: '1.0.0', name: 'net', type: 'tabby', agent_socket: sock(), ...extra });
const addEnv = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/none', CNI_IFNAME: 'eth0', CNI_PATH: '/nowhere', OTHER: 'not sent' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tabby-cni-client-'));
  installCniPlugins(join(dir, 'bin'));
  server = createServer({ allowHalfOpen: true }, (s) => {
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (buf += d));
    s.on('end', () => {
      const req = parseTextRequest(buf);
      if (req) seen.push(req);
      const out = req && answer ? answer(req) : undefined;
      if (out === undefined) s.destroy();
      else s.end(out);
    });
  });
  await new Promise<void>((r) => server.listen(sock(), () => r()));
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('the C thin client', () => {
  it('sends plugin, CNI_* and the configuration; prints the answer and exits with its status', async () => {
    answer = () => formatTextResponse({ stdout: '{"cniVersion":"1.0.0","ips":[]}', code: 0 });
    const r = await plugin('tabby-ipam', addEnv, conf());
    expect(r).toEqual({ code: 0, stdout: '{"cniVersion":"1.0.0","ips":[]}\n' });
    const req = seen.at(-1)!;
    expect(req.plugin).toBe('tabby-ipam');
    expect(req.env).toEqual({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/none', CNI_IFNAME: 'eth0', CNI_PATH: '/nowhere' });
    expect(req.stdin).toBe(conf());
  });

  it('passes an error answer through (status 1, the error JSON printed)', async () => {
    answer = () => formatTextResponse({ stdout: '{"cniVersion":"1.0.0","code":101,"msg":"full"}', code: 1 });
    expect(await plugin('tabby', addEnv, conf())).toEqual({ code: 1, stdout: '{"cniVersion":"1.0.0","code":101,"msg":"full"}\n' });
  });

  it('prints nothing for an empty success (DEL)', async () => {
    answer = () => formatTextResponse({ stdout: '', code: 0 });
    expect(await plugin('tabby', { ...addEnv, CNI_COMMAND: 'DEL' }, conf())).toEqual({ code: 0, stdout: '' });
  });

  it('answers CNI error 11 when the agent drops the call (never runs it twice)', async () => {
    answer = () => undefined;
    const before = seen.length;
    const r = await plugin('tabby', addEnv, conf());
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 11 });
    expect(seen.length).toBe(before + 1);
  });

  it('VERSION runs in Node without asking the agent', async () => {
    const before = seen.length;
    const r = await plugin('tabby', { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ cniVersion: '1.0.0', supportedVersions: expect.arrayContaining(['1.0.0']) });
    expect(seen.length).toBe(before);
  });

  it('without an agent (no socket, or agent_socket "") the call runs in Node with the same stdin', async () => {
    const before = seen.length;
    for (const c of [conf({ agent_socket: join(dir, 'absent.sock') }), conf({ agent_socket: '' })]) {
      const r = await plugin('tabby', addEnv, c);
      expect(r.code).toBe(1);
      // Node read the configuration: it names the missing etcd_endpoints (nothing touched the kernel).
      expect(JSON.parse(r.stdout)).toMatchObject({ code: 7, msg: expect.stringContaining('etcd_endpoints') });
    }
    expect(seen.length).toBe(before);
  });
});
