"""A cache hit is always correct: the key describes the code that actually runs, everything that
code reaches, parameters by type, and outputs as they are on disk (issue 6, items 1-5)."""

from __future__ import annotations

import copy
import functools
import importlib
import operator
import os
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from toy_components import Numbers, generate, read_numbers, write_numbers

from pipelinekit import (
    Component,
    InputArtifact,
    InputSpec,
    LocalDagRunner,
    OutputArtifact,
    OutputSpec,
    Parameter,
    Pipeline,
    component,
)
from pipelinekit.orchestration.cache import compute_cache_key
from pipelinekit.types import ModuleFile


def _write_module(folder, name: str, source: str) -> str:
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    future = os.path.getmtime(path) + 5  # a new mtime even within the file system's clock tick
    os.utime(path, (future, future))
    return str(path)


@pytest.fixture
def user_package(tmp_path, monkeypatch):
    """A fresh folder on sys.path for user modules; they are forgotten after the test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def _run(root: str, node, name: str = "p"):
    result = LocalDagRunner().run(Pipeline(name, root, [node]))
    result.raise_for_failure()
    return result


# 1. The key describes the loaded code -------------------------------------------------------------


def test_a_function_edited_on_disk_but_not_reloaded_keeps_its_old_key_and_result(user_package, pipeline_root):
    source = """
        from toy_components import Numbers, write_numbers
        from pipelinekit import OutputArtifact, component

        @component
        def emit(out: OutputArtifact[Numbers]) -> None:
            write_numbers(out, [{value}])
    """
    _write_module(user_package, "emitting", source.format(value=1.0))
    module = importlib.import_module("emitting")
    assert read_numbers(_run(pipeline_root, module.emit()).output("emit", "out")) == [1.0]

    _write_module(user_package, "emitting", source.format(value=2.0))
    stale_process = _run(pipeline_root, module.emit())  # the process still holds the old function
    assert stale_process.nodes["emit"].status == "cached"
    assert read_numbers(stale_process.output("emit", "out")) == [1.0]

    fresh_process = _run(pipeline_root, importlib.reload(module).emit())  # as a new process would load it
    assert fresh_process.nodes["emit"].status == "ran"
    assert read_numbers(fresh_process.output("emit", "out")) == [2.0]


def test_an_executor_helper_edited_on_disk_is_reloaded_before_the_node_runs(user_package, pipeline_root):
    package = user_package / "edited_pkg"
    package.mkdir()
    _write_module(package, "__init__", "")
    _write_module(package, "helpers", "FACTOR = 2\n")
    _write_module(
        package,
        "executor",
        """
        from toy_components import read_numbers, write_numbers
        from edited_pkg.helpers import FACTOR

        def run(context, numbers, scaled):
            write_numbers(scaled, [v * FACTOR for v in read_numbers(numbers)])
        """,
    )

    class HelperScaled(Component):
        numbers = InputSpec(Numbers)
        scaled = OutputSpec(Numbers)
        EXECUTOR = "edited_pkg.executor:run"

    def run():
        return _run(pipeline_root, HelperScaled(numbers=generate(count=2).outputs["numbers"]))

    assert read_numbers(run().output("HelperScaled", "scaled")) == [0.0, 2.0]
    importlib.import_module("edited_pkg.executor")  # the process now holds FACTOR = 2
    _write_module(package, "helpers", "FACTOR = 10\n")
    result = run()
    assert result.nodes["HelperScaled"].reason == "code changed (edited_pkg.helpers)"
    assert read_numbers(result.output("HelperScaled", "scaled")) == [0.0, 10.0]


# 2. Everything the code reaches --------------------------------------------------------------------


def test_a_helper_imported_from_another_user_module_is_part_of_the_key(user_package):
    _write_module(user_package, "user_helpers", "def offset(x):\n    return x + 1\n")
    _write_module(
        user_package,
        "user_components",
        """
        from user_helpers import offset
        from toy_components import Numbers, write_numbers
        from pipelinekit import OutputArtifact, component

        @component
        def shifted(out: OutputArtifact[Numbers]) -> None:
            write_numbers(out, [offset(1.0)])
        """,
    )
    before = compute_cache_key(importlib.import_module("user_components").shifted(), {}).digest
    _write_module(user_package, "user_helpers", "def offset(x):\n    return x + 2\n")
    importlib.reload(sys.modules["user_helpers"])
    after = compute_cache_key(importlib.reload(sys.modules["user_components"]).shifted(), {}).digest
    assert before != after


def _component_reading(global_value):
    namespace = {"Numbers": Numbers, "OutputArtifact": OutputArtifact, "write_numbers": write_numbers, "FEATURES": global_value}
    exec(  # noqa: S102 - builds the same function over a different global, as an edited file would
        "def uses_features(out: OutputArtifact[Numbers]) -> None:\n    write_numbers(out, [float(len(FEATURES))])\n",
        namespace,
    )
    namespace["uses_features"].__module__ = "__main__"
    return component(namespace["uses_features"])


@pytest.mark.parametrize(
    "before, after",
    [
        (["a", "b"], ["a", "c"]),
        ({"lr": 0.1}, {"lr": 0.2}),
        ({"a": [1, 2]}, {"a": [1, 2, 3]}),
        ((1, 2), [1, 2]),
        (operator.itemgetter("a"), operator.itemgetter("b")),  # a configured library object is a value
        (functools.partial(max, 1), functools.partial(max, 2)),
    ],
)
def test_module_level_containers_are_part_of_the_key(before, after):
    first = compute_cache_key(_component_reading(before)(), {}).digest
    assert compute_cache_key(_component_reading(before)(), {}).digest == first
    assert compute_cache_key(_component_reading(after)(), {}).digest != first


def _factory(scale_by: float):
    @component(name="factory_made")
    def factory_made(out: OutputArtifact[Numbers]) -> None:
        write_numbers(out, [scale_by])

    return factory_made


def test_closure_variables_of_factory_made_components_are_part_of_the_key():
    assert compute_cache_key(_factory(1.0)(), {}).digest == compute_cache_key(_factory(1.0)(), {}).digest
    assert compute_cache_key(_factory(1.0)(), {}).digest != compute_cache_key(_factory(2.0)(), {}).digest


def test_a_library_imported_by_name_is_in_the_versions():
    from numpy import array

    @component
    def uses_array(out: OutputArtifact[Numbers]) -> None:
        write_numbers(out, list(array([1.0])))

    assert "numpy" in compute_cache_key(uses_array(), {}).parts["libraries"]


# 3. Stability -------------------------------------------------------------------------------------


@component
def plain(out: OutputArtifact[Numbers], factor: Parameter[float] = 1.0) -> None:
    write_numbers(out, [factor])


def test_an_import_made_after_the_first_run_does_not_change_the_key():
    before = compute_cache_key(plain(), {})
    plain.fn.__globals__["_late_import_for_test"] = importlib.import_module("ml_metadata")
    try:
        assert compute_cache_key(plain(), {}) == before
    finally:
        del plain.fn.__globals__["_late_import_for_test"]


# 4. Parameters by type ----------------------------------------------------------------------------


@component
def configured(out: OutputArtifact[Numbers], config: Parameter[dict] = {}, items: Parameter[list] = []) -> None:
    write_numbers(out, [float(len(config) + len(items))])


@pytest.mark.parametrize(
    "first, second",
    [
        ({"config": {1: "x"}}, {"config": {"1": "x"}}),
        ({"items": [(1, 2)]}, {"items": [[1, 2]]}),
        ({"items": [1]}, {"items": [1.0]}),
        ({"items": [True]}, {"items": [1]}),
    ],
)
def test_parameters_that_differ_in_type_have_different_keys(first, second):
    assert compute_cache_key(configured(**first), {}).digest != compute_cache_key(configured(**second), {}).digest


def test_a_dict_with_mixed_key_types_runs_and_caches(pipeline_root):
    assert _run(pipeline_root, configured(config={1: "a", "b": 2, None: 3})).nodes["configured"].status == "ran"
    assert _run(pipeline_root, configured(config={"b": 2, None: 3, 1: "a"})).nodes["configured"].status == "cached"


def test_an_int_given_to_a_float_parameter_arrives_as_float_with_the_same_key(pipeline_root):
    seen = []

    @component
    def records_type(out: OutputArtifact[Numbers], factor: Parameter[float] = 1.0) -> None:
        seen.append(type(factor))
        write_numbers(out, [factor])

    assert compute_cache_key(records_type(factor=2), {}) == compute_cache_key(records_type(factor=2.0), {})
    _run(pipeline_root, records_type(factor=2))
    assert seen == [float]


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4)
json_like = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3)
    | st.tuples(inner, inner)
    | st.dictionaries(st.integers() | st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
)


def _typed(value):
    """A form that differs whenever two values differ in content or in any type inside them."""
    if isinstance(value, dict):
        return ("dict", sorted((repr(_typed(k)), _typed(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_typed(v) for v in value])
    return (type(value).__name__, value.hex() if isinstance(value, float) else repr(value))


@settings(max_examples=80, deadline=None)
@given(json_like, json_like)
def test_a_global_value_keys_by_content_and_type(a, b):
    key_a = compute_cache_key(_component_reading(a)(), {}).digest
    assert compute_cache_key(_component_reading(copy.deepcopy(a))(), {}).digest == key_a
    key_b = compute_cache_key(_component_reading(b)(), {}).digest
    assert (key_a == key_b) == (_typed(a) == _typed(b))


# 5. Outputs edited in place -----------------------------------------------------------------------


def test_an_output_edited_in_place_at_the_same_size_is_not_reused(pipeline_root):
    def build():
        g = generate(count=3)
        return Pipeline("edited_output", pipeline_root, [_doubler(numbers=g.outputs["numbers"])])

    first = LocalDagRunner().run(build())
    first.raise_for_failure()
    produced = first.output("generate", "numbers")
    data_file = next(os.path.join(produced.uri, f) for f in os.listdir(produced.uri))
    with open(data_file, "r+b") as handle:  # same size, different content
        content = handle.read()
        handle.seek(0)
        handle.write(content.replace(b"1", b"7", 1))
    second = LocalDagRunner().run(build())
    assert second.nodes["generate"].status == "ran"
    assert "were deleted or changed" in second.nodes["generate"].reason
    assert second.nodes["doubler"].status == "cached"  # regenerated data is identical, so its key is too
    assert read_numbers(second.output("doubler", "doubled")) == [0.0, 2.0, 4.0]


@component(name="doubler")
def _doubler(numbers: InputArtifact[Numbers], doubled: OutputArtifact[Numbers]) -> None:
    write_numbers(doubled, [2 * v for v in read_numbers(numbers)])


def test_a_library_imported_in_the_body_keys_the_same_before_and_after_it_is_loaded(user_package, monkeypatch):
    _write_module(
        user_package,
        "late_importer",
        """
        from toy_components import Numbers, write_numbers
        from pipelinekit import OutputArtifact, component

        @component
        def imports_late(out: OutputArtifact[Numbers]) -> None:
            import six
            write_numbers(out, [float(six.PY3)])
        """,
    )
    node = importlib.import_module("late_importer").imports_late
    monkeypatch.delitem(sys.modules, "six", raising=False)
    before = compute_cache_key(node(), {})
    importlib.import_module("six")  # an upstream node imported it in this process
    after = compute_cache_key(node(), {})
    assert before == after and "six" in after.parts["libraries"]


def test_a_parse_disturbed_by_another_thread_is_retried(monkeypatch):
    """CPython 3.11.7's ast.parse fails with SystemError when two threads parse at once (seen when
    Beam computed a key while TensorFlow's autograph parsed a function)."""
    from pipelinekit.orchestration import fingerprint

    real_parse, calls = fingerprint.ast.parse, []

    def disturbed(source, *args, **kwargs):
        calls.append(source)
        if len(calls) == 1:
            raise SystemError("AST constructor recursion depth mismatch (before=66, after=58)")
        return real_parse(source, *args, **kwargs)

    monkeypatch.setattr(fingerprint.ast, "parse", disturbed)
    source = b"import os\nfrom . import sibling\n# unique: disturbed parse\n"
    assert fingerprint.imported_names(source, "pkg.mod", "/x/pkg/mod.py") == ["os", "pkg", "pkg.sibling"]
    assert len(calls) == 2


