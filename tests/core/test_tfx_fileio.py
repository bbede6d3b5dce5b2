"""``tfx.dsl.io.fileio`` on a filesystem only Beam knows: an in-memory object store registered
with Beam under ``mem://`` (keys, no directories, as gs:// and s3://), and the local fast path."""

from __future__ import annotations

import io
import time

import pytest

pytest.importorskip("apache_beam")

from apache_beam.io.filesystem import BeamIOError, FileMetadata, FileSystem  # noqa: E402

from pipelinekit.tfx.dsl.io import fileio  # noqa: E402

pytestmark = pytest.mark.slow  # imports Beam


class _Upload(io.BytesIO):
    def __init__(self, store: dict[str, bytes], path: str) -> None:
        super().__init__()
        self._store, self._path = store, path

    def close(self) -> None:
        if not self.closed:
            self._store[self._path] = self.getvalue()
        super().close()


class MemoryObjectStore(FileSystem):
    """A Beam filesystem for ``mem://`` keeping objects in a dict: what gs:// looks like to Beam."""

    objects: dict[str, bytes] = {}

    @classmethod
    def scheme(cls) -> str:
        return "mem"

    def join(self, basepath: str, *paths: str) -> str:
        return "/".join([basepath.rstrip("/"), *paths])

    def split(self, path: str) -> tuple[str, str]:
        head, _, tail = path.rpartition("/")
        return head, tail

    def mkdirs(self, path: str) -> None:  # object stores have no directories
        pass

    def has_dirs(self) -> bool:
        return False

    def _list(self, dir_or_prefix: str):  # type: ignore[no-untyped-def]
        for path, data in sorted(self.objects.items()):
            if path.startswith(dir_or_prefix):
                yield FileMetadata(path, len(data), time.time())

    def create(self, path, mime_type="application/octet-stream", compression_type=None):  # type: ignore[no-untyped-def]
        return _Upload(self.objects, path)

    def open(self, path, mime_type="application/octet-stream", compression_type=None):  # type: ignore[no-untyped-def]
        if path not in self.objects:
            raise BeamIOError("not found", {path: FileNotFoundError(path)})
        return io.BytesIO(self.objects[path])

    def copy(self, source_file_names, destination_file_names):  # type: ignore[no-untyped-def]
        for source, target in zip(source_file_names, destination_file_names):
            self.objects[target] = self.objects[source]

    def rename(self, source_file_names, destination_file_names):  # type: ignore[no-untyped-def]
        for source, target in zip(source_file_names, destination_file_names):
            self.objects[target] = self.objects.pop(source)

    def exists(self, path: str) -> bool:
        return path in self.objects

    def size(self, path: str) -> int:
        return len(self.objects[path])

    def last_updated(self, path: str) -> float:
        return time.time()

    def checksum(self, path: str) -> str:
        return str(hash(self.objects[path]))

    def metadata(self, path: str) -> FileMetadata:
        return FileMetadata(path, len(self.objects[path]), 1700000000.5)

    def delete(self, paths) -> None:  # type: ignore[no-untyped-def]
        missing = {p: FileNotFoundError(p) for p in paths if p not in self.objects}
        if missing:
            raise BeamIOError("delete failed", missing)
        for path in paths:
            del self.objects[path]


@pytest.fixture(autouse=True)
def empty_store():
    MemoryObjectStore.objects.clear()
    yield MemoryObjectStore.objects
    MemoryObjectStore.objects.clear()


