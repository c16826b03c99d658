"""Every statement under "What the simulator shows" in the catalog has a check: a test that runs
the pattern's template and reads the figure the statement promises.

`CLAIMS` maps (pattern, statement) to its check. The checks written here register themselves
with `@shows(pattern, statement)`; a statement already checked by a template test elsewhere is
registered with `elsewhere(...)`, naming that test (which must exist). The first test below
enumerates the statements from the catalog data: a statement without a check, or a check for a
statement the catalog no longer makes, fails it, so a new statement cannot land untested.

Runs are short (faults moved to 10 s, as tests/sim/test_pattern_value.py does) and shared
between checks of the same template.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

from scalesim_patterns import catalog
from scalesim_patterns.generate.observability import projection_lag_budget
from scalesim_patterns.model import Architecture, loads
from scalesim_patterns.model.traffic import SpikeArrival
from scalesim_patterns.sim import simulate
from scalesim_patterns.sim.reports.results import RunResult


@dataclass(frozen=True)
class Check:
    """The test that backs one statement: a function here, or `module::function` elsewhere."""

    fn: Callable[[], None] | None
    where: str | None = None


CLAIMS: dict[tuple[str, str], Check] = {}


def shows(pattern: str, statement: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(fn: Callable[[], None]) -> Callable[[], None]:
        key = (pattern, statement)
        assert key not in CLAIMS, key
        CLAIMS[key] = Check(fn)
        return fn

    return register


def elsewhere(pattern: str, statement: str, where: str) -> None:
    """`where` is `tests.package.module::test_function`, a test that runs the template."""
    key = (pattern, statement)
    assert key not in CLAIMS, key
    CLAIMS[key] = Check(None, where)


def test_every_simulator_statement_of_every_entry_has_a_check() -> None:
    statements = {(p.id, text) for p in catalog.patterns() for text in p.simulation}
    unchecked = sorted(statements - set(CLAIMS))
    stale = sorted(set(CLAIMS) - statements)
    assert not unchecked, f"statements without a check (add one here): {unchecked}"
    assert not stale, f"checks of statements the catalog no longer makes: {stale}"
    for (pattern, _), check in CLAIMS.items():
        assert catalog.pattern(pattern).template is not None
        if check.where is not None:
            module, _, name = check.where.partition("::")
            fn = getattr(importlib.import_module(module), name, None)
            assert callable(fn) and name.startswith("test_"), check.where


# ---- running templates -------------------------------------------------------------------


def _arch(template: str, sets: tuple[str, ...] = (), at: float | None = None) -> Architecture:
    """The template (with `--set` edits), its scenarios' faults and spikes moved to `at`."""
    arch = (
        loads(catalog.new(template, list(sets)))
        if sets
        else catalog.template_architecture(template)
    )
    if at is not None:
        for scenario in arch.spec.scenarios.values():
            for fault in scenario.faults:
                fault.at = at
            for override in scenario.traffic.values():
                if isinstance(override.arrival, SpikeArrival):
                    override.arrival.at = at
    return arch


@functools.cache
def _run(
    template: str,
    scenario: str | None = None,
    *,
    sets: tuple[str, ...] = (),
    duration: float = 20.0,
    warmup: float = 5.0,
    at: float | None = 10.0,
) -> RunResult:
    result = simulate(
        _arch(template, sets, at),
        scenario=scenario,
        duration=duration,
        warmup=warmup,
        replications=1,
        jobs=1,
    )
    return result.runs[0]


def _column(run: RunResult, values: list[float | None], start: float, end: float) -> list[float]:
    return [
        float(v)
        for t, v in zip(run.series.time, values, strict=True)
        if start <= t < end and v is not None
    ]


# ---- api-gateway -------------------------------------------------------------------------


@shows(
    "api-gateway",
    "The latency the gateway adds (proxy plus credential check) as a share of end-to-end latency.",
)
def test_gateway_added_latency_is_measured_beside_end_to_end() -> None:
    run = _run("api-gateway")
    arch = _arch("api-gateway")
    gw = arch.spec.gateway
    assert gw is not None and gw.overhead is not None and gw.auth is not None
    added = run.report.brief.gateway_added if run.report.brief else None
    assert added is not None and added.p50 is not None and added.mean is not None
    # an authenticated route pays the proxy and the JWT check: at least their medians' sum
    # (the median of a sum of two right-skewed draws is above the sum of their medians)
    floor = gw.overhead.p50 + gw.auth.overhead.p50  # type: ignore[union-attr]
    assert added.p50 >= 0.9 * floor
    e2e = run.report.entries["POST /orders"].latency
    assert e2e.p50 is not None and added.p50 < e2e.p50
    assert 0 < added.mean / e2e.mean < 0.5  # type: ignore[operator]


