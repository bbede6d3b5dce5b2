"""``/serving``: the served models and the routes' targets with traffic, errors and latency, read from
the server's Prometheus endpoint; with the admin token, the routes in force and the off switch."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pipelinekit.errors import PipelineKitError
from pipelinekit.ui.context import form_fields
from pipelinekit.ui.pages import Page


def _admin_client(context: Any) -> Any:
    from pipelinekit.serving.admin_client import AdminClient

    return AdminClient(context.admin_port, context.admin_token_file, timeout_s=5.0)


def routes(context: Any) -> list[Any]:
    from starlette.responses import PlainTextResponse, RedirectResponse
    from starlette.routing import Route

    from pipelinekit.ui.server_metrics import read_server

    def serving_page(request: Any) -> Any:
        snapshot, problem, listing = None, "", {}
        if context.server_url:
            try:
                snapshot = read_server(context.server_url)
            except PipelineKitError as error:
                problem = str(error)
        admin = context.is_admin(request)
        if admin:
            try:
                listing = _admin_client(context).call("GET", "/routes").get("routes", {})
            except PipelineKitError as error:
                problem = f"{problem}\n{error}".strip()
        return context.render(
            request, "serving.html", snapshot=snapshot, problem=problem, routes=listing, server_url=context.server_url,
            message=request.query_params.get("message", ""),
        )  # fmt: skip

    async def switch_off(request: Any) -> Any:
        if not context.is_admin(request):
            return PlainTextResponse("switching a target off needs the admin token: unlock the UI first", status_code=403)
        form = await form_fields(request)
        route, target = request.path_params["route"], str(form.get("target", ""))
        try:
            _admin_client(context).call("POST", f"/routes/{quote(route, safe='')}/disable", {"target": target})
            message = f"switched {target} off in route {route}"
        except PipelineKitError as error:
            message = str(error)
        return RedirectResponse(f"/serving?message={quote(message)}", status_code=303)

    return [
        Route("/serving", serving_page, name="serving"),
        Route("/serving/routes/{route}/disable", switch_off, methods=["POST"]),
    ]


PAGE = Page("Serving", "/serving", routes)
