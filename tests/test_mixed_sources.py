"""Mixed-language sources as configuration: translate-train splits, code-switched sources, MLM auxiliary
sources on plain text files; their checks, lineage and cache keys, zero-shot marking, and a tiny study that
trains on each kind end to end."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import pytest
import yaml

from xstilts.config.checks import selection_task_names
from xstilts.config.load import parse_study
from xstilts.data.cache import feature_key
from xstilts.data.code_switch import with_code_switch
from xstilts.errors import ConfigError
from xstilts.micro.corpora import corpus
from xstilts.micro.dictionary import dictionary_entries, write_dictionaries
from xstilts.studies.plan import build_plan, stage_is_zero_shot
from xstilts.tasks import get_task

STUDY = """
name: mixed
tasks:
  wiki: {family: mlm, files: "corpus/{language}.txt", splits: {train: [qaa, qad]}}
model:
  build: {hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64, max_length: 128}
  tokenizer: {train: {corpus: [micro-tiny-mlm], vocab_size: 600}}
stages:
  english: {sources: [{task: micro-tiny-xnli, max_examples: 48}], steps: 3, batch_size: 8, max_length: 64,
            selection: {enabled: false}}
  translated:
    sources: [{task: micro-tiny-xnli, max_examples: 48},
              {task: micro-tiny-xnli, split: translate-train, languages: [qaa, qac], max_examples: 24}]
    steps: 3
    batch_size: 8
    max_length: 64
    selection: {enabled: false}
  switched:
    sources: [{task: micro-tiny-xnli, max_examples: 48,
               code_switch: {dictionaries: {qaa: dicts/en-qaa.txt, qad: dicts/en-qad.txt}, ratio: 0.5}}]
    steps: 3
    batch_size: 8
    max_length: 64
    selection: {enabled: false}
  mlm-aux:
    sources: [{task: micro-tiny-xnli, max_examples: 48}, {task: wiki, languages: [qaa, qad]}]
    steps: 3
    batch_size: 8
    max_length: 64
    selection: {every: 3, max_examples: 8}
  micro-mlm-aux:
    sources: [{task: micro-tiny-xnli, max_examples: 48},
              {task: micro-tiny-mlm, languages: [qaa, qad], max_examples: 16}]
    steps: 3
    batch_size: 8
    max_length: 64
    selection: {every: 3, max_examples: 8}
pipelines:
  english: [english]
  translated: [translated]
  switched: [switched]
  mlm-aux: [mlm-aux]
  micro-mlm-aux: [micro-mlm-aux]
  english-then-switched: [english, switched]
