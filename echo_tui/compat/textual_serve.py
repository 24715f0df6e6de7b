"""textual-serve 1.1.3, as `echo-tui serve` uses it beyond its public face: the private names
it reaches for, in one place.

- `ForkedAppService`: its `AppService` with `_open_app_process` replaced: the app process is
  forked by the server (an awaitable `fork(width, height)` of a process with a `stdin`) instead
  of started by a shell; the protocol over its pipes is AppService's own, unchanged.
- `app_environment`: `AppService._build_environment`, the settings it gives an app it serves.
- `index_context`: `Server.handle_index` undecorated: the page's template context, which
  serve/server.py renders with its own copy of the page (serve/page.html, a copy of 1.1.3's
  templates/app_index.html with one change, named at its top).
`tests/test_compat.py` fails when the installed textual-serve is another version: read these
against it, then change VERSION.
"""

from __future__ import annotations

from types import SimpleNamespace

from textual_serve.app_service import AppService
from textual_serve.server import Server

VERSION = "1.1.3"  # the textual-serve these names and copies are from


class ForkedAppService(AppService):
    """textual-serve's AppService, its app process forked (`fork`: an awaitable of a process
    for a width and height) rather than started by a shell."""

    def __init__(self, fork, **kwargs) -> None:
        super().__init__("", **kwargs)
        self._fork = fork

    async def _open_app_process(self, width: int = 80, height: int = 24):
        process = await self._fork(width, height)
        self._process, self._stdin = process, process.stdin
        return process


def app_environment() -> dict[str, str]:
    """The environment textual-serve gives an app it serves (its web driver, colours, frame
    rate), the terminal's size included."""
    return AppService._build_environment(SimpleNamespace(debug=False))


async def index_context(server: Server, request) -> dict:
    """The page's template context as textual-serve's `handle_index` makes it."""
    return await Server.handle_index.__wrapped__(server, request)
