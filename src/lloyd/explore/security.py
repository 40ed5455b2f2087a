"""The explorer's guard: a secret token, Host and Origin checks, bounded request bodies.

A local server on a shared machine can be reached by other users (any port on loopback) and by
web pages in the user's own browser (a cross-site request, or DNS rebinding a name of the
attacker's to 127.0.0.1). The token stops the first; the Host and Origin checks the second.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs

__all__ = ["BodyTooLarge", "Guard", "read_body"]

#: Cookie that carries the token after the first page load (the port keeps servers apart:
#: cookies are shared by every port of a host).
COOKIE = "lloyd-explore-{port}"
HEADER = b"x-lloyd-token"


@dataclass
class Guard:
    """ASGI middleware: refuses any request without the token, from another Host or Origin.

    Parameters
    ----------
    app : ASGI application
    token : str
        The secret; in the printed URL (``?token=``), then in a cookie or an ``X-Lloyd-Token``
        header.
    hosts : set of str
        The acceptable ``Host`` headers, ``name:port`` (``127.0.0.1:8765``, ``localhost:8765``).
    """

    app: object
    token: str
    hosts: set = field(default_factory=set)
    port: int = 0

    @property
    def cookie(self) -> str:
        return COOKIE.format(port=self.port)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self.app(scope, receive, send)
        if scope["type"] != "http":  # no websockets here
            return await _refuse(send, 403, "this server speaks plain HTTP only")
        headers = {}
        for key, value in scope["headers"]:
            headers.setdefault(key.lower(), value.decode("latin-1"))
        host = headers.get(b"host", "")
        if host.lower() not in self.hosts:
            # DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1.
            return await _refuse(send, 403, f"Host {host!r} is not this server; open the "
                                 "address lloyd explore printed")
        origin = headers.get(b"origin")
        if origin is not None and origin.lower().removeprefix("http://") not in self.hosts:
            return await _refuse(send, 403, f"cross-origin request from {origin!r} refused")
        # Browsers say where a request comes from: only this page itself ("same-origin") or the
        # user typing the address ("none"). "same-site" is another port of this host (a
        # notebook server, say), which the SameSite cookie would not stop. Opening the page
        # from a link elsewhere (a top-level navigation) is fine: it reads nothing back.
        fetch_site = headers.get(b"sec-fetch-site")
        navigation = (scope["method"] == "GET" and headers.get(b"sec-fetch-mode") == "navigate"
                      and headers.get(b"sec-fetch-dest") == "document")
        if fetch_site not in (None, "same-origin", "none") and not navigation:
            return await _refuse(send, 403, f"{fetch_site} request refused")
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = (headers.get(HEADER) or _cookie(headers.get(b"cookie", ""), self.cookie)
                 or (query.get("token") or [""])[0])
        if not given or not hmac.compare_digest(given.encode(), self.token.encode()):
            return await _refuse(send, 403, "missing or wrong token: open the full address "
                                 "lloyd explore printed (with ?token=...)")
        if "token" in query and scope["method"] == "GET" and scope["path"] == "/":
            # Trade the token in the address for a cookie, and drop it from the address bar.
            return await self._login(send)
        return await self.app(scope, receive, send)

    async def _login(self, send):
        cookie = f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict"
        await send({"type": "http.response.start", "status": 303, "headers": [
            (b"location", b"/"), (b"set-cookie", cookie.encode()),
            (b"cache-control", b"no-store"), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


async def _refuse(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def new_token() -> str:
    """A fresh secret: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


class BodyTooLarge(Exception):
    """A request body over its limit (answered 413)."""

    def __init__(self, limit: int, what: str):
        super().__init__(f"{what} larger than the limit of {limit:,} bytes")


async def read_body(request, limit: int, what: str = "request body") -> bytes:
    """The request body, refused (BodyTooLarge) as soon as it passes ``limit`` bytes.

    The declared Content-Length is checked first, then the bytes actually received, so a
    client that lies about the length cannot make the server buffer more.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit, what)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit, what)
        chunks.append(chunk)
    return b"".join(chunks)