def test_an_executor_key_imports_nothing_so_threads_importing_the_package_cannot_disturb_it(user_package):
    """Keys were computed with find_spec on dotted names, which imports the parent packages and
    can answer None while another thread is importing them: two CsvExampleGen nodes starting
    together failed with "executor code changed on disk"."""
    from pipelinekit.orchestration.fingerprint import code_fingerprint

    package = user_package / "never_imported_pkg"
    (package / "sub").mkdir(parents=True)
    _write_module(package, "__init__", "raise RuntimeError('importing the package is not allowed here')\n")
    _write_module(package / "sub", "__init__", "")
    _write_module(package / "sub", "helpers", "VALUE = 1\n")
    _write_module(package / "sub", "executor", "from never_imported_pkg.sub.helpers import VALUE\n\ndef run(context):\n    pass\n")
    modules = code_fingerprint("never_imported_pkg.sub.executor:run")
    assert sorted(modules) == ["never_imported_pkg.sub.executor", "never_imported_pkg.sub.helpers"]
    assert "never_imported_pkg" not in sys.modules


def test_a_module_file_keys_on_the_siblings_it_imports_and_no_others(tmp_path):
    @component
    def transforms(out: OutputArtifact[Numbers], module_file: Parameter[ModuleFile] = "") -> None:
        write_numbers(out, [1.0])

    _write_module(tmp_path, "module", "import utils_base as base\nfrom helpers.deep import VALUE\n")
    _write_module(tmp_path, "utils_base", "SCALE = 1\n")
    (tmp_path / "helpers").mkdir()
    _write_module(tmp_path / "helpers", "__init__", "")
    _write_module(tmp_path / "helpers", "deep", "VALUE = 1\n")
    _write_module(tmp_path, "pipeline", "STEPS = 100\n")

    def key() -> str:
        return compute_cache_key(transforms(module_file=str(tmp_path / "module.py")), {}).digest

    first = key()
    _write_module(tmp_path, "pipeline", "STEPS = 200\n")  # the pipeline file beside it: not used by the module
    assert key() == first
    _write_module(tmp_path, "utils_base", "SCALE = 2\n")
    second = key()
    assert second != first
    _write_module(tmp_path / "helpers", "deep", "VALUE = 2\n")
    assert key() != second


