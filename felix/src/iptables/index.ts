/** iptables driver: runner, backend detection, save parsing, the driver and its fake kernel. */
export * from './runner.js';
export * from './backend.js';
export * from './save-parse.js';
export * from './driver.js';
export * from './fake.js';
