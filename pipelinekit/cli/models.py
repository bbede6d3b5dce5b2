"""``pipelinekit models list|show|alias|history|rollback`` and ``pipelinekit runs compare``.

Every command reads (and ``alias``/``rollback`` append to) the ML Metadata store given with
``--metadata PATH``; a server started with ``--registry_metadata_path`` on the same store follows
the alias moves. Unknown models, versions, aliases and runs exit 2 and change nothing.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from typing import Any

from rich.table import Table
from rich.text import Text

from pipelinekit.cli.commands import out
from pipelinekit.errors import RegistryError
from pipelinekit.registry import PRODUCTION, AliasMove, ModelVersion, Registry

__all__ = ["add_models_arguments", "compare_runs_command", "models_command"]


def add_models_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``models`` subcommands; each takes ``--metadata PATH`` (the store's metadata.sqlite)."""
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument("--metadata", required=True, help="the ML Metadata store (metadata.sqlite) the pipelines write")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[store], help="the registered models, or one model's versions")
    listing.add_argument("model", nargs="?", help="list this model's versions")
    show = actions.add_parser("show", parents=[store], help="one version: lineage, data, metrics, code")
    show.add_argument(
        "reference", metavar="MODEL[@VERSION]", help="e.g. penguin, penguin@1.3.0, penguin@1712345678, penguin@production"
    )
    show.add_argument("--json", action="store_true", help="print the version's full record as JSON")
    alias = actions.add_parser("alias", parents=[store], help="point an alias (production, staging, ...) at a version")
    alias.add_argument("model")
    alias.add_argument("alias", metavar="NAME")
    alias.add_argument("version", metavar="VERSION", help="pushed version number, semantic version or another alias")
    alias.add_argument("--reason", required=True, help="why; kept in the alias history")
    history = actions.add_parser("history", parents=[store], help="every alias move; with --at, who served what then")
    history.add_argument("model")
    history.add_argument("--alias", help="only this alias")
    history.add_argument("--at", metavar="TIME", help="a moment (ISO 8601 such as 2026-12-01T14:00:00Z, or unix seconds)")
    rollback = actions.add_parser("rollback", parents=[store], help="move production back; prints the data to retrain on")
    rollback.add_argument("model")
    rollback.add_argument("--to", metavar="VERSION", help="this version instead of the previous production one")
    rollback.add_argument("--reason", default="", help="why (default: 'rollback from version N')")


def models_command(args: argparse.Namespace) -> int:
    registry = Registry.open(args.metadata)
    handlers = {"list": _list, "show": _show, "alias": _alias, "history": _history, "rollback": _rollback}
    return handlers[args.action](registry, args)


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if seconds else "-"


def _list(registry: Registry, args: argparse.Namespace) -> int:
    if args.model is None:
        table = Table(title="registered models")
        for column in ("model", "versions", "latest", "aliases"):
            table.add_column(column)
        for model in registry.models():
            versions = registry.versions(model)
            aliases = ", ".join(f"{a}={m.version}" for a, m in sorted(registry.aliases(model).items()))
            table.add_row(model, str(len(versions)), str(versions[-1]), aliases)
        out.print(table)
        return 0
    versions = registry.versions(args.model)
    names: dict[int, list[str]] = {}
    for alias, move in registry.aliases(args.model).items():
        names.setdefault(move.version, []).append(alias)
    table = Table(title=f"versions of {args.model}")
    for column in ("version", "semver", "pushed", "blessed", "aliases", "files", "data", "why this semver"):
        table.add_column(column, no_wrap=column != "why this semver")
    for v in versions:
        blessed = {1: "yes", 0: "NO", -1: "-"}.get(int(v.record.get("blessed", -1)), "?")
        table.add_row(
            str(v.number), v.semver, _when(v.record.get("pushed_at", 0)), blessed, ", ".join(sorted(names.get(v.number, []))),
            "ok" if v.files_present else "GONE", v.record.get("data_fingerprint", ""), v.record.get("semver_reason", ""),
        )  # fmt: skip
    out.print(table)
    return 0


def _show(registry: Registry, args: argparse.Namespace) -> int:
    version = registry.resolve(args.reference)
    if args.json:
        out.print_json(json.dumps(version.record, sort_keys=True, default=str))
        return 0
    for line in describe(registry, version):
        out.print(line, markup=False)
    return 0