def test_write_read_exists_glob_listdir_on_a_beam_filesystem(empty_store):
    fileio.makedirs("mem://bucket/run/Split-train")
    with fileio.open("mem://bucket/run/Split-train/data.txt", "w") as f:
        f.write("héllo\n")
    with fileio.open("mem://bucket/run/Split-eval/data.gz", "wb") as f:
        f.write(b"\x00raw, not gzip")  # no decompression by extension, as tf.io.gfile
    assert empty_store["mem://bucket/run/Split-train/data.txt"] == "héllo\n".encode()
    with fileio.open("mem://bucket/run/Split-train/data.txt") as f:
        assert f.read() == "héllo\n"
    with fileio.open("mem://bucket/run/Split-eval/data.gz", "rb") as f:
        assert f.read() == b"\x00raw, not gzip"
    assert fileio.exists("mem://bucket/run/Split-train/data.txt")
    assert fileio.exists("mem://bucket/run") and fileio.isdir("mem://bucket/run")
    assert not fileio.exists("mem://bucket/other") and not fileio.isdir("mem://bucket/run/Split-train/data.txt")
    assert fileio.glob("mem://bucket/run/*/data.*") == [
        "mem://bucket/run/Split-eval/data.gz",
        "mem://bucket/run/Split-train/data.txt",
    ]
    assert fileio.glob("mem://bucket/nothing/*") == []
    assert fileio.listdir("mem://bucket/run") == ["Split-eval", "Split-train"]
    assert fileio.listdir("mem://bucket/run/") == ["Split-eval", "Split-train"]
    assert list(fileio.walk("mem://bucket")) == [
        ("mem://bucket", ["run"], []),
        ("mem://bucket/run", ["Split-eval", "Split-train"], []),
        ("mem://bucket/run/Split-eval", [], ["data.gz"]),
        ("mem://bucket/run/Split-train", [], ["data.txt"]),
    ]
    info = fileio.stat("mem://bucket/run/Split-train/data.txt")
    assert (info.length, info.mtime_nsec, info.is_directory) == (7, 1700000000500000000, False)
    assert fileio.stat("mem://bucket/run").is_directory


def test_rename_copy_remove_rmtree_and_missing_paths(empty_store, tmp_path):
    with fileio.open("mem://b/a.txt", "w") as f:
        f.write("a")
    with fileio.open("mem://b/c.txt", "w") as f:
        f.write("c")
    with pytest.raises(FileExistsError, match="mem://b/c.txt exists; pass overwrite=True"):
        fileio.rename("mem://b/a.txt", "mem://b/c.txt")
    fileio.rename("mem://b/a.txt", "mem://b/c.txt", overwrite=True)
    assert empty_store == {"mem://b/c.txt": b"a"}
    fileio.copy("mem://b/c.txt", "mem://b/d/e.txt")
    local = tmp_path / "local.txt"
    fileio.copy("mem://b/d/e.txt", str(local))  # across filesystems
    assert local.read_text() == "a"
    fileio.rename(str(local), "mem://b/from_local.txt")
    assert not local.exists() and empty_store["mem://b/from_local.txt"] == b"a"
    fileio.remove("mem://b/c.txt")
    with pytest.raises(fileio.NotFoundError, match="mem://b/c.txt: no such file"):
        fileio.remove("mem://b/c.txt")
    with pytest.raises(fileio.NotFoundError):
        fileio.open("mem://b/c.txt")
    with pytest.raises(fileio.NotFoundError):
        fileio.listdir("mem://b/nowhere")
    with pytest.raises(fileio.NotFoundError):
        fileio.stat("mem://b/nowhere")
    with pytest.raises(ValueError, match="'r' or 'w' only"):
        fileio.open("mem://b/from_local.txt", "a")
    fileio.rmtree("mem://b/d")
    assert empty_store == {"mem://b/from_local.txt": b"a"}
    with pytest.raises(fileio.NotFoundError):
        fileio.rmtree("mem://b/d")


def test_local_paths_keep_the_standard_library_path(tmp_path):
    folder = tmp_path / "x" / "y"
    fileio.makedirs(str(folder))
    fileio.makedirs(str(folder))  # exist_ok, as TFX's
    with fileio.open(str(folder / "f.txt"), "w") as f:
        f.write("z")
    assert isinstance(fileio.stat(str(folder / "f.txt")).st_size, int)
    assert fileio.listdir(str(folder)) == ["f.txt"] and fileio.glob(str(tmp_path / "x" / "*")) == [str(folder)]
