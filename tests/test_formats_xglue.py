"""XGLUE readers on the real-format samples (huggingface/datasets' xglue dummy data, see
/work/shared/samples/xglue/SOURCES.md) and on hand-written fixtures for quirks and bad input; the XGLUE
declarations against the official layout; nDCG as XGLUE's scorer computes it (sklearn's ndcg_score). The
generation tasks (QG, NTG) are tested in test_xglue_generation.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xstilts.errors import DataError, XstiltsError
from xstilts.formats import xglue as fmt
from xstilts.formats.squad import read_squad
from xstilts.scoring import metrics
from xstilts.tasks import get_task
from xstilts.tasks.xglue import ALL_LANGUAGES, LANGUAGES, XGLUE_TASKS

SAMPLES = Path(os.environ.get("XSTILTS_SAMPLES", "/work/shared/samples"))
XGLUE = SAMPLES / "xglue" / "hf_xglue" / "xglue_full_dataset"
needs_samples = pytest.mark.skipif(not XGLUE.is_dir(), reason="XGLUE samples not available")


def read(reader, path, split="dev", language="en"):
    return list(reader(Path(path), split, language))


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.fixture
def data_root(tmp_path):
    """A data root whose xglue/xglue_full_dataset is the sample folder, as the official archive extracts."""
    (tmp_path / "xglue").mkdir()
    (tmp_path / "xglue" / "xglue_full_dataset").symlink_to(XGLUE, target_is_directory=True)
    return tmp_path


# ------------------------------------------------------------------------------------ samples


@needs_samples
def test_ner_samples_have_no_trailing_newline_and_read_whole():
    # en.train is the single line "EU I-ORG" without a newline; de.dev two words; en.test "SOCCER O", "- O".
    assert read(fmt.read_xglue_ner, XGLUE / "NER/en.train", "train") == [
        (1, {"id": "train-en-1", "tokens": ["EU"], "tags": ["I-ORG"]})
    ]
    [(line, sentence)] = read(fmt.read_xglue_ner, XGLUE / "NER/de.dev", "dev", "de")
    assert line == 1 and sentence["tokens"] == ["Großer", "Foto-Wettbeweb"] and sentence["tags"] == ["O", "O"]
    [(_, test)] = read(fmt.read_xglue_ner, XGLUE / "NER/en.test", "test")
    assert test["tokens"] == ["SOCCER", "-"]  # a word that is a dash is a word, not a separator


@needs_samples
def test_ner_labels_file_matches_declared_labels():
    # labels.txt of the sample lists the first two; Data_Format.txt lists all nine.
    assert (XGLUE / "NER/labels.txt").read_text().split() == ["B-LOC", "B-MISC"]
    assert fmt.NER_LABELS == ("B-LOC", "B-MISC", "B-ORG", "B-PER", "I-LOC", "I-MISC", "I-ORG", "I-PER", "O")


@needs_samples
@pytest.mark.parametrize("language", LANGUAGES["POS"])
def test_pos_dev_samples(language):
    [(line, sentence)] = read(fmt.read_xglue_pos, XGLUE / f"POS/{language}.dev", "dev", language)
    raw_word, raw_tag = (XGLUE / f"POS/{language}.dev").read_text(encoding="utf-8").split(" ")
    assert line == 1 and sentence["tokens"] == [raw_word] and sentence["tags"] == [raw_tag]


@needs_samples
def test_nc_sample_is_title_body_category():
    rows = read(fmt.read_xglue_nc, XGLUE / "NC/xglue.nc.de.dev", "dev", "de")
    assert [line for line, _ in rows] == [1, 2]
    assert [ex["label"] for _, ex in rows] == ["finance", "entertainment"]
    assert rows[0][1]["text"] == "Wirtschaft der Zukunft: Diese 10 Firmen werden die Welt beherrschen"
    assert rows[1][1]["text_pair"].startswith("Bei Ihnen wird der Weltkatzentag")
    # the full dataset's test files are labelled
    assert [ex["label"] for _, ex in read(fmt.read_xglue_nc, XGLUE / "NC/xglue.nc.en.test", "test")] == ["news"] * 2


@needs_samples
def test_qadsm_qam_wpr_samples():
    qadsm = [ex for _, ex in read(fmt.read_xglue_qadsm, XGLUE / "QADSM/xglue.qadsm.en.train", "train")]
    assert [ex["label"] for ex in qadsm] == ["Good", "Bad"]
    assert qadsm[0]["text"] == "cruise portland maine"
    assert qadsm[0]["text_pair"] == (
        "New England Cruises Your New England Cruise Awaits! Holland America Line Official Site."
    )
    qam = [ex for _, ex in read(fmt.read_xglue_qam, XGLUE / "QAM/xglue.qam.de.test", "test", "de")]
    assert [ex["label"] for ex in qam] == ["0", "1"] and qam[0]["text"] == "staninewerte "  # trailing space kept
    wpr = [ex for _, ex in read(fmt.read_xglue_wpr, XGLUE / "WPR/xglue.wpr.en.train", "train")]
    assert [(ex["group"], ex["label"]) for ex in wpr] == [("0", "1"), ("0", "2")]


@needs_samples
def test_xnli_and_pawsx_samples():
    [(line, train)] = read(fmt.read_xglue_xnli, XGLUE / "XNLI/multinli.train.en.tsv", "train")
    assert line == 2 and train["label"] == "neutral"  # line 1 is the header "premise hypo label"
    assert train["text_pair"] == "Product and geography are what make cream skimming work ."
    dev = read(fmt.read_xglue_xnli, XGLUE / "XNLI/zh.test", "test", "zh")
    assert [ex["label"] for _, ex in dev] == ["contradiction", "entailment"]
    [(line, paws)] = read(fmt.read_xglue_pawsx, XGLUE / "PAWSX/de/test_2k.tsv", "test", "de")
    assert line == 2 and paws["id"] == "test-de-10" and paws["label"] == "1"


@needs_samples
def test_mlqa_sample_question_counts():
    # Counted with a separate json walk over the sample files (data -> paragraphs -> qas).
    expected = {("dev", "ar"): 7, ("test", "ar"): 24, ("dev", "de"): 10, ("test", "de"): 9, ("dev", "en"): 8,
                ("test", "en"): 25, ("dev", "es"): 17, ("test", "es"): 8, ("dev", "hi"): 8, ("test", "hi"): 21,
                ("dev", "vi"): 16, ("test", "vi"): 3, ("dev", "zh"): 3, ("test", "zh"): 2}
    for (split, lang), count in expected.items():
        path = XGLUE / f"MLQA/MLQA_V1/{split}/{split}-context-{lang}-question-{lang}.json"
        rows = read(read_squad, path, split, lang)
        assert len(rows) == count and [n for n, _ in rows] == list(range(1, count + 1))
    first = read(read_squad, XGLUE / "MLQA/MLQA_V1/dev/dev-context-zh-question-zh.json")[0][1]
    assert first["id"] == "13f8eea6654690750d6c7ed262aa7345a92738c2"
    assert first["answers"] == [{"text": "宪法保障宗教自由", "start": 18}]
    assert len(read(read_squad, XGLUE / "MLQA/squad1.1/train-v1.1.json", "train")) == 1027


# ------------------------------------------------------------------- declarations vs the layout


def test_official_language_lists():
    # xglue_evaluate.py task2lg; 19 languages in all (the XGLUE paper's count).
    assert len(ALL_LANGUAGES) == 19
    assert ALL_LANGUAGES == tuple(sorted("ar bg de el en es fr hi it nl pl pt ru sw th tr ur vi zh".split()))
    assert get_task("xglue-ner").splits["test"] == ("de", "en", "es", "nl")
    assert len(get_task("xglue-pos").splits["test"]) == 18
    assert len(get_task("xglue-xnli").splits["dev"]) == 15
    assert {task.name for task in XGLUE_TASKS} == {
        "xglue-ner", "xglue-pos", "xglue-mlqa", "xglue-nc", "xglue-xnli", "xglue-pawsx", "xglue-qadsm",
        "xglue-wpr", "xglue-qam",
    }
    for task in XGLUE_TASKS:
        assert task.benchmark == "xglue" and task.splits["train"] == ("en",)
    assert not {"xnli", "pawsx"} & {t.name for t in XGLUE_TASKS}


def test_metrics_as_xglue_scores_them():
    main = {task.name: task.main_metric for task in XGLUE_TASKS}
    assert main == {
        "xglue-ner": "f1", "xglue-pos": "precision", "xglue-mlqa": "mlqa_f1", "xglue-nc": "accuracy",
        "xglue-xnli": "accuracy", "xglue-pawsx": "accuracy", "xglue-qadsm": "accuracy", "xglue-wpr": "ndcg",
        "xglue-qam": "accuracy",
    }


@needs_samples
@pytest.mark.parametrize("name", [task.name for task in XGLUE_TASKS])
def test_every_declared_file_exists_in_the_official_layout_and_loads(name, data_root):
    """Every (split, language) of every task resolves to a file of the sample archive, which reads and
    passes its family's validation."""
    task = get_task(name)
    for split, languages in task.splits.items():
        for language in languages:
            path = task.path(split, language, data_root)
            assert path.exists(), path
            examples = task.load(split, language, data_root)
            assert examples, (split, language)


