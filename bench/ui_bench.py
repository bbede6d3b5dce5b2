"""Measures of the run report and the web UI, printed as a table.

    .venv/bin/python bench/ui_bench.py [--penguin-root ROOT] [--rows 100000] [--skip-data]

- run page of the 13-node penguin run (runs examples/penguin into a temporary root unless
  --penguin-root names one that has run), served by the UI app (first request, then median of 5);
- runs list with 1,000 runs written through the metadata layer;
- the page of a run whose lineage holds 500 artifacts, on the server, and drawn in headless
  Chromium when it is installed;
- the report's size for the taxi example's data half (CsvExampleGen, StatisticsGen, SchemaGen,
  ExampleValidator against the previous span) on --rows rows per span.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))
sys.path.insert(0, os.path.join(REPO, "tests", "ui"))

from synthetic_runs import add_chain_run, add_runs  # noqa: E402

from pipelinekit.dsl.metadata_config import sqlite_metadata  # noqa: E402
from pipelinekit.metadata.store import MetadataStore  # noqa: E402


def _client(store: MetadataStore):  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    from pipelinekit.ui.app import create_app
    from pipelinekit.ui.context import UiContext

    return TestClient(create_app(UiContext(store)))


def _timed_get(client, path: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(first request, median of the next five), seconds; each must answer 200."""
    times = []
    for _ in range(6):
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text[:500]
    return times[0], statistics.median(times[1:])


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, cwd=REPO, env={**os.environ, "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3", **env},
                            capture_output=True, text=True, timeout=1800)  # fmt: skip
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")


def _browser_draw_seconds(client_url: str) -> float | None:
    try:
        from browser import browser, wait_for_charts
    except ImportError:
        return None
    import pytest

    try:
        with browser() as driver:
            started = time.perf_counter()
            driver.get(client_url)
            wait_for_charts(driver, timeout_s=60)
            return time.perf_counter() - started
    except pytest.skip.Exception:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--penguin-root", help="a penguin pipeline root that has run (else one is run now)")
    parser.add_argument("--rows", type=int, default=100_000, help="rows per taxi span for the report size (default 100000)")
    parser.add_argument("--skip-data", action="store_true", help="skip the taxi report size")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="ui_bench_")
    rows: list[tuple[str, str, str]] = []

    penguin_root = args.penguin_root or os.path.join(work, "penguin")
    if not args.penguin_root:
        _run(
            [sys.executable, "-m", "pipelinekit", "run", "examples/penguin/pipeline.py"],
            {"PENGUIN_ROOT": penguin_root, "PENGUIN_TRAIN_STEPS": "60"},
        )
    store = MetadataStore(sqlite_metadata(os.path.join(penguin_root, "metadata.sqlite")))
    run = store.runs("penguin")[0]
    first, warm = _timed_get(_client(store), f"/runs/penguin/{run.run_id}")
    rows.append(("run page, 13-node penguin run", f"first {first:.3f} s, then {warm:.3f} s", "< 1 s"))

    synthetic = MetadataStore(sqlite_metadata(os.path.join(work, "synthetic.sqlite")))
    add_runs(synthetic, "many", 1000)
    chain = add_chain_run(synthetic, "chain", work, 500, per_node=10)
    client = _client(synthetic)
    first, warm = _timed_get(client, "/")
    rows.append(("runs list, 1,000 runs", f"first {first:.3f} s, then {warm:.3f} s", "< 1 s"))
    first, warm = _timed_get(client, f"/runs/chain/{chain}")
    rows.append(("lineage of 500 artifacts, server", f"first {first:.3f} s, then {warm:.3f} s", "< 2 s"))
    from pipelinekit.report.render import write_report

    page = os.path.join(work, "lineage.html")
    write_report(synthetic, chain, page)
    drawn = _browser_draw_seconds("file://" + page)
    rows.append(
        ("lineage of 500 artifacts, drawn in Chromium", f"{drawn:.3f} s" if drawn is not None else "no Chromium here", "< 2 s")
    )

    if not args.skip_data:
        data, root = os.path.join(work, "taxi_data"), os.path.join(work, "taxi_root")
        _run([sys.executable, "examples/taxi/generate_data.py", "--rows", str(args.rows), "--output", data], {})
        env = {"TAXI_DATA": data, "TAXI_ROOT": root}
        _run([sys.executable, "-m", "pipelinekit", "run", "examples/taxi/pipeline.py"], {**env, "TAXI_SPAN": "1"})
        _run([sys.executable, "-m", "pipelinekit", "run", "examples/taxi/pipeline.py"], env)
        taxi = MetadataStore(sqlite_metadata(os.path.join(root, "metadata.sqlite")))
        _, size = write_report(taxi, "latest", os.path.join(work, "taxi_report.html"))
        rows.append((f"report size, taxi data half, {args.rows:,} rows/span", f"{size / 1e6:.2f} MB", "< 5 MB"))

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"pipelinekit report and UI (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    for column in ("measure", "result", "goal"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console().print(table)
    print(f"files in {work}")


if __name__ == "__main__":
    main()
