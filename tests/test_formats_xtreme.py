"""Readers of the official XTREME / XTREME-R raw files, on the real-format samples in /work/shared/samples
(expected values counted by hand from those files; the counts are in the comments) and on bad files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from xstilts.errors import DataError
from xstilts.formats import bucc, conllu, panx, pawsx, squad, tatoeba, udpos, xcopa, xnli

SAMPLES = Path("/work/shared/samples")
pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="needs the shared real-format samples")


def examples(reader, path, split="test", language="en"):
    return [example for _, example in reader(Path(path), split, language)]


# ------------------------------------------------------------------ XNLI


XNLI = SAMPLES / "xnli/hf_xnli_all_languages"


def test_xnli_selects_one_language_of_the_shared_file():
    # xnli.dev.tsv: a header and one row per language (16 lines, 15 languages); the de row, columns 7 and 8.
    rows = examples(xnli.read_xnli, XNLI / "XNLI-1.0/xnli.dev.tsv", "dev", "de")
    assert rows == [{
        "id": "dev-de-1",
        "text": "und er hat gesagt, Mama ich bin daheim.",
        "text_pair": "Er rief seine Mutter an, sobald er aus dem Schulbus stieg.",
        "label": "neutral",
    }]
    # XTREME's own copy has two ar rows: neutral, then contradiction.
    ar = examples(xnli.read_xnli, SAMPLES / "xnli/hf_xtreme_XNLI/XNLI-1.0/xnli.dev.tsv", "dev", "ar")
    assert [row["label"] for row in ar] == ["neutral", "contradiction"]


def test_xnli_unknown_language_names_the_languages_present():
    with pytest.raises(DataError, match="no rows for language 'ja'.*ar, bg, de"):
        examples(xnli.read_xnli, XNLI / "XNLI-1.0/xnli.test.tsv", "test", "ja")


def test_mnli_training_data_and_contradictory(tmp_path):
    # multinli.train.en.tsv: header premise/hypo/label and 4 rows: neutral, entailment x3.
    rows = examples(xnli.read_xnli, XNLI / "XNLI-MT-1.0/multinli/multinli.train.en.tsv", "train", "en")
    assert [row["label"] for row in rows] == ["neutral", "entailment", "entailment", "entailment"]
    assert rows[0]["text_pair"] == "Product and geography are what make cream skimming work ."
    # MNLI spells contradiction 'contradictory'; quotes are text (no CSV quoting) and CRLF ends are line ends.
    path = tmp_path / "multinli.train.en.tsv"
    path.write_bytes(b'premise\thypo\tlabel\r\n"Hi," he said .\tHe spoke .\tcontradictory\r\n')
    assert examples(xnli.read_xnli, path, "train", "en") == [
        {"id": "train-en-1", "text": '"Hi," he said .', "text_pair": "He spoke .", "label": "contradiction"}
    ]


@pytest.mark.parametrize("body, message", [
    ("premise\thypo\tlabel\na\tb\n", "expected 3 tab-separated columns.*found 2"),
    ("premise\thypo\tlabel\na\tb\tmaybe\n", "unknown label 'maybe'"),
    ("language\tgold_label\tx\nde\tneutral\n", "XNLI-1.0 header without 'sentence1' as column 7"),
    ("sentence\tlabel\n", "unknown header"),
])
def test_xnli_bad_files(tmp_path, body, message):
    path = tmp_path / "bad.tsv"
    path.write_text(body)
    with pytest.raises(DataError, match=message) as error:
        examples(xnli.read_xnli, path, "train", "de")
    assert str(path) in str(error.value)


# ------------------------------------------------------------------ PAWS-X


PAWSX = SAMPLES / "pawsx/hf_paws-x/x-final"


def test_pawsx_reads_rows_without_final_newline():
    # en/train.tsv: header + 4 rows with labels 0 1 0 1; the last row has no line end.
    rows = examples(pawsx.read_pawsx, PAWSX / "en/train.tsv", "train", "en")
    assert [row["label"] for row in rows] == ["0", "1", "0", "1"]
    assert rows[3]["text_pair"] == "The results are high when comparable flow rates can be maintained ."
    # de/test_2k.tsv row 1 keeps its double space ("BK,  in Serbien").
    de = examples(pawsx.read_pawsx, PAWSX / "de/test_2k.tsv", "test", "de")
    assert len(de) == 4 and "Carlstad United BK,  in Serbien" in de[0]["text"]


def test_pawsx_quotes_are_text(tmp_path):
    path = tmp_path / "dev_2k.tsv"
    path.write_text('id\tsentence1\tsentence2\tlabel\n7\t"The Sims" is a game .\tIt is "a game" .\t1\n')
    [row] = examples(pawsx.read_pawsx, path, "dev", "en")
    assert row["text"] == '"The Sims" is a game .' and row["text_pair"] == 'It is "a game" .'


@pytest.mark.parametrize("body, message, line", [
    ("id\tsentence1\tsentence2\tlabel\n1\ta\tb\n", "expected 4 tab-separated columns", 2),
    ("id\tsentence1\tsentence2\tlabel\n1\ta\tb\t1\n2\ta\tb\t2\n", "unknown label '2'", 3),
    ("id\ts1\ts2\tlabel\n", "expected the header", 1),
])
def test_pawsx_bad_files(tmp_path, body, message, line):
    path = tmp_path / "bad.tsv"
    path.write_text(body)
    with pytest.raises(DataError, match=message) as error:
        examples(pawsx.read_pawsx, path)
    assert f"{path}:{line}" in str(error.value)


# ------------------------------------------------------------------ UD-POS


ES = SAMPLES / "udpos/ud_v2.5_es_gsd"
OFFICIAL = SAMPLES / "official_preprocessing"


def conll_words(path: Path) -> list[list[tuple[str, str]]]:
    """(FORM, UPOS) per sentence of the official converter's .conll output (an independent reference)."""
    sentences, current = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if current:
                sentences.append(current)
            current = []
        else:
            fields = line.split("\t")
            current.append((fields[1], fields[3]))
    return sentences + ([current] if current else [])


