"""One monitoring window: read the new request logs, measure each version, join labels, judge the
rules, act, write the feedback span, and checkpoint, in that order.

Everything a window changes in the checkpoint is committed in one transaction at its end; the
ML Metadata records and actions carry the window's key and are not repeated when a killed
monitor redoes the window.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib
import json
import logging
import os
import re
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pipelinekit.dsl.metadata_config import sqlite_metadata
from pipelinekit.metadata.store import MetadataStore
from pipelinekit.monitor.config import Baseline, MonitorConfig, Rule
from pipelinekit.monitor.errors import MonitorConfigError
from pipelinekit.monitor.labels import label_files, read_labels
from pipelinekit.monitor.lineage import MonitorRecorder
from pipelinekit.monitor.logs import LoggedRow, LoggedRows, log_files, read_log_file
from pipelinekit.monitor.metrics import MonitorMetrics
from pipelinekit.monitor.policy import Decision, judge
from pipelinekit.monitor.state import MonitorState, open_state

__all__ = ["WindowReport", "run_window"]

logger = logging.getLogger(__name__)

_READERS = 2  # log files decoded at once
_REPORTED_PROBLEMS = 50  # label problems listed in a report (all are counted and logged)


@dataclasses.dataclass
class WindowReport:
    window: int
    files: int = 0
    skipped_files: dict[str, str] = dataclasses.field(default_factory=dict)
    requests: int = 0
    versions: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    drifted: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    slices: dict[str, dict[str, dict[str, float]]] = dataclasses.field(default_factory=dict)
    labels: dict[str, int] = dataclasses.field(
        default_factory=lambda: {"joined": 0, "duplicates": 0, "unmatched": 0, "bad_lines": 0}
    )
    label_problems: list[str] = dataclasses.field(default_factory=list)
    returns: dict[str, float] = dataclasses.field(default_factory=dict)
    actions: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    span: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def run_window(config: MonitorConfig, max_files: int | None = None) -> WindowReport:
    """Monitor the request logs not yet seen (at most ``max_files`` files) as one window."""
    collecting = gc.isenabled()
    gc.disable()  # a window makes millions of small acyclic objects: the cyclic collector would rescan them again and again
    try:
        with open_state(config.state_dir) as state:
            return _Window(config, state, max_files).run()
    finally:
        if collecting:
            gc.enable()


class _Window:
    def __init__(self, config: MonitorConfig, state: MonitorState, max_files: int | None) -> None:
        self.config = config
        self.state = state
        if not os.path.isdir(os.path.join(config.log_dir, config.model)):
            logger.warning(
                "no request logs of %r under %s yet; is it the server's --request_log_dir?", config.model, config.log_dir
            )
        done = state.done_files("logs")
        new = [f for f in log_files(config.log_dir, config.model) if f not in done][:max_files]
        self.id = state.open_window(new)
        self.key = f"{config.model}:{self.id}:{state.identity()}"
        self.report = WindowReport(self.id)
        self.recorder = MonitorRecorder(config.metadata, config.model)
        self.metrics = MonitorMetrics(config.model)
        self.folder = os.path.join(config.state_dir, "windows", str(self.id))
        self.updates: list[tuple[str, tuple[Any, ...]]] = []  # SQL run in the closing transaction
        self.windows_to_record: list[tuple[str, str, Baseline, str, dict[str, float]]] = []

    def run(self) -> WindowReport:
        rows = self._read_logs()
        for version, indices in sorted(rows.by_version().items()):
            self.report.versions[version] = self._measure(version, rows if len(indices) == len(rows) else rows.take(indices))
        if self.config.labels is not None:
            self._labels(rows.materialize())
        self._record_windows()
        for version, values in self.report.versions.items():
            self.metrics.observe(version, values)
            self._judge(version, values)
        self._close()
        self.metrics.write(self.config.state_dir)
        return self.report

    # logs -----------------------------------------------------------------------------------

    def _read_logs(self) -> LoggedRows:
        """The window's files, read on two threads (their decoding runs in C++, outside the GIL)."""
        files = self.state.window_files(self.id)
        with ThreadPoolExecutor(max_workers=_READERS) as pool:
            batches = list(pool.map(read_log_file, files))
        for path, batch in zip(files, batches):
            if batch.error is not None:
                self.report.skipped_files[path] = batch.error
            self.updates.append(("INSERT OR REPLACE INTO files VALUES (?, 'logs', ?, ?, ?)",
                                 (path, len(batch.rows), "skipped" if batch.error else "done", self.id)))  # fmt: skip
        rows = LoggedRows.concat([batch.rows for batch in batches if len(batch.rows)])
        self.report.files, self.report.requests = len(files), len(rows)
        self.metrics.skipped(len(self.report.skipped_files))
        return rows

    # statistics -----------------------------------------------------------------------------

    def _measure(self, version: str, rows: LoggedRows) -> dict[str, float]:
        from pipelinekit.components.util.tfdv_io import ANOMALIES_FILE, STATS_FILE, load_schema, load_stats, write_stats
        from pipelinekit.monitor.statistics import prediction_statistics, statistics_of_batch
        from pipelinekit.monitor.validation import validate, with_comparators

        values: dict[str, float] = {"requests": float(len(rows))}
        baseline = self._baseline(version)
        if baseline is None:
            return values
        schema = with_comparators(load_schema(baseline.schema), self.config.comparators)
        served = statistics_of_batch(rows.batch, schema)
        predictions = prediction_statistics(rows.predictions)
        previous_path = self.state.last_statistics(version)
        previous = load_stats(previous_path) if previous_path and os.path.isfile(previous_path) else None
        validation = validate(served, load_stats(baseline.statistics), schema, previous)
        values.update(validation.metrics())
        if baseline.predictions:
            values["prediction_drift"] = _prediction_drift(predictions, load_stats(baseline.predictions), self.config.comparators)
        self.report.drifted[version] = sorted(k for k, v in {**validation.drift, **validation.skewed}.items() if v > 1)
        where = os.path.join(self.folder, re.sub(r"[^A-Za-z0-9_.-]", "_", version))
        statistics_path = os.path.join(where, "statistics", "Split-served", STATS_FILE)
        write_stats(served, statistics_path)
        write_stats(predictions, os.path.join(where, "statistics", "Split-predictions", STATS_FILE))
        for split, anomalies in (("served", validation.served), ("skew", validation.skew)):
            write_stats(anomalies, os.path.join(where, "anomalies", f"Split-{split}", ANOMALIES_FILE))
        self.updates.append(("INSERT OR REPLACE INTO versions VALUES (?, ?)", (version, statistics_path)))
        key = f"{self.key}:{version}"
        if not self.recorder.recorded(key):  # recorded once the labels added performance to ``values``
            self.windows_to_record.append((key, version, baseline, where, values))
        return values

    def _baseline(self, version: str) -> Baseline | None:
        """The policy file's baseline of the version, else the one its lineage in ML Metadata gives
        (the registry's store, else the monitor's), else None (warned: the version is only counted)."""
        from pipelinekit.monitor.baselines import lineage_baseline

        given = self.config.baseline(version)
        if given is not None:
            return given
        path = self.config.registry_metadata or self.config.metadata
        if path == self.config.metadata:
            return lineage_baseline(self.recorder.store, path, version, self.config.source)
        if not os.path.isfile(path):
            logger.warning("no baseline for %s: %s gives none and its registry_metadata %s does not exist; only counted",
                           version, self.config.source, path)  # fmt: skip
            return None
        return lineage_baseline(MetadataStore(sqlite_metadata(path)), path, version, self.config.source)

    def _record_windows(self) -> None:
        """Each measured version's window in ML Metadata, with every measure (drift, skew, performance)
        and the baseline artifacts it was compared with."""
        for key, version, baseline, where, values in self.windows_to_record:
            self.recorder.window(key, version, baseline.statistics, baseline.schema, os.path.join(where, "statistics"),
                                 os.path.join(where, "anomalies"),
                                 {"metrics": json.dumps(values, sort_keys=True), "baseline_origin": baseline.origin},
                                 baseline_predictions=baseline.predictions)  # fmt: skip

    # labels, value, performance, feedback ---------------------------------------------------

    def _labels(self, rows: list[LoggedRow]) -> None:
        from pipelinekit.monitor.joining import join_labels

        labels = self.config.labels
        assert labels is not None
        done = self.state.done_files("labels")
        new_files = [f for f in label_files(labels.path) if f not in done]
        read = [read_labels(f, labels.id_key, labels.label_key) for f in new_files]
        for file in read:
            for problem in file.problems:
                logger.warning("labels: %s", problem)
            self.report.labels["bad_lines"] += len(file.problems)
            self.report.label_problems.extend(
                str(p) for p in file.problems[: _REPORTED_PROBLEMS - len(self.report.label_problems)]
            )
            self.updates.append(
                ("INSERT OR REPLACE INTO files VALUES (?, 'labels', ?, 'done', ?)", (file.path, len(file.labels), self.id))
            )
        joined = join_labels(self.state, rows, [label for file in read for label in file.labels], labels.window_s, self.updates)
        self.report.labels.update(joined.counts)
        self._value_and_performance(joined.pairs)
        if self.config.feedback is not None and len(joined.pairs) >= self.config.feedback.min_examples:
            self._feedback(joined.pairs, new_files)

    def _value_and_performance(self, pairs: list[tuple[LoggedRow, Any]]) -> None:
        value = _load_function(self.config.value, "value") if self.config.value else None
        eval_config = None
        if self.config.eval_config:
            from pipelinekit.monitor.performance import load_eval_config

            eval_config = load_eval_config(self.config.eval_config)
        by_version: dict[str, list[tuple[LoggedRow, Any]]] = defaultdict(list)
        for row, label in pairs:
            by_version[row.version].append((row, label))
        returns = self.state.returns()
        for version, version_pairs in by_version.items():
            values = self.report.versions.setdefault(version, {"requests": 0.0})
            values["labeled"] = float(len(version_pairs))
            if value is not None:
                window_value = sum(float(value(row.prediction, label)) for row, label in version_pairs)
                total, answers = returns.get(version, (0.0, 0))
                total, answers = total + window_value, answers + len(version_pairs)
                values.update(value_window=window_value, value=total, value_answers=float(answers), value_mean=total / answers)
                self.report.returns[version] = total
                self.updates.append(("INSERT OR REPLACE INTO returns VALUES (?, ?, ?)", (version, total, answers)))
            if eval_config is not None:
                from pipelinekit.monitor.performance import performance

                overall, sliced = performance([(r.example, r.prediction, label) for r, label in version_pairs], eval_config)
                values.update(overall)
                self.report.slices[version] = sliced
        for version, (total, answers) in returns.items():
            if version in self.report.versions and version not in by_version:
                self.report.versions[version].update(
                    value=total, value_answers=float(answers), value_mean=total / max(answers, 1)
                )

    def _feedback(self, pairs: list[tuple[LoggedRow, Any]], new_label_files: list[str]) -> None:
        from pipelinekit.monitor.feedback import next_span, write_span
        from pipelinekit.types.standard import Examples

        feedback = self.config.feedback
        assert feedback is not None
        span = self.state.span_of_window(self.id) or next_span(feedback.base)
        folder = write_span(feedback.base, span, [(row.example, label) for row, label in pairs], feedback.label_feature)
        self.updates.append(("INSERT OR REPLACE INTO spans VALUES (?, ?, ?)", (span, self.id, folder)))
        self.report.span = folder
        key = f"{self.key}:feedback"
        if not self.recorder.recorded(key):
            examples = Examples(folder)
            examples.span = span
            examples.set_custom_property("span", span)
            examples.set_custom_property("payload_format", "FORMAT_TF_EXAMPLE")
            self.recorder.feedback(key, examples, sorted({row.version for row, _ in pairs}), new_label_files)

    # rules ----------------------------------------------------------------------------------

    def _judge(self, version: str, values: dict[str, float]) -> None:
        for rule in self.config.rules:
            decision = judge(rule, version, values, self.state.rule_state(rule.name, version))
            if decision.act:
                self._act(decision)
            elif decision.state.get("tripped") and decision.state.get("acted"):
                self._check_override(decision)
            self.updates.append(
                ("INSERT OR REPLACE INTO rules VALUES (?, ?, ?)", (rule.name, version, json.dumps(decision.state)))
            )

    def _act(self, decision: Decision) -> None:
        from pipelinekit.monitor.actions import RouteActions, rollback_production_alias

        rule, version = decision.rule, decision.subject
        bound = f"above {rule.above}" if rule.above is not None else f"below {rule.below}"
        reason = f"rule {rule.name!r}: {rule.metric} of {version} is {decision.value:.4g}, {bound}, for {rule.windows} window(s)"
        logger.warning("monitor %s: %s; action: %s", self.config.model, reason, rule.action)
        self.metrics.alert(version, rule.name, rule.action)
        action: dict[str, Any] = {"rule": rule.name, "version": version, "action": rule.action, "reason": reason}
        key = f"{self.key}:{rule.name}:{version}"
        if self.recorder.recorded(key):  # done before a kill: not again
            action["outcome"] = "done before a restart"
        elif rule.action == "alert":
            action["outcome"] = "alerted"
        else:
            action.update(self._change_server(rule, version, reason, RouteActions, rollback_production_alias))
        if "switched_off" in action:
            decision.state["acted"] = action["switched_off"]
        if not self.recorder.recorded(key):
            self.recorder.action(key, {k: json.dumps(v) if isinstance(v, list) else v for k, v in action.items()})
        self.report.actions.append(action)

    def _change_server(
        self, rule: Rule, version: str, reason: str, route_actions: Callable[..., Any], rollback: Callable[[str, str, str], None]
    ) -> dict[str, Any]:
        from pipelinekit.errors import PipelineKitError

        try:
            if rule.action == "rollback":
                assert self.config.registry_metadata is not None  # checked when the policy was loaded
                rollback(version.split("/")[0], reason, self.config.registry_metadata)
                return {"outcome": "rolled back"}
            assert self.config.admin is not None  # checked when the policy was loaded
            server = route_actions(self.config.admin)
            switched = (
                server.fallback() if rule.action == "fallback" else server.disable(rule.target or server.target_key(version))
            )
            return {"outcome": "switched off", "switched_off": switched}
        except PipelineKitError as error:  # the alert stands; the next window tries nothing again
            logger.error("monitor %s: %s failed: %s", self.config.model, rule.action, error)
            return {"outcome": f"failed: {error}"}

    def _check_override(self, decision: Decision) -> None:
        """A target the monitor switched off that is on again was switched on by a person: leave it."""
        from pipelinekit.errors import PipelineKitError
        from pipelinekit.monitor.actions import RouteActions

        if self.config.admin is None or decision.state.get("overridden"):
            return
        try:
            disabled = set(RouteActions(self.config.admin).describe()["disabled"])
        except PipelineKitError as error:
            logger.warning("monitor %s: cannot read route %s: %s", self.config.model, self.config.admin.route, error)
            return
        if not set(decision.state["acted"]) <= disabled:
            decision.state["overridden"] = True
            logger.warning("monitor %s: rule %r: %s switched back on by a person; the monitor leaves it until the rule clears",
                           self.config.model, decision.rule.name, sorted(set(decision.state["acted"]) - disabled))  # fmt: skip

    def _close(self) -> None:
        with self.state.transaction() as db:
            for sql, parameters in self.updates:
                db.execute(sql, parameters)
            db.execute("UPDATE windows SET closed = 1 WHERE id = ?", (self.id,))


def _load_function(spec: str, field: str) -> Callable[..., Any]:
    module_name, name = spec.split(":")
    try:
        return getattr(importlib.import_module(module_name), name)  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as error:
        raise MonitorConfigError(
            f"{field}: cannot load {spec!r}: {error}; give 'module:function' importable from here"
        ) from error


def _prediction_drift(served: Any, baseline: Any, comparators: Any) -> float:
    """The largest Jensen-Shannon / L-infinity distance of a prediction feature, over its threshold."""
    import tensorflow_data_validation as tfdv

    from pipelinekit.monitor.validation import validate, with_comparators

    schema = with_comparators(tfdv.infer_schema(baseline), comparators)
    return max(validate(served, baseline, schema, None).skewed.values(), default=0.0)
