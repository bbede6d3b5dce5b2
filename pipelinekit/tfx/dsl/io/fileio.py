"""``tfx.dsl.io.fileio``: local paths through the standard library (fast, what module files such
as the sklearn example use); a path with a scheme (``gs://``, ``s3://``, ``hdfs://``, ...)
through Beam's ``FileSystems`` when Beam has a filesystem for that scheme (install its extra:
``apache-beam[gcp]``, ``[aws]``, ``hdfs``), else through ``tf.io.gfile``.

On object stores a "directory" is a key prefix: ``makedirs`` creates nothing, ``isdir`` and
``listdir`` look at the keys below it, ``rmtree`` deletes every key below it."""

from __future__ import annotations

import glob as _glob
import io
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Union

__all__ = [
    "copy",
    "exists",
    "glob",
    "isdir",
    "listdir",
    "makedirs",
    "mkdir",
    "open",
    "remove",
    "rename",
    "rmtree",
    "stat",
    "walk",
    "NotFoundError",
    "PathType",
]

PathType = Union[bytes, str]
NotFoundError = FileNotFoundError
_open = open


@dataclass(frozen=True)
class StatResult:
    """What ``stat`` gives for a remote path, with ``tf.io.gfile.stat``'s field names."""

    length: int
    mtime_nsec: int
    is_directory: bool


def _remote(path: PathType) -> bool:
    return "://" in os.fsdecode(path)


def _scheme(path: PathType) -> str:
    return os.fsdecode(path).split("://", 1)[0] if _remote(path) else ""


def _beam(path: PathType) -> Any:
    """Beam's ``FileSystems`` if Beam has a filesystem for ``path``'s scheme, else None."""
    from apache_beam.io.filesystems import FileSystems

    try:
        FileSystems.get_filesystem(os.fsdecode(path))
    except ValueError:  # no filesystem registered for the scheme (its extra is not installed)
        return None
    return FileSystems


def _gfile() -> Any:
    import tensorflow as tf

    return tf.io.gfile


def _missing(path: str, error: Exception | None = None) -> FileNotFoundError:
    found = FileNotFoundError(f"{path}: no such file")
    found.__cause__ = error
    return found


def _keys_below(fs: Any, folder: str) -> list[str]:
    """Every file path below ``folder`` (recursively), from Beam's ``**`` match."""
    return [m.path for m in fs.match([folder.rstrip("/") + "/**"])[0].metadata_list]


def _relative_below(fs: Any, folder: str) -> list[str]:
    prefix = folder.rstrip("/") + "/"
    return [path[len(prefix) :] for path in _keys_below(fs, folder)]


def open(path: PathType, mode: str = "r") -> Any:  # noqa: A001 - TFX's name
    if not _remote(path):
        return _open(path, mode)
    fs = _beam(path)
    if fs is None:
        return _gfile().GFile(path, mode)
    from apache_beam.io.filesystem import CompressionTypes

    name = os.fsdecode(path)
    kind = mode.replace("b", "").replace("t", "")
    if kind == "w":
        handle = fs.create(name, compression_type=CompressionTypes.UNCOMPRESSED)
    elif kind == "r":
        if not fs.exists(name):
            raise _missing(name)
        handle = fs.open(name, compression_type=CompressionTypes.UNCOMPRESSED)
    else:
        raise ValueError(f"fileio.open({name!r}, {mode!r}): Beam filesystems open files for 'r' or 'w' only")
    return handle if "b" in mode else io.TextIOWrapper(handle, encoding="utf-8")


def copy(src: PathType, dst: PathType, overwrite: bool = False) -> Any:
    if not overwrite and exists(dst):
        raise FileExistsError(f"{os.fsdecode(dst)} exists; pass overwrite=True")
    if not (_remote(src) or _remote(dst)):
        shutil.copyfile(src, dst)
    elif _beam(src) is None and _beam(dst) is None:
        _gfile().copy(src, dst, overwrite)
    else:  # streamed, so a copy between two filesystems (local to gs://) works too
        with open(src, "rb") as source, open(dst, "wb") as target:
            shutil.copyfileobj(source, target)


def exists(path: PathType) -> bool:
    if not _remote(path):
        return os.path.exists(path)
    fs = _beam(path)
    return _gfile().exists(path) if fs is None else fs.exists(os.fsdecode(path)) or isdir(path)


def glob(pattern: PathType) -> Any:
    if not _remote(pattern):
        return _glob.glob(os.fsdecode(pattern))
    fs = _beam(pattern)
    if fs is None:
        return _gfile().glob(pattern)
    return sorted(m.path for m in fs.match([os.fsdecode(pattern)])[0].metadata_list)