@pytest.mark.parametrize("split", ["dev", "test"])
def test_multiword_tokens_collapse_as_the_official_converter(split):
    ours = [
        list(zip(s.words, s.tags, strict=True))
        for s in udpos.file_sentences(ES / f"es_gsd-ud-{split}.first25sent.conllu", "es")
    ]
    reference = conll_words(OFFICIAL / f"udpos_es_conll_intermediate/es_gsd-ud-{split}.first25sent.conll")
    assert len(ours) == 25 and ours == reference


def test_fused_forms_by_hand():
    first, second = list(udpos.file_sentences(ES / "es_gsd-ud-dev.first25sent.conllu", "es"))[:2]
    # Sentence 1: 22 words, one multiword token 18-19 "del" (de ADP + el DET, both attached to 20): a tie of
    # depth, broken by the es precedence list (ADP before DET). 22 - 1 = 21 words.
    assert len(first.words) == 21 and (first.words[17], first.tags[17]) == ("del", "ADP")
    # Sentence 2: "transmitiéndose" 11-12; 11 is the higher node (12 depends on it), so VERB.
    assert ("transmitiéndose", "VERB") in zip(second.words, second.tags, strict=True)
    # 17 multiword tokens in the dev file, each of two words.
    words = sum(len(s.words) for s in udpos.file_sentences(ES / "es_gsd-ud-dev.first25sent.conllu", "es"))
    raw_words = sum(
        1 for line in (ES / "es_gsd-ud-dev.first25sent.conllu").read_text().splitlines()
        if line and not line.startswith("#") and line.split("\t")[0].isdigit()
    )
    assert words == raw_words - 17


def sentence(rows: list[str]) -> str:
    return "\n".join(rows) + "\n\n"


def word(index: int, form: str, upos: str, head: int, deps: str = "_") -> str:
    return f"{index}\t{form}\t_\t{upos}\t_\t_\t{head}\tdep\t{deps}\t_"


def test_tie_break_is_language_specific(tmp_path):
    # Span 1-2 = ADV + PRON, both children of word 3: a tie. it ranks ADV first; the default list PRON.
    path = tmp_path / "x_tb-ud-test.conllu"
    path.write_text(sentence(["1-2\tfused\t_\t_\t_\t_\t_\t_\t_\t_", word(1, "a", "ADV", 3), word(2, "b", "PRON", 3),
                              word(3, "c", "VERB", 0)]))
    [(it_sentence,)] = [(s,) for s in udpos.file_sentences(path, "it")]
    [(pt_sentence,)] = [(s,) for s in udpos.file_sentences(path, "pt")]
    assert it_sentence.tags == ["ADV", "VERB"] and pt_sentence.tags == ["PRON", "VERB"]
    assert it_sentence.words == ["fused", "c"]


