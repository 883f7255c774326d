/**
 * tabbyctl's errors and exit codes (documented in the README and `tabbyctl --help`):
 *   0 success · 1 the operation failed (conflict, not found, partial) · 2 usage error ·
 *   3 invalid input documents (nothing written) · 4 datastore or agent unreachable.
 */
import { TabbyError } from '@tabby/api';

/** Why tabbyctl failed. */
export type CtlErrorCode = 'failed' | 'usage' | 'invalid-input' | 'unreachable';

/** Exit status per code. */
export const EXIT_CODES: Readonly<Record<CtlErrorCode, number>> = { failed: 1, usage: 2, 'invalid-input': 3, unreachable: 4 };

/** A tabbyctl failure; the message is printed as is. */
export class CtlError extends TabbyError<CtlErrorCode> {
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

/** Shorthand. */
export function ctlError(code: CtlErrorCode, message: string): CtlError {
  return new CtlError(code, message);
}
