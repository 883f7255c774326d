/**
 * Socket options on a Node TCP socket's fd for the BGP speaker: TCP MD5 signatures (RFC 2385)
 * and the Generalized TTL Security Mechanism (RFC 5082): send with TTL 255 and drop anything
 * that arrives with a lower TTL (IP_MINTTL / IPV6_MINHOPCOUNT).
 *
 * struct tcp_md5sig (linux/tcp.h) is encoded here: sockaddr_storage tcpm_addr (128 bytes),
 * u8 flags, u8 prefixlen, u16 keylen, s32 ifindex, u8 key[80] — 216 bytes.
 */
import { Socket, type Server } from 'node:net';
import { closeSync } from 'node:fs';
import { NetlinkError, syscallError } from './errors.js';
import { parseIp, type IpFamily } from './codec/ip.js';
import { native } from './native.js';

const IPPROTO_IP = 0;
const IPPROTO_TCP = 6;
const IPPROTO_IPV6 = 41;
const IP_TTL = 2;
const IP_MINTTL = 21;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MINHOPCOUNT = 73;
const TCP_MD5SIG = 14;
const TCP_MD5SIG_MAXKEYLEN = 80;
const AF_INET = 2;
const AF_INET6 = 10;

/**
 * An unconnected Node TCP socket whose fd exists before `connect()`, so that options which must
 * precede the SYN can be set on it: RFC 2385 §2 signs every segment including the SYN, so the
 * active side needs TCP_MD5SIG before connecting. Pass `md5` to sign towards that peer, then
 * call `socket.connect(port, peer)`.
 */
export function createTcpSocket(family: IpFamily, md5?: { peer: string; key: Uint8Array | string }): Socket {
  let fd: number;
  try {
    fd = native().tcpSocket(family);
  } catch (e: unknown) {
    throw syscallError(e, 'create TCP socket');
  }
  if (md5) {
    try {
      setTcpMd5Sig(fd, md5.peer, md5.key);
    } catch (e: unknown) {
      closeSync(fd);
      throw e;
    }
  }
  return new Socket({ fd, readable: true, writable: true });
}

/** The fd of a connected or listening net.Socket / net.Server handle; throws when it has none. */
export function socketFd(sock: Socket | Server | { _handle?: unknown }): number {
  const handle = (sock as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new NetlinkError('NETLINK_INVALID_REQUEST', 'socket has no file descriptor yet (not connected or listening)');
  }
  return fd;
}

/** Encodes struct tcp_md5sig for `peer` and `key` (an empty key removes the signature). */
export function encodeTcpMd5Sig(peer: string, key: Uint8Array | string): Uint8Array {
  const ip = parseIp(peer);
  if (!ip) throw new NetlinkError('NETLINK_INVALID_REQUEST', `TCP MD5 peer ${JSON.stringify(peer)} is not an IP address`);
  const k = typeof key === 'string' ? new TextEncoder().encode(key) : key;
  if (k.length > TCP_MD5SIG_MAXKEYLEN) throw new NetlinkError('NETLINK_INVALID_REQUEST', `TCP MD5 key is ${k.length} bytes; RFC 2385 keys here are at most ${TCP_MD5SIG_MAXKEYLEN}`);
  const b = new Uint8Array(216);
  if (ip.family === 4) {
    b[0] = AF_INET; // struct sockaddr_in: u16 family (host order), u16 port, 4-byte addr
    b.set(ip.bytes, 4);
  } else {
    b[0] = AF_INET6; // struct sockaddr_in6: family, port, u32 flowinfo, 16-byte addr
    b.set(ip.bytes, 8);
  }
  b[130] = k.length & 0xff; // tcpm_keylen at offset 130 (after flags, prefixlen)
  b[131] = k.length >> 8;
  b.set(k, 136);
  return b;
}

function wrap(fn: () => void, what: string): void {
  try {
    fn();
  } catch (e: unknown) {
    throw syscallError(e, what);
  }
}

/** RFC 2385: signs every segment to/from `peerAddress` with `key`; an empty key removes it. */
export function setTcpMd5Sig(fd: number, peerAddress: string, key: Uint8Array | string): void {
  const opt = encodeTcpMd5Sig(peerAddress, key);
  wrap(() => native().setsockoptBuf(fd, IPPROTO_TCP, TCP_MD5SIG, opt), `TCP_MD5SIG for ${peerAddress}`);
}

function checkTtl(ttl: number): void {
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 255) throw new NetlinkError('NETLINK_INVALID_REQUEST', `TTL ${ttl} is outside 0..255`);
}

/** RFC 5082 §3: drop received segments whose TTL / hop limit is below `ttl` (254 for 1 hop). */
export function setMinTtl(fd: number, family: IpFamily, ttl: number): void {
  checkTtl(ttl);
  if (family === 4) wrap(() => native().setsockoptInt(fd, IPPROTO_IP, IP_MINTTL, ttl), 'IP_MINTTL');
  else wrap(() => native().setsockoptInt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, ttl), 'IPV6_MINHOPCOUNT');
}

/** Sets the TTL / hop limit of sent packets (RFC 5082 §3: 255 for GTSM). */
export function setTtl(fd: number, family: IpFamily, ttl: number): void {
  checkTtl(ttl);
  if (family === 4) wrap(() => native().setsockoptInt(fd, IPPROTO_IP, IP_TTL, ttl), 'IP_TTL');
  else wrap(() => native().setsockoptInt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl), 'IPV6_UNICAST_HOPS');
}

/** Reads back an integer option (for tests and diagnostics): IP_TTL, IP_MINTTL, ... */
export function getTtlOptions(fd: number, family: IpFamily): { ttl: number; minTtl: number } {
  const a = native();
  return family === 4
    ? { ttl: a.getsockoptInt(fd, IPPROTO_IP, IP_TTL), minTtl: a.getsockoptInt(fd, IPPROTO_IP, IP_MINTTL) }
    : { ttl: a.getsockoptInt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS), minTtl: a.getsockoptInt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT) };
}
