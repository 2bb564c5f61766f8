"""translate-train splits: official machine-translated training data (XNLI-MT, PAWS-X translated_train) and
the micro twin (the English training items rendered in every synthetic language)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from xstilts.micro.languages import SYNTHETIC_CODES
from xstilts.micro.tasks import TASKS as MICRO
from xstilts.micro.tasks import build
from xstilts.tasks import get_task

SAMPLES = Path("/work/shared/samples")
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="needs the shared real-format samples")
TRANSLATED = ("nli", "paraphrase", "squad", "squad2", "choice", "socialiqa", "xnli", "pawsx", "pos", "ner", "qa",
              "copa")
TEXT_FIELDS = ("text", "text_pair", "question", "context", "choices", "tokens")


# ------------------------------------------------------------------ declarations


def test_official_translate_train_languages():
    xnli = get_task("xnli").splits["translate-train"]
    assert set(xnli) == set("ar bg de el es fr hi ru sw th tr ur vi zh".split()) and len(xnli) == 14
    assert set(get_task("pawsx").splits["translate-train"]) == set("de es fr ja ko zh".split())


@pytest.mark.parametrize("size", ["micro", "micro-tiny"])
def test_micro_tasks_declare_translate_train_in_every_synthetic_language(size):
    for key in TRANSLATED:
        assert get_task(f"{size}-{key}").splits["translate-train"] == SYNTHETIC_CODES, key
    for key in ("ccg", "mlm", "tatoeba", "bucc"):  # English-grammar supertags; no training data to translate
        assert "translate-train" not in get_task(f"{size}-{key}").splits, key


# ------------------------------------------------------------------ micro: parallel to the English train


def _text(example: dict) -> str:
    return repr([example.get(field) for field in TEXT_FIELDS])


@pytest.mark.parametrize("key", TRANSLATED)
def test_micro_translate_train_is_the_english_train_in_other_words(key):
    files = build(key, "tiny", seed=0)
    english = files[("train", "en")]
    for lang in SYNTHETIC_CODES:
        translated = files[("translate-train", lang)]
        assert [e["id"] for e in translated] == [e["id"] for e in english]
        family = MICRO[key].family
        if family in ("classification", "multiple_choice"):
            assert [e["label"] for e in translated] == [e["label"] for e in english]
        if family == "span_qa":
            assert [len(e["answers"]) for e in translated] == [len(e["answers"]) for e in english]
            for example in translated:
                for answer in example["answers"]:
                    assert example["context"][answer["start"]:][:len(answer["text"])] == answer["text"]
        if family == "tagging" and lang == "qaa":  # same word order as English: the same tag sequence
            assert [e["tags"] for e in translated] == [e["tags"] for e in english]
        different = sum(_text(t) != _text(e) for t, e in zip(translated, english, strict=True))
        assert different >= 0.95 * len(english), (key, lang, different)


def test_rendering_translate_train_leaves_the_english_files_unchanged():
    # Without synthetic languages there is no translate-train split to render: the English files must be the
    # same items (the split draws nothing from the random stream).
    for key in ("nli", "qa", "pos"):
        alone = build(key, "tiny", seed=0, languages=("en",))
        assert ("translate-train", "qaa") not in alone
        full = build(key, "tiny", seed=0)
        for split in ("train", "dev"):
            assert alone[(split, "en")] == full[(split, "en")], (key, split)


def test_translate_train_source_loads_through_the_registered_task(tmp_path):
    task = get_task("micro-tiny-nli")
    examples = task.load("translate-train", "qac", tmp_path, limit=5)
    english = task.load("train", "en", tmp_path, limit=5)
    assert [e["label"] for e in examples] == [e["label"] for e in english]
    assert (tmp_path / "micro/tiny/nli/translate-train-qac.jsonl").exists()


# ------------------------------------------------------------------ official files, on the samples


@needs_samples
def test_xnli_mt_translations_read_as_translate_train(tmp_path):
    # multinli.train.de.tsv: the header and 4 rows, the German of the English file's rows (same labels).
    source = SAMPLES / "xnli/hf_xnli_all_languages/XNLI-MT-1.0/multinli"
    target = tmp_path / "xnli/XNLI-MT-1.0/multinli"
    shutil.copytree(source, target)
    task = get_task("xnli")
    assert task.path("translate-train", "de", tmp_path) == target / "multinli.train.de.tsv"
    german = task.load("translate-train", "de", tmp_path)
    english = task.load("train", "en", tmp_path)
    assert [e["label"] for e in german] == [e["label"] for e in english] == [
        "neutral", "entailment", "entailment", "entailment"]
    assert german[0]["text"].startswith("Konzeptionell cream abschöpfen")
    assert german[0]["id"] == "translate-train-de-1"
    assert [e["label"] for e in task.load("translate-train", "zh", tmp_path)][:1] == ["neutral"]


@needs_samples
def test_pawsx_translated_train_reads_as_translate_train(tmp_path):
    # de/translated_train.tsv: the header and 4 rows labelled 0, 1, 0, 1 (no final newline).
    shutil.copytree(SAMPLES / "pawsx/hf_paws-x/x-final", tmp_path / "pawsx/x-final")
    task = get_task("pawsx")
    german = task.load("translate-train", "de", tmp_path)
    assert [e["label"] for e in german] == ["0", "1", "0", "1"]
    assert german[1]["text"] == "Die NBA-Saison 1975 - 76 war die 30. Saison der National Basketball Association."
    assert [e["label"] for e in task.load("translate-train", "ja", tmp_path)] == ["0", "1", "0", "1"]
    with pytest.raises(Exception, match="no 'en' data in split 'translate-train'"):
        task.path("translate-train", "en", tmp_path)
