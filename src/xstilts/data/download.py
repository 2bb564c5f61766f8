"""Fetch the official files of a benchmark into the data root, checked and resumable.

- Every fetched file's sha256 is recorded in ``.xstilts-manifest.json`` in the folder that holds it (and
  checked against the source table's sum where it has one). A later run hashes the file again: a file that no
  longer matches its record is fetched again; a complete one is left alone.
- Bytes go to ``<file>.part`` and are renamed into place only when complete and verified; an interrupted
  ``.part`` is continued with an HTTP Range request.
- Archives are kept in ``<task folder>/.archives/`` and extracted as-is into the task folder; what was
  extracted is recorded so that a missing or truncated extracted file is put back from the archive.
- Offline (``HF_HUB_OFFLINE`` / ``HF_DATASETS_OFFLINE``) or with an unreachable host it stops at once and
  lists which URL to save at which path; a file put there by hand is verified and used by the next run.
- ``XSTILTS_DATA_MIRROR`` (or ``mirror=``) fetches ``<mirror>/<host>/<path>`` instead of
  ``https://<host>/<path>``: a mirror is a folder tree of the official URLs, e.g. served by any HTTP server.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from xstilts import __version__
from xstilts.atomic import write_json_atomic
from xstilts.data.sources import ManualSource, Source, select
from xstilts.errors import DataError, XstiltsError

MANIFEST = ".xstilts-manifest.json"
MIRROR_ENV = "XSTILTS_DATA_MIRROR"
OFFLINE_ENVS = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
CHUNK = 1 << 20


class ChecksumMismatch(DataError):
    """A downloaded file is not the file the source table names."""


class Unreachable(XstiltsError):
    """The network or a host cannot be reached; the message lists what to put where by hand."""


def is_offline() -> bool:
    return any(os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on") for name in OFFLINE_ENVS)


def mirrored(url: str, mirror: str | None) -> str:
    """``https://host/a/b?q`` -> ``<mirror>/host/a/b`` (the query only selects a download mode upstream)."""
    if not mirror:
        return url
    parts = urlsplit(url)
    return f"{mirror.rstrip('/')}/{parts.netloc}{parts.path}"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


class Manifest:
    """``<folder>/.xstilts-manifest.json``: name -> {url, sha256, size} of the fetched files in that folder,
    plus, for archives, what their extraction left where."""

    def __init__(self, folder: Path):
        self.path = folder / MANIFEST
        self.data: dict[str, Any] = {"files": {}, "extracted": {}}
        if self.path.exists():
            try:
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                loaded = None  # a damaged manifest only costs re-hashing: every file is checked again
            if isinstance(loaded, dict):
                self.data["files"] = dict(loaded.get("files") or {})
                self.data["extracted"] = dict(loaded.get("extracted") or {})

    def file(self, name: str) -> dict[str, Any] | None:
        return self.data["files"].get(name)

    def record_file(self, name: str, url: str, sha256: str, size: int) -> None:
        self.data["files"][name] = {"url": url, "sha256": sha256, "size": size}
        self._save()

    def extraction(self, name: str) -> dict[str, Any] | None:
        return self.data["extracted"].get(name)

    def record_extraction(self, name: str, sha256: str, files: dict[str, int]) -> None:
        self.data["extracted"][name] = {"sha256": sha256, "files": files}
        self._save()

    def _save(self) -> None:
        write_json_atomic(self.path, {"xstilts": __version__, **self.data})


@dataclass
class Outcome:
    """What a run did: files fetched, found complete, manual data missing (with instructions)."""

    fetched: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    extracted: list[str] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


# --- one file --------------------------------------------------------------------------------------------------

Progress = Callable[[str, int | None], Callable[[int], None]]  # (label, total) -> advance(n_bytes)


def _no_progress(label: str, total: int | None) -> Callable[[int], None]:
    return lambda n: None


