/** The pure part of the etcd backend's fault handling: classification, messages, retry rules. */
import { describe, expect, it } from 'vitest';
import { classifyFailure, failureError, withRetry } from '../src/etcd-faults.js';

class GRPCUnavailableError extends Error {}

const noConn = new GRPCUnavailableError('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED /tmp/x/localhost:2379');
const dropped = new GRPCUnavailableError('14 UNAVAILABLE: Connection dropped');
const timedOut = new Error('14 UNAVAILABLE: etcdserver: request timed out');
const compacted = new Error('11 OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted');
const quota = new Error('8 RESOURCE_EXHAUSTED: etcdserver: mvcc: database space exceeded');
const tooLarge = new Error('3 INVALID_ARGUMENT: etcdserver: request is too large');

describe('etcd fault classification', () => {
  it.each([
    [noConn, 'not-sent'],
    [dropped, 'unknown'],
    [timedOut, 'unknown'],
    [compacted, 'compacted'],
    [quota, 'quota'],
    [tooLarge, 'rejected'],
    [new Error('Execution prevented because the circuit breaker is open'), 'unknown'],
  ])('%s → %s', (e, kind) => {
    expect(classifyFailure(e)).toBe(kind);
  });

  it('a write that may have been applied is Indeterminate; one that never left is Unavailable', () => {
    expect(failureError('txn', dropped, true, false).code).toBe('Indeterminate');
    expect(failureError('txn', noConn, true, false).code).toBe('Unavailable');
    expect(failureError('get', dropped, false, false).code).toBe('Unavailable');
    expect(failureError('create', quota, true, false).code).toBe('QuotaExceeded');
    expect(failureError('create', tooLarge, true, false).code).toBe('Invalid');
  });

  it('messages name etcd and the operation, without the client\'s error class names', () => {
    const m = failureError('get', noConn, false, false).message;
    expect(m).toMatch(/^etcd get failed: unavailable: No connection established/);
    expect(m).not.toMatch(/GRPC|circuit|breaker/);
  });

  it('re-sends reads after any transport failure, writes only when never sent', async () => {
    const retry = { attempts: 3, baseDelayMs: 0 };
    const sleep = async (): Promise<void> => undefined;
    const flaky = (errs: Error[]) => {
      let n = 0;
      return async (): Promise<string> => {
        const e = errs[n++];
        if (e) throw e;
        return 'ok';
      };
    };
    await expect(withRetry('get', false, retry, sleep, flaky([dropped, noConn]))).resolves.toBe('ok');
    await expect(withRetry('txn', true, retry, sleep, flaky([noConn, noConn]))).resolves.toBe('ok');
    await expect(withRetry('txn', true, retry, sleep, flaky([dropped]))).rejects.toMatchObject({ code: 'Indeterminate' });
    await expect(withRetry('get', false, retry, sleep, flaky([noConn, noConn, noConn, noConn]))).rejects.toMatchObject({ code: 'Unavailable' });
    await expect(withRetry('txn', true, retry, sleep, flaky([quota]))).rejects.toMatchObject({ code: 'QuotaExceeded' });
  });
});
