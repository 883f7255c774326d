#!/usr/bin/env node
/**
 * `unix-forward HOST PORT SOCKET`: accepts TCP connections on HOST:PORT (in the network namespace
 * it runs in) and relays each to the unix socket SOCKET. Lets processes in node namespaces reach a
 * server the test runs on a unix socket (the fake Kubernetes API server) without any route to
 * the root namespace. Prints `ready` once listening; SIGTERM stops it.
 */
import { connect, createServer } from 'node:net';

const [host, port, socket] = process.argv.slice(2);
if (!host || !port || !socket) {
  process.stderr.write('usage: unix-forward HOST PORT SOCKET\n');
  process.exit(2);
}
const server = createServer((client) => {
  const up = connect(socket);
  client.pipe(up).pipe(client);
  const end = (): void => {
    client.destroy();
    up.destroy();
  };
  client.on('error', end);
  up.on('error', end);
  client.on('close', end);
  up.on('close', end);
});
server.listen(Number(port), host, () => process.stdout.write('ready\n'));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