def is_complete(source: Source, root: Path, verify_known: bool = True) -> bool:
    """The downloaded file is there and matches its record (and the table's sum); hashes the file.

    A file without a record was put there by hand (the offline instructions say where): it is accepted, and
    recorded, if it matches the table's sum, or as given where the table has none."""
    path = root / source.download_path
    if not path.is_file():
        return False
    actual = sha256_file(path)
    manifest = Manifest(path.parent)
    record = manifest.file(path.name)
    if verify_known and source.sha256 and actual != source.sha256:
        return False
    if record is None:
        manifest.record_file(path.name, source.url, actual, path.stat().st_size)
        return True
    return record.get("sha256") == actual


def fetch(source: Source, root: Path, *, mirror: str | None = None, timeout: float = 20.0,
          verify_known: bool = True, progress: Progress = _no_progress) -> bool:
    """Make ``root / source.download_path`` a complete, verified copy. Returns True if bytes were fetched."""
    path = root / source.download_path
    if is_complete(source, root, verify_known):
        return False
    manifest = Manifest(path.parent)
    record = manifest.file(path.name)
    if path.is_file() and record and source.sha256 and record.get("sha256") != source.sha256 \
            and sha256_file(path) == record.get("sha256"):
        # Intact, but accepted earlier against the table's sum: keep the user's choice visible, never delete it.
        raise ChecksumMismatch(path, f"recorded sha256 {record.get('sha256')} is not the source table's "
                                     f"{source.sha256} (accepted with --ignore-known-checksums?): pass that "
                                     "option again, or delete the file to fetch the official one")
    # Corrupted since it was recorded, or not the file the table names: fetch it again.
    path.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    url = mirrored(source.url, mirror)
    part = path.with_name(path.name + ".part")
    sha = _download(url, part, source, timeout, progress)
    if verify_known and source.sha256 and sha != source.sha256:
        part.unlink(missing_ok=True)
        raise ChecksumMismatch(
            path, f"sha256 {sha} of the file from {url} is not the expected {source.sha256} (source table, "
                  f"{source.url}). The server sent a different file: check the URL or mirror; if the official "
                  "file really changed, run again with --ignore-known-checksums to accept it")
    _fsync(part)
    os.replace(part, path)
    manifest.record_file(path.name, source.url, sha, path.stat().st_size)
    return True


def _download(url: str, part: Path, source: Source, timeout: float, progress: Progress) -> str:
    """Append the missing bytes to ``part`` (Range from its current size) and return the sha256 of all of it.
    A resumed file that fails the table's sum is fetched once more from the start."""
    offset = part.stat().st_size if part.exists() else 0
    sha = _transfer(url, part, offset, source.size, timeout, progress)
    if offset and source.sha256 and sha != source.sha256:
        part.unlink()
        sha = _transfer(url, part, 0, source.size, timeout, progress)
    return sha


def _transfer(url: str, part: Path, offset: int, size: int | None, timeout: float, progress: Progress) -> str:
    digest = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": f"xstilts/{__version__}"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # nothing after offset: the .part already holds the whole file
            return sha256_file(part)
        raise
    with response:
        if offset and response.status == 206:
            with open(part, "rb") as handle:  # the hash covers the bytes already there
                while block := handle.read(CHUNK):
                    digest.update(block)
            mode, done = "ab", offset
        else:  # the server ignored the Range header: start over
            mode, done = "wb", 0
        total = _total_length(response, done) or size
        advance = progress(part.name[: -len(".part")], total)
        advance(done)
        with open(part, mode) as handle:
            while block := response.read(CHUNK):
                handle.write(block)
                digest.update(block)
                done += len(block)
                advance(len(block))
    if total is not None and done < total:
        raise http.client.IncompleteRead(b"", total - done)
    return digest.hexdigest()


def _total_length(response: Any, offset: int) -> int | None:
    content_range = response.headers.get("Content-Range", "")
    if "/" in content_range and content_range.rsplit("/", 1)[1].strip().isdigit():
        return int(content_range.rsplit("/", 1)[1])
    length = response.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


