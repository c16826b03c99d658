"""The server options `up`, `load` and `calibrate` share, collapsed into one `servers` argument."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

# kind → (option, default). The defaults are this machine's standard local servers; they equal
# `generate.code.local.DEFAULT_URLS` (a test keeps them equal), kept here so that registering
# the commands imports nothing of the generator.
SERVER_OPTIONS: dict[str, tuple[str, str]] = {
    "postgresql": ("--postgres-url", "postgresql://postgres@127.0.0.1:5432/test"),
    "mysql": ("--mysql-url", "mysql://root@127.0.0.1:3306/test"),
    "redis": ("--redis-url", "redis://127.0.0.1:6379/0"),
    "rabbitmq": ("--rabbitmq-url", "amqp://guest:guest@127.0.0.1:5672/"),
    "nats": ("--nats-url", "nats://127.0.0.1:4222"),
    "kafka": ("--kafka-url", "kafka://127.0.0.1:9092"),
}


def server_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the six `--<kind>-url` options; the command receives `servers: Servers`."""

    @functools.wraps(command)
    def run(**kwargs: Any) -> Any:
        from scalesim_patterns.generate.code.local import Servers

        urls = {kind: kwargs.pop(f"{kind}_server") for kind in SERVER_OPTIONS}
        return command(servers=Servers(urls), **kwargs)

    wrapped: Callable[..., Any] = run
    for kind, (flag, default) in reversed(SERVER_OPTIONS.items()):
        wrapped = click.option(
            flag, f"{kind}_server", default=default, show_default=True, metavar="URL"
        )(wrapped)
    return wrapped