def test_missing_file_names_the_expected_path(tmp_path):
    with pytest.raises(XstiltsError, match=r"xglue/xglue_full_dataset/WPR/xglue\.wpr\.it\.test"):
        get_task("xglue-wpr").load("test", "it", tmp_path)
    with pytest.raises(XstiltsError, match=r"xglue_full_dataset/PAWSX/fr/translated_train\.tsv"):
        get_task("xglue-pawsx").load("translate-train", "fr", tmp_path)


# --------------------------------------------------------------------------- quirks and bad files


def test_sentences_blank_lines_docstart_crlf(tmp_path):
    path = write(
        tmp_path, "en.dev",
        "-DOCSTART- O\r\n\r\nEU B-ORG\r\nrejects O\r\n\r\n\r\nPeter B-PER\nBlackburn I-PER",
    )
    rows = read(fmt.read_xglue_ner, path)
    assert [(line, ex["tokens"], ex["tags"]) for line, ex in rows] == [
        (3, ["EU", "rejects"], ["B-ORG", "O"]),
        (7, ["Peter", "Blackburn"], ["B-PER", "I-PER"]),
    ]
    assert [ex["id"] for _, ex in rows] == ["dev-en-1", "dev-en-2"]


def test_word_with_non_breaking_space_stays_one_word(tmp_path):
    path = write(tmp_path, "fr.test", "10\u00a0000 NUM\n")
    assert read(fmt.read_xglue_pos, path)[0][1]["tokens"] == ["10\u00a0000"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("EU B-ORG\nrejects B-FOO\n", 2, "unknown tag 'B-FOO'"),
        ("EU B-ORG\nrejects\n", 2, "expected 'word label'"),
        ("EU B-ORG\n\nword\tO\n", 3, "expected 'word label'"),
        ("EU B-ORG\nthree fields O\n", 2, "expected 'word label'"),
    ],
)
def test_bad_tagging_lines(tmp_path, text, line, message):
    path = write(tmp_path, "en.train", text)
    with pytest.raises(DataError, match=rf"en\.train:{line}: {message}"):
        read(fmt.read_xglue_ner, path)


