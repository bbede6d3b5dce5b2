"""``pipelinekit models ...`` and ``pipelinekit runs compare`` on recorded runs: output, exit codes,
and that a refused command changes nothing."""

from __future__ import annotations

import os

import pytest
from registry_records import RunSpec

from pipelinekit.cli import main

pytestmark = pytest.mark.slow  # registering a version reads its SavedModel's signatures with TensorFlow


@pytest.fixture
def store(history, tmp_path):
    registry, base = history(
        RunSpec("run-1", 101, span=1, fingerprint="data-1", accuracy=0.91),
        RunSpec("run-2", 102, span=2, fingerprint="data-2", accuracy=0.95, learning_rate=0.001),
    )
    registry.sync()  # register the pushes now: a refused command must then leave the file as it was
    return str(tmp_path / "metadata.sqlite")


def _run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_show_alias_history_rollback(store, capsys):
    code, out, _ = _run(capsys, "models", "list", "--metadata", store)
    assert code == 0 and "penguin" in out and "penguin@102 (1.1.0)" in out
    assert (
        _run(capsys, "models", "alias", "penguin", "production", "101", "--reason", "first release", "--metadata", store)[0] == 0
    )
    code, out, _ = _run(capsys, "models", "alias", "penguin", "production", "1.1.0", "--reason", "span 2", "--metadata", store)
    assert code == 0 and "penguin@production: version 101 -> version 102 (1.1.0)" in out
    code, out, _ = _run(capsys, "models", "list", "penguin", "--metadata", store)
    assert code == 0 and "production" in out and "minor: the training data changed" in out
    code, out, _ = _run(capsys, "models", "show", "penguin@production", "--metadata", store)
    assert code == 0 and "penguin@102 (1.1.0)  aliases: production" in out
    assert "sparse_categorical_accuracy=0.95" in out and "learning_rate=0.001" in out and "span 2" in out and "data-2" in out
    code, out, _ = _run(capsys, "models", "history", "penguin", "--metadata", store)
    assert code == 0 and out.count("penguin@production") == 2 and "first release" in out
    code, out, _ = _run(capsys, "models", "rollback", "penguin", "--metadata", store)
    assert code == 0 and "version 102 -> version 101" in out
    assert "raw     Examples" in out and "span 1, splits train/eval, fingerprint data-1" in out
    assert "pipelinekit run '<the pipeline file of penguin_pipeline>' --pin-span CsvExampleGen=1" in out
    code, out, _ = _run(capsys, "models", "history", "penguin", "--at", "2000-01-01T00:00:00Z", "--metadata", store)
    assert code == 0 and "no alias was set yet" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["models", "show", "pengiun"], "unknown model 'pengiun'"),
        (["models", "show", "penguin@7"], "has no version '7'"),
        (["models", "show", "penguin@canary"], "has no alias 'canary'"),
        (["models", "alias", "penguin", "production", "103", "--reason", "x"], "has no version '103'"),
        (["models", "alias", "nope", "production", "101", "--reason", "x"], "unknown model 'nope'"),
        (["models", "rollback", "penguin"], "has no 'production' alias"),
        (["models", "rollback", "penguin", "--to", "9.9.9"], "has no version '9.9.9'"),
        (["models", "history", "penguin", "--at", "yesterday"], "--at 'yesterday' is not a time"),
        (["runs", "compare", "run-1", "run-9"], "has no run 'run-9'"),
    ],
)
def test_unknown_names_exit_2_naming_them_and_change_nothing(store, capsys, argv, message):
    before = os.path.getmtime(store), os.path.getsize(store)
    code, _, err = _run(capsys, *argv, "--metadata", store)
    assert code == 2 and message in err
    assert _run(capsys, "models", "history", "penguin", "--metadata", store)[1] == ""
    assert (os.path.getmtime(store), os.path.getsize(store)) == before


def test_a_store_that_does_not_exist_exits_2(tmp_path, capsys):
    code, _, err = _run(capsys, "models", "list", "--metadata", str(tmp_path / "none.sqlite"))
    assert code == 2 and "none.sqlite does not exist" in err


def test_runs_compare_puts_parameters_metrics_data_and_statistics_side_by_side(store, capsys):
    code, out, _ = _run(capsys, "runs", "compare", "run-1", "run-2", "--metadata", store, "--only-differences")
    assert code == 0
    rows = {line.split("│")[2].strip(): line for line in out.splitlines() if line.count("│") >= 4}
    assert "0.01" in rows["parameters: Trainer.learning_rate"] and "0.001" in rows["parameters: Trainer.learning_rate"]
    assert "0.91" in rows["metrics: Evaluator.evaluation sparse_categorical_accuracy"]
    assert "data-1" in rows["data: CsvExampleGen.examples fingerprint"]
    assert "101" in rows["statistics: StatisticsGen.statistics train examples"]
    assert "parameters: CsvExampleGen.input_base" not in rows  # the same in both runs
