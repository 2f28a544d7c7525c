/** The shadower's parts that need no database: the hand-off queue, the drop counter, the Prometheus text. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { HandoffQueue } from '../src/shadow/handoff-queue.js';
import { DropCounter, type DropCounts } from '../src/shadow/drop-counter.js';
import { Counter, Gauge, ServiceMetrics, shadowMetricsText } from '../src/serve/prometheus.js';
import type { ShadowStats } from '../src/shadow/shadower.js';

describe('HandoffQueue', () => {
  test('queues up to its capacity, then refuses', () => {
    const q = new HandoffQueue<number>(2);
    assert.equal(q.offer(1), 'queued');
    assert.equal(q.offer(2), 'queued');
    assert.equal(q.offer(3), 'full');
    assert.equal(q.depth, 2);
    assert.equal(q.inFlight, 0);
  });

  test('capacity 0 only hands off to an idle worker', async () => {
    const q = new HandoffQueue<string>(0);
    assert.equal(q.offer('a'), 'full');
    const taken = q.take();
    assert.equal(q.idleWorkers, 1);
    assert.equal(q.offer('b'), 'handed');
    assert.equal(await taken, 'b');
    assert.equal(q.depth, 0);
  });

  test('an idle worker gets the item at once, counted in flight until done', async () => {
    const q = new HandoffQueue<string>(5);
    const first = q.take();
    const second = q.take();
    assert.equal(q.idleWorkers, 2);
    assert.equal(q.offer('x'), 'handed');
    assert.equal(q.inFlight, 1, 'in flight from the moment of the hand-off');
    assert.equal(q.depth, 0);
    assert.equal(await first, 'x', 'the worker that waited longest gets it');
    assert.equal(q.offer('y'), 'handed');
    assert.equal(await second, 'y');
    assert.equal(q.inFlight, 2);
    q.done();
    q.done();
    assert.equal(q.inFlight, 0);
    assert.equal(q.offer('z'), 'queued', 'no idle worker left');
    assert.equal(await q.take(), 'z');
    assert.equal(q.inFlight, 1);
  });

  test('items come out oldest first', async () => {
    const q = new HandoffQueue<number>(3);
    q.offer(1);
    q.offer(2);
    q.offer(3);
    assert.deepEqual([await q.take(), await q.take(), await q.take()], [1, 2, 3]);
  });

  test('close wakes idle workers with null, still hands out what is queued, then null; refuses new items', async () => {
    const q = new HandoffQueue<number>(3);
    const idle = q.take();
    q.close();
    assert.equal(await idle, null);
    const q2 = new HandoffQueue<number>(3);
    q2.offer(1);
    q2.offer(2);
    q2.close();
    assert.equal(q2.closed, true);
    assert.equal(q2.offer(3), 'full');
    assert.equal(await q2.take(), 1);
    assert.equal(await q2.take(), 2);
    assert.equal(await q2.take(), null);
    assert.equal(q2.inFlight, 2);
  });

  test('clear returns what was still waiting', () => {
    const q = new HandoffQueue<number>(3);
    q.offer(7);
    q.offer(8);
    assert.deepEqual(q.clear(), [7, 8]);
    assert.equal(q.depth, 0);
  });
});

describe('DropCounter', () => {
  test('counts per candidate, flushes once, keeps what a failed write did not store', async () => {
    const c = new DropCounter();
    c.note(1, 'dropped');
    c.note(1, 'dropped');
    c.note(1, 'failed');
    c.note(2, 'dropped');
    assert.deepEqual(c.totals, { dropped: 3, failed: 1 });

    const stored = new Map<number, DropCounts>();
    const write = async (id: number, n: DropCounts) => {
      const s = stored.get(id) ?? { dropped: 0, failed: 0 };
      stored.set(id, { dropped: s.dropped + n.dropped, failed: s.failed + n.failed });
    };
    let fail = true;
    await assert.rejects(
      c.flush(async (id, n) => {
        if (id === 2 && fail) throw new Error('database down');
        await write(id, n);
      }),
      /database down/,
    );
    assert.deepEqual(stored.get(1), { dropped: 2, failed: 1 });
    assert.equal(stored.has(2), false);
    c.note(2, 'failed');
    fail = false;
    await c.flush(write);
    assert.deepEqual(stored.get(1), { dropped: 2, failed: 1 }, 'not written twice');
    assert.deepEqual(stored.get(2), { dropped: 1, failed: 1 }, 'the failed write is retried with what came since');
    await c.flush(async () => assert.fail('nothing left to write'));
    assert.deepEqual(c.totals, { dropped: 3, failed: 2 }, 'totals are not reset by a flush');
  });
});

describe('Prometheus text', () => {
  const stats: ShadowStats = {
    enqueued: 6,
    completed: 5,
    dropped: 44,
    failed: 1,
    queueDepth: 2,
    inFlight: 1,
    seen: 60,
    candidate: 'cand',
    sampleRate: 1,
  };

  test('shadow metrics, labelled with the candidate', () => {
    const t = shadowMetricsText(stats);
    assert.match(t, /^# TYPE embctl_shadow_enqueued_total counter$/m);
    assert.match(t, /^embctl_shadow_enqueued_total\{candidate="cand"\} 6$/m);
    assert.match(t, /^embctl_shadow_completed_total\{candidate="cand"\} 5$/m);
    assert.match(t, /^embctl_shadow_dropped_total\{candidate="cand"\} 44$/m);
    assert.match(t, /^embctl_shadow_failed_total\{candidate="cand"\} 1$/m);
    assert.match(t, /^# TYPE embctl_shadow_queue_depth gauge$/m);
    assert.match(t, /^embctl_shadow_queue_depth\{candidate="cand"\} 2$/m);
    assert.match(t, /^embctl_shadow_in_flight\{candidate="cand"\} 1$/m);
    const none = shadowMetricsText({ ...stats, candidate: null });
    assert.match(none, /^embctl_shadow_queue_depth 2$/m, 'no label without a candidate');
  });

  test('label values are escaped once: backslash, quote, newline', () => {
    const t = shadowMetricsText({ ...stats, candidate: 'a"b\\c\nd' });
    assert.match(t, /^embctl_shadow_dropped_total\{candidate="a\\"b\\\\c\\nd"\} 44$/m);
    const c = new Counter('x_total', 'x');
    c.inc({ v: 'q"' });
    assert.match(c.render(), /^x_total\{v="q\\""\} 1$/m);
    const g = new Gauge('g', 'g');
    g.set({ v: '\\' }, 3);
    assert.match(g.render(), /^g\{v="\\\\"\} 3$/m);
    const m = new ServiceMetrics().render('v"1', [t]);
    assert.match(m, /^embctl_active_version\{version="v\\"1"\} 1$/m);
    assert.match(m, /^embctl_shadow_in_flight\{candidate="a\\"b\\\\c\\nd"\} 1$/m);
    assert.ok(m.endsWith('\n'));
  });
});
