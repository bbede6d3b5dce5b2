"""The Pusher's file-system contract: a version appears whole or not at all, once per model,
and concurrent or killed pushers leave nothing a server would load half-written."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
from pipelinekit.components.pusher.executor import model_to_push, refusals
from pipelinekit.components.pusher.filesystem import TEMP_PREFIX, push_version, version_folders

from pipelinekit.errors import RunError
from pipelinekit.types.standard import InfraBlessing, ModelBlessing


def _model(folder, payload: bytes = b"weights", files: int = 3) -> str:
    os.makedirs(os.path.join(folder, "variables"))
    with open(os.path.join(folder, "saved_model.pb"), "wb") as handle:
        handle.write(b"graph")
    for index in range(files):
        with open(os.path.join(folder, "variables", f"part-{index}"), "wb") as handle:
            handle.write(payload)
    return str(folder)


def test_same_model_twice_is_one_version_and_a_new_model_is_newer(tmp_path):
    base = str(tmp_path / "serving")
    first, copied = push_version(_model(tmp_path / "a"), base)
    again, copied_again = push_version(_model(tmp_path / "a_copy"), base)
    newer, _ = push_version(_model(tmp_path / "b", b"other"), base)
    assert copied and not copied_again and again == first
    assert newer > first and sorted(version_folders(base)) == [first, newer]
    assert sorted(os.listdir(os.path.join(base, str(first), "variables"))) == ["part-0", "part-1", "part-2"]


def test_failure_mid_copy_leaves_no_version_and_no_temp_folder(tmp_path, monkeypatch):
    base = str(tmp_path / "serving")
    calls = []

    real_copyfile = shutil.copyfile

    def failing_copy(src, dst, *args, **kwargs):
        calls.append(src)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_copyfile(src, dst, *args, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", failing_copy)
    with pytest.raises(OSError, match="No space left"):
        push_version(_model(tmp_path / "a"), base)
    assert version_folders(base) == {} and [n for n in os.listdir(base) if n.startswith(TEMP_PREFIX)] == []


_SLOW_PUSH = """
import shutil, sys, time
from pipelinekit.components.pusher.filesystem import push_version
real = shutil.copyfile
def slow(src, dst, *a, **k):
    result = real(src, dst, *a, **k)
    time.sleep(60)
    return result
shutil.copyfile = slow
push_version(sys.argv[1], sys.argv[2])
"""


def test_pusher_killed_halfway_leaves_no_loadable_version(tmp_path):
    base = str(tmp_path / "serving")
    source = _model(tmp_path / "a")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    process = subprocess.Popen([sys.executable, "-c", _SLOW_PUSH, source, base], cwd=root)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _temp_with_files(base):
            time.sleep(0.05)
        assert _temp_with_files(base), "the pusher never started copying"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert version_folders(base) == {}  # a server only loads all-digit folders
    version, copied = push_version(source, base)  # the next push cleans up and succeeds
    assert copied and list(version_folders(base)) == [version]
    assert not [n for n in os.listdir(base) if n.startswith(TEMP_PREFIX)]


def _temp_with_files(base: str) -> bool:
    if not os.path.isdir(base):
        return False
    temps = [os.path.join(base, n) for n in os.listdir(base) if n.startswith(TEMP_PREFIX)]
    return any(files for t in temps for _, _, files in os.walk(t))


def test_concurrent_pushes_of_different_models_get_distinct_complete_versions(tmp_path):
    base = str(tmp_path / "serving")
    sources = [_model(tmp_path / f"m{i}", f"payload {i}".encode()) for i in range(4)]
    results = []
    threads = [threading.Thread(target=lambda s=s: results.append(push_version(s, base))) for s in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    versions = sorted(v for v, _ in results)
    assert len(set(versions)) == 4 and sorted(version_folders(base)) == versions
    for folder in version_folders(base).values():
        assert len(os.listdir(os.path.join(folder, "variables"))) == 3


def test_a_pushers_cleanup_between_anothers_probe_and_its_removal_does_not_fail_that_push(tmp_path, monkeypatch):
    """The interleaving CI once hit: pusher A probes ``base`` (outside the lock) while pusher B,
    holding the lock, sweeps abandoned temporary folders."""
    from pipelinekit.components.pusher import filesystem

    base = str(tmp_path / "serving")
    real_rmdir = os.rmdir

    def rmdir_after_a_sweep(path):
        filesystem._remove_abandoned(base)
        real_rmdir(path)

    monkeypatch.setattr(filesystem.os, "rmdir", rmdir_after_a_sweep)
    version, copied = push_version(_model(tmp_path / "m", b"payload"), base)
    assert copied and sorted(version_folders(base)) == [version]


def _blessing(cls, tmp_path, name, blessed=None, marker=None):
    blessing = cls(str(tmp_path / name))
    os.makedirs(blessing.uri)
    if blessed is not None:
        blessing.blessed = blessed
    if marker:
        open(os.path.join(blessing.uri, marker), "w").close()
    return blessing


def test_every_given_blessing_must_be_positive(tmp_path):
    good_model = _blessing(ModelBlessing, tmp_path, "mb", blessed=1)
    bad_infra = _blessing(InfraBlessing, tmp_path, "ib", blessed=0)
    marker_only = _blessing(ModelBlessing, tmp_path, "marker", marker="BLESSED")
    unmarked = _blessing(InfraBlessing, tmp_path, "none")
    assert refusals(good_model, None) == []
    assert refusals(marker_only, None) == [
        f"model_blessing {marker_only.uri} has no 'blessed' custom property (its BLESSED file is not read: TFX reads "
        "the property only); a blessing made outside a pipeline needs custom_properties={'blessed': 1} on its importer"
    ]
    assert [r.split()[0] for r in refusals(good_model, bad_infra)] == ["infra_blessing"]
    assert len(refusals(good_model, unmarked)) == 1


def test_infra_blessing_without_a_stamped_model_cannot_stand_in_for_the_model(tmp_path):
    infra = _blessing(InfraBlessing, tmp_path, "ib", blessed=1)
    infra.has_model = 0
    with pytest.raises(RunError, match="Pusher has no model input"):
        model_to_push(None, infra)
    infra.has_model = 1
    assert model_to_push(None, infra) == os.path.join(infra.uri, "stamped_model")
