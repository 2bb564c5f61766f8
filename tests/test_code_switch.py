"""Code-switching with MUSE dictionaries (xstilts.data.code_switch): the dictionary format, the documented rule
on hand examples of every family, and its invariants."""

from __future__ import annotations

import random

import pytest

from helpers import empty_task
from xstilts.data.code_switch import CodeSwitch, example_seed, load_dictionary, read_dictionary
from xstilts.errors import DataError, XstiltsError

DE = "cat Katze\ndog Hund\nthe die\n"


@pytest.fixture()
def de(tmp_path):
    path = tmp_path / "en-de.txt"
    path.write_text(DE)
    return path


def switcher(paths: dict, ratio: float, seed: int = 0, choice: str = "example") -> CodeSwitch:
    loaded = {lang: load_dictionary(path) for lang, path in paths.items()}
    return CodeSwitch({k: v[0] for k, v in loaded.items()}, {k: v[1] for k, v in loaded.items()}, ratio, seed, choice)


def one(switch: CodeSwitch, family: str, example: dict, **task) -> dict:
    (out,) = switch.apply(empty_task(family, **task), [example])
    return out


# ------------------------------------------------------------------ dictionaries


def test_muse_lines_space_or_tab_several_per_word_blank_lines_skipped(tmp_path):
    path = tmp_path / "d.txt"
    # a byte order mark is ignored; a duplicate pair is kept once; after a tab a translation may hold spaces
    path.write_text("\ufeffbank Bank\nbank\tUfer \t\n\nbank Bank\nice\tSpeise eis\n")
    assert read_dictionary(path) == {"bank": ("Bank", "Ufer"), "ice": ("Speise eis",)}


@pytest.mark.parametrize("body, line, message", [
    ("cat Katze\ndog\n", 2, "2 words separated by a space or a tab"),
    ("cat Katze\ndog Hund Wau\n", 2, "found 3"),
    ("ice cream\tEis\n", 1, "not one word"),
    ("a\tb\tc\n", 1, "3 tab-separated fields"),
    ("\n\n", None, "no entries"),
])
def test_bad_dictionary_lines_name_file_and_line(tmp_path, body, line, message):
    path = tmp_path / "en-de.txt"
    path.write_text(body)
    with pytest.raises(DataError, match=message) as caught:
        read_dictionary(path)
    assert caught.value.path == str(path) and caught.value.line == line


def test_missing_dictionary_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no such dictionary file"):
        load_dictionary(tmp_path / "nope.txt")


# ------------------------------------------------------------------ the rule, by hand


def test_ratio_one_switches_every_dictionary_word_and_zero_none(de):
    example = {"id": "a", "text": "The cat saw the dog.", "text_pair": "A dog!", "label": "x"}
    assert one(switcher({"de": de}, 1.0), "classification", example) == {
        "id": "a", "text": "die Katze saw die Hund.", "text_pair": "A Hund!", "label": "x"}
    assert one(switcher({"de": de}, 0.0), "classification", example) == example


def test_half_ratio_follows_the_documented_draws(de):
    # One language: no language draw. Candidates in order The, cat, the, dog, then (text_pair) dog: one
    # random() each from Random(example_seed(seed, id)); a candidate switches when its draw is below 0.5.
    text, pair = "The cat saw the dog.", "A dog!"
    for seed in range(6):
        draws = random.Random(example_seed(seed, "ex-7"))
        switched = [draws.random() < 0.5 for _ in range(5)]
        first, cat, the, dog, pair_dog = (new if flag else old for (old, new), flag in zip(
            [("The", "die"), ("cat", "Katze"), ("the", "die"), ("dog", "Hund"), ("dog", "Hund")], switched,
            strict=True))
        expected_text, expected_pair = f"{first} {cat} saw {the} {dog}.", f"A {pair_dog}!"
        out = one(switcher({"de": de}, 0.5, seed=seed), "classification",
                  {"id": "ex-7", "text": text, "text_pair": pair, "label": "x"})
        assert (out["text"], out["text_pair"]) == (expected_text, expected_pair), seed


def test_same_seed_same_output_other_seed_other_choices(de):
    examples = [{"id": f"e{i}", "text": "the cat and the dog and the cat", "label": "x"} for i in range(20)]
    first = switcher({"de": de}, 0.5, seed=1).apply(empty_task("classification"), examples)
    assert first == switcher({"de": de}, 0.5, seed=1).apply(empty_task("classification"), examples)
    other = switcher({"de": de}, 0.5, seed=2).apply(empty_task("classification"), examples)
    assert first != other
    # ~half the candidates switch (160 candidates: far from 0 and from all)
    switched = sum(text.count(w) for e in first for text in [e["text"]] for w in ("die", "Katze", "Hund"))
    assert 40 < switched < 120


def test_language_per_example_or_per_word(de, tmp_path):
    fr = tmp_path / "en-fr.txt"
    fr.write_text("cat chat\ndog chien\nthe le\n")
    text = "the cat the dog the cat the dog the cat the dog"
    examples = [{"id": f"e{i}", "text": text, "label": "x"} for i in range(30)]
    per_example = switcher({"de": de, "fr": fr}, 1.0).apply(empty_task("classification"), examples)
    german, french = set("die Katze Hund".split()), set("le chat chien".split())
    kinds = [set(e["text"].split()) for e in per_example]
    assert all(k in (german, french) for k in kinds)  # one language per example
    assert german in kinds and french in kinds
    per_word = switcher({"de": de, "fr": fr}, 1.0, choice="word").apply(empty_task("classification"), examples)
    assert any(set(e["text"].split()) & german and set(e["text"].split()) & french for e in per_word)


