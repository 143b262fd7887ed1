// waitFor polls states; when waiting cannot help any more (the process that should act exited) it
// fails at once instead of at the timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor, WaitAborted } from './wait-for.ts';

test('returns the first truthy value', async () => {
  let n = 0;
  assert.equal(await waitFor(() => (++n >= 3 ? n : undefined), { intervalMs: 1 }), 3);
});

test('failFast ends the wait at once with its reason (long before the timeout)', async () => {
  let polls = 0;
  const started = Date.now();
  await assert.rejects(
    waitFor(() => { polls++; return undefined; }, { timeoutMs: 60_000, intervalMs: 1, failFast: () => (polls >= 2 ? 'the worker exited' : undefined) }),
    (err: Error) => err instanceof WaitAborted && /the worker exited/.test(err.message),
  );
  assert.equal(polls, 2);
  assert.ok(Date.now() - started < 30_000);
});

test('a WaitAborted thrown by the check is not swallowed like other errors', async () => {
  let polls = 0;
  await assert.rejects(
    waitFor(() => { polls++; if (polls === 1) throw new Error('transient'); throw new WaitAborted('exited'); }, { timeoutMs: 60_000, intervalMs: 1 }),
    /exited/,
  );
  assert.equal(polls, 2);
});

test('times out with the last error', async () => {
  await assert.rejects(
    waitFor(() => { throw new Error('connection refused'); }, { timeoutMs: 30, intervalMs: 5, what: 'the API' }),
    /timed out waiting for the API \(last error: connection refused\)/,
  );
});
