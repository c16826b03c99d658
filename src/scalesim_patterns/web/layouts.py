"""Which stored node positions to keep: those of nodes the architecture has.

The page keys positions by topology node id (`<kind>:<name>`); a position of a node that the
latest version no longer has (renamed, deleted, or never there) is dropped, so the stored layout
stays as small as the architecture. A latest version that does not validate cannot say which
nodes exist, and then every well-formed id is kept.
"""

from __future__ import annotations

from scalesim_patterns import catalog
from scalesim_patterns.model import Architecture

__all__ = ["known_nodes", "split_known"]


def known_nodes(arch: Architecture) -> tuple[frozenset[str], frozenset[str]]:
    """(node ids, node names) of the architecture's topology."""
    nodes = catalog.topology(arch).nodes
    return frozenset(n.id for n in nodes), frozenset(n.name for n in nodes)


def split_known(
    positions: dict[str, dict[str, float]], arch: Architecture | None
) -> tuple[dict[str, dict[str, float]], list[str]]:
    """(positions kept, ids ignored). An id is kept when it is a node of the topology or, the
    page's kinds being a little finer than the topology's, when its name is a node's name."""
    if arch is None:
        return dict(positions), []
    ids, names = known_nodes(arch)
    kept: dict[str, dict[str, float]] = {}
    ignored: list[str] = []
    for key, point in positions.items():
        if key in ids or key.split(":", 1)[1] in names:
            kept[key] = point
        else:
            ignored.append(key)
    return kept, sorted(ignored)