def test_enhanced_heads_count_toward_depth(tmp_path):
    # Span 3-4 (VERB, NOUN), both with basic head 2. Word 3 also has the enhanced head 1, so it has one more
    # ancestor (1) than word 4: word 4 is the single highest node and the span is tagged NOUN, although a
    # tie would have chosen VERB.
    path = tmp_path / "x_tb-ud-test.conllu"
    path.write_text(sentence([word(1, "a", "NOUN", 2), word(2, "b", "VERB", 0), "3-4\tcd\t_\t_\t_\t_\t_\t_\t_\t_",
                              word(3, "c", "VERB", 2, "2:obj|1:dep"), word(4, "d", "NOUN", 2)]))
    [result] = list(udpos.file_sentences(path, "pt"))
    assert list(zip(result.words, result.tags, strict=True)) == [("a", "NOUN"), ("b", "VERB"), ("cd", "NOUN")]


def test_blank_sentences_dropped_and_words_cleaned(tmp_path):
    # kept: no '_' ; dropped: 2 words with one '_' (1 >= 2 - 1); kept: 3 words with one '_' (1 < 3 - 1).
    path = tmp_path / "x_tb-ud-train.conllu"
    path.write_text(
        sentence([word(1, "ha\u200cllo", "INTJ", 0), word(2, "New York", "PROPN", 1)])
        + sentence([word(1, "_", "NOUN", 0), word(2, "b", "NOUN", 1)])
        + sentence([word(1, "_", "NOUN", 0), word(2, "b", "NOUN", 1), word(3, "c", "NOUN", 1)])
    )
    result = list(udpos.file_sentences(path, "de"))
    assert [s.words for s in result] == [["hallo", "NewYork"], ["_", "b", "c"]]


def test_udpos_reader_concatenates_treebanks_in_file_order(tmp_path):
    # Two Spanish "treebanks" in a release folder; zz_ files of another language are ignored.
    release = tmp_path / "ud-treebanks-v2.5"
    (release / "UD_Spanish-B").mkdir(parents=True)
    (release / "UD_Spanish-A").mkdir(parents=True)
    shutil.copy(ES / "es_gsd-ud-test.first25sent.conllu", release / "UD_Spanish-B/es_gsd-ud-test.conllu")
    shutil.copy(ES / "es_gsd-ud-dev.first25sent.conllu", release / "UD_Spanish-A/es_ancora-ud-test.conllu")
    rows = examples(udpos.read_udpos, release, "test", "es")
    assert len(rows) == 50
    # es_ancora sorts first: its first sentence is the dev sample's ("Lo hizo ...").
    assert rows[0]["tokens"][:2] == ["Lo", "hizo"] and rows[25]["tokens"][0] != "Lo"
    with pytest.raises(DataError, match=r"no UD-POS train file for language 'es'.*es_\*-ud-train.conllu"):
        examples(udpos.read_udpos, release, "train", "es")


@pytest.mark.parametrize("body, message", [
    ("1\ta\tb\n", "expected 10 tab-separated CoNLL-U columns"),
    (word(2, "a", "NOUN", 0) + "\n", "word ID 2 out of order"),
    (word(1, "a", "NOUN", 0) + "\n\n" + word(1, "b", "NONSENSE", 0) + "\n", "UPOS 'NONSENSE'"),
    ("1-3\tx\t_\t_\t_\t_\t_\t_\t_\t_\n" + word(1, "a", "NOUN", 0) + "\n\n", "does not cover words"),
])
def test_conllu_bad_files(tmp_path, body, message):
    release = tmp_path / "rel" / "UD_X"
    release.mkdir(parents=True)
    (release / "es_x-ud-test.conllu").write_text(body)
    with pytest.raises(DataError, match=message) as error:
        examples(udpos.read_udpos, tmp_path / "rel", "test", "es")
    assert "es_x-ud-test.conllu:" in str(error.value)


def test_precedence_lists():
    assert conllu.precedence_for("es") == ("VERB", "AUX", "PRON", "ADP", "DET")
    assert conllu.precedence_for("de") == conllu.DEFAULT_PRECEDENCE


# ------------------------------------------------------------------ PAN-X


PANX = SAMPLES / "panx/hf_xtreme_PAN-X"


