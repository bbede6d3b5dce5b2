"""``include_split_pairs``: which (current, baseline) splits a two-input component compares.

Stored as TFX stores it, the JSON of a list of pairs (``'[["eval", "train"]]'``); each pair's
output folder is ``SplitPair-<current>_<baseline>``, as TFX names it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any, Literal

from pipelinekit.components.util.errors import ComponentArgumentError, InputDataError

__all__ = ["split_pairs_argument", "choose_split_pairs", "pair_name", "pair_folder"]


def split_pairs_argument(pairs: Sequence[Sequence[str]] | None, component: str) -> str | None:
    """The JSON TFX stores for ``include_split_pairs``; an error naming the entry that is not a
    pair of split names."""
    if pairs is None:
        return None
    checked = []
    for index, pair in enumerate(pairs):
        if isinstance(pair, str) or len(pair) != 2 or not all(isinstance(name, str) and name for name in pair):
            raise ComponentArgumentError(
                f"{component}(include_split_pairs=...): entry {index} is {pair!r}; each entry is a pair of split names "
                "(current split, baseline split), e.g. [('train', 'train'), ('eval', 'train')]"
            )
        checked.append(list(pair))
    return json.dumps(checked)


def choose_split_pairs(
    current: Any, baseline: Any, include_json: str | None, component: str, default: Literal["same", "all"]
) -> list[tuple[str, str]]:
    """The (current, baseline) split pairs to compare, in the order of the artifacts' splits.

    Without ``include_split_pairs`` they are the pairs of same-named splits (``default="same"``,
    DistributionValidator) or every pair (``"all"``, ExampleDiff), as in TFX. A listed pair
    whose split either artifact lacks is an error naming it and the splits there are.
    """
    include = {(test, base) for test, base in json.loads(include_json)} if include_json else set()

    def wanted(test: str, base: str) -> bool:
        if include:
            return (test, base) in include
        return default == "all" or test == base

    pairs = [(test, base) for test in current.splits for base in baseline.splits if wanted(test, base)]
    missing = sorted(include - set(pairs))
    if missing:
        raise InputDataError(
            f"{component}: include_split_pairs names {', '.join(f'({t!r}, {b!r})' for t, b in missing)}, but the current "
            f"artifact at {current.uri} has splits {current.splits} and the baseline at {baseline.uri} has {baseline.splits}; "
            "name splits both artifacts have"
        )
    if not pairs:
        raise InputDataError(
            f"{component}: no split pairs to compare: the current artifact at {current.uri} has splits {current.splits} "
            f"and the baseline at {baseline.uri} has {baseline.splits}, none with the same name; "
            "list the pairs to compare in include_split_pairs"
        )
    return pairs


def pair_name(test: str, base: str) -> str:
    """TFX's name of a split pair, ``<current>_<baseline>``."""
    return f"{test}_{base}"


def pair_folder(uri: str, test: str, base: str) -> str:
    """The output folder of one split pair, ``<uri>/SplitPair-<current>_<baseline>``."""
    return os.path.join(uri, f"SplitPair-{pair_name(test, base)}")
