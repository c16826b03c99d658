"""Bulkheads: semaphore permits with FIFO waiting, and ThreadPoolExecutor's submit order."""

from __future__ import annotations

import pytest

from scalesim_patterns.sim.mechanisms import (
    QUEUED,
    REJECTED,
    RUN,
    SemaphoreBulkhead,
    ThreadPoolBulkhead,
)

# --- SemaphoreBulkhead --------------------------------------------------------------------


def test_semaphore_defaults_admit_25_and_reject_the_26th_at_once() -> None:
    bh: SemaphoreBulkhead[str] = SemaphoreBulkhead()
    assert all(bh.try_enter(0.0) for _ in range(25))
    assert not bh.try_enter(0.0)
    assert not bh.enqueue("late", 0.0)  # max_wait 0: no waiting
    assert (bh.in_use, bh.waiting, bh.rejected, bh.permitted) == (25, 0, 1, 25)
    assert bh.release(1.0) is None
    assert bh.try_enter(1.0)


def test_semaphore_waiters_are_served_first_come_first_served() -> None:
    bh: SemaphoreBulkhead[str] = SemaphoreBulkhead(max_concurrent=1, max_wait=0.5)
    assert bh.try_enter(0.0)
    for name in ("a", "b", "c"):
        assert not bh.try_enter(0.1)
        assert bh.enqueue(name, 0.1)
    assert bh.release(0.2) == "a"  # the permit passes straight to the first waiter
    assert bh.in_use == 1
    assert bh.expire("b", 0.6)  # b gave up after max_wait
    assert not bh.expire("a", 0.6)  # a already got in
    assert bh.release(0.7) == "c"
    assert bh.release(0.8) is None
    assert (bh.in_use, bh.waiting, bh.expired, bh.rejected) == (0, 0, 1, 1)


def test_semaphore_newcomers_do_not_overtake_waiters() -> None:
    bh: SemaphoreBulkhead[int] = SemaphoreBulkhead(max_concurrent=2, max_wait=1.0)
    assert bh.try_enter(0.0) and bh.try_enter(0.0)
    assert bh.enqueue(1, 0.0)
    bh.release(0.1)  # goes to waiter 1
    assert not bh.try_enter(0.2)  # still full: the released permit went to the waiter


def test_semaphore_records_saturation_periods() -> None:
    bh: SemaphoreBulkhead[int] = SemaphoreBulkhead(max_concurrent=2)
    bh.try_enter(1.0)
    bh.try_enter(2.0)
    bh.release(3.0)
    bh.release(4.0)
    assert bh.transitions == [(2.0, "AVAILABLE", "FULL"), (3.0, "FULL", "AVAILABLE")]


# --- ThreadPoolBulkhead -------------------------------------------------------------------


def test_thread_pool_defaults_follow_resilience4j() -> None:
    # max = processors, core = processors - 1 (at least 1), queue 100, keep-alive 20ms
    bh: ThreadPoolBulkhead[int] = ThreadPoolBulkhead(available_processors=4)
    assert (bh.core_threads, bh.max_threads, bh.queue_capacity, bh.keep_alive) == (3, 4, 100, 0.02)
    one: ThreadPoolBulkhead[int] = ThreadPoolBulkhead(available_processors=1)
    assert (one.core_threads, one.max_threads) == (1, 1)


def test_thread_pool_execute_order_core_queue_max_reject() -> None:
    bh: ThreadPoolBulkhead[int] = ThreadPoolBulkhead(
        core_threads=2, max_threads=4, queue_capacity=2
    )
    decisions = [bh.submit(i, 0.0) for i in range(1, 8)]
    # 1-2 start core threads, 3-4 queue, 5-6 start extra threads (overtaking 3-4), 7 rejected
    assert decisions == [RUN, RUN, QUEUED, QUEUED, RUN, RUN, REJECTED]
    assert (bh.threads, bh.busy, bh.queued, bh.rejected) == (4, 4, 2, 1)
    assert bh.complete(1.0) == 3  # the freed thread takes the queue head
    assert bh.complete(1.0) == 4
    assert bh.complete(1.0) is None
    assert (bh.busy, bh.idle) == (3, 1)


