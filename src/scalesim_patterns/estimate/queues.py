"""Closed forms of queueing theory the estimate is built from, each usable and tested alone.

- `erlang_c`: probability that an arrival waits at an M/M/c station (Erlang's delay formula),
  computed through the Erlang B recursion so it stays exact and finite for hundreds of servers.
- `mgc_wait`: mean wait in queue at a GI/G/c station by the Allen–Cunneen approximation,
  W = C(c, a) / (c·mu − lambda) · (ca² + cs²) / 2, exact for M/M/c (ca² = cs² = 1) and for
  M/G/1 (Pollaczek–Khinchine); Kingman's heavy-traffic formula is its c = 1 case.
- `fork_join_max`: mean of the slowest of a parallel group's branches (independent exponential
  branches: inclusion–exclusion over subsets, the exact mean of their maximum).
- `priority_waits`: per-class mean wait under non-preemptive priority, Cobham's formula
  W_k = W0 / ((1 − σ_{k−1})(1 − σ_k)) with W0 the mean residual work an arrival finds (for
  M/G/1, Σ λ_i E[S_i²] / 2; for M/M/c with one service rate, C(c, a) / (cμ): Gross & Harris,
  *Fundamentals of Queueing Theory*, 4th ed., §3.4.2, eq. 3.46; Kleinrock vol. 2, §3.6).
- `mmck_loss`: the share of arrivals an M/M/c/K station turns away (all c servers busy and
  K − c waiting): Erlang's loss formula for a finite queue (Gross & Harris §2.5).
- `pool_throughputs` and `pool_state`: a thread pool in front of a shared station as a
  flow-equivalent server (Chandy, Herzog & Woo 1975; Lazowska et al. ch. 8): the pool's
  completion rate with k threads busy is the throughput of k calls cycling through a delay and
  the callee's stations (product form, Buzen's convolution), and the pool a birth–death chain
  over its calls that refuses what arrives when every thread and waiting place is taken.
- `mva`: exact mean value analysis of a single-class closed network of queueing and delay
  stations (Reiser & Lavenberg 1980); a c-server station by Seidmann's approximation (a queue
  with demand D/c followed by a delay of D·(c−1)/c); `schweitzer` the approximate MVA fixed
  point for large populations.

References: Kleinrock, *Queueing Systems* vol. 1 (M/M/c, M/G/1); Allen, *Probability,
Statistics and Queueing Theory* (1990), §6 (Allen–Cunneen); Lazowska et al., *Quantitative
System Performance* (1984), ch. 6-7 (MVA, Schweitzer); Seidmann, Schweitzer & Shalev-Oren,
"Computerized closed queueing network models of flexible manufacturing systems" (1987).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "MvaResult",
    "Station",
    "erlang_b",
    "erlang_c",
    "fork_join_max",
    "mgc_wait",
    "mmck_loss",
    "mva",
    "pool_busy",
    "pool_loss",
    "pool_state",
    "pool_throughputs",
    "priority_waits",
    "schweitzer",
]

MAX_POOL_POPULATION = 128
"""Largest population `pool_throughputs` weighs (128! and e^128 stay within float range)."""
EXACT_FORK_JOIN = 12
"""Branches up to which the maximum is computed exactly (2^n subsets); beyond, an approximation."""


def erlang_b(servers: int, offered: float) -> float:
    """Blocking probability of M/M/c/c with `offered` = lambda/mu erlangs."""
    if servers < 1:
        raise ValueError("servers must be at least 1")
    b = 1.0
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    return b


def erlang_c(servers: int, offered: float) -> float:
    """Probability of waiting at M/M/c with `offered` = lambda/mu erlangs; 1 at or past saturation."""
    rho = offered / servers
    if rho >= 1.0:
        return 1.0
    if offered <= 0.0:
        return 0.0
    b = erlang_b(servers, offered)
    return b / (1.0 - rho * (1.0 - b))


def mgc_wait(
    arrival_rate: float, service_mean: float, servers: int, ca2: float = 1.0, cs2: float = 1.0
) -> float:
    """Mean time in queue (not in service) at a GI/G/c station; infinity when saturated."""
    if arrival_rate <= 0.0 or service_mean <= 0.0:
        return 0.0
    offered = arrival_rate * service_mean
    if offered >= servers:
        return math.inf
    mmc = erlang_c(servers, offered) * service_mean / (servers - offered)
    return mmc * (ca2 + cs2) / 2.0


def priority_waits(fifo_wait: float, loads: Sequence[float]) -> list[float]:
    """Mean wait of each class, highest priority first, under non-preemptive priority.

    `loads` are the classes' shares of the station's capacity (λ_k E[S] / c) and `fifo_wait`
    the mean wait of the same traffic first come first served. W0 = W_fifo (1 − ρ) is exact
    for M/G/1 (Pollaczek–Khinchine's W = W0 / (1 − ρ)) and for M/M/c with one service rate
    (W = C(c, a) / (cμ (1 − ρ))); the classes' rate-weighted mean of the W_k is W_fifo again
    (Kleinrock's conservation law)."""
    rho = sum(loads)
    if not math.isfinite(fifo_wait) or rho >= 1.0:
        # saturated: the backlog grows without bound; which classes it starves is not a
        # steady state this formula describes, so every class is reported as saturated
        return [math.inf] * len(loads)
    w0 = fifo_wait * (1.0 - rho)
    waits = []
    above = 0.0
    for load in loads:
        below = above + load
        waits.append(w0 / ((1.0 - above) * (1.0 - below)))
        above = below
    return waits


def mmck_loss(servers: int, capacity: int, offered: float) -> float:
    """Probability that an arrival finds an M/M/c/K station full: c = `servers`, K =
    `capacity` (servers plus waiting places), `offered` = λ/μ erlangs. p_n ∝ a^n/n! up to c,
    then × (a/c) per waiting place; computed as ratios so it stays finite for large K."""
    if servers < 1 or capacity < servers:
        raise ValueError("need 1 <= servers <= capacity")
    if offered <= 0.0:
        return 0.0
    term = 1.0
    total = 1.0
    for n in range(1, capacity + 1):
        term *= offered / min(n, servers)
        total += term
        if total > 1e300:  # rescale: only the ratio term / total matters
            term /= total
            total = 1.0
    return term / total


def pool_throughputs(
    population: int,
    delay: float,
    service: float,
    servers: float,
    stations: int = 1,
    present: float = 0.0,
) -> list[float]:
    """X(n), n = 0..`population`: calls completed per second when n calls cycle through a pure
    `delay` and then one of `stations` identical stations picked at random (visit ratio
    1/stations), each of `servers` exponential servers (fractional allowed: min(j, servers) of
    its j calls are served) of mean `service`. Product form (Baskett, Chandy, Muntz & Palacios
    1975): j calls at a station weigh (service/stations)^j / Π_{i≤j} min(i, servers), r in the
    delay delay^r / r!; G(n) convolves them and X(n) = G(n−1)/G(n) (Buzen's algorithm).

    `present` other calls (a fractional mean allowed) stay at every station for good, served
    first come first served with these at the same rate: j of these calls then weigh
    C(j + m, j) (service/stations)^j / Π_{i≤j} min(m + i, servers), m = `present` (the
    multi-class product form with the other class held at its mean)."""
    if population < 0 or stations < 1 or present < 0.0:
        raise ValueError("need population >= 0, stations >= 1 and present >= 0")
    if servers <= 0.0:
        return [0.0] * (population + 1)
    if service <= 0.0 and delay <= 0.0:
        return [0.0] + [math.inf] * population
    if population > MAX_POOL_POPULATION:
        raise ValueError(f"population above {MAX_POOL_POPULATION}: the weights leave float range")
    if present > 0.0 and service > 0.0:
        return _shared_throughputs(population, delay, service, servers, stations, present)
    # times in units in which neither the delay's nor a visit's weights overflow
    unit = max(service / stations / min(servers, 1.0), delay / max(population, 1))
    visit = [1.0]
    for j in range(1, population + 1):
        visit.append(visit[-1] * (service / stations / unit) / min(float(j), servers))
    g = [1.0]
    for r in range(1, population + 1):
        g.append(g[-1] * (delay / unit) / r)
    for _ in range(stations):
        g = [sum(g[i] * visit[n - i] for i in range(n + 1)) for n in range(population + 1)]
    return [0.0] + [g[n - 1] / g[n] / unit for n in range(1, population + 1)]


def _shared_throughputs(
    population: int, delay: float, service: float, servers: float, stations: int, present: float
) -> list[float]:
    """`pool_throughputs` with `present` other calls at each station, in logarithms (the
    binomial weights grow too fast for floats)."""
    log_d = math.log(service / stations)
    visit = [0.0]
    for j in range(1, population + 1):
        visit.append(
            visit[-1] + math.log((j + present) / j) + log_d - math.log(min(present + j, servers))
        )
    log_delay = math.log(delay) if delay > 0.0 else None
    g: list[float | None] = [0.0]
    for r in range(1, population + 1):
        g.append(None if log_delay is None else r * log_delay - math.lgamma(r + 1))
    for _ in range(stations):
        nxt: list[float | None] = []
        for n in range(population + 1):
            terms = [a + visit[n - i] for i, a in enumerate(g[: n + 1]) if a is not None]
            if not terms:
                nxt.append(None)
                continue
            top = max(terms)
            nxt.append(top + math.log(sum(math.exp(t - top) for t in terms)))
        g = nxt
    out = [0.0]
    for n in range(1, population + 1):
        below, here = g[n - 1], g[n]
        out.append(0.0 if below is None or here is None else math.exp(below - here))
    return out


def pool_state(
    arrival_rate: float, throughputs: Sequence[float], waiting: int
) -> tuple[float, float]:
    """(refused share, mean busy threads) of a pool of c = len(throughputs) − 1 threads and
    `waiting` places: a birth–death chain over the calls in the pool, n → n+1 at
    `arrival_rate`, n → n−1 at throughputs[min(n, c)] (the flow-equivalent server of
    `pool_throughputs`). The refused share is P(n = c + waiting) (Poisson arrivals see time
    averages), the busy threads E[min(n, c)]; a pool nothing leaves stays full."""
    threads = len(throughputs) - 1
    if threads < 1 or waiting < 0:
        raise ValueError("need at least one thread and waiting >= 0")
    if arrival_rate <= 0.0:
        return 0.0, 0.0
    term = 1.0
    total = 1.0
    busy = 0.0
    for n in range(1, threads + waiting + 1):
        rate = throughputs[min(n, threads)]
        if rate <= 0.0:
            return 1.0, float(threads)
        term *= arrival_rate / rate
        total += term
        busy += term * min(n, threads)
        if total > 1e300:  # rescale: only the ratios to `total` matter
            term /= total
            busy /= total
            total = 1.0
    return term / total, busy / total


def pool_busy(arrival_rate: float, throughputs: Sequence[float], waiting: int) -> float:
    """Mean busy threads, E[min(n, c)], of the chain `pool_state` describes."""
    return pool_state(arrival_rate, throughputs, waiting)[1]


def pool_loss(arrival_rate: float, throughputs: Sequence[float], waiting: int) -> float:
    """Share of arrivals the pool of `pool_state` turns away."""
    return pool_state(arrival_rate, throughputs, waiting)[0]


def fork_join_max(means: Sequence[float]) -> float:
    """Mean of the maximum of independent exponential times with these means (0 means none)."""
    if any(not math.isfinite(m) for m in means):
        return math.inf
    rates = [1.0 / m for m in means if m > 0.0]
    n = len(rates)
    if n == 0:
        return 0.0
    if n == 1:
        return 1.0 / rates[0]
    if n > EXACT_FORK_JOIN:
        # The slowest branch times the harmonic number of n, the exact value for identical ones.
        return max(means) * sum(1.0 / k for k in range(1, n + 1))
    total = 0.0
    for mask in range(1, 1 << n):
        rate = 0.0
        bits = 0
        for i in range(n):
            if mask >> i & 1:
                rate += rates[i]
                bits += 1
        total += (1.0 if bits % 2 else -1.0) / rate
    return total


@dataclass(frozen=True)
class Station:
    """One station of a closed network: `demand` is the total service time a customer needs
    there per cycle (visits × service time); `servers` 0 makes it a pure delay (infinite
    servers); `background` is the utilisation other (open) traffic already puts on it."""

    demand: float
    servers: int = 1
    background: float = 0.0


@dataclass(frozen=True)
class MvaResult:
    throughput: float
    response: float
    """Time per cycle at the stations, think time excluded."""
    residence: tuple[float, ...]
    queue: tuple[float, ...]
    """Mean customers at each station."""


def _residence(st: Station, waiting: float) -> float:
    """Residence time at a station whose queue part holds `waiting` customers on arrival."""
    if st.servers == 0:
        return st.demand
    part = st.demand / st.servers
    stretch = 1.0 / (1.0 - st.background) if st.background < 1.0 else math.inf
    return part * (1.0 + waiting) * stretch + st.demand - part


def mva(stations: Sequence[Station], population: int, think: float = 0.0) -> MvaResult:
    """Exact MVA for population 1..N (exact for single-server and delay stations)."""
    if population < 0:
        raise ValueError("population must be non-negative")
    queue = [0.0] * len(stations)
    residence = [st.demand for st in stations]
    throughput = 0.0
    for n in range(1, population + 1):
        residence = [_residence(st, queue[k]) for k, st in enumerate(stations)]
        total = sum(residence)
        throughput = n / (think + total) if think + total > 0 else math.inf
        queue = [
            throughput * (r - (st.demand - st.demand / st.servers if st.servers else 0.0))
            for r, st in zip(residence, stations, strict=True)
        ]
    return MvaResult(throughput, sum(residence), tuple(residence), tuple(queue))


def schweitzer(
    stations: Sequence[Station], population: int, think: float = 0.0, tolerance: float = 1e-9
) -> MvaResult:
    """Schweitzer's approximate MVA: one fixed point at population N, Q_k(N−1) ≈ Q_k(N)·(N−1)/N."""
    if population <= 0:
        return MvaResult(0.0, sum(st.demand for st in stations), (), ())
    queue = [population / max(len(stations), 1)] * len(stations)
    residence = [st.demand for st in stations]
    throughput = 0.0
    shrink = (population - 1) / population
    for _ in range(10_000):
        residence = [_residence(st, queue[k] * shrink) for k, st in enumerate(stations)]
        total = sum(residence)
        throughput = population / (think + total) if think + total > 0 else math.inf
        new = [
            throughput * (r - (st.demand - st.demand / st.servers if st.servers else 0.0))
            for r, st in zip(residence, stations, strict=True)
        ]
        change = max((abs(a - b) for a, b in zip(new, queue, strict=True)), default=0.0)
        queue = new
        if change < tolerance:
            break
    return MvaResult(throughput, sum(residence), tuple(residence), tuple(queue))
