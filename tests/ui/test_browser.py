"""The report and every UI page in headless Chromium, for a real penguin run and a live server:
no console errors, the key elements present, screenshots saved (tests/.artifacts/screenshots or
$PIPELINEKIT_SCREENSHOTS) for CI to collect."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from browser import browser, click_through, console_errors, screenshot, wait_for_charts, wait_for_text

from pipelinekit.dsl.metadata_config import sqlite_metadata
from pipelinekit.metadata.store import MetadataStore

pytestmark = pytest.mark.slow

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
PIPELINE = os.path.join(REPO, "examples", "penguin", "pipeline.py")
HALF_PLUS_TWO = os.path.join(REPO, "tests", "data", "half_plus_two", "00000123")
NODES = {"CsvExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform", "Tuner", "Trainer", "Evaluator", "InfraValidator", "Pusher", "BulkInferrer"}  # fmt: skip
FEATURES = {"bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "island", "sex", "species", "year"}


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


@pytest.fixture(scope="module")
def penguin(tmp_path_factory) -> dict:
    """One real penguin run (the example pipeline, shortened training) and its store."""
    root = str(tmp_path_factory.mktemp("penguin") / "root")
    result = subprocess.run(
        [sys.executable, "-m", "pipelinekit", "run", PIPELINE], cwd="/", env=_env(PENGUIN_ROOT=root, PENGUIN_TRAIN_STEPS="60"),
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    store = MetadataStore(sqlite_metadata(os.path.join(root, "metadata.sqlite")))
    [run] = store.runs("penguin")
    return {"root": root, "store": store, "run_id": run.run_id, "metadata": os.path.join(root, "metadata.sqlite")}


def _check_run_page(driver, penguin: dict) -> None:
    assert wait_for_charts(driver) >= len(FEATURES) + 3
    names = {e.text for e in driver.find_elements("css selector", ".pk-node-name")}
    assert NODES <= names
    features = driver.find_elements("css selector", "#statistics .pk-feature")
    drawn = {
        f.get_attribute("data-feature")
        for f in features
        if f.find_elements("css selector", "svg .mark-rect path, svg .mark-rect rect")
    }
    assert FEATURES <= drawn, f"features without a histogram: {FEATURES - drawn}"
    reason = driver.find_element("css selector", "#evaluation .pk-verdict").text
    assert "BLESSED" in reason and "every metric threshold in eval_config is met" in reason
    assert driver.find_elements("css selector", "#lineage svg .mark-rule line, #lineage svg .mark-rule path")
    edges = driver.execute_script("return [...document.querySelectorAll('#lineage .pk-edge')].map(r => r.textContent)")
    assert any("Examples" in e and "StatisticsGen" in e for e in edges)
    assert driver.find_element("css selector", "#pushes").text.count("yes") == 1
    assert console_errors(driver) == []


def test_the_report_opens_offline_with_every_part(penguin, tmp_path):
    output = tmp_path / "report.html"
    result = subprocess.run(
        [sys.executable, "-m", "pipelinekit", "report", penguin["run_id"], "--metadata", penguin["metadata"], "-o", str(output)],
        env=_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert output.stat().st_size < 3_000_000
    with browser() as driver:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions", {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
        )
        driver.get(output.as_uri())
        _check_run_page(driver, penguin)
        screenshot(driver, "report")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`pipelinekit serve` with two models behind route ``r``, its admin API and some traffic."""
    root = tmp_path_factory.mktemp("serve")
    config = root / "models.config"
    config.write_text(
        "".join(
            f'model_config_list {{ config {{ name: "{m}" base_path: "{HALF_PLUS_TWO.rpartition("/")[0]}" model_platform: "tensorflow" }} }}\n'
            for m in ("stable",)
        )
    )
    config.write_text(
        "model_config_list {\n"
        + "".join(
            f'  config {{ name: "{m}" base_path: "{os.path.dirname(HALF_PLUS_TWO)}" model_platform: "tensorflow" }}\n'
            for m in ("stable", "canary")
        )
        + "}\n"
    )
    routes = root / "routes.yaml"
    routes.write_text("routes:\n  - name: r\n    split: [{model: stable, weight: 50}, {model: canary, weight: 50}]\n")
    rest, admin = _free_port(), _free_port()
    token_file = root / "admin.token"
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelinekit", "serve", f"--model_config_file={config}", "--port=0", f"--rest_api_port={rest}",
         f"--route_config_file={routes}", f"--admin_port={admin}", f"--admin_token_file={token_file}"],
        env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_http(f"http://127.0.0.1:{rest}/v1/models/stable")
        for _ in range(20):
            body = json.dumps({"instances": [1.0, 2.0]}).encode()
            urllib.request.urlopen(
                urllib.request.Request(f"http://127.0.0.1:{rest}/v1/models/r:predict", data=body), timeout=10
            ).read()
        yield {"url": f"http://127.0.0.1:{rest}", "admin_port": admin, "token_file": str(token_file)}
    finally:
        process.terminate()
        process.wait(timeout=60)


@pytest.fixture(scope="module")
def ui(penguin, server):
    """The UI app on a free port, over the penguin store and the live server."""
    from pipelinekit.serving.admin_token import read_token
    from pipelinekit.ui.context import UiContext

    context = UiContext(
        penguin["store"], server["url"], server["admin_port"], server["token_file"], read_token(server["token_file"])
    )
    with _serving_ui(context) as url:
        yield {"url": url, "token": context.admin_token}