@shows(
    "api-gateway",
    "Requests rejected with 429 per window, and `local` limits multiplying with replicas (each "
    "gateway replica lets its own limit through).",
)
def test_rate_limit_rejections_per_window_and_local_limits_per_replica() -> None:
    run = _run("api-gateway", "partner-retry-storm", duration=25.0)
    arch = _arch("api-gateway")
    gw = arch.spec.gateway
    assert gw is not None
    partner = next(r for r in gw.routes if r.path == "/partner/orders")
    assert partner.rate_limit is not None and partner.rate_limit.policy == "local"
    per_second = partner.rate_limit.second
    assert per_second is not None
    entry = run.report.entries["/partner/orders"]
    rejected = entry.errors["rate_limited"]
    assert rejected > 0
    cols = run.series.entries["/partner/orders"]
    storm_ok = [
        c - e
        for c, e in zip(
            _column(run, cols["count"], 12, 25), _column(run, cols["errors"], 12, 25), strict=True
        )
    ]
    # each of the 2 gateway replicas lets its own 50/s through: about 100/s pass, not one
    # limit's 50/s (the partner's own traffic is far above both)
    assert gw.replicas == 2
    mean_ok = sum(storm_ok) / len(storm_ok)
    assert 0.9 * gw.replicas * per_second < mean_ok <= gw.replicas * per_second
    errors = _column(run, cols["errors"], 12, 25)
    assert min(errors) > 0  # 429s in every window of the storm


@shows(
    "api-gateway",
    "Gateway worker saturation under load, where the entry point becomes the bottleneck.",
)
def test_gateway_saturation_makes_the_entry_point_the_bottleneck() -> None:
    base = _run("api-gateway")
    one = _run("api-gateway", sets=("gateway.replicas=1", "gateway.workers=1"))
    assert base.report.gateway is not None and one.report.gateway is not None
    # the same requests on a quarter... of the gateway's capacity: its utilisation rises
    assert one.report.gateway.utilisation > 2 * base.report.gateway.utilisation
    b = base.report.brief.gateway_added if base.report.brief else None
    o = one.report.brief.gateway_added if one.report.brief else None
    assert b is not None and o is not None and b.p99 is not None and o.p99 is not None
    assert o.p99 > 3 * b.p99  # the queue is in front of the gateway


# ---- blue-green ----------------------------------------------------------------------------


def _actions(run: RunResult, service: str) -> list[tuple[float, str]]:
    return [(d.time, d.action) for d in run.decisions[service]]


def _first(actions: list[tuple[float, str]], action: str) -> float:
    return next(t for t, a in actions if a == action)


@shows(
    "blue-green",
    "The release timeline (green scaled up, analysis, switch, blue scaled down after "
    "scaleDownDelay) and latency and errors around the switch.",
)
def test_blue_green_timeline_and_the_switch() -> None:
    run = _run("blue-green", duration=240.0, at=None)
    arch = _arch("blue-green")
    deployment = arch.spec.services["accounts"].deployment
    assert deployment is not None and deployment.blue_green is not None
    bg = deployment.blue_green
    actions = _actions(run, "accounts")
    order = [a for _, a in actions if a in ("scaled", "analysis", "switched", "scaled-down")]
    assert order[:3] == ["scaled", "analysis", "switched"] and order[-1] == "scaled-down"
    assert _first(actions, "started") == deployment.start_at
    pre = bg.pre_promotion_analysis
    assert pre is not None
    # the switch comes after the pre-promotion analysis' count measurements, interval apart
    switched = _first(actions, "switched")
    assert math.isclose(switched - _first(actions, "analysis"), pre.count * pre.interval)
    assert math.isclose(
        _first(actions, "scaled-down") - _first(actions, "promoted"), bg.scale_down_delay
    )
    # the entry's latency and errors are there, window by window, around the switch
    cols = run.series.entries["web.dashboard"]
    around = _column(run, cols["p99"], switched - 5, switched + 5)
    assert len(around) >= 9 and all(v > 0 for v in around)
    # a good release: the switch holds the page within the analysis' own latency bound
    assert pre.max_latency_p99 is not None and max(around) < pre.max_latency_p99 + 0.3
    errors = _column(run, cols["errors"], switched - 5, switched + 5)
    assert len(errors) == len(around)


@shows(
    "blue-green",
    "A bad release (higher errorRate or workScale in newVersion) failing analysis and switching "
    "back, and how many requests met it.",
)
def test_blue_green_bad_release_switches_back() -> None:
    run = _run(
        "blue-green",
        sets=("services.accounts.deployment.newVersion.errorRate=0.03",),
        duration=240.0,
        at=None,
    )
    actions = [a for _, a in _actions(run, "accounts")]
    assert "switched-back" in actions and "promoted" not in actions
    report = run.report.rollouts["accounts"]
    assert report.aborted == 1 and report.final_weight == 0
    # green served every request between the switch and the switch back (plus its preview)
    assert report.new_requests > 0
    assert 0.02 < report.new_errors / report.new_requests < 0.04  # its 3 %


@shows("blue-green", "The replica count during the release, the pattern's capacity cost.")
def test_blue_green_runs_twice_the_replicas_during_the_release() -> None:
    run = _run("blue-green", duration=240.0, at=None)
    cols = run.series.rollouts["accounts"]
    replicas = _arch("blue-green").spec.services["accounts"].replicas
    total = [
        (o or 0) + (n or 0) for o, n in zip(cols["old_replicas"], cols["new_replicas"], strict=True)
    ]
    assert min(total) == replicas  # before and after
    assert max(total) == 2 * replicas  # blue and green both up: twice the capacity paid


# ---- bulkhead ------------------------------------------------------------------------------


