"""Readers of the English intermediate tasks. SQuAD uses the real-format sample (huggingface/datasets'
squad dummy data, /work/shared/samples/squad/SOURCES.md); the other formats have no sample, so the fixtures
below are written by hand from each release's documented format (field names and file layout of ANLI,
MultiNLI/GLUE, SNLI, GLUE QQP, SQuAD 2.0, HellaSwag, CommonsenseQA, Cosmos QA, SocialIQA, CCGbank AUTO)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from xstilts.errors import DataError, XstiltsError
from xstilts.formats import ccgbank
from xstilts.formats.multiple_choice import (
    read_commonsenseqa,
    read_cosmosqa,
    read_hellaswag,
    read_socialiqa,
)
from xstilts.formats.nli import read_anli, read_mnli, read_snli
from xstilts.formats.qqp import read_qqp
from xstilts.formats.squad import read_squad
from xstilts.tasks import get_task
from xstilts.tasks.intermediate import INTERMEDIATE_TASKS

SAMPLES = Path(os.environ.get("XSTILTS_SAMPLES", "/work/shared/samples"))
SQUAD = SAMPLES / "squad" / "hf_squad_plain_text"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(path: Path, records: list) -> Path:
    return write(path, "".join(json.dumps(r) + "\n" for r in records))


def rows(reader, path, split="train"):
    return list(reader(Path(path), split, "en"))


# ------------------------------------------------------------------------------------------ SQuAD


@pytest.mark.skipif(not SQUAD.is_dir(), reason="SQuAD samples not available")
def test_squad_sample_with_synthetic_offsets_is_rejected_by_key_path(tmp_path):
    # huggingface's dummy SQuAD: context 'This is a test context.', answer 'This is a test text' at offset 1,
    # which is not where (nor anywhere) the answer stands; the reader names the question's JSON key path.
    with pytest.raises(DataError, match=r"train-v1\.1\.json: data\[0\]\.paragraphs\[0\]\.qas\[0\]\.answers\[0\] "
                                        r"\(question '1'\): answer 'This is a test text' is not at offset 1"):
        rows(read_squad, SQUAD / "train-v1.1.json")
    (tmp_path / "squad").mkdir()
    (tmp_path / "squad" / "dev-v1.1.json").symlink_to(SQUAD / "dev-v1.1.json")
    with pytest.raises(DataError, match=r"dev-v1\.1\.json: data\[0\]\.paragraphs\[0\]\.qas\[0\]\.answers\[0\]"):
        get_task("squad").load("dev", "en", tmp_path)


def test_squad_integer_ids_become_text(tmp_path):
    document = {"data": [{"paragraphs": [{"context": "abc", "qas": [
        {"id": 7, "question": "?", "answers": [{"text": "bc", "answer_start": 1}]}]}]}]}
    [(number, example)] = rows(read_squad, write(tmp_path / "x.json", json.dumps(document)))
    assert number == 1 and example == {"id": "7", "question": "?", "context": "abc",
                                       "answers": [{"text": "bc", "start": 1}], "language": "en"}


SQUAD2 = {
    "version": "v2.0",
    "data": [{"title": "T", "paragraphs": [{
        "context": "Normandy is a region in France.",
        "qas": [
            {"id": "a", "question": "Where is Normandy?", "is_impossible": False,
             "answers": [{"text": "France", "answer_start": 24}, {"text": "in France", "answer_start": 21}]},
            {"id": "b", "question": "Where is Paris?", "is_impossible": True, "answers": [],
             "plausible_answers": [{"text": "France", "answer_start": 24}]},
        ],
    }]}],
}


def test_squad2_unanswerable_questions_have_no_answers(tmp_path):
    path = write(tmp_path / "squad" / "dev-v2.0.json", json.dumps(SQUAD2))
    examples = [ex for _, ex in rows(read_squad, path, "dev")]
    assert [ex["answers"] for ex in examples] == [
        [{"text": "France", "start": 24}, {"text": "in France", "start": 21}], []
    ]
    # Through the declaration: squad2 allows null answers, squad (v1.1) does not.
    assert len(get_task("squad2").load("dev", "en", tmp_path)) == 2
    write(tmp_path / "squad" / "dev-v1.1.json", json.dumps(SQUAD2))
    with pytest.raises(DataError, match="dev-v1.1.json:2: example 'b' has no answers"):
        get_task("squad").load("dev", "en", tmp_path)


def test_truncated_and_malformed_squad_files(tmp_path):
    text = json.dumps(SQUAD2, indent=1)
    path = write(tmp_path / "cut.json", text[: len(text) // 2])
    with pytest.raises(DataError, match=r"cut\.json:\d+: not valid JSON .* is the file complete"):
        rows(read_squad, path)
    broken = json.loads(json.dumps(SQUAD2))
    del broken["data"][0]["paragraphs"][0]["qas"][1]["question"]
    path = write(tmp_path / "broken.json", json.dumps(broken))
    with pytest.raises(DataError, match=r"broken\.json: data\[0\]\.paragraphs\[0\]\.qas\[1\]: missing key 'question'"):
        rows(read_squad, path)
    broken["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = "24"
    path = write(tmp_path / "broken.json", json.dumps(broken))
    with pytest.raises(DataError, match=r"answers\[0\]\.answer_start: expected an integer"):
        rows(read_squad, path)


# -------------------------------------------------------------------------------------------- NLI


def test_anli_labels_and_bad_label(tmp_path):
    path = jsonl(tmp_path / "train.jsonl", [
        {"uid": "u1", "context": "P1", "hypothesis": "H1", "label": "e", "reason": ""},
        {"uid": "u2", "context": "P2", "hypothesis": "H2", "label": "c"},
        {"uid": "u3", "context": "P3", "hypothesis": "H3", "label": "n"},
    ])
    assert [(n, ex["id"], ex["label"]) for n, ex in rows(read_anli, path)] == [
        (1, "u1", "entailment"), (2, "u2", "contradiction"), (3, "u3", "neutral")
    ]
    bad = jsonl(tmp_path / "dev.jsonl", [{"uid": "u1", "context": "P", "hypothesis": "H", "label": "e"},
                                         {"uid": "u2", "context": "P", "hypothesis": "H", "label": "x"}])
    with pytest.raises(DataError, match=r"dev\.jsonl:2: unknown label 'x'"):
        rows(read_anli, bad)
    cut = write(tmp_path / "test.jsonl", '{"uid": "u1", "context": "P", "hyp')
    with pytest.raises(DataError, match=r"test\.jsonl:1: not valid JSON"):
        rows(read_anli, cut)


MNLI_TRAIN_HEADER = ("index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
                     "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n")
MNLI_DEV_HEADER = MNLI_TRAIN_HEADER.replace("label1\t", "label1\tlabel2\tlabel3\tlabel4\tlabel5\t")


def test_mnli_glue_tsv_train_and_dev_columns_by_name(tmp_path):
    train = write(tmp_path / "MNLI" / "train.tsv", MNLI_TRAIN_HEADER
                  + "0\t31193\t31193n\tgovernment\t( ( x ) )\t( y )\t(ROOT x)\t(ROOT y)\tPremise one\tHyp one\tneutral\tneutral\n")
    dev = write(tmp_path / "MNLI" / "dev_matched.tsv", MNLI_DEV_HEADER
                + "0\t63735\t63735n\tslate\tb1\tb2\tp1\tp2\tThe prem\tThe hyp\tneutral\tentailment\tneutral\tneutral\tneutral\tneutral\n")
    assert rows(read_mnli, train) == [
        (2, {"id": "31193n", "text": "Premise one", "text_pair": "Hyp one", "label": "neutral"})
    ]
    assert rows(read_mnli, dev, "dev")[0][1]["text"] == "The prem"
    short = write(tmp_path / "MNLI" / "bad.tsv", MNLI_TRAIN_HEADER + "0\t1\t1n\tgenre\tonly five\n")
    with pytest.raises(DataError, match=r"bad\.tsv:2: expected 12 tab-separated columns as in the header, found 5"):
        rows(read_mnli, short)
    test = write(tmp_path / "MNLI" / "test_matched.tsv", MNLI_TRAIN_HEADER.replace("\tlabel1\tgold_label", ""))
    with pytest.raises(DataError, match=r"test_matched\.tsv:1: the header has no column 'gold_label'"):
        rows(read_mnli, test)


def test_snli_and_multinli_jsonl_drop_no_consensus(tmp_path):
    records = [
        {"gold_label": "entailment", "sentence1": "A", "sentence2": "B", "pairID": "p1"},
        {"gold_label": "-", "sentence1": "C", "sentence2": "D", "pairID": "p2"},
        {"gold_label": "contradiction", "sentence1": "E", "sentence2": "F", "pairID": "p3"},
    ]
    snli = jsonl(tmp_path / "snli_1.0_dev.jsonl", records)
    assert [(n, ex["id"]) for n, ex in rows(read_snli, snli)] == [(1, "p1"), (3, "p3")]
    mnli = jsonl(tmp_path / "multinli_1.0_dev_matched.jsonl", records)
    assert [n for n, _ in rows(read_mnli, mnli)] == [1, 3]
    bad = jsonl(tmp_path / "snli_1.0_test.jsonl", [{**records[0], "gold_label": "entails"}])
    with pytest.raises(DataError, match=r"snli_1\.0_test\.jsonl:1: unknown label 'entails'"):
        rows(read_snli, bad)


def test_anli_plus_shares_one_nli_head_with_one_label_order():
    members = [get_task(n) for n in ("anli-r1", "anli-r2", "anli-r3", "mnli", "snli")]
    assert {t.head_name for t in members} == {"nli"}
    assert {t.labels for t in members} == {("entailment", "neutral", "contradiction")}
    assert get_task("qqp").head_name == "qqp"


def test_mnli_reads_whichever_release_is_there(tmp_path):
    task = get_task("mnli")
    assert task.path("train", "en", tmp_path) == tmp_path / "mnli" / "MNLI" / "train.tsv"
    jsonl(tmp_path / "mnli" / "multinli_1.0" / "multinli_1.0_train.jsonl",
          [{"gold_label": "neutral", "sentence1": "A", "sentence2": "B", "pairID": "p"}])
    assert task.path("train", "en", tmp_path).name == "multinli_1.0_train.jsonl"
    assert task.load("train", "en", tmp_path)[0]["label"] == "neutral"


# -------------------------------------------------------------------------------------------- QQP


def test_qqp(tmp_path):
    header = "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
    path = write(tmp_path / "QQP" / "dev.tsv", header + "7\t15\t16\tHow do I x?\tHow to x?\t1\n8\t17\t18\tA?\tB?\t0\n")
    assert [(n, ex["id"], ex["label"]) for n, ex in rows(read_qqp, path, "dev")] == [(2, "7", "1"), (3, "8", "0")]
    bad = write(tmp_path / "QQP" / "bad.tsv", header + "7\t15\t16\tq1\tq2\t2\n")
    with pytest.raises(DataError, match=r"bad\.tsv:2: unknown label '2'"):
        rows(read_qqp, bad)
    wrong = write(tmp_path / "QQP" / "wrong.tsv", header + "7\t15\tq1\tq2\t1\n")
    with pytest.raises(DataError, match=r"wrong\.tsv:2: expected 6 tab-separated columns"):
        rows(read_qqp, wrong)


# -------------------------------------------------------------------------------- multiple choice


def test_hellaswag(tmp_path):
    record = {"ind": 24, "activity_label": "Roof shingle removal", "ctx_a": "A man is sitting on a roof.",
              "ctx_b": "he", "ctx": "A man is sitting on a roof. he", "split": "val", "split_type": "indomain",
              "label": 3, "endings": ["is using wrap.", "is ripping level tiles off.", "is holding a cube.",
                                      "starts pulling up roofing."], "source_id": "activitynet~v_-JhWjGDPHMY"}
    path = jsonl(tmp_path / "hellaswag" / "hellaswag_val.jsonl", [record, {**record, "ind": 25, "ctx_b": ""}])
    [(_, first), (_, second)] = rows(read_hellaswag, path, "dev")
    assert first == {"id": "24", "context": "A man is sitting on a roof.", "label": 3,
                     "choices": ["he is using wrap.", "he is ripping level tiles off.", "he is holding a cube.",
                                 "he starts pulling up roofing."]}
    assert second["choices"][0] == "is using wrap."  # empty ctx_b: no leading space
    assert len(get_task("hellaswag").load("dev", "en", tmp_path)) == 2
    unlabelled = jsonl(tmp_path / "hellaswag_test.jsonl", [{k: v for k, v in record.items() if k != "label"}])
    with pytest.raises(DataError, match=r"hellaswag_test\.jsonl:1: no 'label'"):
        rows(read_hellaswag, unlabelled)


def test_commonsenseqa(tmp_path):
    record = {"answerKey": "C", "id": "075e483d21c29a511267ef62bedc0461", "question": {
        "question_concept": "punishing", "stem": "The sanctions against the school were a punishing blow?",
        "choices": [{"label": letter, "text": text} for letter, text in
                    zip("ABCDE", ["ignore", "enforce", "authoritarian", "yell at", "avoid"], strict=True)]}}
    path = jsonl(tmp_path / "dev_rand_split.jsonl", [record, {**record, "answerKey": "F"}])
    reader = read_commonsenseqa(path, "dev", "en")
    number, first = next(reader)
    assert number == 1 and first["label"] == 2 and first["choices"][2] == "authoritarian"
    assert first["context"].startswith("The sanctions")
    with pytest.raises(DataError, match=r"dev_rand_split\.jsonl:2: answerKey 'F' is not one of the choice labels"):
        next(reader)


def test_cosmosqa_csv_with_quoted_commas_and_newlines(tmp_path):
    text = ('id,context,question,answer0,answer1,answer2,answer3,label\n'
            '3Q9,"Good Old War and person L : I saw both of these bands Wednesday night, and they both\nblew me away.",'
            'In the future will this person go to see other bands play ?,None of the above choices .,'
            '"This person likes music and likes to see the show , they will see other bands play .",'
            'This person only likes Good Old War and Person L,Other Bands is not on tour,1\n'
            '3E2,Ctx two,Q two?,a,b,c,d,3\n')
    path = write(tmp_path / "cosmosqa" / "valid.csv", text)
    got = rows(read_cosmosqa, path, "dev")
    assert [(n, ex["id"], ex["label"]) for n, ex in got] == [(2, "3Q9", 1), (4, "3E2", 3)]  # record 1 spans 2 lines
    assert got[0][1]["choices"][1] == "This person likes music and likes to see the show , they will see other bands play ."
    assert got[1][1]["context"] == "Ctx two Q two?"
    assert len(get_task("cosmosqa").load("dev", "en", tmp_path)) == 2
    bad = write(tmp_path / "bad.csv", "id,context,question,answer0,answer1,answer2,answer3,label\nx,c,q,a,b,c,d,4\n")
    with pytest.raises(DataError, match=r"bad\.csv:2: label 4 is not one of 0..3"):
        rows(read_cosmosqa, bad)
    short = write(tmp_path / "short.csv", "id,context,question,answer0,answer1,answer2,answer3,label\nx,c,q,a\n")
    with pytest.raises(DataError, match=r"short\.csv:2: expected 8 columns"):
        rows(read_cosmosqa, short)


def test_cosmosqa_jsonl(tmp_path):
    path = jsonl(tmp_path / "train.jsonl", [{"id": "i", "context": "C", "question": "Q", "answer0": "a",
                                             "answer1": "b", "answer2": "c", "answer3": "d", "label": "0"}])
    assert rows(read_cosmosqa, path)[0][1]["label"] == 0


def test_socialiqa_with_its_labels_file(tmp_path):
    folder = tmp_path / "socialiqa" / "socialiqa-train-dev"
    record = {"context": "Tracy didn't go home that evening.", "question": "What does Tracy need to do?",
              "answerA": "make a new plan", "answerB": "Go home and see Riley", "answerC": "Find somewhere"}
    jsonl(folder / "dev.jsonl", [record, record])
    write(folder / "dev-labels.lst", "1\n3\n")
    got = rows(read_socialiqa, folder / "dev.jsonl", "dev")
    assert [(n, ex["label"]) for n, ex in got] == [(1, 0), (2, 2)]
    assert got[0][1]["context"] == "Tracy didn't go home that evening. What does Tracy need to do?"
    assert len(get_task("socialiqa").load("dev", "en", tmp_path)) == 2
    write(folder / "dev-labels.lst", "1\n")
    with pytest.raises(DataError, match=r"dev-labels\.lst: has 1 labels but dev\.jsonl has 2 examples"):
        rows(read_socialiqa, folder / "dev.jsonl", "dev")
    write(folder / "dev-labels.lst", "1\n4\n")
    with pytest.raises(DataError, match=r"dev-labels\.lst:2: label '4' is not one of 1, 2, 3"):
        rows(read_socialiqa, folder / "dev.jsonl", "dev")
    (folder / "dev-labels.lst").unlink()
    with pytest.raises(DataError, match=r"dev-labels\.lst: missing"):
        rows(read_socialiqa, folder / "dev.jsonl", "dev")


# -------------------------------------------------------------------------------------------- CCG

# Two sentences in CCGbank's AUTO format (manual, section "The AUTO format"): a header line, then the
# derivation; leaves (<L category modified_POS original_POS word predarg_category>), inner nodes
# (<T category head_index daughters> ...).
AUTO = (
    "ID=wsj_0201.1 PARSER=GOLD NUMPARSE=1\n"
    "(<T S[dcl] 0 2> (<T S[dcl] 1 2> (<T NP 0 1> (<L N NNP NNP Vinken N>) ) "
    "(<T S[dcl]\\NP 0 2> (<L (S[dcl]\\NP)/NP VBZ VBZ chairs (S[dcl]\\NP_1)/NP_2>) "
    "(<T NP 0 1> (<L N NNP NNP Elsevier N>) ) ) ) (<L . . . . .>) )\n"
    "ID=wsj_0201.2 PARSER=GOLD NUMPARSE=1\n"
    "(<T S[dcl] 0 2> (<L NP PRP PRP It NP>) (<L S[dcl]\\NP VBD VBD rained S[dcl]\\NP_1>) )\n"
)


def ccg_tree(root: Path) -> Path:
    auto = root / "ccg" / "ccgbank_1_1" / "data" / "AUTO"
    for section in [*ccgbank.SECTIONS["train"], "00", "23"]:
        write(auto / section / f"wsj_{section}01.auto", AUTO.replace("wsj_0201", f"wsj_{section}01"))
    return auto


def test_ccgbank_auto_file(tmp_path):
    path = write(tmp_path / "wsj_0201.auto", AUTO)
    got = list(ccgbank.read_auto_file(path))
    assert got == [
        (2, {"id": "wsj_0201.1", "tokens": ["Vinken", "chairs", "Elsevier", "."],
             "tags": ["N", "(S[dcl]\\NP)/NP", "N", "."]}),
        (4, {"id": "wsj_0201.2", "tokens": ["It", "rained"], "tags": ["NP", "S[dcl]\\NP"]}),
    ]


def test_ccgbank_splits_by_section(tmp_path):
    auto = ccg_tree(tmp_path)
    # 20 training sections (02-21) of one file with 2 sentences each; dev = section 00, test = section 23.
    assert len(list(ccgbank.read_ccgbank(auto, "train"))) == 40
    assert [ex["id"] for _, ex in ccgbank.read_ccgbank(auto, "dev")] == ["wsj_0001.1", "wsj_0001.2"]
    assert [ex["id"] for _, ex in ccgbank.read_ccgbank(auto, "test")] == ["wsj_2301.1", "wsj_2301.2"]
    counts = ccgbank.supertag_counts(auto)
    assert counts["N"] == 40 and counts["(S[dcl]\\NP)/NP"] == 20 and sum(counts.values()) == 120


def test_ccgbank_errors(tmp_path):
    with pytest.raises(DataError, match=r"AUTO: missing\. CCGbank needs an LDC licence .* <data_root>/ccg/ccgbank_1_1/data/AUTO"):
        list(ccgbank.read_ccgbank(tmp_path / "AUTO", "dev"))
    auto = ccg_tree(tmp_path)
    (auto / "23" / "wsj_2301.auto").unlink()
    with pytest.raises(DataError, match=r"23: no wsj_\*\.auto files for section 23 of the test split"):
        list(ccgbank.read_ccgbank(auto, "test"))
    cut = write(tmp_path / "cut.auto", AUTO[: AUTO.index("(<L . . . . .>)")] + "\n")
    with pytest.raises(DataError, match=r"cut\.auto:2: sentence wsj_0201\.1: a node with more or fewer daughters "
                                        r"than it declares, at character \d+ in the derivation"):
        list(ccgbank.read_auto_file(cut))
    no_header = write(tmp_path / "noheader.auto", AUTO.split("\n", 1)[1])
    with pytest.raises(DataError, match=r"noheader\.auto:1: expected a sentence header"):
        list(ccgbank.read_auto_file(no_header))
    no_tree = write(tmp_path / "notree.auto", "ID=wsj_0201.1 PARSER=GOLD NUMPARSE=1\n")
    with pytest.raises(DataError, match=r"notree\.auto:1: sentence wsj_0201\.1: the file ends after its header"):
        list(ccgbank.read_auto_file(no_tree))


def test_ccg_task_takes_its_labels_from_the_training_sections(tmp_path):
    auto = ccg_tree(tmp_path)
    # Every training section has the AUTO fixture (2 sentences): per section N x2, (S[dcl]\NP)/NP, ., NP and
    # S[dcl]\NP x1 each; over the 20 sections 02-21: N 40, the other four 20. Section 02 gets one more
    # sentence whose category PP (once) and NP (one more: 21) are added.
    rare = ("ID=wsj_0202.1 PARSER=GOLD NUMPARSE=1\n"
            "(<T S[dcl] 0 2> (<L NP PRP PRP It NP>) (<L PP IN IN about PP>) )\n")
    write(auto / "02" / "wsj_0202.auto", rare)
    declared = get_task("ccg")
    assert declared.labels == () and declared.family == "tagging"
    task = declared.with_data(tmp_path)
    # Seen >= 10 times: N, NP, (S[dcl]\NP)/NP, S[dcl]\NP, "."; sorted as text (ASCII: '(' < '.' < 'N' < 'S'),
    # then the unknown tag. PP (once) is not a label.
    assert task.labels == ("(S[dcl]\\NP)/NP", ".", "N", "NP", "S[dcl]\\NP", "<unk>")
    assert declared.with_data(tmp_path) is not declared and declared.with_data(tmp_path).labels == task.labels
    train = declared.load("train", "en", tmp_path)  # load derives the labels itself
    assert len(train) == 41 and train[2]["tags"] == ["NP", "<unk>"]
    assert [ex["tags"] for ex in task.load("dev", "en", tmp_path)] == [
        ["N", "(S[dcl]\\NP)/NP", "N", "."], ["NP", "S[dcl]\\NP"]]
    # The labels and the rule enter the cache keys through the description; other data, other labels.
    described = task.describe()
    assert described["labels"] == list(task.labels)
    assert described["labels_from"] == {"rule": "frequent_tags", "min_count": 10, "unknown": "<unk>", "split": "train"}
    for section in ("03", "04", "05", "06", "07", "08", "09", "10", "11"):
        write(auto / section / f"wsj_{section}02.auto", rare.replace("wsj_0202", f"wsj_{section}02"))
    assert "PP" in declared.with_data(tmp_path).labels  # now seen 10 times


# One sentence per section 00..24, so that split sizes and tag sets are counted on the fingers. Most sections
# hold "It rained" (NP, S[dcl]\NP); four hold one tag found nowhere else or a phrase of their own.
IT_RAINED = "(<T S[dcl] 0 2> (<L NP PRP PRP It NP>) (<L S[dcl]\\NP VBD VBD rained S[dcl]\\NP_1>) )"
SPECIAL_SECTIONS = {
    # jiant: train; standard: dev
    "00": "(<T S[dcl] 0 2> (<T NP 0 2> (<L NP/N DT DT The NP/N>) (<L N NN NN rain N>) ) "
          "(<L S[dcl]\\NP VBD VBD fell S[dcl]\\NP_1>) )",
    # jiant: dev; standard: train
    "20": "(<T S[dcl] 0 2> (<L NP PRP PRP It NP>) (<T S[dcl]\\NP 0 2> "
          "(<L S[dcl]\\NP VBD VBD rained S[dcl]\\NP_1>) (<L PP IN IN inside PP>) ) )",
    # jiant: test; standard: test
    "23": "(<T S[dcl] 0 2> (<L NP PRP PRP It NP>) (<T S[dcl]\\NP 0 2> "
          "(<L S[dcl]\\NP VBD VBD rained S[dcl]\\NP_1>) (<L (S\\NP)\\(S\\NP) RB RB again (S\\NP)\\(S\\NP)>) ) )",
    # jiant: test; standard: no split
    "24": "(<T NP 0 2> (<L NP PRP PRP It NP>) (<L conj CC CC and conj>) )",
}


def ccg_sections(root: Path) -> Path:
    auto = root / "ccg" / "ccgbank_1_1" / "data" / "AUTO"
    for number in range(25):
        section = f"{number:02d}"
        tree = SPECIAL_SECTIONS.get(section, IT_RAINED)
        write(auto / section / f"wsj_{section}01.auto", f"ID=wsj_{section}01.1 PARSER=GOLD NUMPARSE=1\n{tree}\n")
    return auto


def test_jiant_sections_cover_ccgbank_once():
    sections = [s for split in ("train", "dev", "test") for s in ccgbank.JIANT_SECTIONS[split]]
    assert sections == [f"{n:02d}" for n in range(25)]
    assert ccgbank.JIANT_SECTIONS["dev"] == ("19", "20", "21") and ccgbank.JIANT_SECTIONS["test"] == ("22", "23", "24")
    assert ccgbank.SECTIONS["train"][0] == "02" and ccgbank.SECTIONS["train"][-1] == "21"  # standard ones kept


def test_ccg_jiant_splits_and_every_tag_as_a_label(tmp_path):
    auto = ccg_sections(tmp_path)
    ids = {split: [ex["id"] for _, ex in ccgbank.read_ccgbank_jiant(auto, split)] for split in ("train", "dev", "test")}
    assert ids["train"] == [f"wsj_{n:02d}01.1" for n in range(19)]  # sections 00-18: 19 sentences
    assert ids["dev"] == ["wsj_1901.1", "wsj_2001.1", "wsj_2101.1"]
    assert ids["test"] == ["wsj_2201.1", "wsj_2301.1", "wsj_2401.1"]
    declared = get_task("ccg-jiant")
    assert declared.labels == () and declared.head_name == "ccg-jiant" and declared.data_dir == "ccg"
    task = declared.with_data(tmp_path)
    # First seen, train (section 00: NP/N, N, S[dcl]\NP; 01: NP), then test (23: the adverb; 24: conj), then
    # dev (20: PP). The tags seen only in test or dev are labels too; no unknown tag.
    assert task.labels == ("NP/N", "N", "S[dcl]\\NP", "NP", "(S\\NP)\\(S\\NP)", "conj", "PP")
    dev = task.load("dev", "en", tmp_path)
    assert [ex["tags"] for ex in dev] == [["NP", "S[dcl]\\NP"], ["NP", "S[dcl]\\NP", "PP"], ["NP", "S[dcl]\\NP"]]
    assert [ex["tags"] for ex in declared.load("test", "en", tmp_path)][2] == ["NP", "conj"]
    assert task.describe()["labels_from"] == {"rule": "every_tag", "splits": ["train", "test", "dev"],
                                              "order": "first_seen"}
    # a new tag in a dev section is a new label (the derived labels are keyed by every split's data)
    write(auto / "21" / "wsj_2101.auto", "ID=wsj_2101.1 PARSER=GOLD NUMPARSE=1\n"
          "(<T NP 0 2> (<L NP PRP PRP It NP>) (<L , , , , ,>) )\n")
    assert declared.with_data(tmp_path).labels[-1] == ","


def test_standard_ccg_keeps_its_sections_and_labels_on_the_same_folder(tmp_path):
    ccg_sections(tmp_path)
    task = get_task("ccg").with_data(tmp_path)
    # Sections 02-21 (20 sentences): NP and S[dcl]\NP 20 times each; PP once (section 20): rare.
    assert task.labels == ("NP", "S[dcl]\\NP", "<unk>")
    assert len(task.load("train", "en", tmp_path)) == 20
    assert [ex["tags"] for ex in task.load("dev", "en", tmp_path)] == [["<unk>", "<unk>", "S[dcl]\\NP"]]  # 00
    assert [ex["tags"] for ex in task.load("test", "en", tmp_path)] == [["NP", "S[dcl]\\NP", "<unk>"]]  # 23


def test_ccg_task_without_data_says_where_to_put_it(tmp_path):
    with pytest.raises(XstiltsError, match=r"task 'ccg': missing data file .*ccg/ccgbank_1_1/data/AUTO"):
        get_task("ccg").with_data(tmp_path)


# ----------------------------------------------------------------------------------- declarations


def test_intermediate_names_and_missing_files(tmp_path):
    names = {task.name for task in INTERMEDIATE_TASKS}
    assert names == {"anli-r1", "anli-r2", "anli-r3", "mnli", "snli", "qqp", "squad", "squad2", "hellaswag",
                     "commonsenseqa", "cosmosqa", "socialiqa", "ccg", "ccg-jiant"}
    for task in INTERMEDIATE_TASKS:
        assert task.benchmark == "intermediate" and set(task.splits["train"]) == {"en"}
        with pytest.raises(XstiltsError, match=rf"task {task.name!r}: missing data file {tmp_path}/"):
            task.load("train", "en", tmp_path)
    assert get_task("squad2").path("dev", "en", tmp_path) == tmp_path / "squad" / "dev-v2.0.json"
    assert get_task("anli-r3").path("dev", "en", tmp_path) == tmp_path / "anli" / "anli_v1.0" / "R3" / "dev.jsonl"
    assert dict(get_task("squad2").settings)["with_negative"] is True
