"""`xstilts data download` against a local HTTP server (Range-capable) serving the benchmark samples as a
mirror: layout, checksums, resume, corruption, re-runs, offline and unreachable hosts, the source table."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from xstilts.data import sources
from xstilts.data.download import MANIFEST, ChecksumMismatch, Unreachable, download, mirrored
from xstilts.errors import XstiltsError

SAMPLES = Path("/work/shared/samples")
TATOEBA = SAMPLES / "tatoeba" / "laser_v1"
XNLI = SAMPLES / "xnli" / "hf_xnli_all_languages"
PAWSX = SAMPLES / "pawsx" / "hf_paws-x"
PANX = SAMPLES / "panx" / "hf_xtreme_PAN-X"
LAREQA = SAMPLES / "lareqa" / "hf_xquad_r"

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="needs /work/shared/samples")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Server:
    """Serves files below ``folder`` with HTTP Range support; records (path, Range header, bytes sent)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.requests: list[tuple[str, str | None, int]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                path = server.folder / urlsplit(self.path).path.lstrip("/")
                if not path.is_file():
                    self.send_error(404)
                    server.requests.append((self.path, self.headers.get("Range"), 0))
                    return
                data = path.read_bytes()
                wanted = self.headers.get("Range")
                start = 0
                if wanted:
                    start = int(wanted.removeprefix("bytes=").split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.end_headers()
                        server.requests.append((self.path, wanted, 0))
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                server.requests.append((self.path, wanted, len(body)))

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def put(mirror: Path, url: str, data: bytes) -> None:
    """Place ``data`` where a mirror serves ``url``: <mirror>/<host>/<path>."""
    path = mirror / mirrored(url, "x").removeprefix("x/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def tar_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def tree(folder: Path, prefix: str) -> dict[str, bytes]:
    return {f"{prefix}{p.relative_to(folder).as_posix()}": p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


TATOEBA_CODES = ("ara", "cmn", "deu", "jpn")  # the four pairs in the samples (complete LASER files)


@pytest.fixture
def online(monkeypatch):
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "XSTILTS_DATA_MIRROR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def mirror(tmp_path, monkeypatch, online):
    """A "test" benchmark: the real Tatoeba entries (with their known sha256) for the sampled pairs, and
    archives built from the samples under the real XNLI, PAWS-X, PAN-X and LAReQA URLs."""
    folder = tmp_path / "mirror"
    tatoeba = [s for s in sources.BENCHMARKS["xtreme"]["tatoeba"]
               if s.file_name.split(".")[1].split("-")[0] in TATOEBA_CODES]
    assert len(tatoeba) == 8 and all(s.sha256 for s in tatoeba)
    for source in tatoeba:
        put(folder, source.url, (TATOEBA / source.file_name).read_bytes())
    xnli = replace(sources.XNLI[0], sha256=None, size=None)
    put(folder, xnli.url, zip_of({**tree(XNLI / "XNLI-1.0", "XNLI-1.0/"), "__MACOSX/XNLI-1.0/._x": b"junk"}))
    xnli_mt = replace(sources.XNLI[1], sha256=None, size=None)  # a second zip extracted into the same folder
    put(folder, xnli_mt.url, zip_of(tree(XNLI / "XNLI-MT-1.0", "XNLI-MT-1.0/")))
    pawsx = replace(sources.PAWSX[0], sha256=None, size=None)
    put(folder, pawsx.url, tar_of(tree(PAWSX / "x-final", "x-final/")))
    panx = replace(sources.BENCHMARKS["xtreme"]["panx"][0], nested=("en", "de"))
    inner = {f"{lang}.tar.gz": tar_of(tree(PANX / lang, "")) for lang in ("en", "de", "zh")}
    put(folder, panx.url, tar_of(inner))
    lareqa = sources.LAREQA[0]
    put(folder, lareqa.url, zip_of({"lareqa-master/README.md": b"readme\n",
                                    **tree(LAREQA, "lareqa-master/xquad-r/")}))
    table = {"tatoeba": tatoeba, "xnli": [xnli, xnli_mt], "pawsx": [pawsx], "panx": [panx], "lareqa": [lareqa]}
    monkeypatch.setitem(sources.BENCHMARKS, "test", table)
    server = Server(folder)
    yield server
    server.close()


def run(root: Path, server: Server, **kwargs):
    return download("test", root, mirror=server.url, quiet=True, **kwargs)


def test_fresh_download_lays_out_files_where_readers_look(tmp_path, mirror):
    root = tmp_path / "data"
    outcome = run(root, mirror)
    assert len(outcome.fetched) == 13 and outcome.cached == []
    for code in TATOEBA_CODES:
        for side in (code, "eng"):
            name = f"tatoeba.{code}-eng.{side}"
            assert (root / "tatoeba" / name).read_bytes() == (TATOEBA / name).read_bytes()
    # Archives extracted as-is below the task folder (the shared layout), nested PAN-X per language.
    assert (root / "xnli/XNLI-1.0/xnli.test.tsv").read_bytes() == (XNLI / "XNLI-1.0/xnli.test.tsv").read_bytes()
    assert (root / "pawsx/x-final/de/translated_train.tsv").read_bytes() == \
        (PAWSX / "x-final/de/translated_train.tsv").read_bytes()
    for lang in ("en", "de"):
        for split in ("train", "dev", "test"):
            assert (root / "panx" / lang / split).read_bytes() == (PANX / lang / split).read_bytes()
    assert not (root / "panx/zh").exists()  # only the table's languages
    assert (root / "lareqa/xquad-r/zh.json").read_bytes() == (LAREQA / "zh.json").read_bytes()
    assert not (root / "lareqa/lareqa-master").exists()
    assert (root / "xnli/XNLI-MT-1.0/multinli/multinli.train.de.tsv").read_bytes() == \
        (XNLI / "XNLI-MT-1.0/multinli/multinli.train.de.tsv").read_bytes()
    assert not (root / "xnli/__MACOSX").exists()
    assert not list(root.rglob("*.part"))


def test_checksums_recorded_next_to_each_file(tmp_path, mirror):
    root = tmp_path / "data"
    run(root, mirror)
    manifest = json.loads((root / "tatoeba" / MANIFEST).read_text())
    deu = (TATOEBA / "tatoeba.deu-eng.deu").read_bytes()
    record = manifest["files"]["tatoeba.deu-eng.deu"]
    assert record["sha256"] == sha256(deu) and record["size"] == len(deu) == 57121
    # The table's known sum (from the official checksums) is the sum of the real LASER file.
    assert record["sha256"] == "edfa6f75a42554df388f45891735d5e4214158a99def4b73b5908af4a3054551"
    archives = json.loads((root / "xnli/.archives" / MANIFEST).read_text())
    served = (mirror.folder / "dl.fbaipublicfiles.com/XNLI/XNLI-1.0.zip").read_bytes()
    assert archives["files"]["XNLI-1.0.zip"]["sha256"] == sha256(served)
    assert archives["extracted"]["XNLI-1.0.zip"]["files"]["XNLI-1.0/xnli.dev.tsv"] == \
        (XNLI / "XNLI-1.0/xnli.dev.tsv").stat().st_size


def test_second_run_downloads_nothing(tmp_path, mirror):
    root = tmp_path / "data"
    run(root, mirror)
    before = len(mirror.requests)
    outcome = run(root, mirror)
    assert len(mirror.requests) == before
    assert outcome.fetched == [] and outcome.extracted == [] and len(outcome.cached) == 13


def test_truncated_part_resumes_with_range(tmp_path, mirror):
    root = tmp_path / "data"
    data = (TATOEBA / "tatoeba.deu-eng.deu").read_bytes()
    part = root / "tatoeba" / "tatoeba.deu-eng.deu.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:20000])
    run(root, mirror)
    (hit,) = [r for r in mirror.requests if r[0].endswith("tatoeba.deu-eng.deu")]
    assert hit[1] == "bytes=20000-" and hit[2] == len(data) - 20000 == 37121
    assert (root / "tatoeba/tatoeba.deu-eng.deu").read_bytes() == data
    assert not part.exists()


def test_part_of_a_different_file_is_fetched_again_from_the_start(tmp_path, mirror):
    root = tmp_path / "data"
    data = (TATOEBA / "tatoeba.deu-eng.deu").read_bytes()
    part = root / "tatoeba" / "tatoeba.deu-eng.deu.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * 1000)  # garbage: the resumed file fails the known sum, so start over once
    run(root, mirror)
    hits = [r for r in mirror.requests if r[0].endswith("tatoeba.deu-eng.deu")]
    assert [(h[1], h[2]) for h in hits] == [("bytes=1000-", len(data) - 1000), (None, len(data))]
    assert (root / "tatoeba/tatoeba.deu-eng.deu").read_bytes() == data


def test_corrupted_files_are_detected_and_restored(tmp_path, mirror):
    root = tmp_path / "data"
    run(root, mirror)
    target = root / "tatoeba/tatoeba.cmn-eng.cmn"
    good = target.read_bytes()
    target.write_bytes(bytes([good[0] ^ 1]) + good[1:])  # same size, one bit flipped
    archive = root / "pawsx/.archives/x-final.tar.gz"
    archive.write_bytes(archive.read_bytes()[:100])  # a damaged archive
    extracted = root / "xnli/XNLI-1.0/xnli.dev.tsv"
    extracted.write_bytes(extracted.read_bytes()[:10])  # a truncated extracted file
    before = len(mirror.requests)
    outcome = run(root, mirror)
    fetched_now = mirror.paths()[before:]
    assert sorted(p.rsplit("/", 1)[1] for p in fetched_now) == ["tatoeba.cmn-eng.cmn", "x-final.tar.gz"]
    assert target.read_bytes() == good
    assert extracted.read_bytes() == (XNLI / "XNLI-1.0/xnli.dev.tsv").read_bytes()  # from the kept archive
    assert "xnli/.archives/XNLI-1.0.zip" in outcome.extracted


def test_checksum_mismatch_is_a_clear_error(tmp_path, mirror):
    root = tmp_path / "data"
    wrong = b"not the LASER file\n"
    put(mirror.folder, next(s.url for s in sources.BENCHMARKS["test"]["tatoeba"]
                            if s.file_name == "tatoeba.jpn-eng.jpn"), wrong)
    with pytest.raises(ChecksumMismatch) as error:
        run(root, mirror)
    message = str(error.value)
    assert str(root / "tatoeba/tatoeba.jpn-eng.jpn") in message
    assert sha256(wrong) in message
    assert "56040bd6949170a631039d9f8f4c6440db8761b0065c9686feba55c99a320d46" in message
    assert "--ignore-known-checksums" in message
    assert not (root / "tatoeba/tatoeba.jpn-eng.jpn").exists()
    assert not (root / "tatoeba/tatoeba.jpn-eng.jpn.part").exists()
    # Accepting it is an explicit choice.
    run(root, mirror, verify_known=False)
    assert (root / "tatoeba/tatoeba.jpn-eng.jpn").read_bytes() == wrong
    # A later run that checks the sums again says so, and neither deletes nor re-fetches the accepted file.
    before = len(mirror.requests)
    with pytest.raises(ChecksumMismatch, match="accepted with --ignore-known-checksums"):
        run(root, mirror)
    assert len(mirror.requests) == before
    assert (root / "tatoeba/tatoeba.jpn-eng.jpn").read_bytes() == wrong


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_host_fails_fast_with_what_to_put_where(tmp_path, mirror, monkeypatch):
    import urllib.request

    root = tmp_path / "data"
    dead = f"http://127.0.0.1:{_closed_port()}"
    tried: list[str] = []
    real_urlopen = urllib.request.urlopen

    def urlopen(request, *args, **kwargs):
        tried.append(request.full_url)
        return real_urlopen(request, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    with pytest.raises(Unreachable) as error:
        download("test", root, mirror=dead, quiet=True)
    # Fast: it stops at the first file it cannot fetch, neither retrying it nor trying the other twelve.
    assert len(tried) == 1 and tried[0].startswith(dead)
    message = str(error.value)
    # Every file is listed as "URL -> path", archives at the path the next run looks for them.
    assert message.count("\n    -> ") == 13
    assert f"{dead}/raw.githubusercontent.com/facebookresearch/LASER/" in message
    assert f"-> {root / 'xnli/.archives/XNLI-1.0.zip'}" in message
    assert "AmazonPhotos.zip" in message  # PAN-X's hint names the manual route


def test_offline_fails_at_once_and_files_put_by_hand_are_used(tmp_path, mirror, monkeypatch):
    root = tmp_path / "data"
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(Unreachable) as error:
        run(root, mirror)
    assert mirror.requests == []
    assert f"-> {root / 'tatoeba/tatoeba.ara-eng.ara'}" in str(error.value)
    # Put every file where the message says (here: copied from the mirror), and the next run fetches nothing.
    for source in (s for entry in sources.BENCHMARKS["test"].values() for s in entry):
        dest = root / source.download_path
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(mirror.folder / mirrored(source.url, "x").removeprefix("x/"), dest)
    outcome = run(root, mirror)
    assert mirror.requests == [] and len(outcome.cached) == 13
    assert (root / "panx/de/dev").read_bytes() == (PANX / "de/dev").read_bytes()


def test_a_missing_url_is_reported_and_the_rest_is_fetched(tmp_path, mirror):
    root = tmp_path / "data"
    (mirror.folder / "storage.googleapis.com/paws/pawsx/x-final.tar.gz").unlink()
    with pytest.raises(XstiltsError) as error:
        run(root, mirror)
    assert "HTTP 404" in str(error.value) and str(root / "pawsx/.archives/x-final.tar.gz") in str(error.value)
    assert (root / "xnli/XNLI-1.0/xnli.dev.tsv").is_file()


def test_manual_data_says_what_to_fetch_and_where(tmp_path, online):
    root = tmp_path / "data"
    with pytest.raises(XstiltsError) as error:
        download("intermediate", root, ["ccg"], quiet=True)
    assert "LDC2005T13" in str(error.value) and str(root / "ccg") in str(error.value)
    (root / "ccg/ccgbank_1_1/data/AUTO").mkdir(parents=True)
    assert download("intermediate", root, ["ccg"], quiet=True).manual == []


def test_unknown_benchmark_or_task_suggests(tmp_path):
    with pytest.raises(XstiltsError, match="did you mean 'xtreme-r'"):
        download("xtreme_r", tmp_path)
    with pytest.raises(XstiltsError, match="did you mean 'tatoeba'"):
        download("xtreme", tmp_path, ["tatoba"])


LAYOUT_FOLDERS = {"xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc2018", "tatoeba", "xcopa",
                  "lareqa", "mewslix", "xglue", "mnli", "snli", "anli", "qqp", "squad", "hellaswag",
                  "commonsenseqa", "cosmosqa", "socialiqa", "ccg"}


def test_source_table_follows_the_layout():
    for benchmark, table in sources.BENCHMARKS.items():
        for task, entry in table.items():
            assert task in LAYOUT_FOLDERS, (benchmark, task)
            if isinstance(entry, sources.ManualSource):
                assert entry.expect and all(p.split("/")[0] == task for p in entry.expect)
                continue
            for source in entry:
                assert source.url.startswith("https://") and source.kind in ("file", "zip", "tar")
                assert source.target.split("/")[0] == task, source
                assert source.sha256 is None or len(source.sha256) == 64
                if task in ("udpos", "bucc2018"):  # hub copies of these differ from the official data
                    assert "huggingface" not in source.url
    xtreme = sources.BENCHMARKS["xtreme"]
    assert len(xtreme["tatoeba"]) == 2 * 36 and len(xtreme["xquad"]) == 11 and len(xtreme["bucc2018"]) == 8
    assert len(xtreme["panx"][0].nested) == 40 and len(sources.BENCHMARKS["xtreme-r"]["panx"][0].nested) == 48


def test_cli_unreachable_exits_2_with_the_list(tmp_path, online):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    dead = f"http://127.0.0.1:{_closed_port()}"
    result = subprocess.run(
        [sys.executable, "-m", "xstilts", "data", "download", "xtreme", "--tasks", "squad,xquad",
         "--data-root", str(tmp_path), "--mirror", dead, "--quiet"],
        capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("    -> ") == 13  # 2 SQuAD + 11 XQuAD files
    assert f"-> {tmp_path / 'squad/train-v1.1.json'}" in result.stderr


# ---------------------------------------------------------------- COPA (XCOPA's English data, XTREME-R)

COPA_ZIP = next(s for s in sources.BENCHMARKS["xtreme-r"]["xcopa"] if s.file_name == "COPA.zip")


def test_copa_zip_is_in_xtreme_r_with_the_recorded_sum():
    assert COPA_ZIP.url == "https://dl.fbaipublicfiles.com/glue/superglue/data/v2/COPA.zip"  # download_data.sh
    assert (COPA_ZIP.kind, COPA_ZIP.target) == ("zip", "xcopa")  # extracted as-is: xcopa/COPA/*.jsonl
    assert COPA_ZIP.download_path == "xcopa/.archives/COPA.zip"
    # Hugging Face's super_glue script records this size and sum for the URL (as for the other known sums)
    assert COPA_ZIP.size == 43986
    assert COPA_ZIP.sha256 == "405906cddac74bc1e1ce8220f1107d1025b66a25ef10149d91b10bb30651125f"


def test_copa_zip_extracts_where_the_copa_task_reads(tmp_path, monkeypatch, online):
    from xstilts.tasks import get_task

    row = {"premise": "The man turned on the faucet.", "choice1": "The toilet filled with water.",
           "choice2": "Water flowed from the spout.", "question": "effect", "idx": 0, "label": 1}
    line = (json.dumps(row) + "\n").encode()
    folder = tmp_path / "mirror"
    # The archive's layout (COPA/{train,val,test}.jsonl); the bytes are ours, so the known sum is left out.
    put(folder, COPA_ZIP.url, zip_of({"COPA/train.jsonl": line * 2, "COPA/val.jsonl": line,
                                      "COPA/test.jsonl": line}))
    monkeypatch.setitem(sources.BENCHMARKS, "test", {"xcopa": [replace(COPA_ZIP, sha256=None, size=None)]})
    server = Server(folder)
    try:
        root = tmp_path / "data"
        outcome = download("test", root, mirror=server.url, quiet=True)
    finally:
        server.close()
    assert outcome.extracted == ["xcopa/.archives/COPA.zip"]
    assert len(get_task("copa").load("train", "en", root)) == 2
    dev = get_task("copa").load("dev", "en", root)
    assert [e["context"] for e in dev] == ["The man turned on the faucet. What was the effect?"]


def test_offline_xcopa_lists_the_copa_zip_and_rejects_another_file_put_there(tmp_path, monkeypatch, online):
    root = tmp_path / "data"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(Unreachable) as error:
        download("xtreme-r", root, ["xcopa"], quiet=True)
    message = str(error.value)
    assert message.count("\n    -> ") == 11 * 2 + 1  # val and test of 11 languages, and COPA.zip
    assert f"{COPA_ZIP.url}\n    -> {root / 'xcopa/.archives/COPA.zip'}" in message
    # A file put there by hand is checked against the known sum: another zip is still missing.
    (root / "xcopa/.archives").mkdir(parents=True)
    (root / "xcopa/.archives/COPA.zip").write_bytes(zip_of({"COPA/val.jsonl": b"{}\n"}))
    with pytest.raises(Unreachable, match="COPA.zip"):
        download("xtreme-r", root, ["xcopa"], quiet=True)
