"""The plug-in state registry: one object per class, typed by its class."""

from __future__ import annotations

import pytest

from scalesim_patterns.sim.core.plugins import PluginStates


class _Counter:
    def __init__(self) -> None:
        self.n = 0


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name


def test_obtain_makes_once_and_returns_the_same_object() -> None:
    plugins = PluginStates()
    assert plugins.get(_Counter) is None
    first = plugins.obtain(_Counter)
    first.n += 1
    assert plugins.obtain(_Counter) is first
    assert plugins.get(_Counter) is first
    assert plugins.obtain(_Counter).n == 1
    assert _Counter in plugins and len(plugins) == 1


def test_add_keeps_a_state_built_with_arguments_and_refuses_a_second() -> None:
    plugins = PluginStates()
    named = plugins.add(_Named("x"))
    assert plugins.get(_Named) is named
    with pytest.raises(ValueError, match="_Named"):
        plugins.add(_Named("y"))
    assert plugins.get(_Counter) is None
