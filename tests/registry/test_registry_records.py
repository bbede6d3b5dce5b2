"""The registry on recorded pipeline runs: versions, lineage, semantic versions, aliases, history,
rollback and refusals. The stores are written through the metadata layer (registry_records.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
from registry_records import RunSpec

from pipelinekit.errors import RegistryError
from pipelinekit.registry import PRODUCTION, Registry

pytestmark = pytest.mark.slow  # registering a version reads its SavedModel's signatures with TensorFlow


def _three(history):
    return history(
        RunSpec("run-1", 101, span=1, fingerprint="data-1"),
        RunSpec("run-2", 102, span=1, fingerprint="data-1", learning_rate=0.001),
        RunSpec("run-3", 103, span=2, fingerprint="data-2"),
    )


def test_every_push_becomes_a_version_with_its_lineage(history):
    registry, base = _three(history)
    versions = registry.versions("penguin")
    assert [v.number for v in versions] == [101, 102, 103]
    v = registry.version("penguin", 103)
    r = v.record
    assert v.serving_path == os.path.join(base, "103") and v.files_present
    assert r["run_id"] == "run-3" and r["pipeline_name"] == "penguin_pipeline"
    assert r["blessed"] == 1 and r["metrics"]["sparse_categorical_accuracy"] == pytest.approx(0.9)
    assert r["parameters"] == {"learning_rate": 0.01}
    assert r["code"] == "code-of-Trainer" and r["libraries"] == {"tensorflow": "2.16.2"}
    assert r["trainer"]["node"] == "Trainer" and r["required_features"] == ["x"]
    assert r["schema"]["uri"].endswith("run-3/schema") and r["transform_graph"]["uri"].endswith("run-3/graph")
    raw = v.raw_examples
    assert [(e["node"], e["span"], e["fingerprint"], e["splits"]) for e in raw] == [
        ("CsvExampleGen", 2, "data-2", ["train", "eval"])
    ]
    derived = [e for e in r["examples"] if e["role"] == "derived"]
    assert [e["node"] for e in derived] == ["Transform"]  # the Trainer read Transform's output, made from the raw span
    assert r["signature_digest"]  # read from the pushed SavedModel


def test_semantic_versions_follow_what_changed(history):
    registry, _ = history(
        RunSpec("run-1", 101),
        RunSpec("run-2", 102, learning_rate=0.5),  # same data and interface: patch
        RunSpec("run-3", 103, fingerprint="data-2", span=2),  # new data: minor
        RunSpec("run-4", 104, fingerprint="data-2", span=2, required=("x", "y")),  # schema requires more: major
        RunSpec("run-5", 105, fingerprint="data-2", span=2, required=("x", "y"), copy_model=False),  # files gone: no signature
    )
    semvers = {v.number: (v.semver, v.record["semver_reason"].split(":")[0]) for v in registry.versions("penguin")}
    assert semvers == {
        101: ("1.0.0", "first version"),
        102: ("1.0.1", "patch"),
        103: ("1.1.0", "minor"),
        104: ("2.0.0", "major"),
        105: ("3.0.0", "major"),
    }
    assert registry.version("penguin", "1.1.0").number == 103


def test_versions_are_registered_once_even_when_two_registries_sync(history, tmp_path):
    registry, _ = _three(history)
    other = Registry.open(str(tmp_path / "metadata.sqlite"))
    assert len(other.sync()) == 3 and registry.sync() == []
    assert [v.semver for v in registry.versions("penguin")] == ["1.0.0", "1.0.1", "1.1.0"]


def test_a_push_made_after_a_read_is_registered_by_the_next_read(history, tmp_path):
    from registry_records import record_run

    registry, base = _three(history)
    assert len(registry.versions("penguin")) == 3
    record_run(registry.store, str(tmp_path / "runs"), base, RunSpec("run-4", 104, span=2, fingerprint="data-2"))
    assert registry.version("penguin", 104).semver == "1.1.1"
    assert registry.sync() == [] and len(registry.versions("penguin")) == 4


def test_aliases_move_with_an_append_only_history_and_answer_for_any_moment(history):
    registry, _ = _three(history)
    first = registry.move_alias("penguin", PRODUCTION, 101, "first release")
    between = time.time()
    time.sleep(0.01)
    registry.move_alias("penguin", "staging", "1.1.0", "try the new data")
    registry.move_alias("penguin", PRODUCTION, "staging", "staging looks good")
    assert registry.version("penguin", PRODUCTION).number == 103
    moves = registry.history("penguin")
    assert [(m.alias, m.from_version, m.version) for m in moves] == [
        (PRODUCTION, None, 101),
        ("staging", None, 103),
        (PRODUCTION, 101, 103),
    ]
    assert all(m.who and m.reason and m.at for m in moves) and moves[0].id == first.id
    then = registry.aliases_at("penguin", between)
    assert {a: m.version for a, m in then.items()} == {PRODUCTION: 101}
    assert registry.history("penguin", alias="staging")[0].reason == "try the new data"


def test_rollback_moves_production_back_to_the_version_before(history):
    registry, _ = _three(history)
    registry.move_alias("penguin", PRODUCTION, 101, "first")
    registry.move_alias("penguin", PRODUCTION, 103, "new data")
    move, version = registry.rollback("penguin")
    assert version.number == 101 and move.from_version == 103 and move.command == "rollback"
    assert registry.version("penguin", PRODUCTION).number == 101
    move, version = registry.rollback("penguin", to="1.0.1", reason="101 has a bug too")
    assert version.number == 102 and move.reason == "101 has a bug too"


@pytest.mark.parametrize(
    "action, message",
    [
        (lambda r: r.versions("pengiun"), "unknown model 'pengiun'"),
        (lambda r: r.version("penguin", 999), "has no version '999'"),
        (lambda r: r.version("penguin", "9.9.9"), "has no version '9.9.9'"),
        (lambda r: r.version("penguin", "canary"), "has no alias 'canary'"),
        (lambda r: r.move_alias("penguin", PRODUCTION, 999, "x"), "has no version '999'"),
        (lambda r: r.move_alias("nope", PRODUCTION, 101, "x"), "unknown model 'nope'"),
        (lambda r: r.move_alias("penguin", "1.2.3", 101, "x"), "alias '1.2.3' is not a valid name"),
        (lambda r: r.move_alias("penguin", PRODUCTION, 101, " "), "needs a reason"),
        (lambda r: r.rollback("penguin"), "has no 'production' alias"),
        (lambda r: r.resolve("pen'guin@1"), "is not a valid name"),
    ],
)
def test_bad_requests_name_what_is_wrong_and_change_nothing(history, action, message):
    registry, _ = _three(history)
    with pytest.raises(RegistryError, match=message):
        action(registry)
    assert registry.aliases("penguin") == {}


def test_a_version_whose_files_are_gone_cannot_be_made_production(history):
    registry, base = _three(history)
    registry.move_alias("penguin", PRODUCTION, 101, "first")
    shutil.rmtree(os.path.join(base, "103"))
    with pytest.raises(RegistryError, match=r"penguin@103 \(1.1.0\) cannot be made 'production': its files are gone"):
        registry.move_alias("penguin", PRODUCTION, 103, "new data")
    assert registry.version("penguin", PRODUCTION).number == 101 and len(registry.history("penguin")) == 1


def test_rollback_with_only_one_production_version_says_so(history):
    registry, _ = _three(history)
    registry.move_alias("penguin", PRODUCTION, 101, "first")
    with pytest.raises(RegistryError, match="named only version 101; there is nothing to roll back to"):
        registry.rollback("penguin")


_MOVER = """
import sys
from pipelinekit.registry import Registry
registry = Registry.open(sys.argv[1])
for index in range(int(sys.argv[3])):
    registry.move_alias("penguin", "production", int(sys.argv[2]), f"process {sys.argv[2]} move {index}")
"""


def test_two_processes_moving_an_alias_at_once_lose_no_move_and_the_last_wins(history, tmp_path):
    registry, _ = _three(history)
    registry.sync()
    moves_each = 15
    path = str(tmp_path / "metadata.sqlite")
    processes = [
        subprocess.Popen([sys.executable, "-c", _MOVER, path, str(version), str(moves_each)], stderr=subprocess.PIPE, text=True)
        for version in (101, 103)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    moves = Registry.open(path).history("penguin")
    assert len(moves) == 2 * moves_each
    assert {m.reason for m in moves} == {f"process {v} move {i}" for v in (101, 103) for i in range(moves_each)}
    assert Registry.open(path).version("penguin", PRODUCTION).number == max(moves, key=lambda m: m.id).version