# Code reached in every way a component can reach it: an edit must change the key ----------------

_HELPERS = """
import functools

def helper(x):
    return x + {helper}

@functools.lru_cache(maxsize=None)
def table(x):
    return x + {table}

@functools.cache
def memo(x):
    return x + {memo}

def _traced(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return fn(*args)
    return wrapper

@_traced
def decorated(x):
    return x + {decorated}

class Scaler:
    def __init__(self, k):
        self.k = k

    def apply(self, x):
        return x * self.k * {method}
"""

_USES = {
    "helper": ("from edit_helpers import helper", "helper(1)"),
    "submodule": ("import edit_pkg.sub", "edit_pkg.sub.f(1)"),
    "imported into a module": ("import edit_reexport", "edit_reexport.helper(1)"),
    "dict of functions": ("from edit_helpers import helper\nHANDLERS = {'a': helper}", "HANDLERS['a'](1)"),
    "list of functions": ("from edit_helpers import helper\nHANDLERS = [helper]", "HANDLERS[0](1)"),
    "set of functions": ("from edit_helpers import helper\nHANDLERS = {helper}", "next(iter(HANDLERS))(1)"),
    "lru_cache": ("from edit_helpers import table", "table(1)"),
    "functools.cache": ("from edit_helpers import memo", "memo(1)"),
    "wrapping decorator": ("from edit_helpers import decorated", "decorated(1)"),
    "partial": ("import functools\nfrom edit_helpers import helper\nSTEP = functools.partial(helper, 2)", "STEP()"),
    "instance method": ("from edit_helpers import Scaler\nSCALER = Scaler(3)", "SCALER.apply(1)"),
    "instances in a list": ("from edit_helpers import Scaler\nSCALERS = [Scaler(3)]", "SCALERS[0].apply(1)"),
    "function held by an instance": ("from edit_helpers import Scaler, helper\nHOLDER = Scaler(helper)", "HOLDER.k(1)"),
    "bound method": ("from edit_helpers import Scaler\nAPPLY = Scaler(3).apply", "APPLY(1)"),
    "import in the body": ("", "from edit_helpers import helper\n    helper(1)"),
    "module imported in the body": ("", "import edit_deep\n    edit_deep.g(1)"),
}
_EDITABLE = ("helper", "table", "memo", "decorated", "method", "sub")


