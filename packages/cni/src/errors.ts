/**
 * CNI errors. Every failure the plugin reports is a `CniError`: a kebab-case `code` callers
 * match on, and the numeric code the CNI spec puts in the error JSON
 * (SPEC.md "Error": 1-99 reserved by the spec, 100+ for the plugin).
 */
import { TabbyError } from '@tabby/api';

/** Why a CNI command failed. */
export type CniErrorCode =
  | 'incompatible-version' // 1
  | 'unsupported-field' // 2
  | 'container-unknown' // 3
  | 'invalid-env' // 4
  | 'io-failure' // 5
  | 'decode-failure' // 6
  | 'invalid-config' // 7
  | 'try-again-later' // 11
  | 'plugin-not-available' // 50 (STATUS)
  | 'internal' // 100
  | 'pool-exhausted' // 101
  | 'no-pool' // 102
  | 'link-name-taken' // 103
  | 'netns-gone' // 104
  | 'node-not-found' // 105
  | 'address-in-use' // 106
  | 'check-failed' // 107
  | 'delegate-failed'; // 108

/** The number the CNI spec's error JSON carries for each code. */
export const CNI_ERROR_NUMBERS: Readonly<Record<CniErrorCode, number>> = {
  'incompatible-version': 1,
  'unsupported-field': 2,
  'container-unknown': 3,
  'invalid-env': 4,
  'io-failure': 5,
  'decode-failure': 6,
  'invalid-config': 7,
  'try-again-later': 11,
  'plugin-not-available': 50,
  internal: 100,
  'pool-exhausted': 101,
  'no-pool': 102,
  'link-name-taken': 103,
  'netns-gone': 104,
  'node-not-found': 105,
  'address-in-use': 106,
  'check-failed': 107,
  'delegate-failed': 108,
};

/** A CNI failure: `msg` says what was wrong and what to do; `details` is free text. */
export class CniError extends TabbyError<CniErrorCode> {
  constructor(code: CniErrorCode, message: string, readonly detailText = '', cause?: unknown) {
    super(code, message, { detail: detailText }, cause === undefined ? undefined : { cause });
    this.name = 'CniError';
  }

  /** The spec's numeric code. */
  get number(): number {
    return CNI_ERROR_NUMBERS[this.code];
  }
}

/** The error JSON a plugin prints on stdout (SPEC.md "Error"). */
export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

/** Renders an error as the spec's JSON object. */
export function errorJson(e: CniError, cniVersion: string): CniErrorJson {
  const out: CniErrorJson = { cniVersion, code: e.number, msg: e.message };
  if (e.detailText) out.details = e.detailText;
  return out;
}

/** Shorthand constructor. */
export function cniError(code: CniErrorCode, message: string, detail = '', cause?: unknown): CniError {
  return new CniError(code, message, detail, cause);
}
