/**
 * The one error base class of Tabby. Every package defines its own union of string `code`s and
 * throws `TabbyError<ItsCodes>`; callers match on `code`, never on message text. The message is
 * for a person: what was wrong, where (file, field, peer), and what to do.
 */
export class TabbyError<C extends string = string> extends Error {
  /** A machine-readable reason, from the throwing package's discriminated union. */
  readonly code: C;
  /** Structured context (file, field, peer, errno, ...), also logged. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: C, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TabbyError';
    this.code = code;
    this.details = details;
  }
}

/** True when `e` is a TabbyError, optionally with one of the given codes. */
export function isTabbyError<C extends string>(e: unknown, ...codes: C[]): e is TabbyError<C> {
  if (!(e instanceof TabbyError)) return false;
  return codes.length === 0 || codes.includes(e.code as C);
}

/** A short description of any thrown value, for logs. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
