"""The run store's option and opening, shared by `serve`, `runs` and `simulate --save`.

Apart from `serve_cmds`, so that `scalesim simulate` does not define the `serve` command (and
its dozen options) to get `--db`."""

from __future__ import annotations

import click

from .main import fail


def store_url(db: str | None) -> str:
    from scalesim_patterns.web.config import default_db_url

    return db or default_db_url()


def shown(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def open_store_or_exit(db: str | None):  # type: ignore[no-untyped-def]
    """The store at `db` (or the default), migrated; exit 2 with a message when it won't open."""
    from sqlalchemy.exc import SQLAlchemyError

    from scalesim_patterns.web.store import Store
    from scalesim_patterns.web.store.db import StoreError, normalise_url

    url = normalise_url(store_url(db))
    try:
        return Store.open(url)
    except StoreError as exc:
        fail(str(exc))
    except (SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(f"cannot open the run store {shown(url)}: {reason}")


db_option = click.option(
    "--db",
    envvar="SCALESIM_DB",
    help="Run store URL: sqlite:///path.db or postgresql+psycopg://user@host/db "
    "(default: $SCALESIM_DB, else SQLite in the user data folder).",
)
