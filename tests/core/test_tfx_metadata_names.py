"""ML Metadata written with TFX's names: found by raw ``ml_metadata`` queries that a tool written
against a TFX store would make; pipelines whose names share a prefix kept apart; stores written
with the names of earlier versions keep their cache and runs."""

from __future__ import annotations

import sqlite3

import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2
from mlmd_helpers import raw_store
from test_runners import diamond, statuses
from toy_components import Numbers, generate, read_numbers, scale

from pipelinekit import Component, InputSpec, LocalDagRunner, OutputSpec, ParameterSpec, Pipeline
from pipelinekit.dsl.importer import importer
from pipelinekit.dsl.resolver import LatestArtifactStrategy, Resolver
from pipelinekit.errors import CompileError
from pipelinekit.metadata import MetadataStore
from pipelinekit.orchestration import session as session_module


class CountAtLeast(Component):
    """A class-declared component: its executions' type is this class's path."""

    numbers = InputSpec(Numbers)
    count = OutputSpec(Numbers)
    minimum = ParameterSpec(float, default=0.0)
    EXECUTOR = "toy_count_executor:run"


def executions_in(store, context_type: str, context_name: str) -> set[int]:
    """Execution ids in one context, by a raw MLMD filter query on TFX's context names."""
    query = f"contexts_a.type = '{context_type}' AND contexts_a.name = '{context_name}'"
    return {e.id for e in store.get_executions(list_options=metadata_store.ListOptions(filter_query=query))}


def type_of(store, execution_id: int) -> str:
    [execution] = store.get_executions_by_id([execution_id])
    return store.get_execution_types_by_id([execution.type_id])[0].name


def test_a_run_is_found_by_tfx_context_names_and_types(pipeline_root, tmp_path):
    (tmp_path / "numbers").mkdir()
    (tmp_path / "numbers" / "numbers.json").write_text("[1.0, 5.0]")
    g = generate(count=3)
    latest = Resolver(strategy_class=LatestArtifactStrategy, numbers=g.outputs["numbers"]).with_id("latest")
    counted = CountAtLeast(numbers=latest.outputs["numbers"], minimum=1.0)
    imported = importer(str(tmp_path / "numbers"), Numbers).with_id("imported")
    result = LocalDagRunner().run(Pipeline("demo.v2", pipeline_root, [counted, imported]))
    assert result.succeeded, statuses(result)

    store = raw_store(pipeline_root)
    ids = {node_id: r.execution_id for node_id, r in result.nodes.items()}
    for node_id, execution_id in ids.items():
        assert executions_in(store, "node", f"demo.v2.{node_id}") == {execution_id}
    assert executions_in(store, "pipeline_run", result.run_id) == set(ids.values())
    assert executions_in(store, "pipeline", "demo.v2") == set(ids.values())
    [run] = store.get_contexts_by_type("pipeline_run")
    assert run.name == result.run_id and run.custom_properties["status"].string_value == "COMPLETE"
    [pipeline] = store.get_contexts_by_type("pipeline")
    assert [c.id for c in store.get_children_contexts_by_context(pipeline.id)] == [run.id]
    assert {n: type_of(store, i) for n, i in ids.items()} == {
        "generate": "toy_components.generate",
        "latest": "pipelinekit.dsl.resolver.Resolver",
        "CountAtLeast": f"{__name__}.CountAtLeast",
        "imported": "pipelinekit.dsl.importer.Importer",
    }
    [output] = store.get_artifacts_by_id([result.output("CountAtLeast", "count").id])
    assert store.get_artifact_types_by_id([output.type_id])[0].name == "Numbers"


def two_pipelines(root: str, factor: float) -> tuple[Pipeline, Pipeline]:
    """Pipelines ``demo`` and ``demo.v2`` in one store, with the same node ids and different work."""

    def build(name: str, factor: float) -> Pipeline:
        g = generate(count=3)
        return Pipeline(name, root, [scale(numbers=g.outputs["numbers"], factor=factor).with_id("X")])

    return build("demo", 2.0), build("demo.v2", factor)


def test_pipelines_whose_names_share_a_prefix_share_no_cache_and_no_runs(pipeline_root):
    demo, demo_v2 = two_pipelines(pipeline_root, factor=10.0)
    first = LocalDagRunner().run(demo)
    second = LocalDagRunner().run(demo_v2)
    assert statuses(second) == {"generate": "ran", "X": "ran"}, "demo.v2 must not reuse demo's executions"
    assert read_numbers(second.output("X", "scaled")) == [0.0, 10.0, 20.0]
    again = LocalDagRunner().run(demo)
    assert set(statuses(again).values()) == {"cached"}
    assert again.output("X", "scaled").id == first.output("X", "scaled").id

    store = MetadataStore(demo.metadata)
    assert [r.run_id for r in store.runs("demo")] == [again.run_id, first.run_id]
    assert [r.run_id for r in store.runs("demo.v2")] == [second.run_id]
    raw = raw_store(pipeline_root)
    assert executions_in(raw, "node", "demo.X") == {first.nodes["X"].execution_id, again.nodes["X"].execution_id}
    assert executions_in(raw, "node", "demo.v2.X") == {second.nodes["X"].execution_id}


def test_a_node_id_with_a_dot_is_refused_naming_the_node_and_the_fix(pipeline_root):
    g = generate(count=3)
    pipeline = Pipeline("demo", pipeline_root, [scale(numbers=g.outputs["numbers"]).with_id("v2.X")])
    with pytest.raises(CompileError) as error:
        LocalDagRunner().run(pipeline)
    message = str(error.value)
    assert "node id 'v2.X' contains '.'" in message and "'<pipeline>.<node id>'" in message
    assert ".with_id('v2_X')" in message


