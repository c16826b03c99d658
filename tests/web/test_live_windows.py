"""Window events are streamed as the simulator closes each window, not when the run ends: the
stream carries them before `done`, in order, interleaved with progress, with the figures of the
finished result, which stays byte-identical to `simulate --json`."""

from __future__ import annotations

from fastapi.testclient import TestClient

from scalesim_patterns.model import loads
from scalesim_patterns.sim import simulate
from scalesim_patterns.sim.reports.live import window_of

from .conftest import create, start, stream


def test_windows_stream_live_before_done_and_the_result_is_unchanged(
    client: TestClient,
) -> None:
    arch = create(client)
    run = start(client, arch["id"], duration="20s", replications=2, seed=11)
    events = stream(client, run["id"])
    assert [e[0] for e in events] == list(range(1, len(events) + 1))
    kinds = [k for _, k, _ in events]
    done = kinds.index("state", kinds.index("window"))
    assert events[done][2]["state"] == "done" and done == len(events) - 1
    windows = [(seq, d) for seq, k, d in events if k == "window"]
    assert windows and all(seq < events[done][0] for seq, _ in windows)

    # live: windows arrive while the run still reports progress short of the end
    first_window = windows[0][0]
    unfinished = [seq for seq, k, d in events if k == "progress" and d["fraction"] < 1.0]
    assert any(seq > first_window for seq in unfinished), "windows only came at the end"

    result = client.get(f"/api/runs/{run['id']}/result")
    expected = simulate(loads(arch["text"]), seed=11, duration=20.0, replications=2, jobs=1)
    assert result.text == expected.to_json()

    for rep in expected.runs:
        mine = [d for _, d in windows if d["replication"] == rep.replication]
        assert [d["index"] for d in mine] == list(range(len(rep.series.time))), "in order"
        for d in mine:
            w = window_of(rep.series, rep.replication, d["index"])
            assert d["time"] == w.time and d["window"] == w.window and d["variant"] is None
            assert d["entries"] == w.entries and d["services"] == w.services
            assert d["clients"] == w.clients
            assert d["routes"] == w.routes == {}, "no scheduled changes, no route shares"
