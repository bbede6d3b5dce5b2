"""Vega-Lite chart specs, and the offline JavaScript (Vega, Vega-Lite, vega-embed) that draws them.

Specs are plain Vega-Lite JSON (https://vega.github.io/vega-lite/docs/): building them through
Altair cost 6-15 s of import here (its jsonschema pulls in dozens of grammar parsers), too slow for
a web page. Pages hold each spec as JSON beside an empty ``<div>``; one ES module, bundled by
``vl-convert`` from the Vega projects' own releases plus a few lines that embed every spec, draws
them. The report inlines that module; the web UI serves it once as ``/static/charts.js``. Nothing
is fetched from a CDN.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from collections.abc import Sequence
from typing import Any

from pipelinekit.report.summaries import FeatureSummary

__all__ = [
    "ChartSet",
    "charts_module",
    "feature_chart",
    "metric_chart",
    "trials_chart",
    "line_chart",
    "graph_chart",
    "STATE_COLORS",
]

logger = logging.getLogger(__name__)

VEGA_LITE_VERSION = "6.4"
_SCHEMA = f"https://vega.github.io/schema/vega-lite/v{VEGA_LITE_VERSION.split('.')[0]}.json"  # an id; never fetched
STATE_COLORS = {
    "COMPLETE": "#2e7d32",
    "CACHED": "#1565c0",
    "RUNNING": "#f9a825",
    "FAILED": "#c62828",
    "CANCELED": "#757575",
    "NEW": "#9e9e9e",
}
_SPLITS = {"scheme": "tableau10"}
CANVAS_ABOVE = 150
MAX_WIDTH = 16000  # browsers refuse canvases much wider than 32k pixels
"""Graphs with more nodes are drawn on a canvas: Vega's SVG renderer takes seconds for a thousand marks."""
_CONFIG = {
    "font": "DejaVu Sans, system-ui, sans-serif",
    "axis": {"labelFontSize": 11, "titleFontSize": 12},
    "legend": {"labelFontSize": 11},
}

_EMBED_ALL = """
const specs = JSON.parse(document.getElementById("pk-charts")?.textContent || "{}");
for (const [id, spec] of Object.entries(specs)) {
  const target = document.getElementById(id);
  if (target) {
    vegaEmbed(target, spec, {actions: false, renderer: spec.usermeta?.renderer || "svg"})
      .then(() => target.setAttribute("data-drawn", "1"))
      .catch((error) => { target.textContent = "chart failed: " + error; console.error(error); });
  }
}
"""


class ChartSet:
    """The specs of one page, keyed by the id of the ``<div>`` each is drawn in."""

    def __init__(self) -> None:
        self.specs: dict[str, dict[str, Any]] = {}

    def add(self, spec: dict[str, Any]) -> str:
        """Keep a spec; returns the id of its ``<div>``."""
        chart_id = f"pk-chart-{len(self.specs)}"
        self.specs[chart_id] = {"$schema": _SCHEMA, "config": _CONFIG, **spec}
        return chart_id


@functools.cache
def charts_module() -> str:
    """The ES module that draws every chart of a page (about 0.9 MB). Bundling takes vl-convert
    seconds, so the result is kept in the user's cache folder, by vl-convert version."""
    import vl_convert

    key = hashlib.sha256(f"{getattr(vl_convert, '__version__', '')}|{VEGA_LITE_VERSION}|{_EMBED_ALL}".encode()).hexdigest()[:16]
    folder = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pipelinekit")
    path = os.path.join(folder, f"charts-{key}.js")
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        pass
    module = str(vl_convert.javascript_bundle(_EMBED_ALL, vl_version=VEGA_LITE_VERSION))
    try:
        os.makedirs(folder, exist_ok=True)
        partial = f"{path}.{os.getpid()}"
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(module)
        os.replace(partial, path)
    except OSError as error:  # a read-only home still gets its charts, only slower
        logger.info("cannot keep the chart bundle in %s: %s", folder, error)
    return module


