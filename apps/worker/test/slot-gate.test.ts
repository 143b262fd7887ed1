// The slot gate shared by a worker's per-model BullMQ Workers: capacity-bounded, FIFO, pauses the
// Workers while full (only when there are several) and resumes them when a slot frees; closing it
// refuses the waiting jobs (they go back to the queue unstarted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GateClosed, SlotGate } from '../src/slot-gate.ts';

/** Records pause/resume calls the way BullMQ's Worker receives them. */
function pausable() {
  const calls: string[] = [];
  return { calls, pause: async (doNotWaitActive?: boolean) => { calls.push(`pause:${doNotWaitActive}`); }, resume: async () => { calls.push('resume'); } };
}

test('several Workers: full → paused without waiting for running jobs; a freed slot resumes them', async () => {
  const gate = new SlotGate(2);
  const [a, b] = [pausable(), pausable()];
  gate.attach([a, b] as never);
  const r1 = await gate.acquire();
  assert.deepEqual(a.calls, [], 'a free slot left: still fetching');
  const r2 = await gate.acquire();
  assert.deepEqual([a.calls, b.calls], [['pause:true'], ['pause:true']]);
  r1();
  r1(); // a second release of the same slot is ignored
  assert.deepEqual([a.calls, b.calls], [['pause:true', 'resume'], ['pause:true', 'resume']]);
  const r3 = await gate.acquire();
  assert.equal(a.calls.at(-1), 'pause:true', 'full again');
  r2();
  r3();
});

test('a job fetched while full waits for a slot, first come first served; the slot passes on without resuming', async () => {
  const gate = new SlotGate(1);
  const [a, b] = [pausable(), pausable()];
  gate.attach([a, b] as never);
  const r1 = await gate.acquire();
  const order: string[] = [];
  const w1 = gate.acquire().then((r) => { order.push('w1'); return r; });
  const w2 = gate.acquire().then((r) => { order.push('w2'); return r; });
  await new Promise((r) => setImmediate(r));
  assert.equal(gate.waiting, 2);
  r1();
  const r2 = await w1;
  assert.deepEqual(order, ['w1']);
  assert.ok(!a.calls.includes('resume'), 'still full: the Workers stay paused');
  r2();
  (await w2)();
  assert.deepEqual(order, ['w1', 'w2']);
  assert.equal(a.calls.at(-1), 'resume', 'resumed once every slot is free');
});

test('one Worker: never paused (its own concurrency limits it)', async () => {
  const gate = new SlotGate(1);
  const only = pausable();
  gate.attach([only] as never);
  (await gate.acquire())();
  assert.deepEqual(only.calls, []);
});

test('closing refuses the waiting jobs and every later one with GateClosed; running ones keep their slot', async () => {
  const gate = new SlotGate(1);
  const release = await gate.acquire();
  const waiting = gate.acquire();
  gate.close();
  await assert.rejects(waiting, GateClosed);
  await assert.rejects(gate.acquire(), GateClosed);
  release();
});