@shows(
    "bulkhead",
    "Rejections per partition over time (the calls each bulkhead refused, window by window); "
    "under a slow dependency only its partition fills and rejects.",
)
def test_bulkhead_rejections_per_partition_over_time() -> None:
    run = _run("bulkhead", "recommender-slow", duration=25.0)
    clients = run.series.clients
    slow = _column(run, clients["storefront->recommender"]["bulkhead_full"], 0, 25)
    assert len(slow) == 25
    # nothing before the fault at 10 s; then its 30 permits per replica fill (and the breaker,
    # on slow calls, soon takes over)
    assert sum(slow[:10]) == 0 and sum(slow[10:]) > 0
    for other in ("storefront->payments", "storefront->reporting"):
        assert sum(_column(run, clients[other]["bulkhead_full"], 0, 25)) == 0


elsewhere(
    "bulkhead",
    "The caller's latency on the other endpoints with and without the bulkhead (set it to null "
    "to compare).",
    "tests.sim.test_pattern_value::test_bulkhead_keeps_checkout_served_while_the_recommender_is_slow",
)


@shows(
    "bulkhead",
    "The Java executor order for thread-pool bulkheads (core threads, then queue, then extra "
    "threads, then reject).",
)
def test_thread_pool_bulkhead_fills_core_then_queue_then_extra_threads_then_rejects() -> None:
    run = _run("bulkhead", "reporting-stuck", duration=35.0)
    arch = _arch("bulkhead")
    storefront = arch.spec.services["storefront"]
    pool = storefront.clients["reporting"].bulkhead
    reporting = arch.spec.services["reporting"]
    workers = reporting.workers * reporting.replicas
    core = pool.core_threads * storefront.replicas  # type: ignore[union-attr]
    svc = run.series.services["reporting"]
    # calls in flight at reporting = its busy workers plus its queue = the threads calling it
    inflight = [
        (t, (q or 0) + (u or 0) * workers)
        for t, q, u in zip(run.series.time, svc["queue"], svc["utilisation"], strict=True)
    ]
    rejected = run.series.clients["storefront->reporting"]["bulkhead_full"]
    first_reject = next(t for t, r in zip(run.series.time, rejected, strict=True) if r)
    during = [(t, n) for t, n in inflight if 12 <= t < first_reject]
    # first only the core threads call (the queue takes the rest): a plateau at `core`...
    plateau = [t for t, n in during if math.isclose(n, core, abs_tol=1e-6)]
    assert len(plateau) >= 4
    # ...then extra threads start once the queue is full, before anything is rejected
    assert any(n > core + 1 for t, n in during if t > plateau[-1])
    assert first_reject > plateau[-1]


# ---- canary ------------------------------------------------------------------------------


@shows(
    "canary",
    "The canary weight over time, each analysis measurement with its result, and the moment of "
    "promotion or abort.",
)
def test_canary_weight_measurements_and_promotion() -> None:
    run = _run("canary", duration=300.0, at=None)
    arch = _arch("canary")
    deployment = arch.spec.services["recommendations"].deployment
    assert deployment is not None and deployment.canary is not None
    weights = [s.set_weight for s in deployment.canary.steps if s.set_weight is not None]
    seen = sorted({int(w) for w in run.series.rollouts["recommendations"]["weight"] if w})
    assert seen == weights  # 10, 50, 100 as the steps set them
    measurements = [d for d in run.decisions["recommendations"] if d.action == "measurement"]
    assert len(measurements) == 4 and all(d.verdict == "Successful" for d in measurements)
    assert all(d.success_rate is not None and d.p99 is not None for d in measurements)
    report = run.report.rollouts["recommendations"]
    assert report.promoted == 1 and report.promoted_at is not None
    assert report.promoted_at > measurements[-1].time - 1e-9


@shows(
    "canary",
    "How many requests met the new version before an abort, the blast radius of a bad release.",
)
def test_a_bad_canarys_blast_radius_is_its_weight_until_the_abort() -> None:
    run = _run(
        "canary",
        sets=("services.recommendations.deployment.newVersion.errorRate=0.02",),
        duration=200.0,
        at=None,
    )
    report = run.report.rollouts["recommendations"]
    assert report.aborted == 1 and report.aborted_at is not None and report.started_at is not None
    # at 10 % of the calls to recommendations from the start until the abort
    calls = run.report.services["recommendations"].throughput
    expected = 0.10 * calls * (report.aborted_at - report.started_at)
    assert 0.8 * expected < report.new_requests < 1.2 * expected


@shows("canary", "Latency and errors of stable and canary separately under the same load.")
def test_stable_and_canary_are_reported_apart() -> None:
    run = _run(
        "canary",
        sets=("services.recommendations.deployment.newVersion.errorRate=0.02",),
        duration=200.0,
        at=None,
    )
    cols = run.series.rollouts["recommendations"]
    both = [
        (o, n)
        for w, o, n in zip(
            cols["weight"], cols["old_error_rate"], cols["new_error_rate"], strict=True
        )
        if w and o is not None and n is not None
    ]
    assert both
    assert sum(n for _, n in both) / len(both) > 0.01  # the canary's 2 %
    assert sum(o for o, _ in both) / len(both) < 0.005  # stable's own, on the same load


# ---- circuit-breaker -----------------------------------------------------------------------


def _breakers(run: RunResult, client: str) -> list[dict[str, object]]:
    return [b for b in run.extras["resilience"]["breakers"] if b["client"] == client]