def test_panx_sentences():
    # en/train: 11 token lines and a blank line = one sentence; "en:R.H." -> "R.H.".
    [row] = examples(panx.read_panx, PANX / "en/train", "train", "en")
    assert len(row["tokens"]) == 11 and row["tokens"][:2] == ["R.H.", "Saunders"]
    assert row["tags"][:3] == ["B-ORG", "I-ORG", "O"]
    # ja/dev: 256 lines, one blank (the last): one sentence of 255 characters.
    [ja] = examples(panx.read_panx, PANX / "ja/dev", "dev", "ja")
    assert len(ja["tokens"]) == 255 and all(len(token) == 1 for token in ja["tokens"])


@pytest.mark.parametrize("body, message", [
    ("en:a\tO\textra\n", "expected 2 tab-separated columns"),
    ("en:a\tB-MISC\n", "unknown tag 'B-MISC'"),
    ("a\tO\n", "expected '<lang>:<token>'"),
])
def test_panx_bad_files(tmp_path, body, message):
    path = tmp_path / "train"
    path.write_text("en:ok\tO\n" + body)
    with pytest.raises(DataError, match=message) as error:
        examples(panx.read_panx, path)
    assert f"{path}:2" in str(error.value)


# ------------------------------------------------------------------ SQuAD JSON


def test_thai_xquad_keeps_the_byte_order_mark_and_offsets():
    rows = examples(squad.read_squad, SAMPLES / "xquad/hf_xquad/xquad.th.json", "test", "th")
    # 5 articles, 25 paragraphs, 153 questions, one answer each (counted in the JSON).
    assert len(rows) == 153 and rows[0]["context"].startswith("\ufeff")
    for row in rows:
        [answer] = row["answers"]
        assert row["context"][answer["start"] : answer["start"] + len(answer["text"])] == answer["text"]


def test_mlqa_and_tydiqa():
    [row] = examples(squad.read_squad, SAMPLES / "mlqa/hf_xtreme_MLQA/MLQA_V1/dev/dev-context-en-question-en.json")
    assert row["id"] == "569666f4dc3983dab5624e989212c1d9d0cd1798"
    train = SAMPLES / "tydiqa/hf_xtreme_tydiqa/tydiqa-goldp-v1.1-train.json"
    # The sample train file holds two Finnish questions and no English one: an error, not an empty split.
    with pytest.raises(DataError, match=r"holds no questions of language 'en' \(ids starting with 'english-'\)"):
        examples(squad.read_tydiqa, train, "train", "en")
    assert [r["id"] for r in examples(squad.read_tydiqa, train, "train", "fi")] == [
        "finnish--7633091408814529542-0", "finnish-8742325368463988542-0"]


def test_tydiqa_train_keeps_english_by_id_prefix(tmp_path):
    # A mixed train file in the official layout: one English, one Arabic question; 'englishman-' is not English.
    qas = [{"id": qid, "question": "?", "answers": [{"text": "b", "answer_start": 1}]}
           for qid in ("english-1-0", "arabic-2-0", "englishman-3-0")]
    path = tmp_path / "tydiqa-goldp-v1.1-train.json"
    path.write_text(json.dumps({"data": [{"paragraphs": [{"context": "abc", "qas": qas}]}]}))
    assert [(r["id"], r["language"]) for r in examples(squad.read_tydiqa, path, "train", "en")] == [("english-1-0", "en")]
    assert [r["id"] for r in examples(squad.read_tydiqa, path, "train", "ar")] == ["arabic-2-0"]
    with pytest.raises(DataError, match="TyDiQA-GoldP has no language 'de'"):
        examples(squad.read_tydiqa, path, "train", "de")


