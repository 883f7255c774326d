/**
 * The real `SocketOptions` (ports.ts): RFC 2385 TCP-MD5 and RFC 5082 GTSM through
 * `@tabby/netlink`'s setsockopt wrappers. The addon is loaded lazily on first use; when it is
 * not built, each call throws the netlink package's error, which the shell reports as a failed
 * connection setup for that peer (and never applies to peers without MD5 or GTSM).
 */
import { createTcpSocket, setMinTtl, setTcpMd5Sig, setTtl, socketFd } from '@tabby/netlink';
import type { SocketOptions } from './ports.js';

/** Socket options backed by the netlink addon. */
export function netlinkSocketOptions(): SocketOptions {
  return {
    available: true,
    setTcpMd5Sig: (fd, peer, key) => setTcpMd5Sig(fd, peer, key),
    setMinTtl: (fd, family, ttl) => setMinTtl(fd, family, ttl),
    setTtl: (fd, family, ttl) => setTtl(fd, family, ttl),
    createSocket: (family, md5) => createTcpSocket(family, md5),
    fdOf: (s) => {
      try {
        return socketFd(s);
      } catch {
        return -1;
      }
    },
  };
}
