"""What guards the API: the token (required when bound beyond loopback), the same-origin rule for
writes, and the request body limit. One ASGI middleware, so streaming responses pass untouched."""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

__all__ = ["Guard"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TOKEN_IN_QUERY = ("/events", ".zip")
"""Routes a browser opens without headers (EventSource, a download link) may carry ?token=."""


async def _send_error(
    send: Send, status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "details": details or {}}})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="scalesim"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body.encode()})


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        body_limit: int,
        allowed_origins: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.token = token
        self.body_limit = body_limit
        self.allowed_origins = frozenset(o.rstrip("/") for o in allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        if (
            path.startswith("/api")
            and self.token is not None
            and not self._authorised(headers, scope, path)
        ):
            await _send_error(
                send,
                401,
                "unauthorized",
                "this server needs its token: send 'Authorization: Bearer <token>'",
            )
            return
        if method in WRITES:
            origin = headers.get("origin")
            if origin is not None and not self._same_origin(origin, headers, scope):
                await _send_error(
                    send,
                    403,
                    "cross_origin",
                    f"writes from {origin} are refused; only this server's own page may write "
                    "(or an origin given with --allow-origin)",
                    {"origin": origin},
                )
                return
            if origin is None and headers.get("sec-fetch-site") == "cross-site":
                await _send_error(
                    send, 403, "cross_origin", "cross-site writes are refused", {"origin": None}
                )
                return
        if method in WRITES or "content-length" in headers:
            await self._with_body_limit(scope, receive, send, headers)
            return
        await self.app(scope, receive, send)

    def _authorised(self, headers: dict[str, str], scope: Scope, path: str) -> bool:
        assert self.token is not None
        given = None
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        elif path.endswith(TOKEN_IN_QUERY):
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            values = query.get("token")
            given = values[0] if values else None
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def _same_origin(self, origin: str, headers: dict[str, str], scope: Scope) -> bool:
        origin = origin.rstrip("/")
        if origin in self.allowed_origins:
            return True
        host = headers.get("host")
        if not host:
            return False
        scheme = scope.get("scheme", "http")
        return origin in (f"{scheme}://{host}", f"http://{host}", f"https://{host}")

    async def _with_body_limit(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        declared = headers.get("content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await _send_error(send, 400, "bad_request", "Content-Length is not a number")
                return
            if size > self.body_limit:
                await self._too_large(send, size)
                return
        chunks: list[bytes] = []
        total = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.body_limit:
                await self._too_large(send, total)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send, size: int) -> None:
        await _send_error(
            send,
            413,
            "body_too_large",
            f"request body of {size:,} bytes exceeds the limit of {self.body_limit:,} bytes",
            {"limit": "body_bytes", "value": size, "maximum": self.body_limit},
        )