def isdir(path: PathType) -> bool:
    if not _remote(path):
        return os.path.isdir(path)
    fs = _beam(path)
    return _gfile().isdir(path) if fs is None else bool(_keys_below(fs, os.fsdecode(path)))


def listdir(path: PathType) -> Any:
    if not _remote(path):
        return os.listdir(path)
    fs = _beam(path)
    if fs is None:
        return _gfile().listdir(path)
    names = sorted({relative.split("/", 1)[0] for relative in _relative_below(fs, os.fsdecode(path))})
    if not names and not fs.exists(os.fsdecode(path)):
        raise _missing(os.fsdecode(path))
    return names


def makedirs(path: PathType) -> Any:
    if not _remote(path):
        return os.makedirs(path, exist_ok=True)
    fs = _beam(path)
    if fs is None:
        return _gfile().makedirs(path)
    if not fs.exists(os.fsdecode(path)):
        fs.mkdirs(os.fsdecode(path))
    return None


def mkdir(path: PathType) -> Any:
    if not _remote(path):
        return os.mkdir(path)
    return _gfile().mkdir(path) if _beam(path) is None else makedirs(path)


def remove(path: PathType) -> Any:
    if not _remote(path):
        return os.remove(path)
    fs = _beam(path)
    if fs is None:
        return _gfile().remove(path)
    name = os.fsdecode(path)
    if not fs.exists(name):
        raise _missing(name)
    fs.delete([name])
    return None


def rename(src: PathType, dst: PathType, overwrite: bool = False) -> Any:
    if not overwrite and exists(dst):
        raise FileExistsError(f"{os.fsdecode(dst)} exists; pass overwrite=True")
    if not (_remote(src) or _remote(dst)):
        return os.replace(src, dst)
    fs = _beam(src)
    if fs is None and _beam(dst) is None:
        return _gfile().rename(src, dst, overwrite)
    if fs is None or _scheme(src) != _scheme(dst):  # across filesystems: copy, then remove the source
        copy(src, dst, overwrite=True)
        return remove(src)
    source, target = os.fsdecode(src), os.fsdecode(dst)
    if not fs.exists(source):
        raise _missing(source)
    if fs.exists(target):
        fs.delete([target])
    fs.rename([source], [target])
    return None


def rmtree(path: PathType) -> Any:
    if not _remote(path):
        return shutil.rmtree(path)
    fs = _beam(path)
    if fs is None:
        return _gfile().rmtree(path)
    name = os.fsdecode(path)
    below = _keys_below(fs, name)
    if not below and not fs.exists(name):
        raise _missing(name)
    fs.delete(below + ([name] if fs.exists(name) else []))
    return None


def stat(path: PathType) -> Any:
    if not _remote(path):
        return os.stat(path)
    fs = _beam(path)
    if fs is None:
        return _gfile().stat(path)
    name = os.fsdecode(path)
    if fs.exists(name) and not _keys_below(fs, name):
        metadata = fs.match([name])[0].metadata_list[0]  # a path without wildcards: its own metadata
        return StatResult(metadata.size_in_bytes, int(metadata.last_updated_in_seconds * 1e9), False)
    if isdir(name):
        return StatResult(0, 0, True)
    raise _missing(name)


def walk(top: PathType, topdown: bool = True) -> Any:
    if not _remote(top):
        return os.walk(top, topdown)
    fs = _beam(top)
    return (
        _gfile().walk(top, topdown)
        if fs is None
        else _walk_keys(os.fsdecode(top).rstrip("/"), _relative_below(fs, os.fsdecode(top)), topdown)
    )


def _walk_keys(top: str, relatives: list[str], topdown: bool) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk``'s triples for the folders implied by the file keys ``relatives`` below ``top``."""
    folders: dict[str, tuple[set[str], list[str]]] = {"": (set(), [])}
    for relative in sorted(relatives):
        parts = relative.split("/")
        for depth in range(len(parts) - 1):
            parent, child = "/".join(parts[:depth]), "/".join(parts[: depth + 1])
            folders.setdefault(parent, (set(), []))[0].add(parts[depth])
            folders.setdefault(child, (set(), []))
        folders["/".join(parts[:-1])][1].append(parts[-1])
    order = sorted(folders, key=lambda f: (f.count("/") if f else -1, f))
    for folder in order if topdown else reversed(order):
        dirs, files = folders[folder]
        yield (f"{top}/{folder}" if folder else top), sorted(dirs), files