# --- archives --------------------------------------------------------------------------------------------------

def extraction_complete(source: Source, root: Path) -> bool:
    archive = root / source.download_path
    record = Manifest(archive.parent).extraction(archive.name)
    file_record = Manifest(archive.parent).file(archive.name)
    if not record or not file_record or record.get("sha256") != file_record.get("sha256"):
        return False
    target = root / source.target
    return all((target / rel).is_file() and (target / rel).stat().st_size == size
               for rel, size in record["files"].items())


def extract(source: Source, root: Path) -> None:
    """Extract a verified archive into its task folder as-is (minus ``strip``), through a temporary folder so
    a crash never leaves half a tree; then record what landed where."""
    archive = root / source.download_path
    target = root / source.target
    with tempfile.TemporaryDirectory(dir=archive.parent, prefix=".extract-") as tmp:
        staging = Path(tmp) / "out"
        staging.mkdir()
        if source.nested:
            outer = Path(tmp) / "outer"
            outer.mkdir()
            _unpack(archive, outer, "")
            for code in source.nested:
                inner = _find(outer, f"{code}.tar.gz", archive)
                (staging / code).mkdir()
                _unpack(inner, staging / code, "")
        else:
            _unpack(archive, staging, source.strip)
        files = {str(p.relative_to(staging).as_posix()): p.stat().st_size
                 for p in sorted(staging.rglob("*")) if p.is_file()}
        if not files:
            raise DataError(archive, f"nothing to extract (strip prefix {source.strip!r}); delete the file and "
                                     "run again")
        # File by file, so archives that share a folder (XNLI's two zips, two UD releases) never undo each other.
        for rel in files:
            destination = target / rel
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, destination)
    Manifest(archive.parent).record_extraction(
        archive.name, Manifest(archive.parent).file(archive.name)["sha256"], files)


def _find(folder: Path, name: str, archive: Path) -> Path:
    found = sorted(folder.rglob(name))
    if not found:
        raise DataError(archive, f"the archive holds no {name}; the language list of the source table and the "
                                 "archive disagree")
    return found[0]


def _unpack(archive: Path, out: Path, strip: str) -> None:
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as bundle:
                for info in bundle.infolist():
                    rel = _member_path(info.filename, strip)
                    if rel is None or info.is_dir():
                        continue
                    dest = out / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with bundle.open(info) as src, open(dest, "wb") as dst:
                        shutil.copyfileobj(src, dst, CHUNK)
            return
        with tarfile.open(archive, "r:*") as bundle:
            members = []
            for member in bundle.getmembers():
                rel = _member_path(member.name, strip)
                if rel is None or not (member.isfile() or member.isdir()):
                    continue  # links and devices never come out of a data archive
                member.name = rel
                members.append(member)
            bundle.extractall(out, members=members, filter="data")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as error:
        raise DataError(archive, f"cannot extract ({error}); delete it and run again to fetch it anew") from error


def _member_path(name: str, strip: str) -> str | None:
    """The member's path below the target, or None for members outside ``strip`` or unsafe paths."""
    if strip:
        if not name.startswith(strip):
            return None
        name = name[len(strip):]
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts:
        return None
    if path.parts[0] == "__MACOSX" or path.name == ".DS_Store":  # macOS zip debris, not data
        return None
    return path.as_posix()


# --- a benchmark -----------------------------------------------------------------------------------------------

def _sources(table: dict[str, list[Source] | ManualSource]) -> Iterator[tuple[str, Source]]:
    for task, entry in table.items():
        if isinstance(entry, list):
            for source in entry:
                yield task, source


def _missing_manual(table: dict[str, list[Source] | ManualSource], root: Path) -> list[str]:
    notes = []
    for task, entry in table.items():
        if isinstance(entry, ManualSource) and not all((root / p).exists() for p in entry.expect):
            notes.append(f"{task} ({entry.what}): " + entry.instructions.replace("{root}", str(root)))
    return notes


