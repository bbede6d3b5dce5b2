"""``tfx.dsl.io.fileio`` on the local filesystem (what module files such as the sklearn
example use); paths with a scheme (gs://, s3://) go through ``tf.io.gfile``."""

from __future__ import annotations

import glob as _glob
import os
import shutil
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


def _remote(path: PathType) -> bool:
    return "://" in os.fsdecode(path)


def _gfile() -> Any:
    import tensorflow as tf

    return tf.io.gfile


def open(path: PathType, mode: str = "r") -> Any:  # noqa: A001 - TFX's name
    return _gfile().GFile(path, mode) if _remote(path) else _open(path, mode)


def copy(src: PathType, dst: PathType, overwrite: bool = False) -> Any:
    if _remote(src) or _remote(dst):
        return _gfile().copy(src, dst, overwrite)
    if not overwrite and os.path.exists(dst):
        raise FileExistsError(f"{os.fsdecode(dst)} exists; pass overwrite=True")
    shutil.copyfile(src, dst)


def exists(path: PathType) -> bool:
    return _gfile().exists(path) if _remote(path) else os.path.exists(path)


def glob(pattern: PathType) -> Any:
    return _gfile().glob(pattern) if _remote(pattern) else _glob.glob(os.fsdecode(pattern))


def isdir(path: PathType) -> bool:
    return _gfile().isdir(path) if _remote(path) else os.path.isdir(path)


def listdir(path: PathType) -> Any:
    return _gfile().listdir(path) if _remote(path) else os.listdir(path)


def makedirs(path: PathType) -> Any:
    return _gfile().makedirs(path) if _remote(path) else os.makedirs(path, exist_ok=True)


def mkdir(path: PathType) -> Any:
    return _gfile().mkdir(path) if _remote(path) else os.mkdir(path)


def remove(path: PathType) -> Any:
    return _gfile().remove(path) if _remote(path) else os.remove(path)


def rename(src: PathType, dst: PathType, overwrite: bool = False) -> Any:
    if _remote(src) or _remote(dst):
        return _gfile().rename(src, dst, overwrite)
    if not overwrite and os.path.exists(dst):
        raise FileExistsError(f"{os.fsdecode(dst)} exists; pass overwrite=True")
    os.replace(src, dst)


def rmtree(path: PathType) -> Any:
    return _gfile().rmtree(path) if _remote(path) else shutil.rmtree(path)


def stat(path: PathType) -> Any:
    return _gfile().stat(path) if _remote(path) else os.stat(path)


def walk(top: PathType, topdown: bool = True) -> Any:
    return _gfile().walk(top, topdown) if _remote(top) else os.walk(top, topdown)