evaluate: {languages: [en, qaa], max_examples: 8}
runtime: {progress: false, threads: 1}
"""
ZERO_SHOT = {"english": True, "translated": False, "switched": False, "mlm-aux": True, "micro-mlm-aux": True,
             "english-then-switched": False}


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mixed-study")
    write_dictionaries(folder / "dicts", ("qaa", "qad"))
    (folder / "corpus").mkdir()
    for lang in ("qaa", "qad"):
        # one text per line, with blank lines between paragraphs (skipped)
        (folder / "corpus" / f"{lang}.txt").write_text("\n\n".join(corpus(lang, 60, seed=3)) + "\n")
    return folder


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mixed-data")


def study_data(study_dir: Path, data_root: Path) -> dict:
    data = yaml.safe_load(STUDY)
    data["data_root"] = str(data_root)
    data["store"] = str(study_dir / "runs")
    return data


def parse(data: dict, study_dir: Path):
    return parse_study(copy.deepcopy(data), base=study_dir)


def problems_of(data: dict, study_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(data, study_dir)
    return caught.value.problems


# ------------------------------------------------------------------ validation


def test_the_study_validates_and_dictionary_paths_are_read_from_the_study_folder(study_dir, data_root):
    study = parse(study_data(study_dir, data_root), study_dir)
    switch = study.stages["switched"].sources[0].code_switch
    assert switch.dictionaries == {"qaa": str(study_dir / "dicts/en-qaa.txt"), "qad": str(study_dir / "dicts/en-qad.txt")}
    assert (switch.ratio, switch.seed, switch.language_choice) == (0.5, 0, "example")


def test_source_mistakes_are_reported_with_key_and_fix(study_dir, data_root):
    data = study_data(study_dir, data_root)
    data["stages"]["translated"]["sources"][1]["split"] = "translate_train"
    switched = data["stages"]["switched"]["sources"][0]
    switched["languages"] = ["en", "qaa"]
    switched["code_switch"]["dictionaries"] = {"qaa": "dicts/missing.txt", "en": "dicts/en-qad.txt", "xx1": "d.txt"}
    problems = "\n".join(problems_of(data, study_dir))
    assert "stages.translated.sources[1].split" in problems and "did you mean 'translate-train'" in problems
    assert "set `languages: [en]`" in problems
    assert f"no dictionary file {study_dir / 'dicts/missing.txt'}" in problems
    assert "stages.switched.sources[0].code_switch.dictionaries.en" in problems
    assert "code_switch.dictionaries.xx1" in problems


def test_ratio_out_of_range_and_unknown_keys(study_dir, data_root):
    data = study_data(study_dir, data_root)
    data["stages"]["switched"]["sources"][0]["code_switch"].update(ratio=1.5, seeed=1)
    problems = "\n".join(problems_of(data, study_dir))
    assert "stages.switched.sources[0].code_switch.ratio" in problems and "less than or equal to 1" in problems
    assert "code_switch.seeed: unknown key; did you mean 'seed'" in problems


def test_bad_dictionary_line_is_a_problem_naming_file_and_line(study_dir, data_root, tmp_path):
    bad = tmp_path / "en-qaa.txt"
    bad.write_text("cat vino\ndog\n")
    data = study_data(study_dir, data_root)
    data["stages"]["switched"]["sources"][0]["code_switch"]["dictionaries"] = {"qaa": str(bad)}
    (problem,) = problems_of(data, study_dir)
    assert f"{bad}:2:" in problem and "source_word target_word" in problem


def test_text_files_only_for_mlm_tasks(study_dir, data_root):
    data = study_data(study_dir, data_root)
    data["tasks"]["wiki"]["family"] = "classification"
    data["tasks"]["wiki"]["labels"] = ["a", "b"]
    problems = "\n".join(problems_of(data, study_dir))
    assert "tasks.wiki.files" in problems and "only mlm or denoising tasks read plain text" in problems


def test_text_file_task_reads_one_text_per_line(study_dir, data_root):
    parse(study_data(study_dir, data_root), study_dir)  # registers `wiki`
    examples = get_task("wiki").load("train", "qad", data_root)
    lines = (study_dir / "corpus/qad.txt").read_text().split("\n")
    assert [e["text"] for e in examples] == corpus("qad", 60, seed=3)
    assert examples[1] == {"id": "train-qad-3", "text": lines[2]}  # blank line 2 skipped; ids name the line


# ------------------------------------------------------------------ keys, zero-shot, selection


def _keys(study_dir: Path, data_root: Path, change=None) -> dict[str, str]:
    data = study_data(study_dir, data_root)
    if change:
        change(data)
    plan = build_plan(parse(data, study_dir), data_root)
    return {node.name: node.key for node in plan.stages}


def test_lineage_keys_follow_dictionary_content_ratio_and_seed_not_its_path(study_dir, data_root, tmp_path):
    base = _keys(study_dir, data_root)
    assert len(set(base.values())) == len(base)

    def switch(**changes):
        def change(data):
            data["stages"]["switched"]["sources"][0]["code_switch"].update(changes)
        return _keys(study_dir, data_root, change)["switched"]

    assert switch(ratio=0.3) != base["switched"]
    assert switch(seed=1) != base["switched"]
    assert switch(language_choice="word") != base["switched"]
    moved = tmp_path / "moved.txt"
    moved.write_bytes((study_dir / "dicts/en-qaa.txt").read_bytes())
    assert switch(dictionaries={"qaa": str(moved), "qad": "dicts/en-qad.txt"}) == base["switched"]
    moved.write_text(moved.read_text() + "zebra zebrino\n")
    assert switch(dictionaries={"qaa": str(moved), "qad": "dicts/en-qad.txt"}) != base["switched"]
    # No code_switch and an explicit null give the key the stage had before the option existed.
    def null(data):
        data["stages"]["english"]["sources"][0]["code_switch"] = None
    assert _keys(study_dir, data_root, null)["english"] == base["english"]


def test_feature_cache_key_follows_the_code_switch(study_dir, data_root):
    study = parse(study_data(study_dir, data_root), study_dir)
    config = study.stages["switched"].sources[0].code_switch
    task = get_task("micro-tiny-xnli")

    def key(t):
        return feature_key(t, "train", "en", data_root, "tok", 64, 48)

    plain, switched = key(task), key(with_code_switch(task, config))
    assert plain != switched
    assert key(with_code_switch(task, config.model_copy(update={"seed": 5}))) not in (plain, switched)
    assert key(with_code_switch(task, None)) == plain


def test_code_switched_examples_hold_dictionary_words(study_dir, data_root):
    study = parse(study_data(study_dir, data_root), study_dir)
    config = study.stages["switched"].sources[0].code_switch
    task = get_task("micro-tiny-xnli")
    plain = task.load("train", "en", data_root, limit=30)
    switched = with_code_switch(task, config).load("train", "en", data_root, limit=30)
    assert [e["label"] for e in switched] == [e["label"] for e in plain]
    targets = {t for code in ("qaa", "qad") for _, t in dictionary_entries(code)}
    words = [w for e in switched for w in (e["text"] + " " + e["text_pair"]).replace(".", " ").split()]
    share = sum(w in targets for w in words) / len(words)
    assert 0.2 < share < 0.7  # ratio 0.5 of the dictionary words (most words but names are in it)


def test_zero_shot_marks_and_selection_tasks(study_dir, data_root):
    study = parse(study_data(study_dir, data_root), study_dir)
    expected = {"english": True, "translated": False, "switched": False, "mlm-aux": True, "micro-mlm-aux": True}
    assert {name: stage_is_zero_shot(stage) for name, stage in study.stages.items()} == expected
    assert selection_task_names(study.stages["mlm-aux"]) == ["micro-tiny-xnli"]
    # an MLM-only stage still selects on MLM
    assert selection_task_names(study.stages["mlm-aux"].model_copy(
        update={"sources": study.stages["mlm-aux"].sources[1:]})) == ["wiki"]
    plan = build_plan(study, data_root)
    by_pipeline = {}
    for node in plan.stages:
        for pipeline in node.pipelines:
            by_pipeline[pipeline] = by_pipeline.get(pipeline, True) and node.zero_shot
    assert by_pipeline == ZERO_SHOT


def test_code_switched_mlm_source_stays_zero_shot(study_dir, data_root):
    data = study_data(study_dir, data_root)
    data["stages"]["mlm-aux"]["sources"][1] = {
        "task": "micro-tiny-mlm", "max_examples": 8,
        "code_switch": {"dictionaries": {"qaa": "dicts/en-qaa.txt"}, "ratio": 0.5}}
    assert stage_is_zero_shot(parse(data, study_dir).stages["mlm-aux"])


# ------------------------------------------------------------------ end to end


@pytest.mark.slow
def test_each_source_kind_trains_and_rows_are_marked(study_dir, data_root, xstilts_home, monkeypatch):
    from xstilts.data import cache
    from xstilts.studies.runner import run_study

    featurized = []
    original = cache.featurize_cached

    def spy(task, split, language, **kwargs):
        featurized.append((task.name, split, language, task.transform is not None))
        return original(task, split, language, **kwargs)

    monkeypatch.setattr(cache, "featurize_cached", spy)
    study = parse(study_data(study_dir, data_root), study_dir)
    rows = run_study(study, study_dir / "out")
    trained = set(featurized)
    assert ("micro-tiny-xnli", "train", "en", True) in trained  # the code-switched source
    assert {("micro-tiny-xnli", "translate-train", lang, False) for lang in ("qaa", "qac")} <= trained
    assert {("wiki", "train", lang, False) for lang in ("qaa", "qad")} <= trained
    assert {("micro-tiny-mlm", "train", lang, False) for lang in ("qaa", "qad")} <= trained
    assert not any(name in ("wiki", "micro-tiny-mlm") and split != "train" for name, split, _, _ in trained)
    with open(study_dir / "out" / "results.csv") as handle:
        table = list(csv.DictReader(handle))
    assert {r["pipeline"] for r in table} == set(ZERO_SHOT)
    for row in table:
        assert row["zero_shot"] == str(ZERO_SHOT[row["pipeline"]]), row
        assert row["language"] in ("en", "qaa")
    assert len(rows) == len(table)
    # The shared English stage ran once; the MLM-auxiliary stages selected on XNLI's English dev only.
    runs = study_dir / "runs"
    done = [p for p in runs.iterdir() if (p / "DONE").exists()]
    assert len(done) == 6  # english, translated, switched, mlm-aux, micro-mlm-aux, switched after english
    auxiliary = [metrics for metrics in (json.loads((stage / "metrics.json").read_text()) for stage in done)
                 if metrics["stage"].endswith("mlm-aux")]
    assert len(auxiliary) == 2  # mlm-aux, micro-mlm-aux
    for metrics in auxiliary:
        assert [list(h["scores"]) for h in metrics["history"]] == [["micro-tiny-xnli/en"]]


def test_dictionaries_under_the_data_root_are_looked_for_at_run_time(study_dir, tmp_path):
    from xstilts.errors import XstiltsError
    from xstilts.studies.context import make_context

    data_root = tmp_path / "root"
    data = study_data(study_dir, data_root)
    data["stages"]["switched"]["sources"][0]["code_switch"]["dictionaries"] = {
        "qaa": "{data_root}/muse/en-qaa.txt"}
    study = parse(data, study_dir)  # validates although the file is not there yet
    with pytest.raises(XstiltsError, match=r"muse/en-qaa\.txt.*no such dictionary file"):
        make_context(study)
    write_dictionaries(data_root / "muse", ("qaa",))
    context = make_context(study)
    (switched,) = [n for n in context.plan.stages if n.name == "switched" and n.parent is None]
    assert context.study.stages["switched"].sources[0].code_switch.dictionaries == {
        "qaa": str(data_root / "muse/en-qaa.txt")}
    # the key follows the content, wherever the file lives
    moved = copy.deepcopy(data)
    moved["stages"]["switched"]["sources"][0]["code_switch"]["dictionaries"] = {
        "qaa": str(data_root / "muse/en-qaa.txt")}
    plan = build_plan(parse(moved, study_dir), data_root)
    assert switched.key in {n.key for n in plan.stages if n.name == "switched"}
    bad = copy.deepcopy(data)
    bad["stages"]["switched"]["sources"][0]["code_switch"]["dictionaries"] = {"qaa": "x/{data_root}/en-qaa.txt"}
    assert any("may only start a path" in p for p in problems_of(bad, study_dir))