def test_nc_with_the_documented_query_column_is_an_error(tmp_path):
    # Data_Format.txt says query<TAB>title<TAB>body<TAB>category; the released files have no query column.
    path = write(tmp_path, "xglue.nc.en.dev", "a title\ta body\tnews\nquery\ta title\ta body\tnews\n")
    with pytest.raises(DataError, match=r"xglue\.nc\.en\.dev:2: expected 2 or 3 tab-separated columns"):
        read(fmt.read_xglue_nc, path)


def test_unlabelled_test_file_says_so(tmp_path):
    path = write(tmp_path, "xglue.qam.fr.test", "question\tpassage\n")
    with pytest.raises(DataError, match=r"xglue\.qam\.fr\.test:1: .*no label column"):
        read(fmt.read_xglue_qam, path)


@pytest.mark.parametrize(
    ("reader", "name", "text", "line", "message"),
    [
        (fmt.read_xglue_qam, "xglue.qam.en.dev", "q\tp\t1\nq\tp\t2\n", 2, "unknown label '2'"),
        (fmt.read_xglue_qadsm, "xglue.qadsm.en.dev", "q\tt\td\tgood\n", 1, "unknown label 'good'"),
        (fmt.read_xglue_wpr, "xglue.wpr.en.dev", "q\tt\ts\t5\n", 1, "unknown label '5'"),
        (fmt.read_xglue_nc, "xglue.nc.en.dev", "t\tb\tweather\n", 1, "unknown label 'weather'"),
        (fmt.read_xglue_xnli, "en.dev", "p\th\tcontradictory\n", 1, "unknown label 'contradictory'"),
        (fmt.read_xglue_xnli, "en.test", "p\th\n", 1, "expected 3 tab-separated columns, found 2"),
        (fmt.read_xglue_pawsx, "dev_2k.tsv", "id\tsentence1\tsentence2\tlabel\n1\ta\tb\n", 2,
         "expected 4 tab-separated columns, found 3"),
        (fmt.read_xglue_pawsx, "test_2k.tsv", "1\ta\tb\t0\n", 1, "expected the header"),
    ],
)
def test_bad_classification_lines(tmp_path, reader, name, text, line, message):
    path = write(tmp_path, name, text)
    with pytest.raises(DataError, match=rf"{name}:{line}: {message}"):
        read(reader, path)


