"""Deferred imports (dsl/deferred_imports.py): a deferred module runs only when a name is looked up
on it, once, whichever thread asks first; the objects are the real module's; submodules, ``from``
imports and a missing module behave as without deferral. Each case runs in a fresh interpreter,
so the deferral never leaks into this test process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

PACKAGE = {
    # The package appends to RUNS each time its __init__ runs: the test sees how often it ran.
    "slowpkg/__init__.py": "import os\nwith open(os.environ['RUNS'], 'a') as f: f.write('x')\nVALUE = 42\n",
    "slowpkg/sub.py": "from slowpkg import VALUE\nDOUBLE = 2 * VALUE\n",
    # How Beam binds BigQuery's client: only the name at import time, inside try/except.
    "binder.py": "try:\n    import slowpkg\nexcept ImportError:\n    slowpkg = None\n",
}


def run_case(tmp_path, code: str) -> str:
    for relative, text in PACKAGE.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    runs = tmp_path / "runs.txt"
    prologue = "import sys\nfrom pipelinekit.dsl.deferred_imports import defer_imports\n"
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "RUNS": str(runs)}
    out = subprocess.run(
        [sys.executable, "-c", prologue + textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout + f"runs={runs.read_text() if runs.exists() else ''}"


def test_deferred_module_runs_on_first_lookup_and_then_is_the_real_module(tmp_path):
    out = run_case(
        tmp_path,
        """
        defer_imports(["slowpkg"])
        import binder
        print("placeholder", type(sys.modules["slowpkg"]).__name__, binder.slowpkg is not None)
        import os; print("ran before lookup", os.path.exists(os.environ["RUNS"]))
        print("value", binder.slowpkg.VALUE)
        real = sys.modules["slowpkg"]
        print("real", type(real).__name__, real.__file__.endswith("slowpkg/__init__.py"))
        from slowpkg import VALUE
        import slowpkg.sub
        print("again", VALUE, slowpkg.sub.DOUBLE, slowpkg is real)
        """,
    )
    assert "placeholder _Placeholder True" in out
    assert "ran before lookup False" in out
    assert "value 42" in out
    assert "real module True" in out
    assert "again 42 84 True" in out
    assert out.endswith("runs=x")  # the package's __init__ ran exactly once


def test_submodule_import_before_any_lookup_runs_the_package_first(tmp_path):
    out = run_case(
        tmp_path,
        """
        defer_imports(["slowpkg"])
        import binder
        from slowpkg.sub import DOUBLE
        print("double", DOUBLE, type(sys.modules["slowpkg"]).__name__)
        """,
    )
    assert "double 84 module" in out
    assert out.endswith("runs=x")


def test_threads_racing_for_the_first_lookup_run_the_package_once(tmp_path):
    out = run_case(
        tmp_path,
        """
        import threading
        defer_imports(["slowpkg"])
        import binder
        values, start = [], threading.Barrier(8)
        def look():
            start.wait()
            values.append(binder.slowpkg.VALUE)
        threads = [threading.Thread(target=look) for _ in range(8)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        print("values", values)
        """,
    )
    assert "values [42, 42, 42, 42, 42, 42, 42, 42]" in out
    assert out.endswith("runs=x")


def test_a_missing_module_fails_to_import_as_without_deferral(tmp_path):
    out = run_case(
        tmp_path,
        """
        defer_imports(["no_such_module_here"])
        try:
            import no_such_module_here
        except ModuleNotFoundError as error:
            print("missing", error.name)
        """,
    )
    assert "missing no_such_module_here" in out


def test_beam_import_leaves_bigquery_client_and_ipython_until_used(tmp_path):
    out = run_case(
        tmp_path,
        """
        from pipelinekit.dsl.deferred_imports import defer_optional_clients
        defer_optional_clients()
        import apache_beam
        from apache_beam.io.gcp import bigquery_tools
        print("deferred", type(sys.modules["google.cloud.bigquery"]).__name__, "IPython" in sys.modules)
        client = bigquery_tools.gcp_bigquery.Client
        from google.cloud.bigquery.client import Client
        print("used", client is Client, type(sys.modules["google.cloud.bigquery"]).__name__)
        """,
    )
    assert "deferred _Placeholder False" in out
    assert "used True module" in out
