"""What every page gets: the store, the server to read metrics from, the admin switch, and rendering."""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from typing import Any

from pipelinekit.metadata.store import MetadataStore

__all__ = ["UiContext", "ADMIN_COOKIE", "form_fields"]

ADMIN_COOKIE = "pipelinekit_admin"
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")


@dataclass
class UiContext:
    """Shared by the pages of one app. ``admin_token`` is the server's admin token (from its token
    file) when the UI was started with ``--admin_port``; without it every page is read-only."""

    store: MetadataStore
    server_url: str | None = None
    admin_port: int | None = None
    admin_token_file: str | None = None
    admin_token: str | None = None
    nav: list[tuple[str, str]] = field(default_factory=list)
    _environment: Any = None

    @property
    def environment(self) -> Any:
        if self._environment is None:
            from pipelinekit.report.render import template_environment

            self._environment = template_environment(TEMPLATES)
            self._environment.filters["when"] = _when
        return self._environment

    def cookie_value(self) -> str:
        """What the admin cookie holds: a keyed hash of the token, never the token itself."""
        assert self.admin_token is not None
        return hmac.new(self.admin_token.encode(), b"pipelinekit-ui-admin", hashlib.sha256).hexdigest()

    def is_admin(self, request: Any) -> bool:
        """Whether this browser proved it holds the admin token (see the unlock form)."""
        if not self.admin_token:
            return False
        return hmac.compare_digest(request.cookies.get(ADMIN_COOKIE, ""), self.cookie_value())

    def token_matches(self, offered: str) -> bool:
        return bool(self.admin_token) and hmac.compare_digest(offered.strip().encode(), self.admin_token.encode())  # type: ignore[union-attr]

    def render(self, request: Any, template: str, status_code: int = 200, **values: Any) -> Any:
        """An HTML page: ``template`` (which extends base.html) with the navigation and admin state."""
        from starlette.responses import HTMLResponse

        html = self.environment.get_template(template).render(
            nav=self.nav, path=request.url.path, admin=self.is_admin(request), admin_available=bool(self.admin_token), **values
        )
        return HTMLResponse(html, status_code=status_code)


def _when(seconds: float | None) -> str:
    """A unix time as local ``YYYY-MM-DD HH:MM:SS``; empty when unknown."""
    from datetime import datetime

    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S") if seconds else ""


async def form_fields(request: Any) -> dict[str, str]:
    """The fields of a URL-encoded form post (the only kind the pages send), read with the standard
    library: starlette's own form parser needs python-multipart, which pipelinekit does not install."""
    from urllib.parse import parse_qs

    body = (await request.body())[:65536].decode("utf-8", errors="replace")
    return {key: values[0] for key, values in parse_qs(body).items()}
