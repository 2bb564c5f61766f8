"""Micro-benchmark tasks: registration, files, schemas through the families, balance, spans, parallel sets,
determinism (also across hash seeds), and that every default-size task loads."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import xstilts.tasks.micro as micro_tasks  # registers the tasks (and the synthetic languages)
from xstilts.micro.languages import CLOSE, LANGUAGE_CODES, SYNTHETIC_CODES, get_language, transliterate_name
from xstilts.micro.tasks import SIZES, TASKS, build
from xstilts.tasks import TASKS as REGISTRY
from xstilts.tasks.readers import read_jsonl

SRC = Path(__file__).resolve().parents[1] / "src"
KEYS = ("nli", "paraphrase", "squad", "squad2", "choice", "socialiqa", "ccg", "xnli", "pawsx", "pos", "ner", "qa",
        "copa", "tatoeba", "bucc", "mlm")
INTERMEDIATE = ("nli", "paraphrase", "squad", "squad2", "choice", "socialiqa", "ccg")
TARGETS = ("xnli", "pawsx", "pos", "ner", "qa", "copa")
FAMILIES = {"nli": "classification", "paraphrase": "classification", "squad": "span_qa", "squad2": "span_qa",
            "choice": "multiple_choice", "socialiqa": "multiple_choice", "ccg": "tagging", "xnli": "classification", "pawsx": "classification",
            "pos": "tagging", "ner": "tagging", "qa": "span_qa", "copa": "multiple_choice",
            "tatoeba": "retrieval", "bucc": "retrieval", "mlm": "mlm"}


def tiny(key: str):
    return REGISTRY.get(f"micro-tiny-{key}")


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("micro-data")
    for key in KEYS:
        tiny(key).ensure_files(root)
    return root


def files_of(key: str, root: Path) -> dict[tuple[str, str], list[dict]]:
    task = tiny(key)
    return {(split, lang): [ex for _, ex in read_jsonl(task.path(split, lang, root))]
            for split, langs in task.splits.items() for lang in langs}


def digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.jsonl"))}


# ------------------------------------------------------------------ declarations


def test_both_sizes_are_registered_with_their_benchmark_and_folder():
    # the generation tasks (qg, ntg) are declared too (tests/test_micro_generation.py), and denoise, which reads
    # the mlm corpora (tests/test_family_denoising.py)
    assert set(TASKS) == set(KEYS) | {"qg", "ntg", "denoise"}
    denoise = REGISTRY.get("micro-tiny-denoise")
    assert (denoise.family, denoise.data_dir, denoise.splits) == ("denoising", "micro/tiny/mlm", tiny("mlm").splits)
    for key in KEYS:
        for name, size, benchmark in ((f"micro-{key}", "default", "micro"), (f"micro-tiny-{key}", "tiny", "micro-tiny")):
            task = REGISTRY.get(name)
            assert task.family == FAMILIES[key]
            assert task.benchmark == benchmark
            assert task.data_dir == f"micro/{size}/{key}"
            # micro SocialIQa trains micro-copa's head (as SocialIQa trains XCOPA's); every other task its own
            assert task.head_name == (name.replace("socialiqa", "copa") if key == "socialiqa" else name)
            assert task.description
    assert len(micro_tasks.MICRO_TASK_DECLARATIONS) == 2 * len(TASKS)


def test_declared_metrics_labels_settings_and_splits():
    assert tiny("nli").labels == tiny("xnli").labels == ("entailment", "neutral", "contradiction")
    assert tiny("paraphrase").labels == ("not_duplicate", "duplicate")
    assert tiny("ner").labels == ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG")
    assert tiny("pos").metrics == ("accuracy", "f1")
    assert tiny("ner").metrics == ("f1", "precision", "recall")
    assert tiny("ccg").metrics == ("accuracy",) and len(tiny("ccg").labels) >= 40
    assert tiny("squad").settings["with_negative"] is False and tiny("squad2").settings["with_negative"] is True
    assert tiny("qa").metrics == ("f1", "exact_match")
    assert tiny("choice").settings["num_choices"] == 4 and tiny("copa").settings["num_choices"] == 2
    assert tiny("socialiqa").settings["num_choices"] == 3
    for key in INTERMEDIATE:
        translated = {} if key == "ccg" else {"translate-train": SYNTHETIC_CODES}
        assert tiny(key).splits == {"train": ("en",), **translated, "dev": ("en",)}
    for key in TARGETS:
        assert tiny(key).splits == {"train": ("en",), "translate-train": SYNTHETIC_CODES, "dev": LANGUAGE_CODES,
                                    "test": LANGUAGE_CODES}
    assert tiny("tatoeba").splits == {"test": SYNTHETIC_CODES}
    assert tiny("bucc").splits == {"dev": SYNTHETIC_CODES, "test": SYNTHETIC_CODES}
    assert tiny("mlm").splits == {"train": LANGUAGE_CODES, "dev": LANGUAGE_CODES}


# ------------------------------------------------------------------ files


@pytest.mark.parametrize("key", KEYS)
def test_every_file_loads_through_its_family(key, data_root):
    task = tiny(key)
    for split, langs in task.splits.items():
        for lang in langs:
            examples = task.load(split, lang, data_root)
            if key == "mlm":
                expected = (SIZES["tiny"].corpus if split == "train" else SIZES["tiny"].mlm_dev) // 4
            else:
                expected = getattr(SIZES["tiny"], "train" if split == "translate-train" else split)
            assert len(examples) == expected, (key, split, lang)
            ids = [e["id"] for e in examples]
            assert len(set(ids)) == len(ids)


def test_files_are_where_the_tasks_look_and_prepare_keeps_existing_files(data_root):
    expected = {f"micro/tiny/{key}/{split}-{lang}.jsonl"
                for key in KEYS for split, langs in tiny(key).splits.items() for lang in langs}
    assert set(digests(data_root)) == expected
    path = tiny("copa").path("test", "qae", data_root)
    path.write_text('{"id": "x", "context": "c", "choices": ["a", "b"], "label": 0}\n')
    tiny("copa").ensure_files(data_root)
    assert path.read_text().startswith('{"id": "x"')
    path.unlink()
    tiny("copa").ensure_files(data_root)  # a missing file is made again, with the same bytes as before
    assert json.loads(path.read_text().splitlines()[0])["id"] == "test-00000"


def test_same_bytes_twice_and_across_hash_seeds(data_root, tmp_path):
    for key in ("xnli", "qa", "bucc", "mlm"):
        tiny(key).ensure_files(tmp_path)
    ours = digests(tmp_path)
    assert ours == {k: v for k, v in digests(data_root).items() if k in ours}
    script = (
        "import hashlib, json, sys\n"
        "from xstilts.micro.tasks import build\n"
        "out = {}\n"
        "for key in ('xnli', 'qa', 'bucc', 'mlm'):\n"
        "    for (split, lang), rows in sorted(build(key, 'tiny').items()):\n"
        "        text = ''.join(json.dumps(r, ensure_ascii=False, sort_keys=True) + '\\n' for r in rows)\n"
        "        out[f'micro/tiny/{key}/{split}-{lang}.jsonl'] = hashlib.sha256(text.encode()).hexdigest()\n"
        "print(json.dumps(out))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC), "PYTHONHASHSEED": "12345"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == ours


def test_another_seed_gives_other_data():
    assert build("xnli", "tiny", seed=1)[("test", "en")] != build("xnli", "tiny", seed=0)[("test", "en")]


# ------------------------------------------------------------------ content


def test_classification_and_choice_labels_are_balanced(data_root):
    for key in ("nli", "xnli", "paraphrase", "pawsx"):
        task = tiny(key)
        for (split, _), examples in files_of(key, data_root).items():
            counts = Counter(e["label"] for e in examples)
            assert set(counts) == set(task.labels)
            # labels cycle over the items: 200 / 3 -> 67, 67, 66
            assert max(counts.values()) - min(counts.values()) <= 1, (key, split, counts)
    for key, choices in (("choice", 4), ("socialiqa", 3), ("copa", 2)):
        for examples in files_of(key, data_root).values():
            counts = Counter(e["label"] for e in examples)
            assert sorted(counts) == list(range(choices))
            assert max(counts.values()) - min(counts.values()) <= 1


def test_parallel_sets_share_ids_and_labels(data_root):
    for key in TARGETS:
        files = files_of(key, data_root)
        for split in ("dev", "test"):
            english = files[(split, "en")]
            for lang in SYNTHETIC_CODES:
                other = files[(split, lang)]
                assert [e["id"] for e in other] == [e["id"] for e in english]
                if "label" in english[0]:
                    assert [e["label"] for e in other] == [e["label"] for e in english]
                assert other != english  # other words


def test_no_dev_or_test_item_repeats_a_training_item(data_root):
    for key in (*INTERMEDIATE, *TARGETS):
        files = files_of(key, data_root)
        strip = lambda e: json.dumps({k: v for k, v in e.items() if k != "id"}, sort_keys=True)  # noqa: E731
        train = {strip(e) for e in files[("train", "en")]}
        held_out = [split for split in ("dev", "test") if (split, "en") in files]
        assert train and held_out, key
        for split in held_out:
            assert not train & {strip(e) for e in files[(split, "en")]}, key


def test_answer_spans_in_every_language(data_root):
    for key in ("squad", "squad2", "qa"):
        for examples in files_of(key, data_root).values():
            unanswerable = 0
            for e in examples:
                for answer in e["answers"]:
                    assert answer["text"] and e["context"][answer["start"]:answer["start"] + len(answer["text"])] \
                        == answer["text"]
                unanswerable += not e["answers"]
            if key == "squad2":
                assert unanswerable == len(examples) // 3 + (len(examples) % 3 > 0)  # slots 0, 3, 6, ...
            else:
                assert unanswerable == 0
    # parallel QA: a question is answerable in every language or in none
    files = files_of("qa", data_root)
    for lang in SYNTHETIC_CODES:
        assert [bool(e["answers"]) for e in files[("test", lang)]] == [bool(e["answers"]) for e in files[("test", "en")]]


def test_tagging_tags_line_up_and_entities_are_shared(data_root):
    for key in ("pos", "ner", "ccg"):
        for examples in files_of(key, data_root).values():
            for e in examples:
                assert len(e["tokens"]) == len(e["tags"]) and all(e["tokens"])
    used = {t for examples in files_of("pos", data_root).values() for e in examples for t in e["tags"]}
    assert used == set(tiny("pos").labels)
    assert len({t for e in files_of("ccg", data_root)[("train", "en")] for t in e["tags"]}) >= 30

    def entities(e: dict, script: str = "Latin") -> list[str]:
        chunks, current = [], []
        for token, tag in zip(e["tokens"], e["tags"], strict=True):
            token = transliterate_name(token, script) if tag != "O" else token
            if tag.startswith("B-"):
                current = [tag[2:], token]
                chunks.append(current)
            elif tag.startswith("I-"):
                current.append(token)
        return sorted(" ".join(c) for c in chunks)

    files = files_of("ner", data_root)
    multiword = 0
    for lang in SYNTHETIC_CODES:
        script = get_language(lang).script  # names are spelt by sound in other scripts
        for en, other in zip(files[("test", "en")], files[("test", lang)], strict=True):
            assert entities(other) == entities(en, script)
            multiword += any(len(c.split()) > 2 for c in entities(en))
    assert multiword > 0
    # the close language: the same tags word for word as English
    pos_files = files_of("pos", data_root)
    for en, close in zip(pos_files[("test", "en")], pos_files[("test", CLOSE)], strict=True):
        assert en["tags"] == close["tags"]


def test_retrieval_sets(data_root):
    tatoeba, bucc = files_of("tatoeba", data_root), files_of("bucc", data_root)
    for name, files in (("tatoeba", tatoeba), ("bucc", bucc)):
        assert files, name
        for examples in files.values():
            assert examples, name
            sources = [e["source"] for e in examples if e["source"] is not None]
            assert len(set(sources)) == len(sources)
            assert all(e["target"] and e["target"].isascii() for e in examples)  # English targets
            # BUCC: 30% of 100 are distractor targets (no source); Tatoeba: none
            assert len(examples) - len(sources) == (30 if name == "bucc" else 0)
    assert [e["target"] for e in tatoeba[("test", "qaa")]] == [e["target"] for e in tatoeba[("test", "qae")]]


def test_mlm_corpora_are_not_parallel(data_root):
    files = files_of("mlm", data_root)
    english = [e["text"] for e in files[("train", "en")]]
    close = [e["text"] for e in files[("train", CLOSE)]]
    names = lambda text: sorted(w for w in text.replace(".", " ").split() if w[:1].isupper())  # noqa: E731
    assert sum(names(a) == names(b) for a, b in zip(english, close, strict=True)) < 0.05 * len(english)


def test_features_are_made_for_every_family(data_root):
    """The tiny files featurize with a tokenizer trained on them (no model needed)."""
    from xstilts.families import get_family
    from xstilts.models.tokenizer import train_tokenizer

    texts = [e["text"] for lang in LANGUAGE_CODES for e in files_of("mlm", data_root)[("train", lang)]]
    tokenizer = train_tokenizer(texts, vocab_size=800)
    for key in KEYS:
        task = tiny(key)
        split, langs = next(iter(task.splits.items()))
        examples = task.load(split, langs[-1], data_root, limit=8)
        features = get_family(task.family).featurize(task, examples, tokenizer, max_length=128)
        assert features and all(f["input_ids"] for f in features)


@pytest.mark.slow
def test_default_tasks_generate_and_load(tmp_path):
    # No timing assertion: a timed test fails on a busy machine; `xstilts micro generate` reports its time.
    for key in KEYS:
        task = REGISTRY.get(f"micro-{key}")
        for split, langs in task.splits.items():
            for lang in langs:
                assert task.load(split, lang, tmp_path)
