"""Positions for drawing a DAG left to right: the standard library's ``graphlib`` gives the layers
(each batch of nodes whose upstream is placed), and each layer is ordered by the mean row of its
upstream nodes (one barycenter sweep), which keeps edges short without full crossing minimisation."""

from __future__ import annotations

import graphlib
from collections.abc import Iterable

__all__ = ["layered_positions"]


def layered_positions(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    """``node -> (layer, row)``, rows centred per layer; a cycle (which a pipeline cannot have)
    falls back to one column."""
    order = {node: index for index, node in enumerate(dict.fromkeys(nodes))}
    upstream: dict[str, set[str]] = {node: set() for node in order}
    for a, b in edges:
        upstream.setdefault(b, set()).add(a)
        upstream.setdefault(a, set())
        order.setdefault(a, len(order))
        order.setdefault(b, len(order))
    sorter = graphlib.TopologicalSorter(upstream)
    try:
        sorter.prepare()
    except graphlib.CycleError:
        return {node: (0.0, float(row)) for node, row in order.items()}
    layers = []
    while sorter.is_active():
        ready = list(sorter.get_ready())
        layers.append(ready)
        sorter.done(*ready)
    tallest = max((len(layer) for layer in layers), default=1)
    rows: dict[str, float] = {}
    positions: dict[str, tuple[float, float]] = {}
    for column, layer in enumerate(layers):

        def barycenter(node: str) -> tuple[float, int]:
            above = [rows[p] for p in upstream[node] if p in rows]
            return (sum(above) / len(above) if above else float("inf"), order[node])

        layer.sort(key=barycenter)
        offset = (tallest - len(layer)) / 2
        for row, node in enumerate(layer):
            rows[node] = row + offset
            positions[node] = (float(column), row + offset)
    return positions