def test_tagging_keeps_tags_aligned_and_skips_multi_word_translations(tmp_path):
    path = tmp_path / "en-de.txt"
    path.write_text("cat Katze\nice\tSpeise eis\nthe die\n")
    example = {"id": "t", "tokens": ["The", "cat", "likes", "ice", "."], "tags": ["DET", "NOUN", "VERB", "NOUN", "PUNCT"]}
    out = one(switcher({"de": path}, 1.0), "tagging", example, labels=("DET", "NOUN", "VERB", "PUNCT"))
    assert out == {"id": "t", "tokens": ["die", "Katze", "likes", "ice", "."], "tags": example["tags"]}
    # in running text the multi-word translation is used
    assert one(switcher({"de": path}, 1.0), "mlm", {"id": "m", "text": "ice, the cat"})["text"] == "Speise eis, die Katze"


def test_span_qa_never_switches_answers_and_shifts_their_starts(de):
    context = "The cat saw the dog. The dog ran to the cat."
    answers = [{"text": "the dog", "start": 12}, {"text": "the cat", "start": 36}]
    example = {"id": "q", "question": "Who saw the dog?", "context": context, "answers": answers}
    out = one(switcher({"de": de}, 1.0), "span_qa", example, settings={"with_negative": True})
    assert out["question"] == "Who saw die Hund?"
    assert out["context"] == "die Katze saw the dog. die Hund ran to the cat."
    # by hand: "The cat " -> "die Katze " (+2) before the first answer; "The dog" -> "die Hund" (+1) more before
    # the second
    assert [a["start"] for a in out["answers"]] == [14, 39]
    for seed in range(10):
        for answer in one(switcher({"de": de}, 0.5, seed=seed), "span_qa", example)["answers"]:
            switched = one(switcher({"de": de}, 0.5, seed=seed), "span_qa", example)["context"]
            assert switched[answer["start"]:answer["start"] + len(answer["text"])] == answer["text"]


def test_multiple_choice_switches_context_and_choices(de):
    example = {"id": "c", "context": "The cat", "choices": ["the dog", "a bird"], "label": 0}
    assert one(switcher({"de": de}, 1.0), "multiple_choice", example) == {
        "id": "c", "context": "die Katze", "choices": ["die Hund", "a bird"], "label": 0}


def test_words_are_whole_words_case_falls_back_to_lower(de):
    # "cats", "dogma" and "theory" hold dictionary words but are other words; "DOG" is found lower-cased
    out = one(switcher({"de": de}, 1.0), "mlm", {"id": "m", "text": "cats, dogma, theory: DOG-cat"})
    assert out["text"] == "cats, dogma, theory: Hund-Katze"


def test_retrieval_cannot_be_switched(de):
    with pytest.raises(XstiltsError, match="code-switching works on"):
        switcher({"de": de}, 1.0).apply(empty_task("retrieval"), [{"id": "r", "source": "a", "target": "b"}])


def test_describe_holds_hashes_ratio_seed(de, tmp_path):
    base = switcher({"de": de}, 0.5).describe()
    assert switcher({"de": de}, 0.5).describe() == base
    assert switcher({"de": de}, 0.4).describe() != base
    assert switcher({"de": de}, 0.5, seed=3).describe() != base
    moved = tmp_path / "elsewhere.txt"
    moved.write_text(DE)
    assert switcher({"de": moved}, 0.5).describe() == base  # content, not place
    moved.write_text(DE + "bird Vogel\n")
    assert switcher({"de": moved}, 0.5).describe() != base


# ------------------------------------------------------------------ micro dictionaries


def test_micro_dictionary_command_writes_muse_files_without_torch(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from xstilts.micro.languages import SYNTHETIC_CODES, get_language

    src = str(Path(__file__).resolve().parents[1] / "src")
    code = ("import sys\nsys.argv = ['xstilts', 'micro', 'dictionary', sys.argv[1]]\nfrom xstilts.cli import app\n"
            "try:\n    app(standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', [m for m in ('torch', 'transformers', 'datasets') if m in sys.modules])\n")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                            env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"})
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr
    for lang in SYNTHETIC_CODES:
        dictionary = read_dictionary(tmp_path / f"en-{lang}.txt")
        language = get_language(lang)
        # every form of a lexeme: "dog"/"dogs" -> the noun's singular/plural; "gave" -> both past forms
        assert dictionary["dog"] == (language.form("dog", "sg"),)
        assert dictionary["dogs"] == (language.form("dog", "pl"),)
        assert set(dictionary["gave"]) == {language.form("give", "past.sg"), language.form("give", "past.pl")}
        assert dictionary["an"] == dictionary["a"] == (language.form("a", ""),)
        assert "anna" not in dictionary  # names are shared, not translated


def test_shipped_micro_dictionaries_equal_the_generator_output(tmp_path):
    # the micro presets code-switch with the dictionaries shipped beside them: they must not drift
    from xstilts.config.load import presets_dir
    from xstilts.micro.dictionary import write_dictionaries

    written = write_dictionaries(tmp_path)
    shipped = presets_dir() / "micro-dictionaries"
    assert sorted(p.name for p in shipped.glob("*.txt")) == sorted(p.name for p in written)
    for path in written:
        assert (shipped / path.name).read_bytes() == path.read_bytes(), path.name
