"""``/models``: the model registry's models, each with its versions (semantic version, pushed version,
push time, blessing, training data), its aliases and their history; with the admin token, a form
that moves an alias through :meth:`Registry.move_alias`, recorded as moved by ``ui``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from pipelinekit.errors import PipelineKitError
from pipelinekit.ui.context import form_fields
from pipelinekit.ui.pages import Page

UI_MOVER = "ui"
"""Who an alias move made from the UI is recorded as done by."""
SHOWN_VERSIONS = 50
"""Newest versions listed per model (the registry CLI lists them all)."""


@dataclass(frozen=True)
class ModelView:
    """What the page shows of one model: versions newest first, aliases in force, their moves newest first."""

    name: str
    versions: list[Any]
    version_count: int
    aliases: dict[str, Any]
    history: list[Any]


def model_views(registry: Any) -> list[ModelView]:
    """Every registered model of ``registry``, read at this request."""
    views = []
    for name in registry.models():
        versions = registry.versions(name)
        views.append(
            ModelView(name, versions[::-1][:SHOWN_VERSIONS], len(versions), registry.aliases(name), registry.history(name)[::-1])
        )
    return views


def routes(context: Any) -> list[Any]:
    from starlette.responses import PlainTextResponse, RedirectResponse
    from starlette.routing import Route

    from pipelinekit.registry import Registry

    def models_page(request: Any) -> Any:
        models: list[ModelView] = []
        problem = ""
        try:
            models = model_views(Registry(context.store))
        except PipelineKitError as error:
            problem = str(error)
        return context.render(
            request, "models.html", models=models, problem=problem, shown=SHOWN_VERSIONS,
            message=request.query_params.get("message", ""), failed=request.query_params.get("failed", ""),
        )  # fmt: skip

    async def move_alias(request: Any) -> Any:
        if not context.is_admin(request):
            return PlainTextResponse("moving an alias needs the admin token: unlock the UI first", status_code=403)
        form = await form_fields(request)
        model = request.path_params["model"]
        alias, version = form.get("alias", "").strip(), form.get("version", "").strip()
        try:
            move = Registry(context.store).move_alias(model, alias, version, form.get("reason", ""), who=UI_MOVER)
            outcome = f"message={quote(f'{model}: {alias} now names version {move.version} ({move.semver})')}"
        except PipelineKitError as error:
            outcome = f"failed={quote(str(error))}"
        return RedirectResponse(f"/models?{outcome}", status_code=303)

    return [
        Route("/models", models_page, name="models"),
        Route("/models/{model}/alias", move_alias, methods=["POST"]),
    ]


PAGE = Page("Models", "/models", routes)