@shows(
    "circuit-breaker",
    "Breaker state over time (closed, open, half-open) and the calls refused with circuit_open, "
    "counted apart from the callee's failures.",
)
def test_breaker_states_over_time_and_refusals_apart_from_failures() -> None:
    run = _run("circuit-breaker", "payment-outage", duration=125.0)
    client = "checkout->payment-provider"
    states = {new for b in _breakers(run, client) for _, _, new in b["transitions"]}  # type: ignore[attr-defined]
    assert {"OPEN", "HALF_OPEN", "CLOSED"} <= states  # opened, probed, closed once it was back
    column = run.series.clients[client]["breaker"]
    assert {0.0, 2.0} <= {v for v in column if v is not None}  # closed, then open windows
    report = run.report.clients[client]
    assert report.not_permitted > 0 and report.failed > 0
    # a refused call is no attempt: calls and their retries are attempts or refusals
    assert report.calls + report.retries == report.attempts + report.not_permitted


elsewhere(
    "circuit-breaker",
    "The caller's thread pool with and without the breaker during a slow dependency, where the "
    "breaker keeps unrelated endpoints alive.",
    "tests.sim.test_pattern_value::test_circuit_breaker_keeps_the_cart_page_fast_while_payment_is_slow",
)


@shows(
    "circuit-breaker",
    "Time to detect (window and minimum calls) and time to recover (open wait, trial calls), "
    "with Resilience4j's and pybreaker's real defaults.",
)
def test_breaker_detects_within_its_window_and_tries_again_after_its_wait() -> None:
    run = _run("circuit-breaker", "payment-outage", duration=125.0)
    arch = _arch("circuit-breaker")
    cb = arch.spec.services["checkout"].clients["payment-provider"].circuit_breaker
    assert cb is not None
    for breaker in _breakers(run, "checkout->payment-provider"):
        transitions = breaker["transitions"]
        assert isinstance(transitions, list) and transitions
        first_open = next(t for t, _, new in transitions if new == "OPEN")
        # every call fails from 10 s: the breaker judges after minimumCalls calls, so it opens
        # within the seconds those calls take at this replica's share of the traffic
        assert 10.0 < first_open < 15.0
        for (t_open, _, a), (t_half, _, b) in itertools.pairwise(transitions):
            if a == "OPEN" and b == "HALF_OPEN":
                assert t_half - t_open >= cb.wait_in_open - 1e-9  # type: ignore[union-attr]
                assert t_half - t_open < cb.wait_in_open + 1.0  # type: ignore[union-attr]
    # the consecutive breaker (pybreaker) on the risk API opens on its fifth failure
    risk = _run("circuit-breaker", "risk-api-errors", duration=20.0)
    for breaker in _breakers(risk, "checkout->risk-api"):
        transitions = breaker["transitions"]
        assert isinstance(transitions, list)
        opened = [t for t, _, new in transitions if new == "OPEN"]
        assert opened and opened[0] > 10.0
    assert risk.report.clients["checkout->risk-api"].fallbacks > 0


# ---- database-per-service ------------------------------------------------------------------


@shows(
    "database-per-service",
    "A database fault (outage, added latency) affects only the requests whose call graph reaches "
    "that store; the others keep their latency.",
)
def test_a_store_fault_reaches_only_the_requests_that_use_the_store() -> None:
    base = _run("database-per-service", duration=30.0)
    down = _run("database-per-service", "orders-db-outage", duration=30.0)
    for entry in ("POST /orders", "GET /orders"):
        assert down.report.entries[entry].error_rate > 0.2
    for entry in ("/users", "/payments"):
        assert down.report.entries[entry].error_rate == 0
        a = base.report.entries[entry].latency.p50
        b = down.report.entries[entry].latency.p50
        assert a is not None and b is not None and abs(a - b) < 0.1 * a


@shows(
    "database-per-service",
    "Connection pool occupancy and wait time per store, so an undersized pool shows up as "
    "queueing before the database itself is busy.",
)
def test_an_undersized_pool_shows_as_waiting_for_a_connection() -> None:
    base = _run("database-per-service", duration=20.0)
    small = _run("database-per-service", sets=("databases.users-db.pool=1",), duration=20.0)
    a, b = base.report.databases["users-db"], small.report.databases["users-db"]
    assert a.wait_mean is not None and b.wait_mean is not None
    assert a.utilisation is not None and b.utilisation is not None
    assert b.wait_mean > 10 * max(a.wait_mean, 1e-6)  # queueing for the connection
    assert b.utilisation > a.utilisation  # each connection busier, the database itself is not
    la, lb = a.latency.p50, b.latency.p50
    assert la is not None and lb is not None and lb > la


@shows(
    "database-per-service",
    "The extra hop, and its latency, when a service calls the owner's API instead of reading "
    "the table.",
)
def test_order_pays_the_hop_to_the_user_api() -> None:
    run = _run("database-per-service", duration=20.0)
    arch = _arch("database-per-service")
    create = run.report.services["order"].endpoints["create"]
    user = run.report.services["user"].endpoints["get"]
    users_route = run.report.entries["/users"]
    # every order asks the owner's API once: user.get serves the route and the orders
    assert abs(user.count - users_route.count - create.count) <= 5
    assert user.latency.mean is not None and create.latency.mean is not None
    # the order waits for the user call: its mean holds its own work, the user endpoint's mean
    # and the network both ways
    own = arch.spec.services["order"].endpoints["create"].work.mean()
    hop = arch.spec.network.hop_latency
    two_ways = 2 * (hop.mean() if hop is not None else 0.00025)
    assert create.latency.mean > own + user.latency.mean + two_ways


