/** @module daemon — the `tabby-bgp` daemon: YAML configuration, speaker wiring, status socket. */
export * from './config.js';
export * from './status.js';
export { BgpDaemon, loadConfig, type DaemonComponents, type DaemonInit } from './daemon.js';
export { routeReport, asPathText, communityText } from './routes.js';
