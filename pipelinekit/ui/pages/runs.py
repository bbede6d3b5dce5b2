"""``/``: every run of every pipeline in the store, newest first, with status, time and counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipelinekit.ui.pages import Page

RUNS_SHOWN = 2000


def _rows(context: Any) -> list[dict[str, Any]]:
    rows = []
    for name in context.store.pipeline_names():
        for run in context.store.runs(name):
            p = run.properties
            started, finished = p.get("started_at"), p.get("finished_at")
            rows.append(
                {
                    "pipeline": name,
                    "run_id": run.run_id,
                    "order": run.context_id,
                    "status": p.get("status", "?"),
                    "started": datetime.fromtimestamp(started).strftime("%Y-%m-%d %H:%M:%S") if started else "",
                    "duration": f"{finished - started:.1f} s" if started and finished else "",
                    "counts": {k: p.get(k, 0) for k in ("ran", "cached", "failed", "skipped")},
                    "problem": str(p.get("failed_nodes") or p.get("error") or "")[:120],
                }
            )
    rows.sort(key=lambda row: row["order"], reverse=True)
    return rows


def routes(context: Any) -> list[Any]:
    from starlette.routing import Route

    def runs_page(request: Any) -> Any:
        rows = _rows(context)
        return context.render(request, "runs.html", rows=rows[:RUNS_SHOWN], total=len(rows), shown=RUNS_SHOWN)

    return [Route("/", runs_page, name="runs")]


PAGE = Page("Runs", "/", routes)
