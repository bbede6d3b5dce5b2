"""A small, real pipeline on the Palmer penguins data, built from @component functions.

ingest -> (describe, train) -> evaluate: the two middle nodes run in parallel on the Beam
runner; a second run is fully cached. Run it with ``pipelinekit run examples/demo/pipeline.py``.
"""

from __future__ import annotations

import json
import os

from pipelinekit import (
    Examples,
    ExampleStatistics,
    InputArtifact,
    Model,
    ModelBlessing,
    OutputArtifact,
    Parameter,
    Pipeline,
    component,
)

FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
LABEL = "species"


@component
def ingest(examples: OutputArtifact[Examples], eval_fraction: Parameter[float] = 0.3, seed: Parameter[int] = 7) -> None:
    """Read the penguins CSV shipped with the palmerpenguins package and split it into train and eval."""
    from palmerpenguins import load_penguins

    frame = load_penguins().dropna(subset=FEATURES + [LABEL]).sample(frac=1.0, random_state=seed)
    cut = int(len(frame) * (1 - eval_fraction))
    for split, part in (("train", frame.iloc[:cut]), ("eval", frame.iloc[cut:])):
        os.makedirs(examples.split_uri(split))
        part[FEATURES + [LABEL]].to_csv(os.path.join(examples.split_uri(split), "data.csv"), index=False)
    examples.splits = ["train", "eval"]


@component
def describe(examples: InputArtifact[Examples], statistics: OutputArtifact[ExampleStatistics]) -> None:
    """Per-split row counts, means and missing values of every feature."""
    import pandas as pd

    for split in examples.splits:
        frame = pd.read_csv(os.path.join(examples.split_uri(split), "data.csv"))
        stats = {"rows": len(frame), "mean": frame[FEATURES].mean().to_dict(), "missing": frame.isna().sum().to_dict()}
        os.makedirs(statistics.split_uri(split))
        with open(os.path.join(statistics.split_uri(split), "stats.json"), "w") as handle:
            json.dump(stats, handle, indent=2)
    statistics.splits = examples.splits


@component
def train(examples: InputArtifact[Examples], model: OutputArtifact[Model], c: Parameter[float] = 1.0) -> None:
    """Fit a scaled logistic regression on the train split."""
    import joblib
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = pd.read_csv(os.path.join(examples.split_uri("train"), "data.csv"))
    classifier = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=500))
    classifier.fit(frame[FEATURES], frame[LABEL])
    joblib.dump(classifier, os.path.join(model.uri, "model.joblib"))


@component
def evaluate(
    examples: InputArtifact[Examples],
    model: InputArtifact[Model],
    blessing: OutputArtifact[ModelBlessing],
    min_accuracy: Parameter[float] = 0.9,
) -> None:
    """Bless the model when its accuracy on the eval split reaches ``min_accuracy``."""
    import joblib
    import pandas as pd

    frame = pd.read_csv(os.path.join(examples.split_uri("eval"), "data.csv"))
    classifier = joblib.load(os.path.join(model.uri, "model.joblib"))
    accuracy = float((classifier.predict(frame[FEATURES]) == frame[LABEL]).mean())
    blessing.set_custom_property("accuracy", accuracy)
    blessing.mark(accuracy >= min_accuracy)


examples = ingest()
statistics = describe(examples=examples.outputs["examples"])
model = train(examples=examples.outputs["examples"])
blessing = evaluate(examples=examples.outputs["examples"], model=model.outputs["model"])

pipeline = Pipeline(
    pipeline_name="penguin_demo",
    pipeline_root=os.environ.get("PIPELINE_ROOT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "pipeline_root")),
    components=[statistics, blessing],
)
