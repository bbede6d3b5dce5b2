"""Every route-file error names the file, the line and the field: the parser's and the check
against the served models alike, at start (the server exits 2) and on a reload."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import CollectorRegistry

from pipelinekit.serving.metrics import RouteMetrics
from pipelinekit.serving.route_watch import RouteFileWatcher
from pipelinekit.serving.router import Router
from pipelinekit.serving.routes import RouteConfigError, parse_routes

SERVED = ("stable", "canary")


def _refusal(tmp_path, text: str) -> str:
    """The error a server serving ``SERVED`` gives for a route file holding ``text``."""
    path = tmp_path / "routes.yaml"
    path.write_text(text)
    router = Router(lambda name: name in SERVED, RouteMetrics(CollectorRegistry()))
    try:
        with pytest.raises(RouteConfigError) as error:
            RouteFileWatcher(str(path), router, poll_s=0).start()
    finally:
        router.close()
    assert router.routes == {}
    return str(error.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # the unknown model of issue 14: line 5, in the split's model field
            "routes:\n  - name: r\n    split:\n      - {model: stable, weight: 9}\n      - {model: nowhere, weight: 1}\n",
            "line 5: route 'r' split: model: target 'nowhere' names no served model",
        ),
        (
            "routes:\n  - name: r\n    split: [{model: stable}]\n    shadows:\n\n      - model: ghost\n        label: next\n",
            "line 6: route 'r' shadows: model: target 'ghost@next' names no served model",
        ),
        (
            "routes:\n  - name: r\n    split: [{model: stable}]\n    fallback:\n      deadline_ms: 50\n"
            "      targets: [{model: canary}, {model: gone, version: 2}]\n",
            "line 6: route 'r' fallback targets: model: target 'gone/2' names no served model",
        ),
        (
            "routes:\n  - split: [{model: stable}]\n    name: canary\n",
            "line 3: name: route 'canary' has the name of a served model",
        ),
    ],
)
def test_a_route_to_what_is_not_served_names_the_file_line_and_field(tmp_path, text, expected):
    error = _refusal(tmp_path, text)
    assert str(tmp_path / "routes.yaml") in error and expected in error, error


def test_every_problem_of_a_file_is_named_with_its_line(tmp_path):
    text = "routes:\n  - name: a\n    split: [{model: x}]\n  - name: b\n    split: [{model: stable}, {model: y}]\n"
    error = _refusal(tmp_path, text)
    assert "2 problem(s)" in error
    assert "line 3: route 'a' split: model: target 'x'" in error and "line 5: route 'b' split: model: target 'y'" in error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("routes:\n  - name: r\n    split: [{model: a}\n", "line 4, column 1: not valid YAML: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence at line 3)"),
        ("routes:\n  - name: r\n    split: [{model: a}]\n  - name: r\n    split: [{model: b}]\n",
         "line 4: name: route 'r' is defined twice"),
    ],
)  # fmt: skip
def test_yaml_errors_and_duplicates_name_the_line(text, expected):
    with pytest.raises(RouteConfigError) as error:
        parse_routes(text, "routes.yaml")
    assert str(error.value).startswith("routes.yaml") and expected in str(error.value), str(error.value)


def test_lines_do_not_make_routes_differ():
    """A route moved down the file is the same route: no new change is recorded, no history kept."""
    [before] = parse_routes("routes:\n  - name: r\n    split: [{model: a}]\n").values()
    [after] = parse_routes("\n\nroutes:\n  - name: r\n    split: [{model: a}]\n").values()
    assert before == after and (before.line, after.line) == (2, 4)


@pytest.mark.slow
def test_the_server_exits_2_naming_the_file_line_and_field(tmp_path, caplog):
    from serving_helpers import HALF_PLUS_TWO

    from pipelinekit.cli import main as cli_main

    routes = tmp_path / "routes.yaml"
    routes.write_text("routes:\n  - name: r\n    split:\n      - {model: stable}\n      - {model: nowhere}\n")
    caplog.set_level(logging.ERROR)
    argv = ["serve", "--model_name=stable", f"--model_base_path={HALF_PLUS_TWO}", "--port=0", "--rest_api_port=0",
            f"--route_config_file={routes}"]  # fmt: skip
    assert cli_main(argv) == 2
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert str(routes) in logged and "line 5: route 'r' split: model: target 'nowhere'" in logged, logged