def test_mnli_training_file_maps_contradictory(tmp_path):
    path = write(tmp_path, "multinli.train.en.tsv", "premise\thypo\tlabel\np\th\tcontradictory\np2\th2\tentailment\n")
    assert [(n, ex["label"]) for n, ex in read(fmt.read_xglue_xnli, path, "train")] == [
        (2, "contradiction"), (3, "entailment")
    ]


def test_wpr_groups_are_runs_of_consecutive_queries(tmp_path):
    # As xglue_evaluate.py's load_data: a new guid whenever the query differs from the previous line's.
    path = write(tmp_path, "xglue.wpr.en.dev", "a\tt\ts\t1\na\tt\ts\t0\nb\tt\ts\t4 \na\tt\ts\t2\n")
    got = [ex for _, ex in read(fmt.read_xglue_wpr, path)]
    assert [ex["group"] for ex in got] == ["0", "0", "1", "2"]
    assert got[2]["label"] == "4"  # the scorer strips labels: "4 " is 4


# ----------------------------------------------------------------------------------------- nDCG


def test_ndcg_with_ties_by_hand():
    # Query A: gold grades [2, 0, 1], predicted grades [1, 1, 0].
    #   ideal DCG = 2/log2(2) + 1/log2(3) + 0 = 2 + 0.6309298 = 2.6309298
    #   ties: the two items scored 1 share ranks 0 and 1: mean gain (2+0)/2 = 1 times (1 + 0.6309298);
    #   the item scored 0 is at rank 2: 1/log2(4) = 0.5.  DCG = 1.6309298 + 0.5 = 2.1309298
    #   nDCG = 2.1309298 / 2.6309298 = 0.8099531
    # Query B has one page: left out. Query C: all gold grades 0: nDCG 0 (sklearn's rule).
    # mean over A and C = 0.4049766 -> x100
    scores = [1, 1, 0, 3, 3, 1]
    gold = [2, 0, 1, 4, 0, 0]
    groups = ["A", "A", "A", "B", "C", "C"]
    assert metrics.grouped_ndcg(scores, gold, groups) == pytest.approx(40.49766, abs=1e-4)
    assert metrics.ndcg([2, 0, 1], [1, 1, 0]) == pytest.approx(0.8099531, abs=1e-6)
    with pytest.raises(ValueError, match="2 or more"):
        metrics.grouped_ndcg([1], [1], ["A"])


def test_ndcg_agrees_with_sklearn():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    import random

    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(2, 9)
        gold = [rng.randint(0, 4) for _ in range(n)]
        predicted = [rng.randint(0, 4) for _ in range(n)]
        if not any(gold):
            continue
        expected = sklearn_metrics.ndcg_score([gold], [predicted])
        assert metrics.ndcg(gold, predicted) == pytest.approx(expected, abs=1e-12)


def test_classification_family_scores_ndcg_for_wpr():
    from xstilts.families import get_family

    family = get_family("classification")
    task = get_task("xglue-wpr")
    examples = [
        {"id": str(i), "text": "q", "text_pair": "p", "label": label, "group": group}
        for i, (label, group) in enumerate(zip(["2", "0", "1", "4", "0", "0"], "AAABCC", strict=True))
    ]
    assert family.validate_example(task, examples[0]) is None
    assert "'group' must be a string" in family.validate_example(task, {**examples[0], "group": 3})
    scores = family.score(task, examples, ["1", "1", "0", "3", "3", "1"])
    # the same numbers as test_ndcg_with_ties_by_hand; accuracy: gold 2,0,1,4,0,0 vs 1,1,0,3,3,1 -> 0 of 6
    assert scores == {"ndcg": pytest.approx(40.49766, abs=1e-4), "accuracy": 0.0}
    chance = family.chance(task, examples)
    assert 0.0 < chance["ndcg"] < 100.0 and chance["accuracy"] == pytest.approx(20.0)
    assert family.chance(task, examples) == chance  # seeded: the same every time
    with pytest.raises(XstiltsError, match="no 'group'"):
        family.score(task, [{k: v for k, v in ex.items() if k != "group"} for ex in examples], ["0"] * 6)
