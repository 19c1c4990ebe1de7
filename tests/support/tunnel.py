"""A local HTTPS proxy (HTTP ``CONNECT``) that tunnels the real service hosts to local servers.

With ``HTTPS_PROXY`` pointing here, a production configuration runs unchanged: the app asks
for ``login.botframework.com``, ``login.microsoftonline.com`` or ``smba.trafficmanager.net``,
the proxy opens a tunnel to the local stand-in for that host, and TLS is negotiated end to end
with it (its certificate, from the test CA, names the real host). Any host without a route
is refused with 403, as a locked-down egress proxy would; every ``CONNECT`` is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class TunnelProxy:
    """``routes`` maps ``host`` to a local ``(address, port)``."""

    routes: dict[str, tuple[str, int]] = field(default_factory=dict)
    connects: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    _server: asyncio.Server | None = None
    _open: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def start(self) -> TunnelProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._open):  # keep-alive tunnels would hold wait_closed()
                writer.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        method, target, *_ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
        host, _, port = target.rpartition(":")
        route = self.routes.get(host.lower()) if method == "CONNECT" and port == "443" else None
        if route is None:
            self.refused[target] += 1
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        self.connects[host.lower()] += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*route)
        except OSError:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        self._open.update({writer, upstream_writer})
        try:
            await asyncio.gather(
                _pipe(reader, upstream_writer),
                _pipe(upstream_reader, writer),
                return_exceptions=True,
            )
        finally:
            self._open.difference_update({writer, upstream_writer})


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()
