"""Field paths inside a manifest, as tuples and as the dotted text shown to users.

Paths stay tuples internally so that line look-ups and de-duplication compare exactly; they are
rendered only at the edge (``spec.containers[0].image``), the form `kubectl explain` users know.
"""

from __future__ import annotations

import re

FieldPath = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def format_path(path: FieldPath) -> str:
    """Render ``("spec", "containers", 0, "image")`` as ``spec.containers[0].image``.

    Keys that are not plain identifiers (label keys such as ``app.kubernetes.io/name``) are
    quoted in brackets so the rendered path stays unambiguous.
    """
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _PLAIN_KEY.match(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f'["{part}"]')
    return "".join(out)
