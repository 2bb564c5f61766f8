"""`xstilts data export-xtreme` against the files the unmodified official preprocessing made of the samples
(/work/shared/samples/official_preprocessing: byte for byte), and the XTREME task declarations."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xstilts.data import xtreme_export
from xstilts.errors import DataError, XstiltsError
from xstilts.tasks import get_task

SAMPLES = Path("/work/shared/samples")
OFFICIAL = SAMPLES / "official_preprocessing"
SRC = str(Path(__file__).resolve().parents[1] / "src")
pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="needs the shared real-format samples")

CASES = {
    "udpos": (SAMPLES / "udpos/ud_v2.5_es_gsd", OFFICIAL / "udpos_es_from_ud2.5_first25"),
    "panx": (SAMPLES / "panx/hf_xtreme_PAN-X", OFFICIAL / "panx_from_hf_dummy"),
    "pawsx": (SAMPLES / "pawsx/hf_paws-x", OFFICIAL / "pawsx_from_hf_dummy"),
}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xstilts", *args], capture_output=True, text=True,
                          env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})


@pytest.mark.parametrize("task", list(CASES))
def test_cli_export_reproduces_the_official_files_byte_for_byte(tmp_path, task):
    source, reference = CASES[task]
    result = run_cli("data", "export-xtreme", task, "--input", str(source), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    produced = {path.name: path.read_bytes() for path in (tmp_path / task).iterdir()}
    expected = {path.name: path.read_bytes() for path in reference.iterdir()}
    assert sorted(produced) == sorted(expected)
    for name, data in expected.items():
        assert produced[name] == data, name


def test_official_quirks_in_the_exported_bytes(tmp_path):
    out = tmp_path / "pawsx"
    xtreme_export.export("pawsx", CASES["pawsx"][0], out)
    # csv.writer: CRLF line ends; test files have 2 columns (no label); 4 rows each.
    test_de = (out / "test-de.tsv").read_bytes()
    assert test_de.count(b"\r\n") == 4 and all(line.count(b"\t") == 1 for line in test_de.splitlines())
    # A field with a double quote is CSV-quoted, the quote doubled (not in the samples: made here).
    raw = tmp_path / "raw" / "x-final" / "en"
    raw.mkdir(parents=True)
    (raw / "dev_2k.tsv").write_text('id\tsentence1\tsentence2\tlabel\n1\tHe said "hi" .\tOk .\t1\n')
    with pytest.raises(DataError, match="missing PAWS-X train file"):
        xtreme_export.export_pawsx(tmp_path / "raw", tmp_path / "q", languages=["en"])
    shutil.copy(raw / "dev_2k.tsv", raw / "train.tsv")
    shutil.copy(raw / "dev_2k.tsv", raw / "test_2k.tsv")
    xtreme_export.export_pawsx(tmp_path / "raw", tmp_path / "q", languages=["en"])
    assert (tmp_path / "q/dev-en.tsv").read_bytes() == b'"He said ""hi"" ."\tOk .\t1\r\n'
    # UD-POS test files: words only; the last line has a line end but no blank line after it.
    udpos_test = (OFFICIAL / "udpos_es_from_ud2.5_first25/test-es.tsv").read_bytes()
    assert b"\t" not in udpos_test and udpos_test.endswith(b".\n") and not udpos_test.endswith(b"\n\n")


def test_xnli_export(tmp_path):
    written = xtreme_export.export("xnli", SAMPLES / "xnli/hf_xnli_all_languages", tmp_path)
    # train-en from MNLI (4 rows) + 15 languages x (test, dev) = 31 files.
    assert len(written) == 31
    assert (tmp_path / "train-en.tsv").read_bytes().count(b"\r\n") == 4
    assert (tmp_path / "dev-de.tsv").read_bytes() == (
        b"und er hat gesagt, Mama ich bin daheim.\tEr rief seine Mutter an, sobald er aus dem Schulbus stieg."
        b"\tneutral\r\n"
    )
    assert (tmp_path / "test-de.tsv").read_bytes().count(b"\t") == 1


def test_export_errors(tmp_path):
    with pytest.raises(XstiltsError, match="no XTREME export for task 'tatoeba'"):
        xtreme_export.export("tatoeba", tmp_path, tmp_path / "out")
    with pytest.raises(XstiltsError, match="found no raw files"):
        xtreme_export.export("panx", tmp_path, tmp_path / "out")
    result = run_cli("data", "export-xtreme", "udpos", "--input", str(tmp_path / "absent"), "--out", str(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr and "absent" in result.stderr


# ------------------------------------------------------------------ task declarations


def test_official_language_counts():
    # benchmarks.md: XNLI 15; PAWS-X 7; UD-POS 33 / 38; PAN-X 40 / 48; XQuAD 11 / 12; MLQA 7; TyDiQA 9; BUCC 4;
    # Tatoeba 36 / 41; XCOPA 11; Mewsli-X 11; LAReQA 11.
    from xstilts.tasks.xtreme import XTREME_LANGUAGES, XTREME_R_LANGUAGES, benchmark_languages

    assert {task: len(langs) for task, langs in XTREME_LANGUAGES.items()} == {
        "pawsx": 7, "xnli": 15, "panx": 40, "udpos": 33, "bucc2018": 4, "tatoeba": 36, "xquad": 11, "mlqa": 7,
        "tydiqa": 9}
    assert {task: len(langs) for task, langs in XTREME_R_LANGUAGES.items()} == {
        "xnli": 15, "panx": 48, "udpos": 38, "tatoeba": 41, "xcopa": 11, "lareqa": 11, "mewslix": 11,
        "xquad": 12, "mlqa": 7, "tydiqa": 9}
    assert "en" not in benchmark_languages("xtreme", "tatoeba")
    assert get_task("udpos").languages("test") == XTREME_R_LANGUAGES["udpos"]
    assert get_task("udpos").main_metric == "f1" and "accuracy" in get_task("udpos").metrics
    with pytest.raises(XstiltsError, match="xtreme has no task 'xcopa'"):
        benchmark_languages("xtreme", "xcopa")


def layout(tmp_path: Path) -> Path:
    """A data root in the shared layout, built from the samples."""
    root = tmp_path / "data"
    shutil.copytree(SAMPLES / "xnli/hf_xnli_all_languages", root / "xnli")
    shutil.copytree(SAMPLES / "pawsx/hf_paws-x", root / "pawsx")
    shutil.copytree(SAMPLES / "panx/hf_xtreme_PAN-X", root / "panx")
    (root / "udpos/ud-treebanks-v2.5/UD_Spanish-GSD").mkdir(parents=True)
    shutil.copy(SAMPLES / "udpos/ud_v2.5_es_gsd/es_gsd-ud-test.first25sent.conllu",
                root / "udpos/ud-treebanks-v2.5/UD_Spanish-GSD/es_gsd-ud-test.conllu")
    (root / "xquad").mkdir()
    shutil.copy(SAMPLES / "xquad/hf_xquad/xquad.th.json", root / "xquad")
    (root / "xcopa/data/et").mkdir(parents=True)
    shutil.copy(SAMPLES / "xcopa/hf_xcopa/val.et.jsonl", root / "xcopa/data/et")
    return root


def test_tasks_load_the_official_layout(tmp_path):
    root = layout(tmp_path)
    # Counted in the samples: MNLI train 4, XNLI test de 1, PAWS-X en dev 4, PAN-X de test 1 sentence,
    # UD-POS es test 25 sentences, XQuAD th 153 questions, XCOPA et dev 5.
    assert len(get_task("xnli").load("train", "en", root)) == 4
    assert len(get_task("xnli").load("test", "de", root)) == 1
    assert len(get_task("pawsx").load("dev", "en", root)) == 4
    assert len(get_task("panx").load("test", "de", root)) == 1
    assert len(get_task("udpos").load("test", "es", root)) == 25
    assert len(get_task("xquad").load("test", "th", root)) == 153
    assert len(get_task("xcopa").load("dev", "et", root)) == 5
    assert get_task("udpos").fingerprint("test", "es", root)  # a folder has a content digest too


def test_missing_files_name_the_expected_path(tmp_path):
    root = layout(tmp_path)
    with pytest.raises(XstiltsError, match=r"pawsx/x-final/ko/test_2k.tsv"):
        get_task("pawsx").load("test", "ko", root)
    with pytest.raises(XstiltsError, match=r"udpos/ud-treebanks-v2.5/UD_\*/de_\*-ud-test.conllu"):
        get_task("udpos").load("test", "de", root)
    with pytest.raises(XstiltsError, match=r"udpos/ud-treebanks-v2.7"):
        get_task("udpos").load("test", "pl", root)
    with pytest.raises(XstiltsError, match=r"tydiqa/tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-swahili.json"):
        get_task("tydiqa").load("test", "sw", root)
    with pytest.raises(XstiltsError, match=r"bucc2018/bucc2018/de-en"):
        get_task("bucc2018").load("test", "de", root)
    with pytest.raises(XstiltsError, match=r"tatoeba/tatoeba.pes-eng.pes"):
        get_task("tatoeba").load("test", "fa", root)
