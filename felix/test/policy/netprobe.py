#!/usr/bin/python3
"""Listener and prober for the policy tests, working in many network namespaces from one process.

serve NS...   : in each namespace (a name under /var/run/netns) listen on TCP and UDP ports 80
                and 81 (0.0.0.0); accept-and-close TCP, echo UDP. Prints "ready" once listening.
probe         : reads a JSON list of {"id","src","dst","port","proto" (tcp|udp|icmp),
                "icmpType","icmpCode"} on stdin; opens each probe's socket inside its source
                namespace (setns on this single-threaded process, then back), waits up to
                --timeout seconds for all of them, prints {"id": true|false} as JSON.
The process is started inside the test's node namespace; it never creates a socket anywhere else
than in the namespaces it is given.
"""
import ctypes, json, os, select, socket, struct, sys, time

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
HOME = os.open('/proc/self/ns/net', os.O_RDONLY)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), 'setns')


def inside(ns, fn):
    fd = os.open('/var/run/netns/' + ns, os.O_RDONLY)
    try:
        setns(fd)
        return fn()
    finally:
        setns(HOME)
        os.close(fd)


def serve(namespaces):
    socks = []
    for ns in namespaces:
        def mk():
            out = []
            for port in (80, 81):
                t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                t.bind(('0.0.0.0', port)); t.listen(512); t.setblocking(False)
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                u.bind(('0.0.0.0', port)); u.setblocking(False)
                out += [('tcp', t), ('udp', u)]
            return out
        socks += inside(ns, mk)
    print('ready', flush=True)
    by_fd = {s.fileno(): (k, s) for k, s in socks}
    p = select.poll()
    for fd in by_fd:
        p.register(fd, select.POLLIN)
    while True:
        for fd, _ in p.poll():
            kind, s = by_fd[fd]
            try:
                if kind == 'tcp':
                    c, _ = s.accept(); c.close()
                else:
                    data, addr = s.recvfrom(2048); s.sendto(data, addr)
            except OSError:
                pass


def checksum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff


def probe(timeout):
    probes = json.load(sys.stdin)
    result = {p['id']: False for p in probes}
    pending = {}  # fd -> (probe, sock)
    raw = {}      # src ns -> raw icmp socket
    icmp_ids = {}  # (src ns, ident) -> probe id
    by_src = {}
    for p in probes:
        by_src.setdefault(p['src'], []).append(p)
    # A fresh ICMP id per run: conntrack would take a reused id for the same echo "connection".
    ident = int.from_bytes(os.urandom(2), 'big')
    for src, ps in by_src.items():
        def mk():
            nonlocal ident
            for p in ps:
                if p['proto'] in ('tcp', 'udp'):
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if p['proto'] == 'tcp' else socket.SOCK_DGRAM)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    if p.get('sport'):
                        # A source port not used recently: a reused 5-tuple would match
                        # conntrack's entry of an earlier (maybe allowed) flow.
                        s.bind(('0.0.0.0', p['sport']))
                    s.setblocking(False)
                    if p['proto'] == 'tcp':
                        s.connect_ex((p['dst'], p['port']))
                    else:
                        s.connect((p['dst'], p['port'])); s.send(b'probe')
                    pending[s.fileno()] = (p, s)
                else:
                    if src not in raw:
                        raw[src] = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
                        raw[src].setblocking(False)
                    t, c = p.get('icmpType', 8), p.get('icmpCode', 0)
                    ident = (ident + 1) & 0xffff
                    hdr = struct.pack('!BBHHH', t, c, 0, ident, 1) + b'tabbytabby!!'
                    hdr = hdr[:2] + struct.pack('!H', checksum(hdr)) + hdr[4:]
                    raw[src].sendto(hdr, (p['dst'], 0)); icmp_ids[(src, ident)] = p
        inside(src, mk)
    raw_fd = {s.fileno(): (src, s) for src, s in raw.items()}
    pl = select.poll()
    for fd, (p, _) in pending.items():
        pl.register(fd, select.POLLOUT if p['proto'] == 'tcp' else select.POLLIN)
    for fd in raw_fd:
        pl.register(fd, select.POLLIN)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (pending or any(k for k in icmp_ids)):
        for fd, ev in pl.poll(max(1, int((deadline - time.monotonic()) * 1000))):
            if fd in raw_fd:
                src, s = raw_fd[fd]
                try:
                    while True:
                        data, addr = s.recvfrom(2048)
                        ihl = (data[0] & 15) * 4
                        t, c, _, rid = struct.unpack('!BBHH', data[ihl:ihl + 6])
                        p = icmp_ids.get((src, rid))
                        if p and t in (0, 14) and addr[0] == p['dst']:
                            result[p['id']] = True; del icmp_ids[(src, rid)]
                except (BlockingIOError, OSError):
                    pass
                continue
            p, s = pending.pop(fd, (None, None))
            if p is None:
                continue
            pl.unregister(fd)
            if p['proto'] == 'tcp':
                result[p['id']] = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
            else:
                try:
                    result[p['id']] = s.recv(2048) == b'probe'
                except OSError:
                    result[p['id']] = False
            s.close()
    print(json.dumps(result), flush=True)


if __name__ == '__main__':
    if sys.argv[1] == 'serve':
        serve(sys.argv[2:])
    else:
        probe(float(sys.argv[2]) if len(sys.argv) > 2 else 1.5)
