// TCP socket options on real sockets over loopback 127.0.0.1 / ::1 (no namespace change).
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { poll } from '@tabby/testkit';
import { createTcpSocket, encodeTcpMd5Sig, getTtlOptions, NetlinkError, setMinTtl, setTcpMd5Sig, setTtl, socketFd } from '../src/index.js';

const opened: Array<Server | Socket> = [];
afterEach(() => {
  for (const s of opened.splice(0)) {
    if ('destroy' in s) s.destroy();
    else s.close();
  }
});

async function listen(host: string): Promise<Server> {
  const srv = createServer((c) => c.pipe(c));
  opened.push(srv);
  srv.listen(0, host);
  await once(srv, 'listening');
  return srv;
}

describe('struct tcp_md5sig encoding', () => {
  it('lays out sockaddr_in / sockaddr_in6 and the key (RFC 2385)', () => {
    const v4 = encodeTcpMd5Sig('192.0.2.1', 'abc');
    expect(v4.length).toBe(216);
    expect([...v4.subarray(0, 8)]).toEqual([2, 0, 0, 0, 192, 0, 2, 1]); // AF_INET, port 0, addr
    expect([...v4.subarray(128, 136)]).toEqual([0, 0, 3, 0, 0, 0, 0, 0]); // flags, prefixlen, keylen 3, ifindex
    expect(Buffer.from(v4.subarray(136, 139)).toString()).toBe('abc');
    const v6 = encodeTcpMd5Sig('2001:db8::1', new Uint8Array(80).fill(7));
    expect([...v6.subarray(0, 2)]).toEqual([10, 0]); // AF_INET6
    expect(v6[8]).toBe(0x20);
    expect(v6[23]).toBe(1);
    expect(v6[130]).toBe(80);
    expect(() => encodeTcpMd5Sig('2001:db8::1', new Uint8Array(81))).toThrow(NetlinkError);
    expect(() => encodeTcpMd5Sig('not-an-ip', 'k')).toThrow(/not an IP/);
  });
});

describe('setsockopt on a net.Socket fd', () => {
  it('sets TTL and minimum TTL for GTSM (RFC 5082) on IPv4', async () => {
    const srv = await listen('127.0.0.1');
    const port = (srv.address() as { port: number }).port;
    const c = connect(port, '127.0.0.1');
    opened.push(c);
    await once(c, 'connect');
    const fd = socketFd(c);
    setTtl(fd, 4, 255);
    setMinTtl(fd, 4, 254);
    expect(getTtlOptions(fd, 4)).toEqual({ ttl: 255, minTtl: 254 });
    expect(() => setTtl(fd, 4, 256)).toThrow(/outside 0..255/);
  });

  it('signs a loopback connection with TCP MD5 on both ends (IPv4) and data flows', async () => {
    const srv = await listen('127.0.0.1');
    setTcpMd5Sig(socketFd(srv), '127.0.0.1', 'sekrit');
    const port = (srv.address() as { port: number }).port;
    const c = createTcpSocket(4, { peer: '127.0.0.1', key: 'sekrit' });
    opened.push(c);
    c.connect(port, '127.0.0.1');
    await once(c, 'connect');
    let echoed = '';
    c.on('data', (d: Buffer) => (echoed += d.toString()));
    c.write('ping');
    await poll(() => echoed === 'ping', { what: 'echo over the signed connection' });
  });

  it('a SYN signed with the wrong key is dropped (RFC 2385 §2) while the right key gets through', async () => {
    const srv = await listen('127.0.0.1');
    setTcpMd5Sig(socketFd(srv), '127.0.0.1', 'sekrit');
    const port = (srv.address() as { port: number }).port;
    let accepted = 0;
    srv.on('connection', () => accepted++);
    const signedOk = createTcpSocket(4, { peer: '127.0.0.1', key: 'sekrit' });
    const wrongKey = createTcpSocket(4, { peer: '127.0.0.1', key: 'other' });
    opened.push(signedOk, wrongKey);
    wrongKey.connect(port, '127.0.0.1');
    signedOk.connect(port, '127.0.0.1');
    await once(signedOk, 'connect'); // the signed one gets through...
    await poll(() => accepted >= 1, { what: 'signed connection accepted' });
    expect(wrongKey.connecting).toBe(true); // ...the wrong key is still waiting for a SYN-ACK
  });

  it('accepts IPv6 peers and IPV6 hop limits when ::1 is available', async (ctx) => {
    let srv: Server;
    try {
      srv = await listen('::1');
    } catch {
      ctx.skip();
      return;
    }
    setTcpMd5Sig(socketFd(srv), '::1', 'k6');
    const c = createTcpSocket(6, { peer: '::1', key: 'k6' });
    c.connect((srv.address() as { port: number }).port, '::1');
    opened.push(c);
    await once(c, 'connect');
    const fd = socketFd(c);
    setTtl(fd, 6, 255);
    setMinTtl(fd, 6, 254);
    expect(getTtlOptions(fd, 6)).toEqual({ ttl: 255, minTtl: 254 });
  });

  it('wraps a refused setsockopt in a typed error', () => {
    expect(() => setTtl(999_999, 4, 64)).toThrow(NetlinkError);
    try {
      setTtl(999_999, 4, 64);
    } catch (e: unknown) {
      expect((e as NetlinkError).code).toBe('NETLINK_SYSCALL');
      expect((e as NetlinkError).errnoName).toBe('EBADF');
    }
  });
});