def _fresh_key(kind: str, values: dict[str, int]) -> str:
    """The key of a component using code of ``kind`` whose constants are ``values``, computed as a
    fresh process would: every user module written anew and imported for the first time."""
    import tempfile

    folder = tempfile.mkdtemp(prefix="edit_")
    imports, call = _USES[kind]
    files = {
        "edit_helpers.py": _HELPERS.format(**values),
        "edit_pkg/__init__.py": "",
        "edit_pkg/sub.py": f"def f(x):\n    return x + {values['sub']}\n",
        "edit_deep.py": "from edit_pkg.sub import f\n\ndef g(x):\n    return f(x)\n",
        "edit_reexport.py": "from edit_helpers import helper\n",
        "edit_components.py": (
            f"{imports}\nfrom toy_components import Numbers, write_numbers\nfrom pipelinekit import OutputArtifact, component\n\n"
            f"@component\ndef uses(out: OutputArtifact[Numbers]) -> None:\n    {call}\n    write_numbers(out, [1.0])\n"
        ),
    }
    for name, source in files.items():
        os.makedirs(os.path.dirname(os.path.join(folder, name)), exist_ok=True)
        with open(os.path.join(folder, name), "w") as handle:
            handle.write(source)
    ours = ("edit_helpers", "edit_pkg", "edit_deep", "edit_reexport", "edit_components")
    sys.path.insert(0, folder)
    try:
        importlib.invalidate_caches()
        return compute_cache_key(importlib.import_module("edit_components").uses(), {}).digest
    finally:
        sys.path.remove(folder)
        for name in [n for n in sys.modules if n.split(".")[0] in ours]:
            del sys.modules[name]