def test_a_run_id_taken_by_another_pipeline_gets_a_fresh_one(pipeline_root, monkeypatch):
    taken = "20260101-000000-000000"
    LocalDagRunner().run(Pipeline("other", pipeline_root, [generate(count=1)]))
    store = MetadataStore(diamond(pipeline_root).metadata)
    assert store.start_run("other", taken, {"run_id": taken}) is not None
    ids = iter([taken, "20260101-000000-000001"])
    monkeypatch.setattr(session_module, "new_run_id", lambda: next(ids))
    result = LocalDagRunner().run(Pipeline("mine", pipeline_root, [generate(count=1)]))
    assert result.run_id == "20260101-000000-000001"
    fresh = MetadataStore(diamond(pipeline_root).metadata)
    assert [r.run_id for r in fresh.runs("mine")] == [result.run_id]
    assert taken in [r.run_id for r in fresh.runs("other")]


def write_legacy_names(pipeline_root: str, pipeline_name: str) -> None:
    """Turn the store into what earlier pipelinekit versions wrote: node contexts named
    ``<pipeline>/<node>``, run contexts ``<pipeline>/<run id>``, no parent links."""
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = f"{pipeline_root}/metadata.sqlite"
    store = metadata_store.MetadataStore(config)
    renamed = []
    for context in store.get_contexts_by_type("node"):
        context.name = context.name.replace(f"{pipeline_name}.", f"{pipeline_name}/", 1)
        renamed.append(context)
    for context in store.get_contexts_by_type("pipeline_run"):
        context.name = f"{pipeline_name}/{context.name}"
        renamed.append(context)
    store.put_contexts(renamed)
    del store
    with sqlite3.connect(f"{pipeline_root}/metadata.sqlite") as db:  # MLMD has no call that removes a parent link
        db.execute("DELETE FROM ParentContext")


def test_a_store_with_the_names_of_earlier_versions_keeps_its_cache_and_runs(pipeline_root):
    first = LocalDagRunner().run(diamond(pipeline_root))
    write_legacy_names(pipeline_root, "diamond")
    legacy = raw_store(pipeline_root)
    assert sorted(c.name for c in legacy.get_contexts_by_type("node")) == [
        f"diamond/{n}" for n in ("a", "b", "combine", "generate")
    ]
    assert [c.name for c in legacy.get_contexts_by_type("pipeline_run")] == [f"diamond/{first.run_id}"]

    second = LocalDagRunner().run(diamond(pipeline_root))
    assert set(statuses(second).values()) == {"cached"}, {n: r.reason for n, r in second.nodes.items()}
    assert second.output("combine", "total").id == first.output("combine", "total").id

    store = raw_store(pipeline_root)
    assert sorted(c.name for c in store.get_contexts_by_type("node")) == [
        f"diamond.{n}" for n in ("a", "b", "combine", "generate")
    ]
    assert sorted(c.name for c in store.get_contexts_by_type("pipeline_run")) == sorted([first.run_id, second.run_id])
    assert executions_in(store, "pipeline_run", first.run_id) == {r.execution_id for r in first.nodes.values()}
    runs = MetadataStore(diamond(pipeline_root).metadata).runs("diamond")
    assert [(r.run_id, r.properties["status"]) for r in runs] == [(second.run_id, "COMPLETE"), (first.run_id, "COMPLETE")]


def test_migration_leaves_a_legacy_node_whose_id_has_a_dot_and_other_names_alone(pipeline_root):
    LocalDagRunner().run(Pipeline("demo", pipeline_root, [generate(count=1)]))
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = f"{pipeline_root}/metadata.sqlite"
    store = metadata_store.MetadataStore(config)
    node_type = store.get_context_type("node").id
    store.put_contexts(
        [
            metadata_store_pb2.Context(type_id=node_type, name="demo/v2.X"),  # ran before dots were refused
            metadata_store_pb2.Context(type_id=node_type, name="unknown/X"),  # not a pipeline of this store
        ]
    )
    del store
    MetadataStore(diamond(pipeline_root).metadata)
    names = sorted(c.name for c in raw_store(pipeline_root).get_contexts_by_type("node"))
    assert names == ["demo.generate", "demo/v2.X", "unknown/X"]


def _open_and_count_runs(path: str) -> str:
    from pipelinekit.dsl.metadata_config import sqlite_metadata

    try:
        return str(len(MetadataStore(sqlite_metadata(path)).runs("diamond")))
    except Exception as error:  # reported to the test, which names it
        return f"{type(error).__name__}: {error}"


def test_processes_opening_a_legacy_store_together_rename_it_once(pipeline_root):
    import multiprocessing

    LocalDagRunner().run(diamond(pipeline_root))
    LocalDagRunner().run(diamond(pipeline_root))
    write_legacy_names(pipeline_root, "diamond")
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        outcomes = pool.map(_open_and_count_runs, [f"{pipeline_root}/metadata.sqlite"] * 4)
    assert outcomes == ["2"] * 4
    store = raw_store(pipeline_root)
    assert sorted(c.name for c in store.get_contexts_by_type("node")) == [
        f"diamond.{n}" for n in ("a", "b", "combine", "generate")
    ]
    [pipeline] = store.get_contexts_by_type("pipeline")
    assert len(store.get_children_contexts_by_context(pipeline.id)) == 2
