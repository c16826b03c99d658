"""Text from a user's file on its way to a terminal: control characters made visible.

A key or name holding ESC (`\\x1b[2J`, `\\x1b]8;;…`) would otherwise clear the screen, rewrite the
title or forge a hyperlink when echoed; bidirectional overrides (U+202E) reorder what is read
("Trojan Source"). `printable` writes every such character as a visible escape (`\\x1b`,
`\\u202e`) and leaves everything else, including non-ASCII letters, as is.
"""

from __future__ import annotations

import re

__all__ = ["printable"]

# C0 controls except tab and newline, DEL, C1 controls, and the bidi embedding/override/isolate
# characters; line and paragraph separators, which some terminals treat as line breaks.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, keep_newlines: bool = True) -> str:
    """`text` with every terminal-controlling character replaced by a visible escape."""
    out = _UNSAFE.sub(_escape, text)
    return out if keep_newlines else out.replace("\n", "\\n")
