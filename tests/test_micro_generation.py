"""Micro generation tasks (micro-qg, micro-ntg: the XGLUE QG and NTG roles), their data side: declarations,
files in every language read back as the tasks read them, determinism, no overlap between splits, what the
sources and targets hold, and the trivial copy baseline (hand-computed BLEU)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from xstilts.errors import XstiltsError
from xstilts.families import FAMILY_MODULES
from xstilts.micro.generation import NEWS_KINDS
from xstilts.micro.languages import LANGUAGE_CODES, SYNTHETIC_CODES
from xstilts.micro.tasks import ANSWER_SEPARATOR, SIZES, build
from xstilts.tasks import TASKS as REGISTRY
from xstilts.tasks.base import Task
from xstilts.tasks.micro import MICRO_TASK_DECLARATIONS, copy_baseline_bleu, first_words
from xstilts.tasks.readers import read_jsonl

SRC = Path(__file__).resolve().parents[1] / "src"
KEYS = ("qg", "ntg")
DECLARED = {task.name: task for task in MICRO_TASK_DECLARATIONS}


def tiny(key: str) -> Task:
    return DECLARED[f"micro-tiny-{key}"]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("micro-generation")
    for key in KEYS:
        tiny(key).ensure_files(root)
    return root


def files_of(key: str, root: Path) -> dict[tuple[str, str], list[dict]]:
    task = tiny(key)
    return {(split, lang): [example for _, example in task.reader(task.path(split, lang, root), split, lang)]
            for split, langs in task.splits.items() for lang in langs}


# ------------------------------------------------------------------ declarations


def test_declared_in_both_sizes_as_generation_targets():
    for key in KEYS:
        for name, size, benchmark in ((f"micro-{key}", "default", "micro"), (f"micro-tiny-{key}", "tiny", "micro-tiny")):
            task = DECLARED[name]
            assert (task.family, task.metrics, task.benchmark) == ("generation", ("bleu",), benchmark)
            assert task.data_dir == f"micro/{size}/{key}" and task.description
            # English training data, dev and test in every language, as the other micro targets
            assert task.splits == {"train": ("en",), "translate-train": SYNTHETIC_CODES, "dev": LANGUAGE_CODES,
                                   "test": LANGUAGE_CODES}
            # registered exactly when this build has the generation family (the encoder-decoder work brings it)
            assert (name in REGISTRY.names()) == ("generation" in FAMILY_MODULES)


# ------------------------------------------------------------------ files


def test_every_file_is_written_and_reads_back(data_root):
    for key in KEYS:
        for (split, lang), examples in files_of(key, data_root).items():
            assert len(examples) == getattr(SIZES["tiny"], "train" if split == "translate-train" else split)
            ids = [example["id"] for example in examples]
            assert len(set(ids)) == len(ids), (key, split, lang)
            for example in examples:
                assert set(example) == {"id", "source", "target"}
                assert all(isinstance(example[field], str) and example[field].strip() for field in example)
    written = {str(p.relative_to(data_root)) for p in data_root.rglob("*.jsonl")}
    assert written == {f"micro/tiny/{key}/{split}-{lang}.jsonl"
                       for key in KEYS for split, langs in tiny(key).splits.items() for lang in langs}


def test_every_language_is_parallel_and_in_its_own_words(data_root):
    for key in KEYS:
        files = files_of(key, data_root)
        for split in ("dev", "test"):
            english = files[(split, "en")]
            for lang in SYNTHETIC_CODES:
                other = files[(split, lang)]
                assert [e["id"] for e in other] == [e["id"] for e in english]
                assert sum(a["target"] != b["target"] for a, b in zip(other, english, strict=True)) > len(english) // 2
        # translate-train: the English training items in another language (same ids, other words)
        for lang in SYNTHETIC_CODES:
            assert [e["id"] for e in files[("translate-train", lang)]] == [e["id"] for e in files[("train", "en")]]


def test_no_held_out_source_was_trained_on(data_root):
    for key in KEYS:
        files = files_of(key, data_root)
        train = {e["source"] for e in files[("train", "en")]}
        dev = {e["source"] for e in files[("dev", "en")]}
        test = {e["source"] for e in files[("test", "en")]}
        assert not train & dev and not train & test and not dev & test, key


def test_same_bytes_twice_and_across_hash_seeds(data_root, tmp_path):
    def digests(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*.jsonl")}

    for key in KEYS:
        tiny(key).ensure_files(tmp_path)
    ours = digests(tmp_path)
    assert ours == digests(data_root)
    script = (
        "import hashlib, json\n"
        "from xstilts.micro.tasks import build\n"
        "out = {}\n"
        "for key in ('qg', 'ntg'):\n"
        "    for (split, lang), rows in build(key, 'tiny').items():\n"
        "        text = ''.join(json.dumps(r, ensure_ascii=False, sort_keys=True) + '\\n' for r in rows)\n"
        "        out[f'micro/tiny/{key}/{split}-{lang}.jsonl'] = hashlib.sha256(text.encode()).hexdigest()\n"
        "print(json.dumps(out))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC), "PYTHONHASHSEED": "4242"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == ours
    assert build("ntg", "tiny", seed=1)[("test", "en")] != build("ntg", "tiny", seed=0)[("test", "en")]


# ------------------------------------------------------------------ content


QUESTION_WORDS = ("Where", "Which", "Who", "How", "When", "What")


def test_question_generation_sources_hold_the_answer_and_its_passage(data_root):
    files = files_of("qg", data_root)
    for (split, lang), examples in files.items():
        for example in examples:
            answer, _, passage = example["source"].partition(ANSWER_SEPARATOR)
            assert answer and passage and answer in passage, (split, lang, example)
            assert example["target"].endswith("?")
    english = [e for split in ("train", "dev", "test") for e in files[(split, "en")]]
    assert {e["target"].split()[0] for e in english} == set(QUESTION_WORDS)  # every kind of question is asked
    for example in english:
        answer, _, passage = example["source"].partition(ANSWER_SEPARATOR)
        if not example["target"].startswith("Who"):
            # one value, one question: a value the passage states twice would fit two questions
            assert passage.count(answer) == 1, example
        # the question is about someone the passage names (its first name: "Where does Anna live?")
        names = set(re.findall(r"\b[A-Z][a-z]+\b", example["target"])) - set(QUESTION_WORDS)
        assert all(name in passage for name in names), example


def test_news_titles_are_the_event_as_a_headline(data_root):
    files = files_of("ntg", data_root)
    english = [e for split in ("train", "dev", "test") for e in files[(split, "en")]]
    verbs = Counter()
    for example in english:
        source, title = example["source"], example["target"]
        words = title.split()
        assert not title.endswith(".") and 3 <= len(words) <= 9, title
        # headline style: present tense, no articles, no time
        assert not {"a", "an", "the", "yesterday", "today"} & {w.lower() for w in words}, title
        assert not source.startswith(title)
        assert 3 <= source.count(".") <= 4  # three or four sentences
        verb = next(w for w in words if w in ("buys", "opens", "starts", "flies", "meets", "wins", "visits"))
        verbs[verb] += 1
        # every name of the title is in the text (a pronoun in the event is resolved to the full name)
        names = [w for w in words if w[0].isupper()]
        assert all(name in source for name in names), example
    # the kinds of news come in a cycle: balanced within one per split
    assert len(verbs) == len(NEWS_KINDS)
    assert max(verbs.values()) - min(verbs.values()) <= 3, verbs


def test_news_events_are_not_always_told_first(data_root):
    # The title's first name is the subject; a text that starts with background names the person first too, so
    # count the texts whose first sentence is not the event: their first sentence has no word of the title's
    # verb's past tense.
    past = {"buys": "bought", "opens": "opened", "starts": "started", "flies": "flew", "meets": "met",
            "wins": "won", "visits": "visited"}
    later = 0
    examples = files_of("ntg", data_root)[("train", "en")]
    for example in examples:
        verb = next(w for w in example["target"].split() if w in past)
        first_sentence = example["source"].split(".")[0].split()
        later += past[verb] not in first_sentence
    assert later > len(examples) // 2


# ------------------------------------------------------------------ the copy baseline


def _task(tmp_path: Path, rows: dict[str, list[tuple[str, str]]]) -> Task:
    for lang, pairs in rows.items():
        lines = [json.dumps({"id": str(i), "source": s, "target": t}) for i, (s, t) in enumerate(pairs)]
        (tmp_path / "gen").mkdir(exist_ok=True)
        (tmp_path / "gen" / f"test-{lang}.jsonl").write_text("\n".join(lines) + "\n")
    return Task(name="gen", family="generation", description="d", splits={"test": tuple(rows)}, reader=read_jsonl,
                metrics=("bleu",))


def test_copy_baseline_copies_the_mean_reference_length(tmp_path):
    task = _task(tmp_path, {
        # references of 4 and 4 words: 4 words copied, both exact -> 100
        "en": [("the cat sat on the mat", "the cat sat on"), ("a b c d e f", "a b c d")],
        # one reference of 6 words: "the cat sat on the mat" against "the cat sat on a mat" (no brevity
        # penalty): precisions 5/6, 3/5, 2/4, 1/3
        "de": [("the cat sat on the mat and more", "the cat sat on a mat")],
        # nothing in common: 0
        "fr": [("x y z", "a b c")],
    })
    scores = copy_baseline_bleu(task, tmp_path)
    assert scores["en"] == (4, pytest.approx(100.0))
    assert scores["de"] == (6, pytest.approx(100 * (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25))
    assert scores["fr"] == (3, 0.0)
    assert first_words("  a  b c ", 2) == "a b"


def test_copy_baseline_refuses_other_families(tmp_path):
    task = Task(name="cls", family="classification", description="d", splits={"test": ("en",)}, reader=read_jsonl)
    with pytest.raises(XstiltsError, match="copy baseline scores generation tasks"):
        copy_baseline_bleu(task, tmp_path)


def test_copying_the_first_words_is_a_weak_baseline_on_the_micro_tasks(data_root):
    # The tasks must leave room to learn: echoing the input must score far below what a model that learnt the
    # task gets. In English neither task lets a copy reach 5 BLEU.
    for key in KEYS:
        english = copy_baseline_bleu(tiny(key), data_root)["en"][1]
        assert math.isfinite(english) and english < 5.0, (key, english)


def test_micro_generate_writes_the_generation_tasks_too():
    # `xstilts micro generate` goes through the declarations, so tasks waiting for their family are written too
    from xstilts.cli.micro import _size_tasks

    names = [task.name for task in _size_tasks("tiny")]
    assert {"micro-tiny-qg", "micro-tiny-ntg", "micro-tiny-denoise", "micro-tiny-xnli"} <= set(names)
    assert all(name.startswith("micro-tiny-") for name in names) and len(names) == len(set(names))
    with pytest.raises(XstiltsError, match="unknown micro-benchmark size 'huge'"):
        _size_tasks("huge")
