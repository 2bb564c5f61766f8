"""XGLUE QG and NTG: the reader of their line-aligned .src/.tgt files on the real-format sample
(/work/shared/samples/xglue, see its SOURCES.md) and on hand-written files for quirks and bad input, and the
data side of the ``xglue-qg``/``xglue-ntg`` declarations (their family, ``generation``, is not needed here:
nothing below runs a model or the family's validation)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xstilts.errors import DataError, XstiltsError
from xstilts.families import FAMILY_MODULES
from xstilts.formats import xglue as fmt
from xstilts.tasks import check_task, task_names
from xstilts.tasks.xglue import GENERATION_TASKS

SAMPLES = Path(os.environ.get("XSTILTS_SAMPLES", "/work/shared/samples"))
XGLUE = SAMPLES / "xglue" / "hf_xglue" / "xglue_full_dataset"
needs_samples = pytest.mark.skipif(not XGLUE.is_dir(), reason="XGLUE samples not available")
TASKS = {task.name: task for task in GENERATION_TASKS}


def pairs(path: Path, split: str = "dev", language: str = "en") -> list[tuple[int, dict]]:
    return list(fmt.read_generation_pairs(path, split, language))


def files(tmp_path: Path, source: bytes | str, target: bytes | str, name: str = "xglue.qg.de.{}.dev") -> Path:
    for kind, data in (("src", source), ("tgt", target)):
        (tmp_path / name.format(kind)).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return tmp_path / name.format("src")


# ------------------------------------------------------------------------------------ samples


@needs_samples
def test_qg_and_ntg_samples_read_as_source_target_pairs():
    # The sample files' first lines, read by eye (cat -A): one passage / news body per .src line, the
    # question / title on the same line of .tgt; no trailing newline at the end of the files.
    qg = pairs(XGLUE / "QG/xglue.qg.en.src.train", "train")
    assert [line for line, _ in qg] == [1, 2]
    assert qg[0][1] == {
        "id": "train-en-1",
        "source": "born on august 1 , 1779 , in frederick county , maryland , francis scott key became a lawyer who "
                  "witnessed the british attack on fort mchenry during the war of 1812 .",
        "target": "when was francis scott key born",
    }
    assert qg[1][1]["target"] == "what kind of antidepressant is paxil"
    ntg = pairs(XGLUE / "NTG/xglue.ntg.en.src.train", "train")
    assert [example["target"] for _, example in ntg] == ["How to line a tart tin", "How to make a hollandaise sauce"]
    assert ntg[1][1]["source"] == "Great British Chefs demonstrates how to make a hollandaise sauce"
    de = pairs(XGLUE / "QG/xglue.qg.de.src.test", "test", "de")
    assert [example["target"] for _, example in de] == ["speichenn von whats app bilder unterbinden",
                                                        "wie wird wird rente versteuert"]
    assert de[0][1]["id"] == "test-de-1" and de[1][1]["source"].startswith("Nicht alles ist steuerpflichtig.")


@needs_samples
@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_declared_file_exists_in_the_official_layout_and_reads(name, tmp_path):
    """Every (split, language) of the declaration resolves to a .src file of the sample archive whose .tgt
    partner is there, and the pair reads (the sample holds two examples per file)."""
    (tmp_path / "xglue").mkdir()
    (tmp_path / "xglue" / "xglue_full_dataset").symlink_to(XGLUE, target_is_directory=True)
    task = TASKS[name]
    for split, languages in task.splits.items():
        for language in languages:
            path = task.path(split, language, tmp_path)
            assert path.name == f"xglue.{name.removeprefix('xglue-')}.{language}.src.{split}"
            examples = list(task.reader(path, split, language))
            assert len(examples) == 2, (split, language)
            assert all(example["source"] and example["target"] for _, example in examples)


def test_declarations_as_xglue_defines_the_tasks():
    # xglue_evaluate.py's task2lg: QG "de en es fr it pt", NTG "de en es fr ru"; English training only.
    qg, ntg = TASKS["xglue-qg"], TASKS["xglue-ntg"]
    assert qg.splits == {"train": ("en",), "dev": ("de", "en", "es", "fr", "it", "pt"),
                         "test": ("de", "en", "es", "fr", "it", "pt")}
    assert ntg.splits == {"train": ("en",), "dev": ("de", "en", "es", "fr", "ru"), "test": ("de", "en", "es", "fr", "ru")}
    for task in (qg, ntg):
        assert task.family == "generation" and task.metrics == ("bleu", "off_target") and task.benchmark == "xglue"
        assert task.reader is fmt.read_generation_pairs
    assert qg.path("dev", "it", Path("/d")) == Path("/d/xglue/xglue_full_dataset/QG/xglue.qg.it.src.dev")
    assert ntg.path("train", "en", Path("/d")) == Path("/d/xglue/xglue_full_dataset/NTG/xglue.ntg.en.src.train")
    with pytest.raises(XstiltsError, match="has no 'ru' data in split 'test'"):
        qg.path("test", "ru", Path("/d"))


def test_registered_exactly_when_the_generation_family_exists():
    registered = {"xglue-qg", "xglue-ntg"} <= set(task_names())
    assert registered == ("generation" in FAMILY_MODULES)
    if not registered:
        assert "needs the 'generation' family" in check_task("xglue-qg")


# ------------------------------------------------------------------------------------ quirks


def test_the_reference_is_the_last_tab_separated_field_stripped(tmp_path):
    # As XGLUE's scorer takes a label line: line.split("\t")[-1].strip(); the source is the stripped line.
    source = files(tmp_path, "  passage one \t with a tab\r\npassage two\rpassage three",
                   "q-id\twie weit ist es \nwer war es\n\tleading tab field  \n")
    got = pairs(source, "dev", "de")
    assert [line for line, _ in got] == [1, 2, 3]
    assert [example["source"] for _, example in got] == ["passage one \t with a tab", "passage two", "passage three"]
    assert [example["target"] for _, example in got] == ["wie weit ist es", "wer war es", "leading tab field"]
    assert fmt.reference_text("a\tb\t c \n") == "c"


def test_byte_order_mark_is_not_text(tmp_path):
    source = files(tmp_path, b"\xef\xbb\xbfein text\n", b"\xef\xbb\xbfein titel\n")
    assert pairs(source)[0][1] == {"id": "dev-en-1", "source": "ein text", "target": "ein titel"}


@pytest.mark.parametrize(("source", "target", "file", "line", "message"), [
    ("one\ntwo\n", "eins\n", "tgt", 2, r"ends at line 1 but its partner .*xglue\.qg\.de\.src\.dev has more lines"),
    ("one\n", "eins\nzwei\n", "src", 2, r"ends at line 1 but its partner .*xglue\.qg\.de\.tgt\.dev has more lines"),
    ("one\n  \nthree\n", "a\nb\nc\n", "src", 2, "blank source line"),
    ("one\ntwo\n", "a\nb\t \n", "tgt", 2, "blank target"),
    ("one\ntwo\n\n", "a\nb\n\n", "src", 3, "blank source line"),  # every line counts, a trailing blank one too
    ("", "", "src", None, "the file is empty"),
    (b"one\ntw\xff\n", "a\nb\n", "src", 2, "not UTF-8"),
    ("one\ntwo\n", b"a\nb\x00\n", "tgt", 2, "NUL character"),
])
def test_bad_pairs_name_the_file_and_line(tmp_path, source, target, file, line, message):
    path = files(tmp_path, source, target)
    with pytest.raises(DataError, match=message) as caught:
        pairs(path)
    assert caught.value.path == str(tmp_path / f"xglue.qg.de.{file}.dev") and caught.value.line == line


def test_a_missing_target_file_or_a_wrong_name_says_what_is_expected(tmp_path):
    (tmp_path / "xglue.ntg.fr.src.test").write_text("corps\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"xglue\.ntg\.fr\.tgt\.test.*missing: the target file that goes with"):
        pairs(tmp_path / "xglue.ntg.fr.src.test")
    (tmp_path / "fr.test").write_text("corps\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"named like xglue\.<task>\.<lang>\.src\.<split>"):
        pairs(tmp_path / "fr.test")
