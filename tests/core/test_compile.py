"""Compiling: every wiring mistake is found before anything runs, all reported together."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from toy_components import Numbers, combine, generate, scale

from pipelinekit import InputArtifact, OutputArtifact, Parameter, Pipeline, Schema, compile_pipeline, component
from pipelinekit.errors import CompileError
from pipelinekit.types import ModuleFile


@component
def needs_schema(schema: InputArtifact[Schema], out: OutputArtifact[Numbers]) -> None: ...


@component
def takes_params(
    numbers: InputArtifact[Numbers], ratio: Parameter[float], tags: Parameter[list[str]] = [], flag: Parameter[bool] = False
) -> None: ...


@component
def uses_module(module_file: Parameter[ModuleFile]) -> None: ...


def problems_of(pipeline: Pipeline) -> list[str]:
    with pytest.raises(CompileError) as caught:
        compile_pipeline(pipeline)
    return caught.value.problems


def test_a_valid_diamond_compiles_into_layers_and_finds_upstream_nodes(pipeline_root):
    g = generate(count=3)
    a = scale(numbers=g.outputs["numbers"]).with_id("a")
    b = scale(numbers=g.outputs["numbers"]).with_id("b")
    c = combine(left=a.outputs["scaled"], right=b.outputs["scaled"])
    plan = compile_pipeline(Pipeline("diamond", pipeline_root, [c]))  # upstream nodes are not listed
    assert plan.layers == (("generate",), ("a", "b"), ("combine",))
    assert plan.upstream["combine"] == ("a", "b")
    assert plan.wiring["combine"]["left"].producer == "a"
    assert plan.downstream_of("a") == {"combine"}


def test_duplicate_ids_are_named_with_a_fix(pipeline_root):
    g = generate()
    problems = problems_of(
        Pipeline("p", pipeline_root, [scale(numbers=g.outputs["numbers"]), scale(numbers=g.outputs["numbers"])])
    )
    assert any("node id 'scale' is used by two nodes" in p and ".with_id(" in p for p in problems)


def test_missing_required_input_names_node_argument_and_type(pipeline_root):
    problems = problems_of(Pipeline("p", pipeline_root, [scale()]))
    assert problems == ["node 'scale': required input 'numbers' (Numbers) is not wired"]


def test_type_mismatch_names_both_types_and_the_channel(pipeline_root):
    g = generate()
    problems = problems_of(Pipeline("p", pipeline_root, [needs_schema(schema=g.outputs["numbers"])]))
    assert len(problems) == 1
    assert (
        "node 'needs_schema', input 'schema': expects Schema, got Numbers from Channel(generate.outputs['numbers']" in problems[0]
    )


def test_passing_a_node_instead_of_a_channel_suggests_the_output(pipeline_root):
    g = generate()
    problems = problems_of(Pipeline("p", pipeline_root, [scale(numbers=g)]))
    assert "got node 'generate'; pass one of its outputs, e.g. generate.outputs['numbers']" in problems[0]


def test_unknown_and_misplaced_arguments_get_suggestions(pipeline_root):
    g = generate()
    node = scale(numbers=g.outputs["numbers"], facter=3.0, scaled="x")
    problems = problems_of(Pipeline("p", pipeline_root, [node]))
    assert any("unknown argument 'facter' (did you mean 'factor'?)" in p and "parameters: factor, delay" in p for p in problems)
    assert any("'scaled' is an output" in p for p in problems)


def test_ill_typed_and_missing_parameters(pipeline_root):
    g = generate(count="5")
    node = takes_params(numbers=g.outputs["numbers"], tags=["a", 3], flag=1)
    problems = problems_of(Pipeline("p", pipeline_root, [node]))
    assert "node 'generate', parameter 'count': expected int, got str '5'" in problems
    assert "node 'takes_params': required parameter 'ratio' (float) is not set" in problems
    assert "node 'takes_params', parameter 'tags': item 1: expected str, got int 3" in problems
    assert "node 'takes_params', parameter 'flag': expected bool, got int 1" in problems


def test_cycles_are_reported_with_the_loop(pipeline_root):
    g = generate()
    a = scale(numbers=g.outputs["numbers"]).with_id("a")
    b = scale(numbers=a.outputs["scaled"]).with_id("b")
    a.add_upstream(b)
    problems = problems_of(Pipeline("p", pipeline_root, [b]))
    assert any(p.startswith("cycle between nodes:") and "a -> b -> a" in p or "b -> a -> b" in p for p in problems)


def test_all_problems_come_together_with_a_count(pipeline_root):
    with pytest.raises(CompileError, match=r"pipeline 'bad name!' has 3 problems:\n  - pipeline name"):
        compile_pipeline(Pipeline("bad name!", pipeline_root, [scale(), generate(count=1.5)]))


def test_a_module_file_that_does_not_exist_is_named(pipeline_root, tmp_path):
    problems = problems_of(Pipeline("p", pipeline_root, [uses_module(module_file=str(tmp_path / "missing_utils.py"))]))
    assert problems == [
        f"node 'uses_module', parameter 'module_file': module file {tmp_path / 'missing_utils.py'} does not exist"
    ]


def only_output(node):
    return next(iter(node.outputs.values()))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0)), min_size=1, max_size=12))
def test_layers_of_random_dags_respect_every_dependency(edges_seed):
    """Random DAGs of toy nodes: every node sits exactly one layer below its deepest upstream."""
    nodes = [generate().with_id("n0")]
    for index, (left, right) in enumerate(edges_seed, start=1):
        a, b = nodes[left % len(nodes)], nodes[right % len(nodes)]
        node = combine(left=only_output(a), right=only_output(b)) if left % 2 else scale(numbers=only_output(a))
        nodes.append(node.with_id(f"n{index}"))
    plan = compile_pipeline(Pipeline("random", "/tmp/unused", [nodes[-1]]))
    depth = {node_id: index for index, layer in enumerate(plan.layers) for node_id in layer}
    for node_id, upstream in plan.upstream.items():
        assert depth[node_id] == 1 + max((depth[u] for u in upstream), default=-1)
    assert sorted(plan.order) == sorted(plan.nodes)
