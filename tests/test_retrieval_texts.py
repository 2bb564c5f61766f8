"""The texts the retrieval readers embed, character for character as the official XTREME-R code builds them:
Mewsli-X's query and candidate strings (utils_mewslix.preprocess_mention / preprocess_entity_description)
and LAReQA's candidate (sentence + paragraph, newlines removed). Every expected string below is derived by
hand from those rules; the comments show the steps."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from xstilts.errors import DataError
from xstilts.formats import lareqa, mewslix

SAMPLES = Path("/work/shared/samples")

# ---------------------------------------------------------------- Mewsli-X queries

# Four sentences joined by separators that lie outside every span, then a tail outside the spans.
S0 = "Intro {aside} here."
S1 = "The {old} club Foo FC\nwon   3 cups."
S2 = "Bar{x}y leads {a}{b}."
S3 = "Fans   love {them} so, said Baz"
TEXT = S0 + " " + S1 + "  " + S2 + "\n" + S3 + " (end)"


def span_of(text: str, part: str, after: int = 0) -> dict:
    start = text.index(part, after)
    return {"start": start, "end": start + len(part)}


def mention(example_id: str, surface: str, sentence: str, entity: str = "Q1") -> dict:
    span = span_of(TEXT, surface, TEXT.index(sentence))
    return {"example_id": example_id, "mention_span": {**span, "text": surface}, "entity_id": entity}


def context_line(mentions: list[dict], language: str = "en") -> str:
    spans = [span_of(TEXT, s) for s in (S0, S1, S2, S3)]
    return json.dumps({"context": {"language": language, "text": TEXT, "sentence_spans": spans},
                       "mentions": mentions}) + "\n"


def entity(entity_id: str, description: str, sentences: list[str]) -> dict:
    spans = [span_of(description, s) for s in sentences]
    return {"entity_id": entity_id, "title": entity_id, "description": description, "sentence_spans": spans}


def write_folder(folder: Path, lines: list[str], entities: list[dict]) -> Path:
    path = folder / "wikinews_mentions-test.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    (folder / mewslix.CANDIDATES_FILE).write_text("".join(json.dumps(e) + "\n" for e in entities), encoding="utf-8")
    return path


DESCRIPTION = "(disambiguation) Foo FC is a club.\nIt  won\n  cups. Ignored tail."
ENTITIES = [entity("Q1", DESCRIPTION, ["Foo FC is a club.", "It  won\n  cups."]),
            entity("Q2", " Bar is a person. ", [" Bar is a person. "])]


def test_mewslix_query_and_candidate_strings_by_hand(tmp_path):
    path = write_folder(tmp_path, [context_line([mention("m1", "Foo FC", S1), mention("m2", "Bar", S2),
                                                 mention("m3", "Baz", S3), mention("m4", "{x}", S2)])], ENTITIES)
    rows = [row for _, row in mewslix.read_mewslix(path, "test", "en")]
    assert [row["source"] for row in rows[:4]] == [
        # left "The {old} club " -> "The (old) club "; right "\nwon   3 cups."; the markup
        # "Foo FC: The (old) club  { Foo FC } \nwon   3 cups." joins its lines with a space, then ONE pass of
        # "  " -> " " leaves "club {", "} won" and "won  3" (three spaces become two).
        "Foo FC: The (old) club { Foo FC } won  3 cups.",
        # At the start of its sentence: left "", so "Bar:  { Bar } ..." -> "Bar: { Bar } ..."; the right side's
        # braces become parentheses one pair at a time ("{a}{b}" -> "(a)(b)", not "(a}{b)").
        "Bar: { Bar } (x)y leads (a)(b).",
        # At the end: right "", so the markup ends "said  { Baz } " -> "said { Baz } " -> stripped; the three
        # spaces of "Fans   love" become two.
        "Baz: Fans  love (them) so, said { Baz }",
        # The mention's own braces stay: only the context around it is escaped.
        "{x}: Bar { {x} } y leads (a)(b).",
    ]
    assert rows[0]["gold_targets"] == ["Q1"] and rows[0]["target"] is None
    # Q1: the two sentences joined by a space, "Foo FC is a club. It  won\n  cups." -> lines joined
    # "... It  won   cups." -> one pass: "It won", "won  cups"; the text outside the spans is dropped.
    # Q2: the span's own spaces are stripped at the end.
    assert [(row["id"], row["target"]) for row in rows[4:]] == [("Q1", "Foo FC is a club. It won  cups."),
                                                                ("Q2", "Bar is a person.")]


def test_mewslix_normalisation_is_one_replace_pass():
    assert mewslix.normalized("a\nb") == "a b"
    assert mewslix.normalized("a\n\nb") == "a b"  # "a  b" -> "a b"
    assert mewslix.normalized("a   b    c") == "a  b  c"  # three -> two, four -> two
    assert mewslix.normalized(" a \r\n") == "a"


@pytest.mark.parametrize("surface, sentence", [("(end)", " (end)"), ("here. The", S0)])
def test_mewslix_mention_in_no_sentence_is_a_data_error(tmp_path, surface, sentence):
    # "(end)" lies outside every span; "here. The" crosses from the first sentence into the second.
    good = context_line([mention("m1", "Foo FC", S1)])
    bad = context_line([mention("m2", surface, sentence)])
    path = write_folder(tmp_path, [good, bad], ENTITIES)
    with pytest.raises(DataError, match="mention 'm2'.*lies in no single sentence") as error:
        list(mewslix.read_mewslix(path, "test", "en"))
    assert f"{path}:2" in str(error.value)


def test_mewslix_candidate_needs_sentence_spans(tmp_path):
    no_spans = {"entity_id": "Q1", "title": "Foo", "description": "Foo is a club."}
    path = write_folder(tmp_path, [context_line([mention("m1", "Foo FC", S1)])], [ENTITIES[1], no_spans])
    with pytest.raises(DataError, match="sentence_spans") as error:
        list(mewslix.read_mewslix(path, "test", "en"))
    assert f"{mewslix.CANDIDATES_FILE}:2" in str(error.value)
    empty = {**no_spans, "sentence_spans": []}
    write_folder(tmp_path, [context_line([mention("m1", "Foo FC", S1)])], [empty])
    with pytest.raises(DataError, match="entity 'Q1'.*empty text"):
        list(mewslix.read_mewslix(path, "test", "en"))
    outside = {**no_spans, "sentence_spans": [{"start": 3, "end": 40}]}
    write_folder(tmp_path, [context_line([mention("m1", "Foo FC", S1)])], [outside])
    with pytest.raises(DataError, match=r"sentence_spans\[0\]: \[3, 40\) is not a non-empty span"):
        list(mewslix.read_mewslix(path, "test", "en"))


def test_mewslix_queries_of_the_official_sample(tmp_path):
    sample = SAMPLES / "mewslix/google-research_testdata/example_mentions.jsonl"
    shutil.copy(sample, tmp_path / "wikinews_mentions-test.jsonl")
    # The gold entities of the sample's mentions (en: Helsinki; ar: Abu Musa, Lesser Tunb) must be candidates.
    entities = [entity("Q1757", "Helsinki is the capital of Finland.", ["Helsinki is the capital of Finland."]),
                entity("Q167217", "Abu Musa is an island.", ["Abu Musa is an island."]),
                entity("Q3447452", "Lesser Tunb is an island.", ["Lesser Tunb is an island."])]
    (tmp_path / mewslix.CANDIDATES_FILE).write_text("".join(json.dumps(e) + "\n" for e in entities))
    en = next(row for _, row in mewslix.read_mewslix(tmp_path / "wikinews_mentions-test.jsonl", "test", "en"))
    # "Helsinki" [50, 58) in the sentence [47, 187) "In Helsinki, the Finnish ... labor.": left "In ", right
    # ", the ...": "Helsinki: In  { Helsinki } , the ..." -> the two double spaces become single.
    assert en["source"] == ("Helsinki: In { Helsinki } , the Finnish trade union for bus and truck drivers has gone on "
                            "strike on Sunday evening, mainly over the use of part-time labor.")
    # ar: both mentions lie in the sentence [46, 388), which has no line break, brace or double space. The first
    # has a space on either side, so the markup's double spaces collapse to one; the second follows "و" and is
    # followed by "،" with no space, so the markup's single spaces stay.
    [context] = [row["context"] for row in map(json.loads, sample.read_text(encoding="utf-8").splitlines())
                 if row["context"]["language"] == "ar"]
    sentence = context["text"][46:388]
    assert "\n" not in sentence and "{" not in sentence and "  " not in sentence
    text = context["text"]
    assert text[252] == text[261] == " " and (text[274], text[285]) == ("و", "،")
    rows = [row for _, row in mewslix.read_mewslix(tmp_path / "wikinews_mentions-test.jsonl", "test", "ar")]
    assert rows[0]["source"] == f"أبو موسى: {text[46:253]}{{ أبو موسى }}{text[261:388]}"
    assert rows[1]["source"] == f"طنب الصغرى: {text[46:275]} {{ طنب الصغرى }} {text[285:388]}"


# ---------------------------------------------------------------- LAReQA candidates


def xquad_r(paragraphs: list[tuple[str, list[list[int]], list[tuple[str, int]]]]) -> str:
    """A SQuAD-format XQuAD-R file: (context, sentence_breaks, [(question id, answer start)]) per paragraph; each
    answer is the context's character at its start (the reader checks answer texts against the context)."""
    return json.dumps({"data": [{"title": "t", "paragraphs": [
        {"context": context, "sentence_breaks": breaks,
         "qas": [{"id": qid, "question": f"question {qid}?",
                  "answers": [{"text": context[start], "answer_start": start}]}
                 for qid, start in questions]}
        for context, breaks, questions in paragraphs]}]})