def what_to_put_where(pending: list[Source], root: Path, mirror: str | None) -> str:
    lines = []
    for source in pending:
        lines.append(f"  {mirrored(source.url, mirror)}\n    -> {root / source.download_path}")
        if source.hint:
            lines.append(f"    ({source.hint})")
    return "\n".join(lines)


def download(benchmark: str, root: Path, tasks: list[str] | None = None, *, mirror: str | None = None,
             timeout: float = 20.0, verify_known: bool = True, quiet: bool = False,
             log: Callable[[str], None] = lambda message: None) -> Outcome:
    """Fetch (or find complete) every file of ``benchmark`` (or of ``tasks``) below ``root``."""
    table = select(benchmark, tasks)
    mirror = mirror if mirror is not None else (os.environ.get(MIRROR_ENV) or None)
    root = Path(root)
    outcome = Outcome()
    sources = list(dict.fromkeys(source for _, source in _sources(table)))  # tasks may share a file
    pending = [s for s in sources if not is_complete(s, root, verify_known)]
    outcome.cached = [s.download_path for s in sources if s not in pending]
    if pending and is_offline():
        raise Unreachable(
            f"offline ({' or '.join(OFFLINE_ENVS)} is set) and {len(pending)} file(s) of {benchmark} are missing. "
            "Download them elsewhere and put each at the path shown, then run again (they are verified):\n"
            + what_to_put_where(pending, root, mirror))
    errors: list[str] = []
    with _progress(quiet) as progress:
        for index, source in enumerate(pending):
            try:
                fetch(source, root, mirror=mirror, timeout=timeout, verify_known=verify_known, progress=progress)
                outcome.fetched.append(source.download_path)
                log(f"fetched {source.download_path}")
            except urllib.error.HTTPError as error:
                errors.append(f"HTTP {error.code} {error.reason} for {mirrored(source.url, mirror)}")
                outcome.failed.append(source.download_path)
            except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
                # The network, not this one file: stop rather than wait out every remaining host.
                reason = getattr(error, "reason", error)
                left = pending[index:]
                raise Unreachable(
                    f"cannot fetch {mirrored(source.url, mirror)}: {reason}. Stopped at once; run again to resume "
                    f"(partial files continue where they stopped), or download these {len(left)} file(s) "
                    "elsewhere and put each at the path shown:\n" + what_to_put_where(left, root, mirror)
                ) from None
    for source in sources:
        if source.kind != "file" and source.download_path not in outcome.failed \
                and not extraction_complete(source, root):
            extract(source, root)
            outcome.extracted.append(source.download_path)
            log(f"extracted {source.download_path} -> {root / source.target}")
    outcome.manual = _missing_manual(table, root)
    if errors or outcome.manual:
        failed = [s for s in sources if s.download_path in outcome.failed]
        parts = []
        if errors:
            parts.append("some files could not be fetched:\n  " + "\n  ".join(errors)
                         + "\nput them by hand at:\n" + what_to_put_where(failed, root, mirror))
        if outcome.manual:
            parts.append("data to fetch by hand:\n  " + "\n  ".join(outcome.manual))
        raise XstiltsError(f"{benchmark}: " + "\n".join(parts)
                           + f"\n({len(outcome.fetched)} fetched, {len(outcome.cached)} already complete)")
    return outcome


@contextlib.contextmanager
def _progress(quiet: bool) -> Iterator[Progress]:
    if quiet:
        yield _no_progress
        return
    from rich import progress as rich_progress
    from rich.console import Console

    bars = rich_progress.Progress(rich_progress.TextColumn("{task.description}"), rich_progress.BarColumn(),
                                  rich_progress.DownloadColumn(), rich_progress.TransferSpeedColumn(),
                                  rich_progress.TimeRemainingColumn(), console=Console(stderr=True), transient=False)

    def start(label: str, total: int | None) -> Callable[[int], None]:
        task = bars.add_task(label, total=total)
        return lambda n: bars.advance(task, n)

    with bars:
        yield start