def _tooltip(field: str, kind: str = "nominal", fmt: str = "") -> dict[str, str]:
    return {"field": field, "type": kind, **({"format": fmt} if fmt else {})}


def feature_chart(rows: Sequence[FeatureSummary]) -> dict[str, Any]:
    """One feature across splits: a histogram (share of values per bucket) for numbers, the top
    values' shares for strings. Shares, not counts, so splits of different sizes compare."""
    numeric = [r for r in rows if r.buckets]
    share_axis = {"field": "share", "type": "quantitative", "axis": {"format": "%"}}
    split_color = {"field": "split", "type": "nominal", "scale": _SPLITS, "legend": {"orient": "top", "title": None}}
    if numeric:
        values = [
            {
                "split": r.split,
                "low": low,
                "high": high,
                "share": count / total if (total := sum(b[2] for b in r.buckets)) else 0.0,
            }
            for r in numeric
            for low, high, count in r.buckets
        ]
        return {
            "data": {"values": values},
            "width": 230,
            "height": 120,
            "mark": {"type": "bar", "opacity": 0.55, "binSpacing": 0},
            "encoding": {
                "x": {"field": "low", "type": "quantitative", "bin": "binned", "title": rows[0].name, "scale": {"zero": False}},
                "x2": {"field": "high"},
                "y": {**share_axis, "title": "share", "stack": None},
                "color": split_color,
                "tooltip": [
                    _tooltip("split"),
                    _tooltip("low", "quantitative", ".4g"),
                    _tooltip("high", "quantitative", ".4g"),
                    _tooltip("share", "quantitative", ".1%"),
                ],
            },
        }
    values = [
        {"split": r.split, "value": value, "share": frequency / r.count if r.count else 0.0}
        for r in rows
        for value, frequency in r.top_values
    ]
    return {
        "data": {"values": values},
        "width": 230,
        "height": {"step": 8},
        "mark": "bar",
        "encoding": {
            "y": {"field": "value", "type": "nominal", "title": rows[0].name, "sort": "-x"},
            "yOffset": {"field": "split", "type": "nominal"},
            "x": {**share_axis, "title": "share of values"},
            "color": split_color,
            "tooltip": [_tooltip("split"), _tooltip("value"), _tooltip("share", "quantitative", ".1%")],
        },
    }


def metric_chart(metric: str, rows: Sequence[dict[str, Any]], threshold: dict[str, float] | None) -> dict[str, Any]:
    """A metric per slice and model (candidate, baseline), with the threshold's bounds as red rules."""
    bars = {
        "data": {"values": list(rows)},
        "mark": "bar",
        "encoding": {
            "y": {"field": "slice", "type": "nominal", "sort": None, "title": None},
            "yOffset": {"field": "model", "type": "nominal"},
            "x": {"field": "value", "type": "quantitative", "title": metric},
            "color": {"field": "model", "type": "nominal", "scale": {"scheme": "set2"}},
            "tooltip": [_tooltip("slice"), _tooltip("model"), _tooltip("value", "quantitative", ".4g")],
        },
    }
    bounds = [{"bound": name, "value": value} for name, value in (threshold or {}).items() if name in ("lower", "upper")]
    layers = [bars]
    if bounds:
        layers.append(
            {
                "data": {"values": bounds},
                "mark": {"type": "rule", "color": "#c62828", "strokeDash": [4, 3], "size": 2},
                "encoding": {
                    "x": {"field": "value", "type": "quantitative"},
                    "tooltip": [_tooltip("bound"), _tooltip("value", "quantitative")],
                },
            }
        )
    return {"width": 320, "height": {"step": 11}, "layer": layers}


