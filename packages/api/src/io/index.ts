/** YAML/JSON resource files. */
export * from './documents.js';