@contextlib.contextmanager
def _serving_ui(context):
    """The UI app over ``context`` on a free port, in a thread; yields its URL."""
    import uvicorn

    from pipelinekit.ui.app import create_app

    port = _free_port()
    web = uvicorn.Server(uvicorn.Config(create_app(context), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    try:
        _wait_http(f"http://127.0.0.1:{port}/")
        yield f"http://127.0.0.1:{port}"
    finally:
        web.should_exit = True
        thread.join(timeout=10)


def test_every_ui_page_in_a_browser_and_the_off_switch_needs_the_token(ui, penguin):
    with browser() as driver:
        driver.get(ui["url"] + "/")
        link = driver.find_element("link text", penguin["run_id"])
        assert "COMPLETE" in driver.find_element("css selector", ".pk-runs").text
        screenshot(driver, "ui_runs")
        click_through(driver, link)
        _check_run_page(driver, penguin)
        screenshot(driver, "ui_run")

        driver.get(ui["url"] + "/serving")
        targets = driver.find_element("css selector", ".pk-targets").text
        assert "stable" in targets and "canary" in targets and "stable" in driver.find_element("css selector", ".pk-models").text
        assert "switch off" not in driver.page_source  # read-only: no off buttons
        request = urllib.request.Request(ui["url"] + "/serving/routes/r/disable", data=b"target=canary", method="POST")
        with pytest.raises(urllib.error.HTTPError, match="403"):
            urllib.request.urlopen(request, timeout=10)
        screenshot(driver, "ui_serving_read_only", full_page=False)
        assert console_errors(driver) == []

        driver.find_element("name", "token").send_keys("wrong")
        click_through(driver, driver.find_element("css selector", "header form button"))
        wait_for_text(driver, "not the server's admin token")
        assert [e for e in console_errors(driver) if "403" not in e] == []  # the refused unlock is the only error
        driver.get(ui["url"] + "/serving")
        driver.find_element("name", "token").send_keys(ui["token"])
        click_through(driver, driver.find_element("css selector", "header form button"))
        assert driver.find_element("css selector", ".pk-routes").text.count("canary") >= 1
        off = [b for b in driver.find_elements("css selector", "button.pk-off")]
        assert len(off) == 2
        canary_row = [r for r in driver.find_elements("css selector", ".pk-targets tr") if "canary" in r.text][0]
        click_through(driver, canary_row.find_element("css selector", "button.pk-off"))
        assert "switched canary off in route r" in driver.find_element("css selector", ".pk-message").text
        assert "canary" in driver.find_element("css selector", ".pk-routes td.badge-bad").text
        screenshot(driver, "ui_serving_admin", full_page=False)
        assert console_errors(driver) == []


def test_models_and_monitoring_pages_in_a_browser_and_an_alias_moved_after_the_unlock(tmp_path):
    from synthetic_registry import DRIFT_ACTION_REASON, record_pushes, record_windows

    from pipelinekit.ui.context import UiContext

    registry, _ = record_pushes(str(tmp_path))
    record_windows(str(tmp_path))  # the same store: the monitor records in the pipeline's
    with _serving_ui(UiContext(registry.store, admin_token="browser-token")) as url, browser() as driver:
        driver.get(url + "/models")
        assert "1002" in driver.find_element("css selector", ".pk-versions").text
        assert "first release" in driver.find_element("css selector", ".pk-history").text
        assert not driver.find_elements("css selector", "form.pk-move")  # read-only
        assert console_errors(driver) == []
        driver.find_element("name", "token").send_keys("browser-token")
        click_through(driver, driver.find_element("css selector", "header form button"))
        move = driver.find_element("css selector", "form.pk-move")
        move.find_element("css selector", "option[value='1002']").click()
        move.find_element("name", "reason").send_keys("canary went well")
        click_through(driver, move.find_element("css selector", "button"))
        wait_for_text(driver, "production now names version 1002")
        assert "canary went well" in driver.find_element("css selector", ".pk-history tr:nth-child(2)").text
        assert registry.aliases("penguin")["production"].who == "ui"
        screenshot(driver, "ui_models_admin")
        assert console_errors(driver) == []

        driver.get(url + "/monitoring")
        assert wait_for_charts(driver) == 4  # drift and performance for each of two versions
        assert DRIFT_ACTION_REASON in driver.find_element("css selector", ".pk-actions").text
        screenshot(driver, "ui_monitoring")
        assert console_errors(driver) == []


def test_a_lineage_of_400_artifacts_draws_in_the_browser(tmp_path):
    from synthetic_runs import add_chain_run

    from pipelinekit.report.render import write_report

    store = MetadataStore(sqlite_metadata(str(tmp_path / "metadata.sqlite")))
    run_id = add_chain_run(store, "chain", str(tmp_path), 400, per_node=10)
    write_report(store, run_id, str(tmp_path / "lineage.html"))
    with browser() as driver:
        started = time.perf_counter()
        driver.get((tmp_path / "lineage.html").as_uri())
        wait_for_charts(driver)
        assert time.perf_counter() - started < 30  # about 0.5 s on an idle laptop; the CI machine is shared
        assert driver.find_elements("css selector", "#lineage canvas")
        assert len(driver.find_elements("css selector", "#lineage .pk-edge")) == 400 + 390
        assert console_errors(driver) == []
        screenshot(driver, "lineage_400", full_page=False)