# ---- distributed-tracing -----------------------------------------------------------------

elsewhere(
    "distributed-tracing",
    "Sampled traces of simulated requests, written as OTLP JSON, a Jaeger upload file or Zipkin "
    "v2 spans, with correct ids, parent links, kinds and timestamps.",
    "tests.sim.tracing.test_traces::test_otlp_json_loads_as_an_export_trace_service_request",
)
elsewhere(
    "distributed-tracing",
    "Under a fault the traces show which span grew, so finding the root cause from traces can be "
    "rehearsed.",
    "tests.catalog.test_claims::test_under_a_fault_the_traces_show_which_span_grew",
)
elsewhere(
    "distributed-tracing",
    "The span count per second the chosen sampling produces, to size the collector and the "
    "backend.",
    "tests.catalog.test_claims::test_under_a_fault_the_traces_show_which_span_grew",
)


# ---- event-sourcing ------------------------------------------------------------------------


@shows(
    "event-sourcing",
    "Projection lag (head position minus checkpoint) over time, the eventual-consistency window; "
    "it grows under a write burst and must drain after it.",
)
def test_projection_lag_grows_in_a_burst_and_drains_after_it() -> None:
    run = _run("event-sourcing", "write-burst", duration=110.0)
    lag = run.series.projections["order-events/customer-history"]["lag_mean"]
    before = _column(run, lag, 5, 10)
    burst = _column(run, lag, 10, 70)
    after = _column(run, lag, 100, 110)
    assert max(burst) > 20 * max(max(before), 1.0)
    assert max(after) < max(burst) / 20  # drained
    # a burst that drains stays under the generated ProjectionLagHigh budget: nobody is paged
    store = _arch("event-sourcing").spec.event_stores["order-events"]
    (projection,) = [p for p in store.projections if p.name == "customer-history"]
    peak = run.series.projections["order-events/customer-history"]["lag_max"]
    assert max(v for v in peak if v is not None) < projection_lag_budget(store, projection)


@shows(
    "event-sourcing",
    "Append latency, including reloads and retries after expected-version conflicts, and appends "
    "that give up after maxAppendRetries.",
)
def test_conflicts_retry_and_give_up_after_max_append_retries() -> None:
    p = 0.5
    run = _run(
        "event-sourcing",
        sets=(
            f"eventStores.order-events.conflictProbability={p}",
            "eventStores.order-events.maxAppendRetries=1",
        ),
    )
    base = _run("event-sourcing")
    store = run.report.event_stores["order-events"]
    # one retry: attempts 1 + p on average, and p² of appends give up
    assert store.attempts_mean is not None
    n = store.appends
    assert abs(store.attempts_mean - (1 + p)) < 4 * math.sqrt(p * (1 - p) / n)
    assert abs(store.failures / n - p * p) < 4 * math.sqrt(p * p * (1 - p * p) / n)
    a, b = base.report.event_stores["order-events"].append_latency, store.append_latency
    assert a.mean is not None and b.mean is not None and b.mean > 1.3 * a.mean


@shows(
    "event-sourcing",
    "Events written and read per second, against writeRateLimit when one is set.",
)
def test_events_written_and_read_per_second_and_the_write_limit() -> None:
    run = _run("event-sourcing")
    store = run.report.event_stores["order-events"]
    written = store.events / 15.0
    for projection in store.projections.values():
        assert abs(projection.throughput - written) < 0.1 * written  # each reads every event
    limit = 0.5 * written
    limited = _run(
        "event-sourcing", sets=(f"eventStores.order-events.writeRateLimit={limit:.0f}/s",)
    )
    capped = limited.report.event_stores["order-events"].events / 15.0
    assert capped <= limit * 1.02 and capped > 0.9 * limit


# ---- health-check-api --------------------------------------------------------------------


@shows(
    "health-check-api",
    "After a crash, the window in which requests still reach the dead pod (about "
    "failureThreshold times period plus propagation), and the errors in it.",
)
def test_after_a_crash_errors_last_about_the_propagation_delay() -> None:
    run = _run("health-check-api", "catalog-pod-crash", duration=40.0)
    errors = run.series.services["catalog"]["errors"]
    bad = [t for t, e in zip(run.series.time, errors, strict=True) if e]
    assert bad and min(bad) >= 10.0
    arch = _arch("health-check-api")
    health = arch.spec.services["catalog"].health
    assert health is not None and health.readiness is not None
    bound = health.readiness.failure_threshold * health.readiness.period + health.propagation_delay
    assert max(bad) - 10.0 <= bound + 1.0


@shows(
    "health-check-api",
    "Restarts by liveness, and restarted pods kept out of traffic until their startup and "
    "readiness probes pass.",
)
def test_liveness_restarts_a_hung_pod() -> None:
    run = _run("health-check-api", "catalog-pod-hang", duration=70.0)
    health = _arch("health-check-api").spec.services["catalog"].health
    assert health is not None and health.readiness is not None and health.liveness is not None
    log = [(t, what) for t, pod, what in run.extras["resilience"]["pods"] if pod == "catalog#0"]
    events = [what for _, what in log]
    assert events[:5] == ["outage", "unready", "liveness failed", "restart", "started"]
    when = dict((what, t) for t, what in log)
    # readiness takes it out after failureThreshold failed probes, liveness after its own
    ready, live = health.readiness, health.liveness
    assert (
        when["unready"] - when["outage"] <= ready.failure_threshold * ready.period + ready.timeout
    )
    assert (
        when["liveness failed"] - when["outage"]
        <= live.failure_threshold * live.period + live.timeout
    )
    assert when["liveness failed"] - when["outage"] >= (live.failure_threshold - 1) * live.period
    # out of traffic from `unready` until it has started again: no errors from it meanwhile
    errors = run.series.services["catalog"]["errors"]
    quiet = _column(run, errors, when["unready"] + 2, when["started"])
    assert quiet and sum(quiet) == 0


