"""Publishing a folder atomically (xstilts.atomic.publish_folder): a crash at any step leaves the old folder or
the new one, never a mix, and its leftovers are cleaned up by the next publish."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from xstilts.atomic import publish_folder, published_folder, remove_published_folder

SRC = str(Path(__file__).resolve().parents[1] / "src")
OLD = {"a.txt": "old a", "sub/b.txt": "old b", "only-old.txt": "old"}
NEW = {"a.txt": "new a", "sub/b.txt": "new b"}
THIRD = {"a.txt": "third a"}


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def contents(folder: Path | None) -> dict[str, str] | None:
    if folder is None:
        return None
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def publish(destination: Path, files: dict[str, str], **options) -> None:
    with publish_folder(destination, **options) as staging:
        write(staging, files)


def test_publishes_a_new_folder_readable_by_everyone(tmp_path):
    destination = tmp_path / "out"
    with publish_folder(destination) as staging:
        assert staging.parent == tmp_path and staging.is_dir() and not any(staging.iterdir())
        write(staging, NEW)
        os.chmod(staging / "a.txt", 0o600)  # as safetensors writes its files
    assert contents(published_folder(destination)) == NEW
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left
    assert stat.S_IMODE((destination / "a.txt").stat().st_mode) & 0o444 == 0o444
    assert stat.S_IMODE(destination.stat().st_mode) & 0o755 == 0o755


def test_replaces_an_existing_folder_as_a_whole(tmp_path):
    destination = tmp_path / "out"
    publish(destination, OLD)
    publish(destination, NEW)
    assert contents(published_folder(destination)) == NEW  # only-old.txt is gone: not a merge
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_an_error_while_writing_leaves_the_old_folder(tmp_path):
    destination = tmp_path / "out"
    publish(destination, OLD)
    with pytest.raises(RuntimeError, match="disk full"), publish_folder(destination) as staging:
        write(staging, {"a.txt": "new a"})
        raise RuntimeError("disk full")
    assert contents(published_folder(destination)) == OLD
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_an_error_while_writing_a_first_version_publishes_nothing(tmp_path):
    with pytest.raises(RuntimeError), publish_folder(tmp_path / "out") as staging:
        write(staging, NEW)
        raise RuntimeError("killed")
    assert published_folder(tmp_path / "out") is None
    assert list(tmp_path.iterdir()) == []


def test_without_replace_the_first_version_stays(tmp_path):
    destination = tmp_path / "cache"
    publish(destination, OLD, replace=False)
    publish(destination, NEW, replace=False)
    assert contents(published_folder(destination)) == OLD
    # Another process publishes while this one writes: theirs stays, this version is dropped.
    other = tmp_path / "other"
    with publish_folder(other, replace=False) as staging:
        write(staging, NEW)
        publish(other, OLD, replace=False)
    assert contents(published_folder(other)) == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "other"]


# A child process publishes NEW over OLD and is killed (os._exit: no clean-up runs, as with kill -9) at one
# step: while writing, just before or after each of the two renames, or while deleting the old version.
CHILD = """
import os, shutil, sys
from pathlib import Path
from xstilts.atomic import publish_folder

destination, crash = Path(sys.argv[1]), sys.argv[2]
real_rename, real_rmtree, renames = os.rename, shutil.rmtree, [0]

def rename(source, target):
    renames[0] += 1
    if crash == f"before-rename-{renames[0]}":
        os._exit(137)
    real_rename(source, target)
    if crash == f"after-rename-{renames[0]}":
        os._exit(137)

def rmtree(path, *args, **kwargs):
    if crash == "deleting-old" and Path(path).name.endswith(".old"):
        next(p for p in Path(path).rglob("*") if p.is_file()).unlink()
        os._exit(137)
    real_rmtree(path, *args, **kwargs)

os.rename, shutil.rmtree = rename, rmtree
with publish_folder(destination) as staging:
    (staging / "a.txt").write_text("new a")
    if crash == "writing":
        os._exit(137)
    (staging / "sub").mkdir()
    (staging / "sub" / "b.txt").write_text("new b")
"""


@pytest.mark.parametrize(("crash", "survivor"), [
    ("writing", OLD),
    ("before-rename-1", OLD),  # the new version is complete, but still temporary
    ("after-rename-1", OLD),  # only <out>.old is left: the last complete version
    ("before-rename-2", OLD),
    ("after-rename-2", NEW),  # <out> and <out>.old: <out> is the newer one
    ("deleting-old", NEW),  # a half-deleted <out>.old beside the new <out>
    ("none", NEW),
])
def test_a_crash_at_any_step_leaves_the_old_or_the_new_folder(tmp_path, crash, survivor):
    destination = tmp_path / "out"
    publish(destination, OLD)
    result = subprocess.run([sys.executable, "-c", CHILD, str(destination), crash], capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": SRC})
    assert result.returncode == (0 if crash == "none" else 137), result.stderr
    assert contents(published_folder(destination)) == survivor
    # The next publish cleans up whatever the crash left and publishes over the survivor.
    publish(destination, THIRD)
    assert contents(published_folder(destination)) == THIRD
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_leftovers_of_gone_processes_are_removed_others_kept(tmp_path):
    destination = tmp_path / "out"
    host = socket.gethostname()
    gone = [f"out.tmp-{host}-999999999-abc_12", "out.tmp-999999999"]  # this host's; the pid-only older form
    kept = [f"out.tmp-{host}-{os.getpid()}-xyz",  # this process's (another thread may be writing it)
            "out.tmp-another-host-999999999-abc",  # another host's: its pid means nothing here
            "outer.tmp-999999999"]  # another folder's
    for name in gone + kept:
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.txt").write_text("torn")
    assert published_folder(destination) is None  # readers ignore them, and clean up too
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
    for name in gone:
        (tmp_path / name).mkdir()
    publish(destination, NEW)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, "out"])


def test_remove_published_folder_leaves_no_version(tmp_path):
    destination = tmp_path / "state"
    publish(destination, OLD)
    (tmp_path / "state.old").mkdir()  # a crash after the swap, before its clean-up
    (tmp_path / "state.tmp-999999999").mkdir()  # a crash while writing
    remove_published_folder(destination)
    assert published_folder(destination) is None and list(tmp_path.iterdir()) == []
    remove_published_folder(destination)  # nothing there: nothing to do