def test_lareqa_candidate_is_sentence_then_paragraph_without_newlines(tmp_path):
    (tmp_path / "en.json").write_text(xquad_r([
        # "Alpha one." [0, 10), "\n", "Beta two." [11, 20), " "; q1's answer starts at 12, in the second sentence.
        ("Alpha one.\nBeta two. ", [[0, 10], [11, 20]], [("q1", 12)]),
        # q2's answer starts at 6 (the space after the sentence), in no sentence: the question is dropped, and
        # with it the paragraph's sentences.
        ("Gamma. ", [[0, 6]], [("q2", 6)]),
        # The sentence holds a leading space: the text is stripped, as the official script reads it back.
        (" Delta three.", [[0, 13]], [("q3", 1)]),
    ]), encoding="utf-8")
    (tmp_path / "de.json").write_text(xquad_r([("Eins.\n", [[0, 5]], [("q1", 0)])]), encoding="utf-8")
    pool = lareqa.read_pool(tmp_path, ("en", "de"))
    assert pool.candidates == [
        ("en_1_0", "Alpha one.Alpha one.Beta two."),  # "Alpha one." + "Alpha one.\nBeta two. ", "\n" removed
        ("en_1_1", "Beta two.Alpha one.Beta two."),
        ("en_3_0", "Delta three. Delta three."),  # " Delta three." + " Delta three." stripped
        ("de_1_0", "Eins.Eins."),  # "Eins." + "Eins.\n"
    ]
    assert pool.questions == {"en": [("q1", "question q1?"), ("q3", "question q3?")], "de": [("q1", "question q1?")]}
    assert pool.relevant == {"q1": ["en_1_1", "de_1_0"], "q3": ["en_3_0"]}
