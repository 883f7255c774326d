/**
 * A minimal BGP sender for the ingest benchmark, run as its own process in the source namespace:
 * it encodes a feed (bgp-feed.ts) before connecting, so the sender is never the bottleneck, then
 * connects to the receiver, exchanges OPEN/KEEPALIVE (RFC 4271 §8: OpenSent → OpenConfirm →
 * Established), writes the whole feed and End-of-RIB at once, and then only keeps the session
 * alive (KEEPALIVE every 30 s, everything received ignored) until it is stopped or the peer closes.
 *
 * Prints JSON lines on stdout: `{"ready":N}` once the feed is encoded (N messages),
 * `{"established":epochMs}` when the session is up, `{"sent":epochMs}` when the kernel took the
 * last octet. Exits 1 with a message on any error.
 *
 * `node bench/dist/bgp-source.js --kind host32|table|ipv6 --routes N --local ADDR --peer ADDR
 *  --as ASN --peer-as ASN --router-id A.B.C.D`
 */
import { connect } from 'node:net';
import { MessageReader, decodeMessage, encodeEndOfRib, encodeKeepalive, encodeOpen, type CodecContext } from '@tabby/bgp';
import { encodeFeed, type FeedKind } from './bgp-feed.js';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) {
    console.error(`bgp-source: --${name} is required`);
    process.exit(2);
  }
  return v;
}

const kind = arg('kind') as FeedKind;
const v6 = kind === 'ipv6';
const local = arg('local');
const asn = Number(arg('as'));
const ctx: CodecContext = { fourOctetAs: true, addPath: new Set(), extendedMessage: false };
const feed = encodeFeed({ kind, routes: Number(arg('routes')), asn, nextHop: local, ctx });
const family = v6 ? 'ipv6-unicast' : 'ipv4-unicast';
const burst = Buffer.concat([...feed, encodeEndOfRib(family, ctx)]);
console.log(JSON.stringify({ ready: feed.length }));

const fail = (why: string): never => {
  console.error(`bgp-source: ${why}`);
  process.exit(1);
};

const sock = connect({ host: arg('peer'), port: 179, localAddress: local });
const reader = new MessageReader();
let state: 'open-sent' | 'open-confirm' | 'established' = 'open-sent';
sock.on('connect', () => {
  const open = encodeOpen({
    type: 'open',
    version: 4,
    myAs: asn,
    holdTime: 90,
    bgpId: arg('router-id'),
    capabilities: [{ type: 'multiprotocol', afi: v6 ? 2 : 1, safi: 1 }, { type: 'route-refresh' }, { type: 'four-octet-as', asn }],
  });
  sock.write(open);
});
sock.on('data', (chunk: Buffer) => {
  if (state === 'established') return; // the receivers send only KEEPALIVEs from here on
  for (const m of reader.push(chunk)) {
    const msg = decodeMessage(m, ctx);
    if (msg.type === 'notification') fail(`NOTIFICATION ${msg.code}/${msg.subcode} from the receiver`);
    if (msg.type === 'open') {
      if (!msg.capabilities.some((c) => c.type === 'four-octet-as')) fail('the receiver does not support 4-octet AS numbers');
      sock.write(encodeKeepalive());
      state = 'open-confirm';
    } else if (msg.type === 'keepalive' && state === 'open-confirm') {
      state = 'established';
      console.log(JSON.stringify({ established: Date.now() }));
      sock.write(burst, () => console.log(JSON.stringify({ sent: Date.now() })));
      setInterval(() => sock.write(encodeKeepalive()), 30_000).unref();
    }
  }
});
sock.on('error', (e) => fail(e.message));
sock.on('close', () => process.exit(0));
process.on('SIGTERM', () => {
  sock.destroy();
  process.exit(0);
});