def test_thread_pool_starts_a_thread_below_core_even_if_one_is_idle() -> None:
    bh: ThreadPoolBulkhead[str] = ThreadPoolBulkhead(core_threads=2, max_threads=2)
    assert bh.submit("a", 0.0) == RUN
    assert bh.complete(1.0) is None  # one idle thread
    assert bh.submit("b", 2.0) == RUN
    assert (bh.threads, bh.idle) == (2, 1)  # a second thread, the idle one still idle
    assert bh.submit("c", 3.0) == RUN  # at core size: the idle thread takes it
    assert (bh.threads, bh.idle, bh.busy) == (2, 0, 2)
    assert bh.submit("d", 3.0) == QUEUED


def test_extra_threads_retire_after_keep_alive() -> None:
    bh: ThreadPoolBulkhead[str] = ThreadPoolBulkhead(
        core_threads=1, max_threads=2, queue_capacity=1, keep_alive=0.02
    )
    assert [bh.submit(x, 0.0) for x in "abc"] == [RUN, QUEUED, RUN]
    assert bh.complete(1.0) == "b"
    assert bh.complete(2.0) is None  # pool above core: this idle thread polls for 20ms
    bh.settle(2.019)
    assert bh.threads == 2
    bh.settle(2.02)
    assert bh.threads == 1
    assert bh.complete(3.0) is None  # at core size: waits for work forever
    bh.settle(1000.0)
    assert bh.threads == 1
    assert bh.transitions == [(0.0, "0", "1"), (0.0, "1", "2"), (2.02, "2", "1")]
    assert bh.largest_pool == 2


def test_idle_thread_reused_before_keep_alive_expires() -> None:
    bh: ThreadPoolBulkhead[str] = ThreadPoolBulkhead(
        core_threads=1, max_threads=2, queue_capacity=1, keep_alive=0.02
    )
    for x in "abc":
        bh.submit(x, 0.0)
    bh.complete(1.0)  # takes b
    bh.complete(1.0)  # idle, timed
    assert bh.submit("d", 1.01) == RUN  # served by the idle thread
    assert bh.threads == 2
    bh.settle(5.0)
    assert bh.threads == 2  # nobody is idle, nobody retires


def test_timed_out_poller_stays_when_pool_is_back_at_core() -> None:
    # Java re-checks the pool size when the poll times out: at core size the thread stays and
    # waits again without a timeout.
    bh: ThreadPoolBulkhead[str] = ThreadPoolBulkhead(
        core_threads=2, max_threads=3, queue_capacity=1, keep_alive=0.02
    )
    assert [bh.submit(x, 0.0) for x in "abcde"] == [RUN, RUN, QUEUED, RUN, REJECTED]
    assert bh.complete(1.0) == "c"
    assert bh.complete(1.0) is None  # idle, 3 > 2: polls until 1.02
    assert bh.complete(1.01) is None  # idle, 3 > 2: polls until 1.03
    assert bh.complete(1.5) is None
    # 1.02: first poller exits (3 > 2). 1.03: second finds 2 = core and stays.
    assert bh.transitions[-1] == (1.02, "3", "2")
    bh.settle(100.0)
    assert (bh.threads, bh.idle, bh.busy) == (2, 2, 0)
    assert [bh.submit(x, 101.0) for x in "xyz"] == [RUN, RUN, QUEUED]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"core_threads": 0},
        {"core_threads": 3, "max_threads": 2},
        {"queue_capacity": -1},
        {"available_processors": 0},
    ],
)
def test_thread_pool_invalid_configuration_is_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        ThreadPoolBulkhead(**kwargs)


def test_releasing_more_than_was_taken_is_an_error() -> None:
    bh: SemaphoreBulkhead[int] = SemaphoreBulkhead()
    with pytest.raises(RuntimeError):
        bh.release(0.0)
    pool: ThreadPoolBulkhead[int] = ThreadPoolBulkhead()
    with pytest.raises(RuntimeError):
        pool.complete(0.0)


def test_semaphore_invalid_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        SemaphoreBulkhead(max_concurrent=0)
