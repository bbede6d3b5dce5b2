"""Cache keys: what they cover, that they are stable, and how a miss is explained."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st
from toy_components import Numbers

from pipelinekit import InputArtifact, OutputArtifact, Parameter, component
from pipelinekit.orchestration.cache import compute_cache_key, describe_change
from pipelinekit.types import ModuleFile


@component
def configurable(out: OutputArtifact[Numbers], config: Parameter[dict] = {}) -> None: ...


@component
def uses_numpy(numbers: InputArtifact[Numbers], out: OutputArtifact[Numbers], module_file: Parameter[ModuleFile] = "") -> None:
    import numpy

    numpy.zeros(1)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(max_size=4), json_values, max_size=5))
def test_the_key_ignores_dict_order_but_sees_every_value(config):
    forward = compute_cache_key(configurable(config=config), {})
    backward = compute_cache_key(configurable(config=dict(reversed(list(config.items())))), {})
    assert forward.digest == backward.digest
    changed = compute_cache_key(configurable(config={**config, "__extra__": 1}), {})
    assert changed.digest != forward.digest


def test_the_key_covers_libraries_module_files_and_input_fingerprints(tmp_path):
    module = tmp_path / "utils.py"
    module.write_text("X = 1\n")
    numbers = Numbers(str(tmp_path))
    numbers.set_custom_property("fingerprint", "abc")
    node = uses_numpy(numbers=None, module_file=str(module))
    key = compute_cache_key(node, {"numbers": numbers})
    assert "numpy" in key.parts["libraries"] and "python" in key.parts["libraries"]
    assert key.parts["inputs"] == {"numbers": "abc"}

    module.write_text("X = 2\n")
    numbers.set_custom_property("fingerprint", "abd")
    again = compute_cache_key(node, {"numbers": numbers})
    assert describe_change(key.parts, again.parts) == "content of 'module_file' changed, input 'numbers' changed"


def test_a_library_upgrade_is_named_in_the_reason():
    old = {"libraries": {"numpy": "1.26.4"}, "parameters": {}}
    new = {"libraries": {"numpy": "2.0.0"}, "parameters": {}}
    assert describe_change(old, new) == "numpy 1.26.4 -> 2.0.0"


def test_an_executor_module_digest_covers_its_local_imports_only(tmp_path, monkeypatch):
    from pipelinekit.orchestration.fingerprint import code_fingerprint

    (tmp_path / "pk_exec_mod.py").write_text(
        "import json\nfrom pk_helper_mod import double\n\ndef run(context, **kw):\n    return double(1)\n"
    )
    (tmp_path / "pk_helper_mod.py").write_text("def double(x):\n    return 2 * x\n")
    (tmp_path / "pk_unrelated.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = code_fingerprint("pk_exec_mod:run")
    (tmp_path / "pk_unrelated.py").write_text("X = 2\n")
    assert code_fingerprint("pk_exec_mod:run") == before
    (tmp_path / "pk_helper_mod.py").write_text("def double(x):\n    return x + x\n")
    assert code_fingerprint("pk_exec_mod:run") != before


def test_large_data_is_fingerprinted_by_stat_small_data_by_content(tmp_path, monkeypatch):
    from pipelinekit.orchestration import fingerprint

    data = tmp_path / "data.bin"
    data.write_bytes(b"x" * 100)
    small = fingerprint.path_fingerprint(str(data))
    os.utime(data, ns=(1, 1))
    assert fingerprint.path_fingerprint(str(data)) == small  # same bytes, same fingerprint

    monkeypatch.setattr(fingerprint, "CONTENT_HASH_LIMIT_BYTES", 10)
    large = fingerprint.path_fingerprint(str(data))
    assert large.startswith("stat:")
    os.utime(data, ns=(2, 2))
    assert fingerprint.path_fingerprint(str(data)) != large  # touched: treated as changed, never as the same
