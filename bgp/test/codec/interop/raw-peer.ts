/**
 * A minimal raw BGP peer for the codec capture test, run inside a test namespace with
 * `node --import tsx`: accepts one connection (or connects), exchanges OPEN/KEEPALIVE using only
 * the codec, and prints every received message as a JSON line {hex} until it has seen End-of-RIB
 * for each family in the arguments (or the deadline passes). No session logic beyond that.
 *
 * Also stops when nothing arrived for 4 s after at least MIN_PREFIXES announced prefixes (for
 * speakers that send no End-of-RIB).
 *
 * Args: listen|connect HOST PORT MY_AS BGP_ID FAMILIES(comma list) [4octet=1|0] [addpath=0|1] [MIN_PREFIXES=1]
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { decodeMessage, encodeMessage, isEndOfRib, MessageReader, type Capability, type CodecContext, type Family } from '../../../src/codec/index.js';

const [mode, host, port, myAsText, bgpId, familiesText, fourText, addPathText, minText] = process.argv.slice(2);
const myAs = Number(myAsText);
const families = (familiesText ?? 'ipv4-unicast').split(',') as Family[];
const four = fourText !== '0';
const wantAddPath = addPathText === '1';
let idle: NodeJS.Timeout | undefined;
const minPrefixes = Number(minText ?? 1);
let announced = 0;
const deadline = setTimeout(() => finish('timeout'), 20_000);

function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function finish(why: string): void {
  clearTimeout(deadline);
  process.stdout.write(JSON.stringify({ done: why }) + '\n', () => process.exit(0));
}

function run(sock: Socket): void {
  const caps: Capability[] = [
    ...families.map((f) => ({ type: 'multiprotocol' as const, afi: f === 'ipv4-unicast' ? 1 : 2, safi: 1 })),
    { type: 'route-refresh' },
  ];
  if (four) caps.push({ type: 'four-octet-as', asn: myAs });
  if (wantAddPath) caps.push({ type: 'add-path', families: families.map((f) => ({ afi: f === 'ipv4-unicast' ? 1 : 2, safi: 1, mode: 1 as const })) });
  const ctx: CodecContext = { fourOctetAs: false, addPath: new Set(), extendedMessage: false };
  sock.write(encodeMessage({ type: 'open', version: 4, myAs: myAs > 0xffff ? 23456 : myAs, holdTime: 90, bgpId: bgpId!, capabilities: caps }, ctx));
  const reader = new MessageReader();
  const seen = new Set<Family>();
  sock.on('data', (chunk: Buffer) => {
    for (const m of reader.push(new Uint8Array(chunk))) {
      process.stdout.write(JSON.stringify({ hex: toHex(m) }) + '\n');
      const d = decodeMessage(m, ctx);
      if (d.type === 'open') {
        ctx.fourOctetAs = four && d.capabilities.some((c) => c.type === 'four-octet-as');
        // RFC 7911 §4: we receive path identifiers where the peer sends them and we asked.
        for (const c of d.capabilities) {
          if (c.type !== 'add-path' || !wantAddPath) continue;
          for (const f of c.families) if (f.safi === 1 && f.mode !== 1) ctx.addPath = new Set([...ctx.addPath, f.afi === 1 ? 'ipv4-unicast' : 'ipv6-unicast']);
        }
        sock.write(encodeMessage({ type: 'keepalive' }, ctx));
      } else if (d.type === 'keepalive') {
        sock.write(encodeMessage({ type: 'keepalive' }, ctx));
      } else if (d.type === 'update') {
        if (d.action === 'accept') announced += d.update.nlri.length + (d.update.attributes.mpReach?.nlri.length ?? 0);
        clearTimeout(idle);
        if (announced >= minPrefixes) idle = setTimeout(() => finish('idle'), 4000);
        const eor = isEndOfRib(d.update);
        if (eor) seen.add(eor);
        if (families.every((f) => seen.has(f))) finish('end-of-rib');
      } else if (d.type === 'notification') {
        finish('notification');
      }
    }
  });
  sock.on('error', (e) => finish(`socket error ${e.message}`));
  sock.on('close', () => finish('closed'));
}

if (mode === 'listen') {
  const srv = createServer((s) => {
    srv.close();
    run(s);
  });
  srv.listen(Number(port), host, () => process.stdout.write(JSON.stringify({ listening: true }) + '\n'));
} else {
  const s = createConnection({ host: host!, port: Number(port) }, () => run(s));
  s.on('error', (e) => finish(`connect error ${e.message}`));
}