@shows(
    "health-check-api",
    "The effect of probe settings on errors, by re-running with another period or threshold.",
)
def test_a_slower_readiness_probe_lets_more_errors_through() -> None:
    fast = _run("health-check-api", "catalog-pod-hang", duration=40.0)
    slow = _run(
        "health-check-api",
        "catalog-pod-hang",
        sets=("services.catalog.health.readiness.period=30s",),
        duration=40.0,
    )
    # the hung pod stays in rotation for a readiness period longer: more calls refused
    a, b = fast.report.totals.errors["unavailable"], slow.report.totals.errors["unavailable"]
    assert a > 0 and b > 3 * a


# ---- saga ----------------------------------------------------------------------------------


@shows(
    "saga",
    "Saga end-to-end time (distribution and percentiles) and the share of sagas that complete, "
    "compensate, or time out.",
)
def test_saga_duration_and_outcome_shares() -> None:
    run = _run("saga", duration=40.0)
    saga = run.report.sagas["place-order"]
    d = saga.duration
    assert d.p50 is not None and d.p99 is not None and d.max is not None
    assert 0 < d.p50 <= d.p99 <= d.max
    arch = _arch("saga")
    # a saga compensates when one of its actions fails: 1 − Π(1 − errorRate)
    ok = 1.0
    for step in arch.spec.sagas["place-order"].steps:
        svc, _, ep = step.action.partition(".")
        ok *= 1 - arch.spec.services[svc].endpoints[ep].error_rate
    finished = saga.completed + saga.compensated + saga.stuck
    share = saga.compensated / finished
    assert abs(share - (1 - ok)) < 4 * math.sqrt((1 - ok) * ok / finished) + 0.002
    assert abs(saga.started - finished - saga.open_end) <= saga.open_end + 5
    # a saga past its timeout is compensated, and its request fails with `timeout`: with a
    # 60 ms deadline most runs time out, and the two counts agree
    late = _run("saga", sets=("sagas.place-order.timeout=60ms",), duration=20.0)
    timed_out = late.report.entries["order.place"].errors["timeout"]
    compensated = late.report.sagas["place-order"].compensated
    assert timed_out > 0.5 * late.report.sagas["place-order"].started
    assert (
        timed_out <= compensated <= timed_out + late.report.entries["order.place"].errors["error"]
    )


@shows(
    "saga",
    "Compensations per second and per step, so a failing late step shows up as the wasted work "
    "of the earlier ones.",
)
def test_a_failing_late_step_undoes_every_earlier_one() -> None:
    run = _run("saga", "shipping-errors", duration=30.0)
    saga = run.report.sagas["place-order"]
    steps = saga.steps
    failed = steps["schedule-shipping"].failures
    assert failed > 50
    for earlier in ("create-order", "charge-card", "reserve-stock"):
        assert steps[earlier].compensations >= 0.9 * failed
    per_window = run.series.sagas["place-order"]["compensated"]
    assert sum(_column(run, per_window, 11, 30)) > 0


@shows(
    "saga",
    "Stuck sagas, whose compensation keeps failing after its retries, reported separately.",
)
def test_a_compensation_that_keeps_failing_leaves_sagas_stuck() -> None:
    run = _run(
        "saga",
        "shipping-errors",
        sets=(
            "services.payment.endpoints.refund.errorRate=1",
            "sagas.place-order.compensationRetries=1",
        ),
        duration=30.0,
    )
    saga = run.report.sagas["place-order"]
    assert saga.stuck > 0
    assert saga.steps["charge-card"].compensation_failures >= 2 * saga.stuck - 1
    assert saga.steps["charge-card"].compensations == 0


@shows("saga", "In choreography, the broker's publish and delivery latency paid at every hop.")
def test_choreography_pays_the_broker_between_steps() -> None:
    sets = ("sagas.place-order.mode=choreographed", "sagas.place-order.broker=events")
    chor = _run("saga", sets=sets, duration=20.0).report.sagas["place-order"].duration
    orch = _run("saga", duration=20.0).report.sagas["place-order"].duration
    arch = _arch("saga", sets)
    publish, delivery = arch.spec.brokers["events"].default_latencies()
    hops = len(arch.spec.sagas["place-order"].steps) - 1
    assert chor.p50 is not None and orch.p50 is not None
    # three broker hops instead of the orchestrator's calls and state writes
    # every hop after the first step pays the broker: at least the hops' medians
    assert chor.p50 > hops * (publish.p50 + delivery.p50)  # type: ignore[union-attr]
    fast = _run(
        "saga",
        sets=(*sets, "brokers.events.publishLatency=1us", "brokers.events.deliveryLatency=1us"),
        duration=20.0,
    )
    quick = fast.report.sagas["place-order"].duration.p50
    assert quick is not None
    # without the broker's latency the saga is faster by about the hops' mean latency
    paid = chor.p50 - quick
    assert (
        0.5 * hops * (publish.mean() + delivery.mean())
        < paid
        < 2 * hops * (publish.mean() + delivery.mean())
    )


