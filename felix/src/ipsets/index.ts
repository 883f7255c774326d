/** ipset driver. */
export * from './parse.js';
export * from './driver.js';