@pytest.mark.parametrize("text, message", [
    ('{"data": [{"paragraphs": [{"context": "abc", "qas": [', "not valid JSON.*truncated"),
    ('{"data": [{"paragraphs": [{"context": "abc", "qas": [{"id": "q", "question": "?", '
     '"answers": [{"text": "bc", "answer_start": 0}]}]}]}]}', "is not at offset 0"),
    ('{"data": [{"paragraphs": [{"qas": []}]}]}', r"data\[0\].paragraphs\[0\]: missing key 'context'"),
])
def test_squad_bad_files(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        examples(squad.read_squad, path)


# ------------------------------------------------------------------ BUCC, Tatoeba, XCOPA


@pytest.fixture
def bucc_pair(tmp_path) -> Path:
    """The official layout bucc2018/fr-en/ with both parts (the samples keep them in two folders)."""
    folder = tmp_path / "fr-en"
    folder.mkdir()
    for part in SAMPLES.glob("bucc2018/tfds_dummy/*/bucc2018/fr-en/*"):
        shutil.copy(part, folder / part.name)
    return folder


def test_bucc_mining_set(bucc_pair):
    # training (XTREME's test): 3 fr sentences, 9 en sentences (8 line ends, the last line has none),
    # 3 gold pairs fr-1 -> en-9, fr-2 -> en-1, fr-3 -> en-5.
    rows = examples(bucc.read_bucc, bucc_pair, "test", "fr")
    sources = [r for r in rows if r["source"] is not None]
    targets = [r for r in rows if r["target"] is not None]
    assert len(sources) == 3 and len(targets) == 9
    assert {r["id"]: r["gold_targets"] for r in sources} == {
        "fr-000000001": ["en-000000009"], "fr-000000002": ["en-000000001"], "fr-000000003": ["en-000000005"]}
    # sample (XTREME's dev): one pair.
    dev = examples(bucc.read_bucc, bucc_pair, "dev", "fr")
    assert [(r["id"], r.get("gold_targets")) for r in dev] == [("fr-000000002", ["en-000014960"]), ("en-000014960", None)]


def test_bucc_bad_gold(bucc_pair):
    gold = bucc_pair / "fr-en.sample.gold"
    gold.write_text("fr-000000002\ten-999999999\n")
    with pytest.raises(DataError, match="not in fr-en.sample.en"):
        examples(bucc.read_bucc, bucc_pair, "dev", "fr")
    (bucc_pair / "fr-en.sample.en").unlink()
    with pytest.raises(DataError, match="missing BUCC file"):
        examples(bucc.read_bucc, bucc_pair, "dev", "fr")


def test_tatoeba_pairs(tmp_path):
    # cmn is XTREME's zh: 1000 aligned lines. Examples come in the order of the sorted English file, the English
    # sentence as the query: the first English line in code-point order starts with '"Have' ('"' < letters),
    # and is line 688 of the files (0-based 687), its Chinese side '“你完成了吗？”...'.
    path = SAMPLES / "tatoeba/laser_v1" / tatoeba.file_name("zh")
    rows = examples(tatoeba.read_tatoeba, path, "test", "zh")
    assert len(rows) == 1000
    assert rows[0] == {"id": "687", "source": '"Have you finished?" "On the contrary, I have not even begun yet."',
                       "target": "“你完成了吗？”“正相反，我还没开始呢。”"}
    # Line 1 ("Let's have a look." / "我們試試看！") is still there, under id 0.
    assert {"id": "0", "source": "Let's have a look.", "target": "我們試試看！"} in rows
    # Equal English lines keep their file order (a stable sort), as the official preprocessing's sorted() does.
    (tmp_path / "tatoeba.fra-eng.fra").write_text("z1\nb\nz2\n")
    (tmp_path / "tatoeba.fra-eng.eng").write_text("same \nB\n same\n")
    rows = examples(tatoeba.read_tatoeba, tmp_path / "tatoeba.fra-eng.fra", "test", "fr")
    assert [(r["id"], r["source"], r["target"]) for r in rows] == [("1", "B", "b"), ("0", "same", "z1"),
                                                                  ("2", "same", "z2")]
    (tmp_path / "tatoeba.deu-eng.deu").write_text("a\nb\n")
    (tmp_path / "tatoeba.deu-eng.eng").write_text("a\n")
    with pytest.raises(DataError, match=r"tatoeba\.deu-eng\.eng:2: has 1 lines but tatoeba\.deu-eng\.deu has 2"):
        examples(tatoeba.read_tatoeba, tmp_path / "tatoeba.deu-eng.deu", "test", "de")


def test_xcopa(tmp_path):
    # val.et.jsonl: 5 rows; row 1 premise "Mees keeras kraani lahti.", question effect, label 1.
    rows = examples(xcopa.read_xcopa, SAMPLES / "xcopa/hf_xcopa/val.et.jsonl", "dev", "et")
    assert len(rows) == 5
    assert rows[0] == {"id": "dev-et-0", "context": "Mees keeras kraani lahti. What was the effect?",
                       "choices": ["Tualett täitus veega.", "Tilast voolas vett."], "label": 1}
    bad = tmp_path / "val.et.jsonl"
    bad.write_text('{"premise": "p", "choice1": "a", "choice2": "b", "question": "effect", "label": 2}\n')
    with pytest.raises(DataError, match="label must be 0 or 1"):
        examples(xcopa.read_xcopa, bad, "dev", "et")
    bad.write_text('{"premise": "p", "choice1": "a"\n')
    with pytest.raises(DataError, match=f"{bad}:1: not valid JSON"):
        examples(xcopa.read_xcopa, bad, "dev", "et")


# ------------------------------------------------------------------ COPA (SuperGLUE), XCOPA's English data

# Rows in SuperGLUE's COPA/{train,val}.jsonl format (no 'changed' key, unlike XCOPA). The first is the item that
# XCOPA's val sets translate first (et sample, row 1: "Mees keeras kraani lahti.", effect, label 1).
COPA_ROWS = [
    {"premise": "The man turned on the faucet.", "choice1": "The toilet filled with water.",
     "choice2": "Water flowed from the spout.", "question": "effect", "idx": 0, "label": 1},
    {"premise": "My body cast a shadow over the grass.", "choice1": "The sun was rising.",
     "choice2": "The grass was cut.", "question": "cause", "idx": 7, "label": 0},
]


def write_copa(root: Path, split_file: str, rows: list[dict]) -> None:
    folder = root / "xcopa" / "COPA"  # where COPA.zip extracts below the xcopa folder
    folder.mkdir(parents=True, exist_ok=True)
    (folder / split_file).write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def test_copa_rows_read_like_xcopa_from_the_extracted_zip(tmp_path):
    from xstilts.tasks import get_task

    root = tmp_path / "data"
    write_copa(root, "val.jsonl", COPA_ROWS)
    write_copa(root, "train.jsonl", COPA_ROWS[:1])
    # The context as run_xcopa.py builds it: "<premise> What was the <question>?"; ids from idx.
    assert get_task("copa").load("dev", "en", root) == [
        {"id": "dev-en-0", "context": "The man turned on the faucet. What was the effect?",
         "choices": ["The toilet filled with water.", "Water flowed from the spout."], "label": 1},
        {"id": "dev-en-7", "context": "My body cast a shadow over the grass. What was the cause?",
         "choices": ["The sun was rising.", "The grass was cut."], "label": 0},
    ]
    assert [e["id"] for e in get_task("copa").load("train", "en", root)] == ["train-en-0"]
    # XCOPA reads its own files from the same folder: its et translation of the first item, same question/label.
    (root / "xcopa/data/et").mkdir(parents=True)
    shutil.copy(SAMPLES / "xcopa/hf_xcopa/val.et.jsonl", root / "xcopa/data/et")
    first = get_task("xcopa").load("dev", "et", root)[0]
    assert (first["context"], first["label"]) == ("Mees keeras kraani lahti. What was the effect?", 1)


def test_copa_test_file_without_labels_is_an_error_that_names_the_line(tmp_path):
    # SuperGLUE's test.jsonl has no labels: COPA declares no test split, and reading one anyway fails clearly.
    root = tmp_path / "data"
    write_copa(root, "test.jsonl", [{k: v for k, v in COPA_ROWS[0].items() if k != "label"}])
    with pytest.raises(DataError, match=r"test.jsonl:1: label must be 0 or 1 .*found None"):
        examples(xcopa.read_xcopa, root / "xcopa/COPA/test.jsonl", "test", "en")


def test_copa_declaration_shares_the_head_of_socialiqa_and_xcopa(tmp_path):
    from xstilts.errors import XstiltsError
    from xstilts.tasks import get_task

    copa, target, siqa = get_task("copa"), get_task("xcopa"), get_task("socialiqa")
    # XTREME-R: SocialIQa, then COPA continuing that model, then XCOPA: one head for the three
    assert copa.head_name == target.head_name == siqa.head_name == "socialiqa"
    assert copa.family == target.family == siqa.family == "multiple_choice"
    assert dict(copa.splits) == {"train": ("en",), "dev": ("en",)}  # SuperGLUE's 400 train and 100 val items
    assert copa.settings["num_choices"] == 2 and copa.metrics == ("accuracy",)
    assert copa.path("train", "en", tmp_path) == tmp_path / "xcopa/COPA/train.jsonl"
    assert copa.path("dev", "en", tmp_path) == tmp_path / "xcopa/COPA/val.jsonl"
    with pytest.raises(XstiltsError, match=r"task 'copa': missing data file .*xcopa/COPA/train\.jsonl"):
        copa.load("train", "en", tmp_path)