# ---- service-mesh --------------------------------------------------------------------------


@shows("service-mesh", "The sidecar cost on every hop, added to end-to-end latency.")
def test_sidecars_cost_every_hop() -> None:
    on = _run("service-mesh")
    off = _run("service-mesh", sets=("mesh.enabled=false",))
    hop = on.report.brief.mesh_hop if on.report.brief else None
    assert hop is not None and hop.p50 is not None
    mesh = _arch("service-mesh").spec.mesh
    assert mesh is not None and mesh.sidecar_overhead is not None
    assert hop.p50 > 1.5 * mesh.sidecar_overhead.p50  # type: ignore[union-attr]
    a, b = on.report.entries["web.home"].latency.mean, off.report.entries["web.home"].latency.mean
    assert a is not None and b is not None and hop.mean is not None
    # the page waits on meshed hops (web -> cart -> pricing, beside web -> catalog): the mesh
    # adds more than one hop's sidecars to the mean, and not more than the three hops' worth
    assert hop.mean < a - b < 3 * hop.mean


@shows(
    "service-mesh",
    "Mesh retries sent to other hosts, with Envoy's jittered back-off, hiding the loss of a pod "
    "until readiness removes it.",
)
def test_mesh_retries_hide_a_lost_pod() -> None:
    run = _run("service-mesh", "pricing-pod-crash", duration=25.0)
    client = run.report.clients["cart->pricing"]
    assert client.mesh_retries > 0
    # the calls lost with the pod were retried on the others: no page failed
    assert sum(run.report.entries["web.home"].errors.values()) == 0
    retried = _column(run, run.series.clients["cart->pricing"]["mesh_retries"], 0, 25)
    assert sum(retried[:10]) == 0 and sum(retried[10:12]) > 0  # at the crash only


@shows(
    "service-mesh",
    "Outlier ejection at the Nth consecutive 5xx, bounded by maxEjectionPercent, and the "
    "ejection time growing on repeated ejection.",
)
def test_outlier_ejection_in_the_mesh() -> None:
    sets = (
        "scenarios.pricing-pod-crash.faults.0.type=errors",
        "scenarios.pricing-pod-crash.faults.0.rate=1",
        "scenarios.pricing-pod-crash.faults.0.replicas=null",
        "mesh.outlierDetection.interval=1s",
        "mesh.outlierDetection.baseEjectionTime=4s",
    )
    run = _run("service-mesh", "pricing-pod-crash", sets=sets, duration=40.0)
    mesh = _arch("service-mesh").spec.mesh
    assert mesh is not None and mesh.outlier_detection is not None
    (log,) = [
        o["events"] for o in run.extras["resilience"]["outliers"] if o["client"] == "cart->pricing"
    ]
    # every pricing pod fails every call, yet 34 % of 3 pods lets one be ejected at a time
    ejected: set[str] = set()
    spans: list[float] = []
    since: dict[str, float] = {}
    refused = 0
    for t, host, what in log:
        if what == "EJECTED":
            ejected.add(host)
            since[host] = t
            assert len(ejected) <= 1
        elif what == "RETURNED" and t < 40.0:
            ejected.discard(host)
            spans.append(t - since.pop(host))
        elif what == "OVERFLOW":  # a host due for ejection, kept in by maxEjectionPercent
            refused += 1
    assert log[0][0] >= 10.0 and refused > 0
    base = 4.0
    assert spans and all(base <= d <= base + 1.0 for d in spans)  # to the sweep after 4 s
    # with every pod allowed out, each is ejected again as soon as it returns: k × 4 s
    again = _run(
        "service-mesh",
        "pricing-pod-crash",
        sets=(*sets, "mesh.outlierDetection.maxEjectionPercent=100"),
        duration=40.0,
    )
    (log,) = [
        o["events"]
        for o in again.extras["resilience"]["outliers"]
        if o["client"] == "cart->pricing"
    ]
    per_host: dict[str, list[float]] = {}
    for t, host, what in log:
        if what == "EJECTED":
            since[host] = t
        elif what == "RETURNED" and t < 40.0:
            per_host.setdefault(host, []).append(t - since.pop(host))
    assert per_host
    for durations in per_host.values():
        for k, d in enumerate(durations[:3], start=1):
            assert k * base <= d <= k * base + 1.0


@shows(
    "service-mesh",
    "Connection pool overflow answered with an immediate 503 instead of queueing.",
)
def test_connection_pool_overflow_is_an_immediate_503() -> None:
    run = _run("service-mesh", sets=("mesh.services.pricing.connectionPool.http2MaxRequests=2",))
    client = run.report.clients["cart->pricing"]
    assert client.overflow > 0
    # overflow is answered at once: pricing itself never queues for it
    assert run.report.services["pricing"].queue_max <= 2
    assert run.report.entries["web.home"].errors["rejected"] > 0  # the 503 reaches the page


# ---- strangler-fig -------------------------------------------------------------------------


