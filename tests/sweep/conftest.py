"""A small architecture and Dask clusters for the sweep tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

SMALL = """\
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: small}
spec:
  services:
    s:
      replicas: 1
      workers: 2
      endpoints:
        e: {work: {type: exponential, mean: 10ms}}
  traffic:
    load:
      arrival: {process: poisson, rate: 100/s}
      mix: [{endpoint: s.e}]
  network: {hopLatency: 0s}
  simulation: {duration: 20s, warmup: 2s, seed: 7}
"""


@pytest.fixture(scope="module")
def threads_client() -> Iterator[Any]:
    """An in-process cluster: the scheduling is Dask's own, without process start-up."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()
