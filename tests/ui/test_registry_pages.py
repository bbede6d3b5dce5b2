"""The models and monitoring pages over synthetic stores, rendered through starlette's TestClient:
registry versions and aliases written as pipeline runs record them (tests/registry/registry_records.py),
monitor windows and actions written through the monitor's own MonitorRecorder."""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest
from synthetic_registry import record_pushes, record_windows

TOKEN = "s3cret-admin-token"


@pytest.fixture
def registry_store(tmp_path):
    return record_pushes(str(tmp_path))


def _client(store, token: str | None = TOKEN):
    from starlette.testclient import TestClient

    from pipelinekit.ui.app import create_app
    from pipelinekit.ui.context import UiContext

    return TestClient(create_app(UiContext(store, admin_token=token)))


def _unlocked(store):
    client = _client(store)
    response = client.post("/admin/unlock", data={"token": TOKEN, "next": "/models"}, follow_redirects=False)
    assert response.status_code == 303
    return client


def _history_rows(html: str) -> list[str]:
    table = html.split('class="pk-history"')[1].split("</table>")[0]
    return re.findall(r"<tr><td>.*?</tr>", table, re.S)


def test_models_page_shows_versions_aliases_and_history_read_only(registry_store):
    registry, _ = registry_store
    html = _client(registry.store).get("/models").text
    assert 'id="model-penguin"' in html and '<a href="/models" class="current">Models</a>' in html
    for expected in ("1001", "1002", "1.0.0", "BLESSED", "NOT BLESSED", "accuracy too low", "span 1", "span 2", "fp-span-2",
                     "first release", "production", "/runs/penguin_pipeline/run-1"):  # fmt: skip
        assert expected in html, expected
    assert len(_history_rows(html)) == 1
    assert 'class="pk-move"' not in html and "Read-only: unlock" in html  # no form without the token


def test_moving_an_alias_needs_the_token_and_is_recorded_as_the_ui(registry_store):
    registry, _ = registry_store
    form = {"alias": "production", "version": "1002", "reason": "canary went well"}
    refused = _client(registry.store).post("/models/penguin/alias", data=form, follow_redirects=False)
    assert refused.status_code == 403
    assert registry.aliases("penguin")["production"].version == 1001
    client = _unlocked(registry.store)
    assert 'class="pk-move"' in client.get("/models").text
    page = client.post("/models/penguin/alias", data=form)
    assert page.status_code == 200 and "production now names version 1002" in page.text
    move = registry.aliases("penguin")["production"]
    assert (move.version, move.who, move.reason, move.from_version) == (1002, "ui", "canary went well", 1001)
    rows = _history_rows(page.text)
    assert len(rows) == 2 and "canary went well" in rows[0] and ">ui<" in rows[0]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"alias": "production", "version": "999", "reason": "typo"}, "has no version &#39;999&#39;"),
        ({"alias": "production", "version": "1002", "reason": "  "}, "needs a reason"),
        ({"alias": "1.2.3", "version": "1002", "reason": "bad name"}, "is not a valid name"),
    ],
)
def test_a_refused_move_is_shown_and_changes_nothing(registry_store, form, error):
    registry, _ = registry_store
    before = registry.history("penguin")
    page = _unlocked(registry.store).post("/models/penguin/alias", data=form)
    assert page.status_code == 200 and "Nothing changed:" in page.text and error in page.text
    assert registry.history("penguin") == before


def test_moving_to_a_version_whose_files_are_gone_changes_nothing(registry_store):
    registry, base = registry_store
    shutil.rmtree(os.path.join(base, "1002"))
    before = registry.history("penguin")
    page = _unlocked(registry.store).post("/models/penguin/alias", data={"alias": "production", "version": "1002", "reason": "x"})
    assert "its files are gone" in page.text and registry.history("penguin") == before
    assert ">gone<" in page.text  # the versions table says so too


def test_models_page_of_an_empty_store_says_how_models_get_there(tmp_path):
    from pipelinekit.registry import Registry

    html = _client(Registry.open_new(str(tmp_path / "metadata.sqlite")).store, token=None).get("/models").text
    assert "No registered models" in html and "read-only" in html


@pytest.fixture
def monitor_store(tmp_path):
    return record_windows(str(tmp_path))


def test_monitoring_page_charts_each_versions_windows_and_lists_actions(monitor_store):
    html = _client(monitor_store, token=None).get("/monitoring").text
    assert 'id="monitor-wine"' in html and "<h3>wine/1</h3>" in html and "<h3>wine/2</h3>" in html
    specs = json.loads(re.search(r'<script type="application/json" id="pk-charts">(.*?)</script>', html, re.S).group(1))
    assert len(specs) == 4  # drift and performance, per version
    for chart_id, spec in specs.items():
        assert f'id="{chart_id}"' in html and spec["mark"]["type"] == "line"
    drift_2 = [s for s in specs.values() if {"measure": "drift_ratio", "value": 1.5, "window": 3} in s["data"]["values"]]
    assert len(drift_2) == 1 and {r["measure"] for r in drift_2[0]["data"]["values"]} == {"drift_ratio", "skew_ratio"}
    performance = [s for s in specs.values() if any(r["measure"] == "accuracy" for r in s["data"]["values"])]
    assert len(performance) == 2 and sorted(r["window"] for r in performance[0]["data"]["values"]) == [1, 2, 3]
    actions = html.split('class="pk-actions"')[1].split("</table>")[0]
    assert "alerted" in actions and "drift_ratio of wine/2 is 1.5" in actions
    assert html.count('<tr><td class="num">') >= 6 + 1  # three windows per version, one action


def test_monitoring_page_of_a_store_without_monitor(tmp_path):
    from pipelinekit.registry import Registry

    html = _client(Registry.open_new(str(tmp_path / "metadata.sqlite")).store, token=None).get("/monitoring").text
    assert "No monitored models" in html and "pk-chart-0" not in html


def test_a_window_with_unreadable_metrics_is_listed_without_measures(tmp_path):
    from pipelinekit.monitor.lineage import MonitorRecorder

    recorder = MonitorRecorder(str(tmp_path / "metadata.sqlite"), "wine")
    for window, metrics in ((1, "{not json"), (2, '{"drift_ratio": 0.3, "note": "text", "flag": true}'), (3, "[1, 2]")):
        where = str(tmp_path / str(window))
        recorder.window(f"wine:{window}:wine/1", "wine/1", str(tmp_path / "stats"), str(tmp_path / "schema"),
                        f"{where}/statistics", f"{where}/anomalies", {"metrics": metrics})  # fmt: skip
    response = _client(recorder.store, token=None).get("/monitoring")
    assert response.status_code == 200
    specs = json.loads(re.search(r'id="pk-charts">(.*?)</script>', response.text, re.S).group(1))
    [spec] = specs.values()
    assert spec["data"]["values"] == [{"window": 2, "measure": "drift_ratio", "value": 0.3}]
    assert response.text.count("<h3>wine/1</h3>") == 1 and ">note<" not in response.text


def test_moving_an_alias_of_an_unknown_model_names_the_known_ones(registry_store):
    registry, _ = registry_store
    before = registry.history("penguin")
    page = _unlocked(registry.store).post("/models/nosuch/alias", data={"alias": "production", "version": "1001", "reason": "x"})
    assert "unknown model &#39;nosuch&#39;; registered models: penguin" in page.text
    assert registry.history("penguin") == before