def line_chart(rows: Sequence[dict[str, Any]], x: str, x_title: str, y_title: str) -> dict[str, Any]:
    """Measures over ``x`` (rows of ``{x: ..., "measure": name, "value": number}``), a line and points
    per measure; ``x`` is ordinal (window numbers, say), each value one labelled step."""
    return {
        "data": {"values": list(rows)},
        "width": 420,
        "height": 180,
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {"field": x, "type": "ordinal", "title": x_title, "axis": {"labelAngle": 0}},
            "y": {"field": "value", "type": "quantitative", "title": y_title},
            "color": {"field": "measure", "type": "nominal", "scale": _SPLITS},
            "tooltip": [_tooltip(x, "quantitative"), _tooltip("measure"), _tooltip("value", "quantitative", ".4g")],
        },
    }


def trials_chart(trials: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The Tuner's trials by score, each with its hyperparameters in the tooltip."""
    keys = sorted({k for trial in trials for k in trial} - {"trial_id", "score"})
    return {
        "data": {"values": list(trials)},
        "width": 360,
        "height": {"step": 20},
        "mark": {"type": "bar", "color": "#5e35b1"},
        "encoding": {
            "y": {"field": "trial_id", "type": "nominal", "sort": "-x", "title": "trial"},
            "x": {"field": "score", "type": "quantitative", "title": "score (the tuner's objective)"},
            "tooltip": [_tooltip("trial_id"), _tooltip("score", "quantitative", ".4g"), *[_tooltip(k) for k in keys]],
        },
    }


def graph_chart(
    nodes: Sequence[dict[str, Any]], edges: Sequence[tuple[str, str]], width: int = 980, step: int = 54
) -> dict[str, Any]:
    """A DAG drawn left to right: ``nodes`` are dicts with ``id``, ``label``, ``color``, ``shape`` and
    any tooltip fields; positions come from :func:`pipelinekit.report.layout.layered_positions`."""
    from pipelinekit.report.layout import layered_positions

    positions = layered_positions([n["id"] for n in nodes], edges)
    columns = max((x for x, _ in positions.values()), default=0) + 1
    rows = max((y for _, y in positions.values()), default=0) + 1
    placed = [{**n, "x": positions[n["id"]][0], "y": positions[n["id"]][1]} for n in nodes]
    lines = [
        {"x": positions[a][0], "y": positions[a][1], "x2": positions[b][0], "y2": positions[b][1], "edge": f"{a} -> {b}"}
        for a, b in edges
    ]
    x = {"field": "x", "type": "quantitative", "axis": None, "scale": {"domain": [-0.5, columns - 0.5]}}
    y = {"field": "y", "type": "quantitative", "axis": None, "scale": {"domain": [-0.5, rows - 0.3]}}
    fields = sorted({k for n in nodes for k in n} - {"id", "color", "shape", "x", "y"})
    node_encoding = {
        "x": x,
        "y": y,
        "color": {"field": "color", "type": "nominal", "scale": None},
        "shape": {"field": "shape", "type": "nominal", "scale": None},
        "tooltip": [_tooltip(k) for k in fields],
    }
    return {
        "usermeta": {"renderer": "canvas" if len(nodes) > CANVAS_ABOVE else "svg"},
        "width": min(max(width, int(columns * 125)), MAX_WIDTH),
        "height": max(120, int(rows * step)),
        "view": {"stroke": None},
        "layer": [
            {
                "data": {"values": lines},
                "mark": {"type": "rule", "color": "#90a4ae", "strokeWidth": 1.5},
                "encoding": {"x": x, "y": y, "x2": {"field": "x2"}, "y2": {"field": "y2"}, "tooltip": [_tooltip("edge")]},
            },
            {
                "data": {"values": placed},
                "mark": {"type": "point", "filled": True, "size": 260, "opacity": 1},
                "encoding": node_encoding,
            },
            {
                "data": {"values": placed},
                "mark": {"type": "text", "dy": 17, "fontSize": 11, "color": "#263238", "limit": 160},
                "encoding": {"x": x, "y": y, "text": {"field": "label", "type": "nominal"}},
            },
        ],
    }
