"""The starlette app of ``pipelinekit ui``: the pages of ``pages.PAGES``, the chart module, and the
admin unlock (a form taking the server's admin token; the browser then holds a keyed hash of it in
an HttpOnly, SameSite=Strict cookie)."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from pipelinekit.ui.context import ADMIN_COOKIE, UiContext, form_fields
from pipelinekit.ui.pages import PAGES

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


def create_app(context: UiContext) -> Any:
    """The ASGI app serving ``context``'s store and server."""
    from starlette.applications import Starlette
    from starlette.responses import RedirectResponse, Response
    from starlette.routing import Route

    from pipelinekit.report.charts import charts_module

    module = charts_module().encode("utf-8")  # made once, before the first page asks for it

    def charts(request: Any) -> Response:
        return Response(module, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})

    async def unlock(request: Any) -> Response:
        form = await form_fields(request)
        if not context.token_matches(str(form.get("token", ""))):
            return context.render(
                request, "error.html", status_code=403, title="admin", message="that is not the server's admin token"
            )
        response = RedirectResponse(str(form.get("next") or "/serving"), status_code=303)
        response.set_cookie(ADMIN_COOKIE, context.cookie_value(), httponly=True, samesite="strict")
        return response

    def lock(request: Any) -> Response:
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(ADMIN_COOKIE)
        return response

    routes = [
        Route("/static/charts.js", charts),
        Route("/admin/unlock", unlock, methods=["POST"]),
        Route("/admin/lock", lock, methods=["POST"]),
    ]
    context.nav = []
    for name in PAGES:
        page = importlib.import_module(f"pipelinekit.ui.pages.{name}").PAGE
        if page.title:
            context.nav.append((page.title, page.path))
        routes.extend(page.routes(context))
    return Starlette(routes=routes)
