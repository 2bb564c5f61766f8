"""The reader defects a review found with mutated samples (silent wrong parses, tracebacks, vague messages),
one test each: every one is now a DataError naming the file and line (or JSON key path), or the same parse
as the unmutated file. The systematic search is tests/test_fuzz_readers.py."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from xstilts.errors import DataError
from xstilts.formats import (
    ccgbank,
    common,
    lareqa,
    mewslix,
    multiple_choice,
    squad,
    tatoeba,
    udpos,
    xglue,
    xnli,
)

SAMPLES = Path("/work/shared/samples")
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="needs the shared real-format samples")
XNLI_DEV = SAMPLES / "xnli/hf_xnli_all_languages/XNLI-1.0/xnli.dev.tsv"
XGLUE = SAMPLES / "xglue/hf_xglue/xglue_full_dataset"


def read(reader, path, split="dev", language="en"):
    return list(reader(Path(path), split, language))


def raises_at(path: Path, line: int | None, match: str):
    """pytest.raises for a DataError at ``path:line`` (``line`` None: no line)."""
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    return pytest.raises(DataError, match=rf"^{re.escape(where)}.*{match}")


# ------------------------------------------------------------------------------------------ one text helper


def test_one_text_helper_reads_every_data_file():
    # No reader opens a file any other way than formats.common.text_lines.
    sources = Path(common.__file__).parent
    for module in sources.glob("*.py"):
        text = module.read_text(encoding="utf-8")
        for call in ("open(", "read_text(", "read_bytes(", "json.load("):
            if module.name != "common.py":
                assert call not in text, f"{module.name} calls {call}: read through common.text_lines"
    assert Path(common.__file__).read_text().count("open(") == 1


def test_bom_crlf_and_cr_read_as_the_plain_file(tmp_path):
    plain = tmp_path / "plain"
    plain.write_bytes(b"a\tb\nc\td\n")
    for variant in (b"\xef\xbb\xbfa\tb\nc\td\n", b"a\tb\r\nc\td\r\n", b"a\tb\rc\td\r"):
        path = tmp_path / "variant"
        path.write_bytes(variant)
        assert list(common.text_lines(path)) == list(common.text_lines(plain)) == [(1, "a\tb"), (2, "c\td")]


def test_lines_do_not_depend_on_how_the_file_is_read_in_blocks(tmp_path, monkeypatch):
    import random

    rng = random.Random(7)
    pieces = ["a", "bc", "ä", "日本", "\t", " ", "\n", "\r\n", "\r", "😀"]
    path = tmp_path / "f.txt"
    for _ in range(60):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        path.write_bytes(text.encode("utf-8"))
        reference = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        reference = reference[:-1] if reference[-1] == "" else reference
        bad = rng.randint(0, len(text))
        broken = text[:bad].encode() + b"\xff" + text[bad:].encode()
        bad_line = len(text[:bad].replace("\r\n", "\n").replace("\r", "\n").split("\n"))
        for size in (1, 2, 3, 5, 8, 1 << 20):
            monkeypatch.setattr(common, "_BLOCK", size)
            path.write_bytes(text.encode("utf-8"))
            assert [line for _, line in common.text_lines(path)] == reference
            path.write_bytes(broken)
            with pytest.raises(DataError) as error:
                list(common.text_lines(path))
            assert error.value.line == bad_line


@pytest.mark.parametrize("data, line, message", [
    (b"ok\nbad \xff byte\n", 2, r"not UTF-8 text at byte 5 of the line: byte 0xff"),
    ("ok\ncut 日".encode()[:-1], 2, r"the line ends inside a multi-byte character \(is the file cut short\?\)"),
    (b"ok\n\xed\xa0\xbd\n", 2, r"bytes ed a0 bd encode a lone UTF-16 surrogate"),
    (b"ok\nnul\x00\n", 2, r"NUL character"),
])
def test_undecodable_text_is_a_data_error_with_the_line(tmp_path, data, line, message):
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    with raises_at(path, line, message):
        list(common.text_lines(path))


@pytest.mark.parametrize("text, line, message", [
    ('{"a": "\\ud83d"}', 1, r"a: a lone UTF-16 surrogate escape \(\\ud83d\)"),
    ('{"a": ["x", "\\ude00y"]}', 1, r"a\[1\]: a lone UTF-16 surrogate escape"),
    ('{"a": 1, "a": 2}', None, r"the key 'a' twice"),
    ('{"a": NaN}', None, r"NaN is not a JSON value"),
    ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", None, r"nested too deeply"),
    ('{"a": 1', 1, r"not valid JSON .*is the file complete"),
])
def test_json_problems_are_data_errors(tmp_path, text, line, message):
    path = tmp_path / "f.json"
    path.write_text(text)
    with raises_at(path, line, message):
        common.load_json(path)


def test_a_surrogate_pair_escape_is_one_character(tmp_path):
    path = tmp_path / "pair.json"
    path.write_text('{"a": "\\ud83d\\ude00"}')
    assert common.load_json(path) == {"a": "\U0001f600"}


def test_ascii_digits_only():
    assert common.ascii_int(Path("f"), 1, "-12", "x") == -12
    for bad in ("²", "1²", "١", " 1", "+1", "1_0", ""):
        with pytest.raises(DataError, match="must be an integer in ASCII digits"):
            common.ascii_int(Path("f"), 1, bad, "x")


# ------------------------------------------------------------------------------------------ silent wrong parses


@needs_samples
def test_xnli_row_with_a_missing_column_or_a_stray_cr(tmp_path):
    lines = XNLI_DEV.read_text(encoding="utf-8").split("\n")
    row = lines[3].split("\t")
    del row[3]  # one parse column less: sentence2 would be read from promptID
    path = tmp_path / "xnli.dev.tsv"
    path.write_text("\n".join([*lines[:3], "\t".join(row), *lines[4:]]), encoding="utf-8")
    with raises_at(path, 4, "expected 19 tab-separated columns as in the header"):
        read(xnli.read_xnli, path, "dev", "de")
    path.write_text("\n".join([*lines[:3], lines[3][:90] + "\r" + lines[3][90:], *lines[4:]]), encoding="utf-8")
    with raises_at(path, 4, "expected 19 tab-separated columns"):
        read(xnli.read_xnli, path, "dev", "de")


def test_ccgbank_leaves_are_parsed_not_searched(tmp_path):
    it_rained = "(<T S[dcl] 0 2> {} (<L S[dcl]\\NP VBD VBD rained S[dcl]\\NP_1>) )"
    path = tmp_path / "wsj_0201.auto"
    path.write_text("ID=wsj_0201.2 PARSER=GOLD NUMPARSE=1\n" + it_rained.format("(<L NP PRP It NP>)") + "\n")
    with raises_at(path, 2, r"sentence wsj_0201\.2: a leaf with 4 fields"):
        list(ccgbank.read_auto_file(path))
    path.write_text("ID=wsj_0201.2 PARSER=GOLD NUMPARSE=1\n" + it_rained.format("(<L NP PRP PRP It\u00a0is NP>)") + "\n")
    assert list(ccgbank.read_auto_file(path))[0][1]["tokens"] == ["It\u00a0is", "rained"]  # the word, kept whole
    path.write_text("")
    with raises_at(path, None, "holds no sentences"):
        list(ccgbank.read_auto_file(path))


def test_ccgbank_and_udpos_name_the_empty_file_not_the_folder(tmp_path):
    auto = tmp_path / "AUTO" / "00"
    auto.mkdir(parents=True)
    (auto / "wsj_0001.auto").write_text("")
    with raises_at(auto / "wsj_0001.auto", None, "holds no sentences"):
        list(ccgbank.read_ccgbank(tmp_path / "AUTO", "dev"))
    release = tmp_path / "ud" / "UD_X"
    release.mkdir(parents=True)
    (release / "es_x-ud-test.conllu").write_text("")
    with raises_at(release / "es_x-ud-test.conllu", None, "holds no sentences"):
        list(udpos.read_udpos(tmp_path / "ud", "test", "es"))


@needs_samples
def test_lareqa_answers_are_checked_against_the_context_and_no_language_leaves_the_pool(tmp_path):
    for language in lareqa.POOL_LANGUAGES:
        shutil.copy(SAMPLES / "lareqa/hf_xquad_r/en.json", tmp_path / f"{language}.json")
    document = json.loads((SAMPLES / "lareqa/hf_xquad_r/en.json").read_text(encoding="utf-8"))
    answer = document["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]
    for start in (10**6, answer["answer_start"] + 200):  # past the context; into another sentence
        answer_copy = dict(answer, answer_start=start)
        edited = json.loads(json.dumps(document))
        edited["data"][0]["paragraphs"][0]["qas"][0]["answers"][0] = answer_copy
        (tmp_path / "de.json").write_text(json.dumps(edited))
        with raises_at(tmp_path / "de.json", None, r"qas\[0\]\.answers\[0\] .*is not at offset"):
            list(lareqa.read_lareqa(tmp_path, "test", "en"))
    (tmp_path / "de.json").write_text('{"data": []}')
    with raises_at(tmp_path / "de.json", None, "would silently leave the pool"):
        list(lareqa.read_lareqa(tmp_path, "test", "en"))


@needs_samples
def test_mewslix_gold_entities_must_be_candidates(tmp_path):
    mentions = tmp_path / "wikinews_mentions-test.jsonl"
    shutil.copy(SAMPLES / "mewslix/google-research_testdata/example_mentions.jsonl", mentions)
    candidates = tmp_path / mewslix.CANDIDATES_FILE
    entity = {"entity_id": "Q1757", "description": "Helsinki.", "sentence_spans": [{"start": 0, "end": 9}]}
    candidates.write_text(json.dumps(entity) + "\n")
    with raises_at(mentions, 2, r"the gold entity 'Q167217' .* is not in the candidate set"):
        list(mewslix.read_mewslix(mentions, "test", "en"))  # the ar mentions' gold is checked too
    candidates.write_text("")
    with raises_at(candidates, None, "holds no entities"):
        list(mewslix.read_mewslix(mentions, "test", "en"))


def test_overlapping_multiword_ranges(tmp_path):
    word = "{}\t{}\t_\tNOUN\t_\t_\t{}\tdep\t_\t_"
    rows = ["1-2\tab\t_\t_\t_\t_\t_\t_\t_\t_", word.format(1, "a", 0), "2-3\tbc\t_\t_\t_\t_\t_\t_\t_\t_",
            word.format(2, "b", 1), word.format(3, "c", 1)]
    release = tmp_path / "UD_X"
    release.mkdir()
    (release / "es_x-ud-test.conllu").write_text("\n".join(rows) + "\n\n")
    with raises_at(release / "es_x-ud-test.conllu", 3, "multiword range 2-3 overlaps the range 1-2"):
        list(udpos.read_udpos(tmp_path, "test", "es"))


@needs_samples
@pytest.mark.parametrize("name, reader", [
    ("NER/de.dev", xglue.read_xglue_ner), ("POS/en.train", xglue.read_xglue_pos),
    ("NC/xglue.nc.en.dev", xglue.read_xglue_nc), ("WPR/xglue.wpr.en.dev", xglue.read_xglue_wpr),
    ("QAM/xglue.qam.en.dev", xglue.read_xglue_qam), ("QADSM/xglue.qadsm.en.dev", xglue.read_xglue_qadsm),
])
def test_a_bom_is_not_text_in_xglue_files(tmp_path, name, reader):
    path = tmp_path / Path(name).name
    path.write_bytes(b"\xef\xbb\xbf" + (XGLUE / name).read_bytes())
    assert read(reader, path) == read(reader, XGLUE / name)  # WPR: the first query group stays one group


@needs_samples
def test_a_bom_is_not_text_in_tatoeba(tmp_path):
    for suffix in ("deu", "eng"):
        shutil.copy(SAMPLES / f"tatoeba/laser_v1/tatoeba.deu-eng.{suffix}", tmp_path)
    path = tmp_path / "tatoeba.deu-eng.deu"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert read(tatoeba.read_tatoeba, path, "test", "de") == read(
        tatoeba.read_tatoeba, SAMPLES / "tatoeba/laser_v1/tatoeba.deu-eng.deu", "test", "de")


# ------------------------------------------------------------------------------------------ tracebacks


def test_undecodable_bytes_in_readers_that_opened_files_themselves(tmp_path):
    auto = tmp_path / "wsj.auto"
    auto.write_bytes(b"ID=wsj_0201.1 PARSER=GOLD NUMPARSE=1\n(<L N NN NN caf\xe9 N>)\n")
    with raises_at(auto, 2, "not UTF-8 text"):
        list(ccgbank.read_auto_file(auto))
    csv = tmp_path / "valid.csv"
    csv.write_bytes(b"id,context,question,answer0,answer1,answer2,answer3,label\nx,c\xff,q,a,b,c,d,1\n")
    with raises_at(csv, 2, "not UTF-8 text"):
        list(multiple_choice.read_cosmosqa(csv))
    (tmp_path / "dev.jsonl").write_text(json.dumps({"context": "c", "question": "q", "answerA": "a", "answerB": "b",
                                                    "answerC": "c"}) + "\n")
    (tmp_path / "dev-labels.lst").write_bytes(b"\xff\n")
    with raises_at(tmp_path / "dev-labels.lst", 1, "not UTF-8 text"):
        list(multiple_choice.read_socialiqa(tmp_path / "dev.jsonl", "dev"))
    ner = tmp_path / "en.dev"
    ner.write_bytes(b"EU B-ORG\nrejects\xc3 O\n")
    with raises_at(ner, 2, "not UTF-8 text"):
        read(xglue.read_xglue_ner, ner)


def test_digits_that_int_rejects(tmp_path):
    conllu = tmp_path / "UD_X" / "es_x-ud-test.conllu"
    conllu.parent.mkdir()
    conllu.write_text("1\ta\t_\tNOUN\t_\t_\t0\troot\t0²:root\t_\n\n")
    with raises_at(conllu, 1, "DEPS must be"):
        list(udpos.read_udpos(tmp_path, "test", "es"))
    conllu.write_text("1\ta\t_\tNOUN\t_\t_\t²\troot\t_\t_\n\n")
    with raises_at(conllu, 1, "HEAD must be an integer in ASCII digits"):
        list(udpos.read_udpos(tmp_path, "test", "es"))
    hellaswag = tmp_path / "hellaswag_val.jsonl"
    hellaswag.write_text(json.dumps({"ind": 1, "ctx_a": "a", "ctx_b": "b", "endings": list("wxyz"), "label": "²"}))
    with raises_at(hellaswag, 1, "label '²' is not one of 0..3"):
        list(multiple_choice.read_hellaswag(hellaswag))
    cosmos = tmp_path / "valid.csv"
    cosmos.write_text("id,context,question,answer0,answer1,answer2,answer3,label\nx,c,q,a,b,c,d,²\n")
    with raises_at(cosmos, 2, "label '²' is not one of 0..3"):
        list(multiple_choice.read_cosmosqa(cosmos))


@pytest.mark.parametrize("reader", [squad.read_squad, squad.read_tydiqa])
def test_deep_json_is_a_data_error(tmp_path, reader):
    path = tmp_path / "deep.json"
    path.write_text('{"data": ' + "[" * 50_000 + "]" * 50_000 + "}")
    with raises_at(path, None, "nested too deeply"):
        list(reader(path, "test", "en"))


@needs_samples
def test_lone_surrogate_escapes_in_json_readers(tmp_path):
    document = json.loads((SAMPLES / "xquad/hf_xquad/xquad.en.json").read_text(encoding="utf-8"))
    document["data"][0]["paragraphs"][0]["qas"][1]["question"] += "\ud83d"
    path = tmp_path / "xquad.en.json"
    path.write_text(json.dumps(document))  # ensure_ascii: written as the escape \ud83d
    with raises_at(path, 1, r"data\[0\]\.paragraphs\[0\]\.qas\[1\]\.question: a lone UTF-16 surrogate escape"):
        read(squad.read_squad, path)
    jsonl = tmp_path / "train.jsonl"
    jsonl.write_text('{"uid": "u", "context": "ok"}\n{"uid": "u\\udfff", "context": "x"}\n')
    with raises_at(jsonl, 2, r"uid: a lone UTF-16 surrogate escape"):
        list(common.json_lines(jsonl))


def test_a_float_is_no_xcopa_label(tmp_path):
    from xstilts.formats import xcopa

    path = tmp_path / "val.et.jsonl"
    path.write_text(json.dumps({"premise": "p", "choice1": "a", "choice2": "b", "question": "effect", "label": 1.0,
                                "idx": 0}) + "\n")
    with raises_at(path, 1, "label must be 0 or 1"):
        read(xcopa.read_xcopa, path, "dev", "et")
