"""Which files an ExampleGen run reads: split patterns with ``{SPAN}``, ``{VERSION}`` and
``{YYYY}{MM}{DD}`` resolved to the latest span (and its latest version) or to the span a
``RangeConfig.static_range`` names, plus TFX's input fingerprint of those files."""

from __future__ import annotations

import datetime
import glob
import os
import re
from dataclasses import dataclass

from pipelinekit.components.util.errors import InputDataError

__all__ = ["ResolvedInput", "resolve_input"]

_SPEC = re.compile(r"\{(SPAN|VERSION)(?::(\d+))?\}|\{(YYYY|MM|DD)\}")
_DATE_WIDTHS = {"YYYY": 4, "MM": 2, "DD": 2}
_EPOCH = datetime.date(1970, 1, 1)


@dataclass(frozen=True)
class ResolvedInput:
    """Concrete glob patterns per split (absolute), with the span, version and fingerprint."""

    patterns: dict[str, str]
    span: int
    version: int | None
    fingerprint: str


@dataclass(frozen=True)
class _Match:
    span: int
    version: int | None
    values: dict[str, str]  # spec token -> the text it matched


def resolve_input(input_base: str, splits: dict[str, str], static_span: int | None = None) -> ResolvedInput:
    """Resolve each split's pattern under ``input_base``; every split must agree on the span and version."""
    if not os.path.isdir(input_base):
        raise InputDataError(f"input_base {input_base} is not a folder; point input_base at the folder holding the data files")
    resolved: dict[str, tuple[str, int, int | None]] = {}
    for name, pattern in splits.items():
        resolved[name] = _resolve_split(input_base, name, pattern, static_span)
    spans = {s for _, s, _ in resolved.values()}
    versions = {v for _, _, v in resolved.values()}
    if len(spans) > 1:
        raise InputDataError(f"latest span should be the same for each split; found {_describe(resolved, 1)} under {input_base}")
    if len(versions) > 1:
        raise InputDataError(f"latest version should be the same for each split; found {_describe(resolved, 2)} under {input_base}")
    patterns = {name: os.path.join(input_base, p) for name, (p, _, _) in resolved.items()}
    return ResolvedInput(patterns, spans.pop(), versions.pop(), _fingerprint(patterns))


def _describe(resolved: dict[str, tuple[str, int, int | None]], index: int) -> str:
    return ", ".join(f"{name}: {values[index]}" for name, values in resolved.items())


def _resolve_split(input_base: str, name: str, pattern: str, static_span: int | None) -> tuple[str, int, int | None]:
    tokens = [m.group(1) or m.group(3) for m in _SPEC.finditer(pattern)]
    _check_specs(name, pattern, tokens)
    if not tokens:
        if static_span not in (None, 0):
            raise InputDataError(f"split {name!r}: range_config asks for span {static_span} but pattern {pattern!r} has no {{SPAN}}")
        _require_files(input_base, name, pattern)
        return pattern, 0, None
    matches = _matches(input_base, pattern)
    if static_span is not None:
        matches = [m for m in matches if m.span == static_span]
    if not matches:
        wanted = f" for span {static_span}" if static_span is not None else ""
        raise InputDataError(f"split {name!r}: no file under {input_base} matches pattern {pattern!r}{wanted}; {_listing(input_base)}")
    span = max(m.span for m in matches)
    in_span = [m for m in matches if m.span == span]
    version = max((m.version for m in in_span if m.version is not None), default=None)
    chosen = next(m for m in in_span if m.version == version)
    concrete = _SPEC.sub(lambda m: chosen.values[m.group(1) or m.group(3)], pattern)
    return concrete, span, version


def _check_specs(name: str, pattern: str, tokens: list[str]) -> None:
    dates = {t for t in tokens if t in _DATE_WIDTHS}
    if dates and dates != set(_DATE_WIDTHS):
        raise InputDataError(f"split {name!r}: pattern {pattern!r} must use {{YYYY}}, {{MM}} and {{DD}} together")
    if dates and "SPAN" in tokens:
        raise InputDataError(f"split {name!r}: pattern {pattern!r} uses both {{SPAN}} and date specs; use one of them")
    if "VERSION" in tokens and "SPAN" not in tokens and not dates:
        raise InputDataError(f"split {name!r}: pattern {pattern!r} has {{VERSION}} without {{SPAN}} or a date")
    if len(tokens) != len(set(tokens)):
        raise InputDataError(f"split {name!r}: pattern {pattern!r} repeats a spec")


def _matches(input_base: str, pattern: str) -> list[_Match]:
    regex_parts, last = [], 0
    for m in _SPEC.finditer(pattern):
        regex_parts.append(_glob_to_regex(pattern[last : m.start()]))
        token = m.group(1) or m.group(3)
        width = m.group(2) or _DATE_WIDTHS.get(token)
        regex_parts.append(f"(?P<{token}>\\d{{{width}}})" if width else f"(?P<{token}>\\d+)")
        last = m.end()
    regex_parts.append(_glob_to_regex(pattern[last:]))
    regex = re.compile("".join(regex_parts) + r"\Z")
    found = []
    for path in glob.glob(os.path.join(input_base, _SPEC.sub("*", pattern))):
        match = regex.match(os.path.relpath(path, input_base))
        if match:
            found.append(_to_match(match.groupdict()))
    return found


def _to_match(values: dict[str, str]) -> _Match:
    if "YYYY" in values:
        try:
            day = datetime.date(int(values["YYYY"]), int(values["MM"]), int(values["DD"]))
        except ValueError as error:
            raise InputDataError(f"date {values['YYYY']}-{values['MM']}-{values['DD']} in an input path is not a date: {error}") from error
        span = (day - _EPOCH).days
    else:
        span = int(values["SPAN"])
    version = int(values["VERSION"]) if "VERSION" in values else None
    return _Match(span, version, values)


def _glob_to_regex(text: str) -> str:
    out = []
    for char in text:
        out.append("[^/]*" if char == "*" else "[^/]" if char == "?" else re.escape(char))
    return "".join(out)


def _require_files(input_base: str, name: str, pattern: str) -> None:
    if not [p for p in glob.glob(os.path.join(input_base, pattern)) if os.path.isfile(p)]:
        raise InputDataError(f"split {name!r}: no file under {input_base} matches pattern {pattern!r}; {_listing(input_base)}")


def _listing(folder: str) -> str:
    names = sorted(os.listdir(folder))
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f"the folder holds: {shown}" if names else "the folder is empty"


def _fingerprint(patterns: dict[str, str]) -> str:
    """TFX's input fingerprint: per split the file count, total bytes, and xor/sum of mtimes."""
    lines = []
    for name, pattern in patterns.items():
        files = [p for p in sorted(glob.glob(pattern)) if os.path.isfile(p)]
        xor, total, size = 0, 0, 0
        for path in files:
            stat = os.stat(path)
            xor ^= int(stat.st_mtime)
            total += int(stat.st_mtime)
            size += stat.st_size
        lines.append(f"split:{name},num_files:{len(files)},total_bytes:{size},xor_checksum:{xor},sum_checksum:{total}")
    return "\n".join(lines)
