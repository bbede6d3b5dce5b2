"""``/runs/<pipeline>/<run id>``: the run report's sections, live from the store."""

from __future__ import annotations

from typing import Any

from pipelinekit.errors import PipelineKitError
from pipelinekit.ui.pages import Page


def routes(context: Any) -> list[Any]:
    from starlette.routing import Route

    from pipelinekit.report.render import run_page_values
    from pipelinekit.report.run_view import find_run, read_run

    def run_page(request: Any) -> Any:
        pipeline, run_id = request.path_params["pipeline"], request.path_params["run_id"]
        try:
            name, record = find_run(context.store, run_id, pipeline)
            values = run_page_values(read_run(context.store, name, record))
        except PipelineKitError as error:
            return context.render(request, "error.html", status_code=404, title=f"run {run_id}", message=str(error))
        return context.render(request, "run.html", **values)

    return [Route("/runs/{pipeline}/{run_id}", run_page, name="run")]


PAGE = Page("", "", routes)
