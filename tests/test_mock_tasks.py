"""The mock tasks: registration, deterministic files (micro's, in two languages), schemas, balance, spans, tags,
parallel splits."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from xstilts.errors import XstiltsError
from xstilts.micro.tasks import BUCC_DISTRACTORS, SENTENCES_PER_MLM_EXAMPLE, SIZES, build
from xstilts.tasks import get_task, task_names
from xstilts.tasks.micro import SEED
from xstilts.tasks.mock import MOCK_TASKS, SIZE, mock_corpus, prepare
from xstilts.tasks.readers import read_jsonl

FAMILIES = {
    "mock-nli": "classification",
    "mock-paraphrase": "classification",
    "mock-choice": "multiple_choice",
    "mock-qa": "span_qa",
    "mock-pos": "tagging",
    "mock-ner": "tagging",
    "mock-retrieval": "retrieval",
    "mock-mlm": "mlm",
}
SRC = Path(__file__).resolve().parents[1] / "src"
TINY = SIZES[SIZE]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    for task in MOCK_TASKS:
        prepare(task, root)
    return root


def files_of(task_name: str, root: Path) -> dict[tuple[str, str], list[dict]]:
    task = get_task(task_name)
    return {
        (split, lang): [example for _, example in read_jsonl(task.path(split, lang, root))]
        for split, langs in task.splits.items()
        for lang in langs
    }


def digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*.jsonl"))
    }


# ------------------------------------------------------------------ registry and files


def test_registry_has_every_mock_task_with_its_family():
    assert {name for name in task_names() if name.startswith("mock-")} == set(FAMILIES)
    for name, family in FAMILIES.items():
        task = get_task(name)
        assert task.family == family
        assert task.benchmark == "mock" and task.version == "2"
        assert task.reader is read_jsonl
        assert task.data_dir == f"mock/v2/{name}"  # v1 files (English/German) left in a data root are not read
        assert task.description


def test_declared_settings_and_metrics():
    assert get_task("mock-nli").labels == ("entailment", "neutral", "contradiction")
    assert get_task("mock-nli").head_name == "mock-nli"
    assert get_task("mock-paraphrase").labels == ("not_paraphrase", "paraphrase")
    assert get_task("mock-choice").settings["num_choices"] == 3
    qa = get_task("mock-qa")
    assert qa.main_metric == "f1" and qa.settings["with_negative"] is True
    assert get_task("mock-pos").main_metric == "accuracy"
    assert get_task("mock-ner").labels == ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG")
    assert get_task("mock-ner").metrics == ("f1", "precision", "recall")
    assert dict(get_task("mock-retrieval").settings) == {"layer": -1, "pooling": "mean"}


def test_files_are_where_the_tasks_look(data_root):
    expected = set()
    for task in MOCK_TASKS:
        for split, langs in task.splits.items():
            for lang in langs:
                expected.add(f"mock/v2/{task.name}/{split}-{lang}.jsonl")
    assert set(digests(data_root)) == expected


def test_train_is_english_only_and_retrieval_has_no_train():
    for task in MOCK_TASKS:
        if task.family == "retrieval":
            assert "train" not in task.splits
            assert task.splits == {"dev": ("qad",), "test": ("qad",)}
        elif task.family == "mlm":  # pretraining text is multilingual
            assert task.splits == {"train": ("en", "qad"), "dev": ("en", "qad")}
        else:  # also for mock-choice and mock-qa, made from English-only intermediate micro tasks
            assert task.splits == {"train": ("en",), "dev": ("en", "qad"), "test": ("en", "qad")}


def test_sizes(data_root):
    # The micro-benchmark's tiny size: 200/100/100 items; MLM examples of 4 sentences from 1000 + 100 sentences.
    assert (TINY.train, TINY.dev, TINY.test, TINY.corpus, TINY.mlm_dev) == (200, 100, 100, 1000, 100)
    assert SENTENCES_PER_MLM_EXAMPLE == 4
    for task in MOCK_TASKS:
        for (split, lang), examples in files_of(task.name, data_root).items():
            if task.family == "mlm":
                assert len(examples) == {"train": 250, "dev": 25}[split]
            else:
                assert len(examples) == {"train": 200, "dev": 100, "test": 100}[split], (task.name, split, lang)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_file_loads_through_its_family(name, data_root):
    task = get_task(name)
    try:
        from xstilts.families import get_family

        get_family(task.family)
    except ImportError as error:  # the families are written in parallel with the tasks
        pytest.skip(f"family {task.family!r} is not importable yet: {error}")
    for split, langs in task.splits.items():
        for lang in langs:
            examples = task.load(split, lang, data_root)
            assert len(examples) >= 25


def test_ids_unique_per_file_and_shared_by_parallel_files(data_root):
    for task in MOCK_TASKS:
        files = files_of(task.name, data_root)
        for key, examples in files.items():
            ids = [example["id"] for example in examples]
            assert all(isinstance(i, str) for i in ids)
            assert len(set(ids)) == len(ids), (task.name, key)
        if task.family not in ("mlm", "retrieval"):
            for split in ("dev", "test"):
                assert [e["id"] for e in files[(split, "en")]] == [e["id"] for e in files[(split, "qad")]]


def test_no_dev_or_test_example_repeats_a_training_example(data_root):
    for task in MOCK_TASKS:
        if task.family in ("mlm", "retrieval"):
            continue
        files = files_of(task.name, data_root)
        strip = lambda e: json.dumps({k: v for k, v in e.items() if k != "id"}, sort_keys=True)  # noqa: E731
        train = {strip(e) for e in files[("train", "en")]}
        for split in ("dev", "test"):
            assert not train & {strip(e) for e in files[(split, "en")]}, task.name


# ------------------------------------------------------------------ determinism and writing


def test_files_are_the_micro_generators_in_two_languages(data_root):
    # mock-nli is micro-tiny-xnli restricted to English and qad: the same items, ids and bytes.
    micro = build("xnli", SIZE, SEED)
    assert files_of("mock-nli", data_root) == {key: micro[key] for key in files_of("mock-nli", data_root)}
    # mock-qa renders micro-tiny-squad2's train and dev items (English-only there) and adds parallel test sets.
    squad2 = build("squad2", SIZE, SEED, ("en",))
    qa = files_of("mock-qa", data_root)
    assert qa[("train", "en")] == squad2[("train", "en")] and qa[("dev", "en")] == squad2[("dev", "en")]


def test_generation_is_deterministic_across_folders(data_root, tmp_path):
    for task in MOCK_TASKS:
        prepare(task, tmp_path)
    assert digests(tmp_path) == digests(data_root)


def test_generation_is_deterministic_across_processes(data_root, tmp_path):
    # A different hash seed changes set and str-hash order: the bytes must not depend on it.
    script = (
        "import sys; from pathlib import Path; from xstilts.tasks.mock import MOCK_TASKS, prepare\n"
        "[prepare(t, Path(sys.argv[1])) for t in MOCK_TASKS]\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC), "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, env=env, timeout=60)
    assert digests(tmp_path) == digests(data_root)


def test_prepare_keeps_existing_files_and_writes_the_missing_ones(tmp_path):
    task = get_task("mock-paraphrase")
    mine = task.path("dev", "qad", tmp_path)
    mine.parent.mkdir(parents=True)
    mine.write_text('{"id": "x", "text": "a", "text_pair": "b", "label": "paraphrase"}\n', encoding="utf-8")
    prepare(task, tmp_path)
    assert mine.read_text(encoding="utf-8").startswith('{"id": "x"')
    assert task.path("test", "qad", tmp_path).exists() and task.path("train", "en", tmp_path).exists()


def test_a_failed_write_leaves_no_file_and_no_temporary(tmp_path, monkeypatch):
    def broken(text: str) -> str:
        raise OSError("disk full")

    import xstilts.tasks.generated as generated

    monkeypatch.setattr(generated, "to_jsonl", broken)
    with pytest.raises(XstiltsError, match="writable folder"):
        prepare(get_task("mock-nli"), tmp_path)
    # Only the (empty) lock file that serialises generation between processes may remain: no data, no temp.
    left = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(left) == 1 and left[0].name.endswith(".lock") and left[0].stat().st_size == 0


def test_unwritable_data_root_is_a_user_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(XstiltsError, match="mock-nli"):
        prepare(get_task("mock-nli"), blocker)


def test_concurrent_prepares_leave_complete_files(data_root, tmp_path):
    errors = []

    def run():
        try:
            for task in MOCK_TASKS:
                prepare(task, tmp_path)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert digests(tmp_path) == digests(data_root)
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_lines_are_sorted_key_json_with_real_greek_letters(data_root):
    path = get_task("mock-nli").path("test", "qad", data_root)
    lines = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert lines[0] == json.dumps(first, ensure_ascii=False, sort_keys=True)
    assert any("\u03b1" <= ch <= "\u03c9" for ch in lines[0])  # qad is written in Greek, not as \\u escapes


# ------------------------------------------------------------------ schema and content, per family
# These checks hold whatever the families' validators say: they are the mock data's own promises (micro's
# promises, tested at length in test_micro_tasks.py, and here again for the two mock languages).


def test_classification_schema_and_balance(data_root):
    for name, labels, low, high in (
        ("mock-nli", ("entailment", "neutral", "contradiction"), 0.25, 0.42),
        ("mock-paraphrase", ("not_paraphrase", "paraphrase"), 0.40, 0.60),
    ):
        for key, examples in files_of(name, data_root).items():
            for example in examples:
                assert set(example) == {"id", "text", "text_pair", "label"}
                assert isinstance(example["text"], str) and example["text"]
                assert isinstance(example["text_pair"], str) and example["text_pair"]
                assert example["label"] in labels
            counts = Counter(example["label"] for example in examples)
            for label in labels:
                assert low <= counts[label] / len(examples) <= high, (name, key, counts)


def test_parallel_classification_files_share_labels(data_root):
    for name in ("mock-nli", "mock-paraphrase", "mock-choice"):
        files = files_of(name, data_root)
        for split in ("dev", "test"):
            assert [e["label"] for e in files[(split, "en")]] == [e["label"] for e in files[(split, "qad")]]
            assert [e["text" if "text" in e else "context"] for e in files[(split, "en")]] != [
                e["text" if "text" in e else "context"] for e in files[(split, "qad")]
            ]


def test_nli_is_not_solvable_from_one_cue_word(data_root):
    # "not" appears in hypotheses of every label: negation alone does not give contradiction away.
    examples = files_of("mock-nli", data_root)[("train", "en")]
    with_not = Counter(e["label"] for e in examples if " not " in e["text_pair"])
    assert set(with_not) == {"entailment", "neutral", "contradiction"}


def test_paraphrase_words_appear_on_both_sides(data_root):
    # Pairs of the very same words are paraphrases or not ("A sees B" / "B sees A"): the label needs the structure.
    examples = files_of("mock-paraphrase", data_root)[("train", "en")]
    same_words = Counter(e["label"] for e in examples if sorted(e["text"].split()) == sorted(e["text_pair"].split()))
    assert same_words["paraphrase"] > 0 and same_words["not_paraphrase"] > 0


def test_multiple_choice_schema(data_root):
    for examples in files_of("mock-choice", data_root).values():
        for example in examples:
            assert set(example) == {"id", "context", "choices", "label"}
            assert len(example["choices"]) == 3 and len(set(example["choices"])) == 3
            assert isinstance(example["label"], int) and 0 <= example["label"] < 3
            assert example["context"].endswith("?")
        counts = Counter(example["label"] for example in examples)
        assert all(0.25 <= counts[i] / len(examples) <= 0.42 for i in range(3)), counts


def test_choice_example_by_hand(data_root):
    # A dropped thing breaks: "X dropped the glass. What happened then?" has "The glass broke." as its answer.
    found = []
    for example in files_of("mock-choice", data_root)[("train", "en")]:
        match = re.fullmatch(r"\w+ dropped the (\w+)\. What happened then\?", example["context"])
        if match:
            found.append(example)
            assert example["choices"][example["label"]] == f"The {match[1]} broke."
    assert found


def test_qa_spans_and_null_questions(data_root):
    for key, examples in files_of("mock-qa", data_root).items():
        nulls = 0
        for example in examples:
            assert set(example) == {"id", "question", "context", "answers"}
            for answer in example["answers"]:
                start, text = answer["start"], answer["text"]
                assert text and example["context"][start : start + len(text)] == text
                assert len(text.split()) <= 30  # within max_answer_length (30) even before subwords
            nulls += not example["answers"]
        assert 0.28 <= nulls / len(examples) <= 0.40, (key, nulls)


def test_qa_answerability_is_parallel(data_root):
    files = files_of("mock-qa", data_root)
    for split in ("dev", "test"):
        assert [bool(e["answers"]) for e in files[(split, "en")]] == [bool(e["answers"]) for e in files[(split, "qad")]]


def iob2_problem(tags: list[str]) -> str | None:
    previous = "O"
    for position, tag in enumerate(tags):
        if tag.startswith("I-") and (previous == "O" or previous[2:] != tag[2:]):
            return f"{tag} after {previous} at {position}"
        previous = tag
    return None


def test_tags_line_up_with_tokens(data_root):
    for name in ("mock-pos", "mock-ner"):
        task = get_task(name)
        used = set()
        for examples in files_of(name, data_root).values():
            for example in examples:
                assert set(example) == {"id", "tokens", "tags"}
                assert len(example["tokens"]) == len(example["tags"]) > 0
                assert all(token and " " not in token for token in example["tokens"])
                assert set(example["tags"]) <= set(task.labels)
                used |= set(example["tags"])
                if name == "mock-ner":
                    assert iob2_problem(example["tags"]) is None, example
        assert used == set(task.labels)  # every declared tag occurs


def test_iob2_checker_can_fail():
    assert iob2_problem(["O", "I-PER"]) is not None
    assert iob2_problem(["B-LOC", "I-PER"]) is not None
    assert iob2_problem(["B-LOC", "I-LOC", "O", "B-PER"]) is None


def test_ner_has_multi_word_names_and_parallel_entities(data_root):
    files = files_of("mock-ner", data_root)
    tags = [t for e in files[("train", "en")] for t in e["tags"]]
    assert {"I-PER", "I-LOC", "I-ORG"} <= set(tags)
    for split in ("dev", "test"):
        for en, qad in zip(files[(split, "en")], files[(split, "qad")], strict=True):
            # Translations keep the entities: the same number of entities of each type.
            assert Counter(t for t in en["tags"] if t.startswith("B-")) == Counter(
                t for t in qad["tags"] if t.startswith("B-")
            )


def test_qad_word_order_differs_in_pos(data_root):
    files = files_of("mock-pos", data_root)
    pairs = list(zip(files[("test", "en")], files[("test", "qad")], strict=True))
    # SOV and postpositions: the same tags in another order ...
    assert any(Counter(en["tags"]) == Counter(qad["tags"]) and en["tags"] != qad["tags"] for en, qad in pairs)
    # ... and no articles
    assert any("DET" in en["tags"] for en, _ in pairs) and not any("DET" in qad["tags"] for _, qad in pairs)


def test_retrieval_pairs_and_distractors(data_root):
    for examples in files_of("mock-retrieval", data_root).values():
        assert set(examples[0]) == {"id", "source", "target"}
        distractors = [e for e in examples if e["source"] is None]
        assert len(distractors) == round(BUCC_DISTRACTORS * len(examples)) == 30
        assert all(isinstance(e["target"], str) and e["target"].isascii() for e in examples)  # English targets
        sources = [e["source"] for e in examples if e["source"] is not None]
        targets = [e["target"] for e in examples]
        # One right target per source, else accuracy would be ill-defined.
        assert len(set(sources)) == len(sources) and len(set(targets)) == len(targets)


def test_mlm_corpora_are_monolingual_and_not_parallel(data_root):
    files = files_of("mock-mlm", data_root)
    for examples in files.values():
        assert all(set(e) == {"id", "text"} and e["text"].strip() for e in examples)
    english = " ".join(e["text"] for e in files[("train", "en")])
    qad = " ".join(e["text"] for e in files[("train", "qad")])
    assert " the " in english and english.isascii()
    assert not any(ch.isascii() and ch.isalpha() for ch in qad)  # Greek script, names spelt in Greek too
    # Not translations: digits are the same in every language, so parallel texts would repeat them in order.
    digits = lambda text: [w.strip(".?") for w in text.split() if w.strip(".?").isdigit()]  # noqa: E731
    assert digits(english)[:20] != digits(qad)[:20]


# ------------------------------------------------------------------ corpus


def test_mock_corpus_covers_every_task_and_both_languages(data_root):
    texts = list(mock_corpus(data_root))
    assert all(isinstance(text, str) and text for text in texts)
    corpus = set(texts)
    for name in FAMILIES:
        files = files_of(name, data_root)
        split = "dev"
        lang = "qad"
        example = files[(split, lang)][0]
        sample = example.get("text") or example.get("context") or example.get("target")
        if "tokens" in example:
            sample = " ".join(example["tokens"])
        assert sample in corpus, name
    # Texts per example: NLI 2, paraphrase 2, choice 1 + 3, QA 2, tagging 1, MLM 1, retrieval 1 or 2.
    # train 200 + dev 2 x 100 + test 2 x 100 = 600 examples per transfer task; MLM 2 x (250 + 25);
    # retrieval: 2 splits of 70 pairs and 30 targets alone.
    retrieval = 2 * (2 * 70 + 30)
    assert len(texts) == 600 * (2 + 2 + 4 + 2 + 1 + 1) + 2 * 275 + retrieval


def test_tokenizer_trained_on_the_corpus_knows_qad(data_root):
    from xstilts.models.tokenizer import train_tokenizer

    tokenizer = train_tokenizer(mock_corpus(data_root), vocab_size=1000)
    qad = files_of("mock-nli", data_root)[("test", "qad")][0]["text"]
    ids = tokenizer(qad)["input_ids"]
    assert tokenizer.unk_token_id not in ids