_REACHED = {
    "helper": "helper", "dict of functions": "helper", "list of functions": "helper", "set of functions": "helper",
    "partial": "helper", "import in the body": "helper", "lru_cache": "table", "functools.cache": "memo",
    "wrapping decorator": "decorated", "instance method": "method", "bound method": "method", "instances in a list": "method",
    "function held by an instance": "helper",
    "submodule": "sub", "module imported in the body": "sub", "imported into a module": "helper",
}  # fmt: skip
"""Which constant of the user code each way of reaching code depends on."""


@pytest.mark.parametrize("kind", sorted(_USES))
@settings(max_examples=4, deadline=None)
@given(values=st.fixed_dictionaries({name: st.integers(0, 3) for name in _EDITABLE}), new_value=st.integers(4, 9))
def test_editing_any_code_a_component_reaches_changes_its_key(kind, values, new_value):
    """Helpers, submodules, containers of functions, cached and decorated helpers, partials,
    methods of global instances, modules imported in the body: edit the code used, the key moves."""
    before = _fresh_key(kind, values)
    assert _fresh_key(kind, values) == before
    edited = _REACHED[kind]
    assert _fresh_key(kind, {**values, edited: new_value}) != before, f"{kind}: editing {edited} kept the key"


def test_an_executor_helper_from_another_user_package_is_in_the_key_and_reloaded(user_package, pipeline_root):
    for name in ("exec_pkg", "shared_helpers"):
        (user_package / name).mkdir()
        _write_module(user_package / name, "__init__", "")
    _write_module(user_package / "shared_helpers", "values", "FACTOR = 2\n")
    _write_module(
        user_package / "exec_pkg",
        "executor",
        """
        import numpy
        from toy_components import read_numbers, write_numbers
        from shared_helpers.values import FACTOR

        def run(context, numbers, scaled):
            write_numbers(scaled, [float(numpy.float64(v * FACTOR)) for v in read_numbers(numbers)])
        """,
    )

    class OtherScaled(Component):
        numbers = InputSpec(Numbers)
        scaled = OutputSpec(Numbers)
        EXECUTOR = "exec_pkg.executor:run"

    def run():
        return _run(pipeline_root, OtherScaled(numbers=generate(count=2).outputs["numbers"]))

    first = run()
    assert read_numbers(first.output("OtherScaled", "scaled")) == [0.0, 2.0]
    key = compute_cache_key(OtherScaled(), {"numbers": None})
    assert "shared_helpers.values" in key.parts["code_modules"] and "numpy" in key.parts["libraries"]
    assert "toy_components" in key.parts["code_modules"]  # a user module outside the package, too
    _write_module(user_package / "shared_helpers", "values", "FACTOR = 10\n")
    result = run()
    assert result.nodes["OtherScaled"].reason == "code changed (shared_helpers.values)"
    assert read_numbers(result.output("OtherScaled", "scaled")) == [0.0, 10.0]


def test_a_built_in_component_key_imports_no_library_and_is_stable():
    import subprocess

    script = textwrap.dedent(
        """
        import sys
        from pipelinekit.components import CsvExampleGen
        from pipelinekit.orchestration.cache import compute_cache_key
        node = CsvExampleGen(input_base="/nonexistent")
        before = set(sys.modules)
        first = compute_cache_key(node, {})
        heavy = sorted({m.split(".")[0] for m in set(sys.modules) - before} & {"tensorflow", "apache_beam", "numpy", "tfx_bsl"})
        import apache_beam, numpy  # noqa: F401, E401 - imported by other nodes in a real run
        assert compute_cache_key(node, {}) == first, "the key changed after imports"
        print(heavy, sorted(first.parts["libraries"]))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    heavy, libraries = done.stdout.strip().split("] ")
    assert heavy == "[", f"computing the key imported {heavy}]"
    assert "apache_beam" in libraries or "apache-beam" in libraries, libraries
