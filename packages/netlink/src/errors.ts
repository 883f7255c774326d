/**
 * Typed errors of @tabby/netlink. A kernel refusal carries the errno (name and number), the
 * request that failed (operation and a one-line summary of the object) and the kernel's
 * extended-ack text (NLMSGERR_ATTR_MSG), so a caller matches on `code` / `errno` and a person
 * reads "route.add 10.0.0.0/24 via 10.9.9.9: ENETUNREACH (Nexthop has invalid gateway)".
 */
import { constants } from 'node:os';
import { TabbyError } from '@tabby/api';

/** Why a netlink operation failed. */
export type NetlinkErrorCode =
  /** The kernel answered the request with a negative errno. */
  | 'NETLINK_KERNEL_ERROR'
  /** The request could not be encoded (malformed address, name too long, ...). */
  | 'NETLINK_INVALID_REQUEST'
  /** A received message was malformed. */
  | 'NETLINK_DECODE'
  /** The receive buffer overflowed: messages were lost; re-read the full state. */
  | 'NETLINK_OVERRUN'
  /** A received message exceeded the receive slot and was dropped; the slot grew: re-read. */
  | 'NETLINK_TRUNCATED'
  /** A socket syscall failed (socket, bind, send, setsockopt, setns). */
  | 'NETLINK_SYSCALL'
  /** The socket was closed while the request was in flight. */
  | 'NETLINK_CLOSED'
  /** The request was aborted through its AbortSignal. */
  | 'NETLINK_ABORTED'
  /** The native addon is not built or failed to load. */
  | 'NETLINK_NATIVE_UNAVAILABLE';

/** What a failed request was: `route.add` plus `10.0.0.1/32 dev 3 proto 80`. */
export interface RequestSummary {
  op: string;
  summary: string;
}

/** Extra fields of a NetlinkError. */
export interface NetlinkErrorInit {
  errno?: number;
  errnoName?: string;
  request?: RequestSummary;
  extAck?: string;
  cause?: unknown;
}

const errnoNames = new Map<number, string>();
for (const [name, num] of Object.entries(constants.errno)) if (!errnoNames.has(num)) errnoNames.set(num, name);
errnoNames.set(constants.errno.EOPNOTSUPP, 'EOPNOTSUPP'); // Linux's name for 95; ENOTSUP is the alias

/** The symbolic name of an errno number (`EEXIST`), or `E<number>` when unknown. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** An error of @tabby/netlink; match on `code`, and on `errnoName` for kernel errors. */
export class NetlinkError extends TabbyError<NetlinkErrorCode> {
  /** Positive errno, when the kernel or a syscall reported one. */
  readonly errno: number | undefined;
  /** Symbolic errno (`EEXIST`, `ENODEV`, `EOPNOTSUPP`). */
  readonly errnoName: string | undefined;
  /** The request that failed. */
  readonly request: RequestSummary | undefined;
  /** The kernel's extended ack message, e.g. "Nexthop device is not up". */
  readonly extAck: string | undefined;

  constructor(code: NetlinkErrorCode, message: string, init: NetlinkErrorInit = {}) {
    const { cause, ...fields } = init;
    super(code, message, { ...fields }, cause === undefined ? undefined : { cause });
    this.name = 'NetlinkError';
    this.errno = init.errno;
    this.errnoName = init.errnoName ?? (init.errno !== undefined ? errnoName(init.errno) : undefined);
    this.request = init.request;
    this.extAck = init.extAck;
  }
}

/** Builds the error for a kernel NLMSG_ERROR with negative `error`. */
export function kernelError(errno: number, request: RequestSummary | undefined, extAck: string | undefined): NetlinkError {
  const name = errnoName(errno);
  const what = request ? `${request.op} ${request.summary}: ` : '';
  const ack = extAck ? ` (${extAck})` : '';
  return new NetlinkError('NETLINK_KERNEL_ERROR', `${what}${name}${ack}`, { errno, errnoName: name, request, extAck });
}

/** Wraps a failed native syscall (an Error with `errno` and `syscall`). */
export function syscallError(e: unknown, what: string): NetlinkError {
  const err = e as { errno?: unknown; message?: unknown };
  // Node's fs and libuv errors carry negative errnos (-2 for ENOENT); the addon's are positive.
  const errno = typeof err.errno === 'number' ? Math.abs(err.errno) : undefined;
  const msg = typeof err.message === 'string' ? err.message : String(e);
  return new NetlinkError('NETLINK_SYSCALL', `${what}: ${msg}`, { errno, cause: e });
}