def describe(registry: Registry, version: ModelVersion) -> list[str]:
    """``models show``'s text: the version, where it serves, how it was judged, what it trained on."""
    from pipelinekit.registry.rerun import data_lines

    r = version.record
    aliases = sorted(a for a, m in registry.aliases(version.model).items() if m.version == version.number)
    trainer = r.get("trainer") or {}
    lines = [
        f"{version}  aliases: {', '.join(aliases) or 'none'}",
        f"  semver:       {version.semver} ({r.get('semver_reason', '')})",
        f"  pushed:       {_when(r.get('pushed_at', 0))} by run {r.get('run_id', '?')} of pipeline {r.get('pipeline_name', '?')}",
        f"  serving path: {version.serving_path} ({'present' if version.files_present else 'FILES GONE'})",
        f"  blessing:     {({1: 'blessed', 0: 'NOT blessed', -1: 'none'}).get(int(r.get('blessed', -1)))}: {r.get('blessing_reason', '')}",
        f"  metrics:      {_pairs(r.get('metrics'))}",
        f"  trainer:      execution #{int(trainer.get('execution_id', -1))} (node {trainer.get('node', '?')}, run {trainer.get('run_id', '?')})",
        f"  parameters:   {_pairs(r.get('parameters'))}",
        f"  hyperparams:  {_pairs(r.get('hyperparameters'))}",
        f"  code digest:  {r.get('code', '')}",
        f"  libraries:    {_pairs(r.get('libraries'))}",
        f"  schema:       #{int((r.get('schema') or {}).get('id', -1))} {(r.get('schema') or {}).get('uri', '')}",
        f"  required:     {', '.join(r.get('required_features') or []) or '-'}",
        f"  transform:    #{int((r.get('transform_graph') or {}).get('id', -1))} {(r.get('transform_graph') or {}).get('uri', '')}",
        f"  data:         fingerprint {r.get('data_fingerprint', '')}",
    ]
    return lines + [f"    {line}" for line in data_lines(version)]


def _pairs(values: Any) -> str:
    if not values:
        return "-"
    return ", ".join(f"{k}={_compact(v)}" for k, v in sorted(values.items()))


def _compact(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def _alias(registry: Registry, args: argparse.Namespace) -> int:
    move = registry.move_alias(args.model, args.alias, args.version, args.reason)
    out.print(_move_line(move), markup=False)
    return 0


def _move_line(move: AliasMove) -> str:
    was = f"version {move.from_version}" if move.from_version is not None else "nothing"
    return (
        f"{_when(move.at)}  {move.model}@{move.alias}: {was} -> version {move.version} ({move.semver}) "
        f"by {move.who} via {move.command}: {move.reason}"
    )


def _history(registry: Registry, args: argparse.Namespace) -> int:
    at = parse_time(args.at) if args.at else None
    moves = registry.history(args.model, args.alias, at)
    if args.alias is not None and not moves and at is None:
        raise RegistryError(
            f"model {args.model!r} has no alias {args.alias!r}; its aliases: {', '.join(sorted(registry.aliases(args.model))) or 'none'}"
        )
    for move in moves:
        out.print(_move_line(move), markup=False)
    if at is not None:
        state = {m.alias: m for m in moves}
        out.print(f"at {_when(at)}:" + ("" if state else " no alias was set yet"), markup=False)
        for alias, move in sorted(state.items()):
            out.print(
                f"  {alias} = version {move.version} ({move.semver}), set {_when(move.at)} by {move.who}: {move.reason}",
                markup=False,
            )
    return 0


def parse_time(text: str) -> float:
    """Unix seconds from ``1733500000`` or an ISO 8601 time (UTC unless it says otherwise)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RegistryError(f"--at {text!r} is not a time: give ISO 8601 (2026-12-01T14:00:00Z) or unix seconds") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _rollback(registry: Registry, args: argparse.Namespace) -> int:
    from pipelinekit.registry.rerun import data_lines, rerun_command

    started = time.perf_counter()
    move, version = registry.rollback(args.model, args.to, args.reason)
    out.print(_move_line(move), markup=False)
    out.print(f"{PRODUCTION} is now {version}; servers following this store switch within their poll interval.", markup=False)
    out.print(f"{version} trained on:", markup=False)
    for line in data_lines(version):
        out.print(f"  {line}", markup=False)
    out.print("to train again on exactly that data (its spans pinned):", markup=False)
    out.print(f"  {rerun_command(registry.store, version)}", markup=False)
    out.print(f"(rolled back in {time.perf_counter() - started:.2f} s)", markup=False)
    return 0


def compare_runs_command(args: argparse.Namespace) -> int:
    """``pipelinekit runs compare RUN RUN...``: the runs side by side; differing rows marked ``*``."""
    from pipelinekit.cli.commands import _store_and_name
    from pipelinekit.registry.compare import compare_runs

    store, name = _store_and_name(argparse.Namespace(**{**vars(args), "file": None}))
    runs, rows = compare_runs(store, name, args.run_ids)
    table = Table(title=f"runs of {name}")
    table.add_column("", no_wrap=True)
    table.add_column("what", no_wrap=True)
    for run in runs:
        table.add_column(f"{run.run_id} ({run.status})")
    for section, row, values, differs in rows:
        if args.only_differences and not differs:
            continue
        cells = [Text("-" if v is None else str(v), style="bold yellow" if differs else "") for v in values]
        table.add_row("*" if differs else "", f"{section}: {row}", *cells)
    out.print(table)
    return 0