@shows(
    "strangler-fig",
    "A fault in a new service reaches only its share of requests; a 20 % error rate on a 25 % "
    "share fails about 5 % of all requests.",
)
def test_a_fault_in_the_new_service_fails_its_share_only() -> None:
    run = _run("strangler-fig", "catalog-bug", duration=40.0)
    cols = run.series.entries["/shop"]
    count = sum(_column(run, cols["count"], 11, 40))
    errors = sum(_column(run, cols["errors"], 11, 40))
    p = 0.25 * 0.20
    assert abs(errors / count - p) < 4 * math.sqrt(p * (1 - p) / count)
    for side in ("monolith", "customer"):
        assert run.report.services[side].errors == 0


@shows(
    "strangler-fig",
    "Latency and errors per side of the split, comparing a new service with the monolith path it "
    "replaces on the same traffic.",
)
def test_each_side_of_the_split_is_reported() -> None:
    run = _run("strangler-fig", duration=20.0)
    old = run.report.services["monolith"].endpoints["handle"]
    new = run.report.services["catalog"].endpoints["handle"]
    # the same /shop traffic, split 60 / 25: each side's count, latency and errors apart
    share = new.count / (old.count + new.count)
    n = old.count + new.count
    assert abs(share - 25 / 85) < 4 * math.sqrt(share * (1 - share) / n)
    assert old.latency.p50 is not None and new.latency.p50 is not None
    assert new.latency.p50 != old.latency.p50
    assert old.error_rate == 0 and new.error_rate == 0


@shows(
    "strangler-fig",
    "Each migration phase is a run with other weights (`--set gateway.routes.0.split.N.weight=...`).",
)
def test_a_migration_phase_is_a_run_with_other_weights() -> None:
    sets = ("gateway.routes.0.split.0.weight=25", "gateway.routes.0.split.1.weight=60")
    run = _run("strangler-fig", sets=sets, duration=20.0)
    handled = {
        s: run.report.services[s].endpoints["handle"].count
        for s in ("monolith", "catalog", "customer")
    }
    n = sum(handled.values())
    for side, weight in (("monolith", 25), ("catalog", 60), ("customer", 15)):
        p = weight / 100
        assert abs(handled[side] / n - p) < 4 * math.sqrt(p * (1 - p) / n), side


# ---- settings that must change something ---------------------------------------------------
# snapshotEvery, the mesh's mTLS mode and the tracing sampling each take effect: snapshots in
# the simulated load of an aggregate (below), the mode in the generated PeerAuthentication
# (tests/catalog/test_claims.py::test_mesh_mtls_mode_is_the_namespaces_peer_authentication),
# the sampling in the simulated traces (below) and in the generated collector's sampler
# (tests/generate/test_content.py).


SETTINGS = {
    "eventStores.<store>.snapshotEvery": (
        "tests.catalog.test_simulation_claims::test_snapshot_every_cuts_the_load_before_each_append"
    ),
    "mesh.mtls": (
        "tests.catalog.test_claims::test_mesh_mtls_mode_is_the_namespaces_peer_authentication"
    ),
    "tracing.sampling": (
        "tests.catalog.test_simulation_claims::test_the_tracing_sampling_is_the_share_of_requests_traced"
    ),
}
"""Settings once said to change nothing, and the test that shows each takes effect."""


def test_each_setting_that_once_changed_nothing_has_a_test_showing_its_effect() -> None:
    for setting, where in SETTINGS.items():
        module, _, name = where.partition("::")
        assert callable(getattr(importlib.import_module(module), name, None)), setting


def test_no_template_sets_a_snapshot_interval_that_changes_nothing() -> None:
    """Without `streamLength` loading is not modelled and `snapshotEvery` changes nothing."""
    for template in catalog.templates():
        arch = catalog.template_architecture(template.id)
        for name, store in arch.spec.event_stores.items():
            if store.snapshot_every is not None:
                assert store.stream_length is not None, (template.id, name)
                assert store.stream_length >= store.snapshot_every, (template.id, name)


def test_snapshot_every_cuts_the_load_before_each_append() -> None:
    """1000 events in a stream, read 500 a page (2 reads) and replayed at 20 µs each: 22 ms of
    loading before every append; with a snapshot every 100 events it is one read and no
    replay (1000 mod 100 = 0), plus a snapshot written on 1 % of the appends of one event."""
    load = ("eventStores.order-events.streamLength=1000",)
    full = _run("event-sourcing", sets=load, duration=10.0)
    snap = _run(
        "event-sourcing", sets=(*load, "eventStores.order-events.snapshotEvery=100"), duration=10.0
    )
    a = full.report.event_stores["order-events"].append_latency.mean
    b = snap.report.event_stores["order-events"].append_latency.mean
    assert a is not None and b is not None
    read = _arch("event-sourcing").spec.event_stores["order-events"].read_latency
    assert read is not None
    saved = read.mean() + 1000 * 0.00002  # one read fewer and no replay
    assert abs((a - b) - saved) < 0.3 * saved


def test_the_tracing_sampling_is_the_share_of_requests_traced() -> None:
    from scalesim_patterns.sim.tracing.recorder import TraceOptions

    for ratio in (0.1, 0.5):
        arch = _arch("distributed-tracing", (f"tracing.sampling={ratio}",))
        result = simulate(
            arch, duration=6.0, warmup=1.0, replications=1, jobs=1, traces=TraceOptions()
        )
        traces = result.traces
        assert traces is not None and traces.sampling == ratio
        n, k = traces.started, traces.sampled
        assert abs(k - n * ratio) < 4 * math.sqrt(n * ratio * (1 - ratio))
