"""Render a run: the shared run body (the report's and the UI's run page) and the self-contained report."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from typing import Any

from pipelinekit.errors import MetadataError
from pipelinekit.metadata.store import MetadataStore
from pipelinekit.report.charts import STATE_COLORS, ChartSet, charts_module
from pipelinekit.report.run_view import RunView, find_run, read_run
from pipelinekit.report.sections import build_sections

__all__ = ["template_environment", "run_page_values", "render_report", "write_report", "script_json", "TEMPLATES"]

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")


def template_environment(*folders: str) -> Any:
    """A Jinja environment over ``folders`` then the report's templates, escaping HTML."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*folders, TEMPLATES]), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    environment.globals["state_colors"] = STATE_COLORS
    return environment


def script_json(value: Any) -> Any:
    """JSON safe to put inside a ``<script>`` element (no ``</`` can end it early)."""
    from markupsafe import Markup

    return Markup(json.dumps(value, separators=(",", ":")).replace("</", "<\\/"))


def run_page_values(run: RunView) -> dict[str, Any]:
    """What ``run_body.html`` needs: the run, its sections and the specs of their charts."""
    charts = ChartSet()
    sections = build_sections(run, charts)
    properties = run.run.properties
    started = properties.get("started_at")
    finished = properties.get("finished_at")
    return {
        "run": run,
        "sections": sections,
        "charts_json": script_json(charts.specs),
        "started": datetime.fromtimestamp(started).strftime("%Y-%m-%d %H:%M:%S") if started else "?",
        "duration": finished - started if started and finished else None,
    }


def render_report(run: RunView) -> str:
    """One HTML file: styles, data, chart specs and the chart library inline; it loads nothing."""
    from markupsafe import Markup

    module = charts_module()
    if "</script" in module.lower():  # pragma: no cover - the bundle is minified code without that text
        raise MetadataError("the bundled chart library contains '</script' and cannot be inlined")
    values = run_page_values(run)
    values.update(generated=time.strftime("%Y-%m-%d %H:%M:%S"), charts_module=Markup(module))
    return str(template_environment().get_template("report.html").render(values))


def write_report(store: MetadataStore, run_id: str, output: str, pipeline_name: str | None = None) -> tuple[str, int]:
    """Write the report of ``run_id`` (or ``latest``) to ``output`` atomically; returns (run id, bytes)."""
    name, record = find_run(store, run_id, pipeline_name)
    html = render_report(read_run(store, name, record)).encode("utf-8")
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise MetadataError(f"cannot write the report to {output}: folder {folder} does not exist")
    partial = f"{output}.partial-{os.getpid()}"
    try:
        with open(partial, "wb") as handle:
            handle.write(html)
        os.replace(partial, output)
    except OSError as error:
        raise MetadataError(f"cannot write the report to {output}: {error.strerror}") from error
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return record.run_id, len(html)
