"""Benchmark-aware studies: the official language tables, evaluations in exactly a benchmark's languages, the
retrieval recipe as settings (planned, run and recorded), and the recipe card."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xstilts.cli import app
from xstilts.config.load import load_study
from xstilts.errors import ConfigError
from xstilts.scoring.retrieval import resolve_layer
from xstilts.tasks.benchmarks import XGLUE, XTREME, XTREME_R

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = Path("/work/shared/samples")
XTREME_MIRROR = Path("/work/.mirror/google-research+xtreme/repo")


# ---------------------------------------------------------------- the official tables


def test_language_counts_per_benchmark_version():
    # The sizes XTREME and XTREME-R publish (benchmarks.md; evaluate.py's tables), task by task.
    assert {t: len(v) for t, v in XTREME.languages.items()} == {
        "pawsx": 7, "xnli": 15, "panx": 40, "udpos": 33, "bucc2018": 4, "tatoeba": 36, "xquad": 11, "mlqa": 7,
        "tydiqa": 9}
    assert {t: len(v) for t, v in XTREME_R.languages.items()} == {
        "xnli": 15, "panx": 48, "udpos": 38, "tatoeba": 41, "xcopa": 11, "lareqa": 11, "mewslix": 11, "xquad": 12,
        "mlqa": 7, "tydiqa": 9}
    # XTREME-R's additions over XTREME
    added = {t: set(XTREME_R.languages[t]) - set(XTREME.languages[t]) for t in ("panx", "udpos", "tatoeba", "xquad")}
    assert added == {"panx": {"qu", "pl", "uk", "az", "lt", "pa", "gu", "ro"}, "udpos": {"lt", "pl", "uk", "wo", "ro"},
                     "tatoeba": {"az", "lt", "pl", "uk", "ro"}, "xquad": {"ro"}}
    assert "en" not in XTREME.languages["tatoeba"]  # Tatoeba queries English against the other language
    assert set(XTREME.languages["udpos"]) >= {"kk", "th", "tl", "yo"}  # XTREME's test-only UD-POS languages
    assert len(XGLUE.languages) == 11 and set(XGLUE.languages["xglue-qg"]) == {"de", "en", "es", "fr", "it", "pt"}


def _official_tables() -> dict[str, dict[str, list[str]]]:
    """evaluate.py's XTREME_TASK2LANGS / XTREME_R_TASK2LANGS, read from the official repository (a local git
    mirror) by parsing, never copied into ours."""
    source = subprocess.run(["git", "-C", str(XTREME_MIRROR), "show", "HEAD:evaluate.py"], capture_output=True,
                            text=True, check=True).stdout
    tables = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and node.targets[0].id in ("XTREME_TASK2LANGS", "XTREME_R_TASK2LANGS"):
            tables[node.targets[0].id] = {ast.literal_eval(k): _languages(v) for k, v in
                                          zip(node.value.keys, node.value.values, strict=True)}
    return tables


def _languages(node: ast.AST) -> list[str]:
    if isinstance(node, ast.List):
        return [ast.literal_eval(e) for e in node.elts]
    call = node  # 'a,b,...'.split(',') with implicit string concatenation
    return ast.literal_eval(call.func.value).split(",")


@pytest.mark.skipif(not XTREME_MIRROR.exists(), reason="no local mirror of google-research/xtreme to compare with")
def test_language_tables_equal_evaluate_py():
    official = _official_tables()
    assert {t: list(v) for t, v in XTREME.languages.items()} == official["XTREME_TASK2LANGS"]
    ours = {t: list(v) for t, v in XTREME_R.languages.items()}
    # The official table leaves LAReQA empty (evaluate.py cannot score it); ours holds XQuAD-R's 11 languages.
    assert official["XTREME_R_TASK2LANGS"].pop("lareqa") == []
    assert ours.pop("lareqa") == ["ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh"]
    assert ours == official["XTREME_R_TASK2LANGS"]


# ---------------------------------------------------------------- plans


def plan_json(*args: str) -> dict:
    result = CliRunner().invoke(app, ["plan", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def languages_per_task(summary: dict) -> dict[str, int]:
    found: dict[str, set[str]] = {}
    for node in summary["evaluation_nodes"]:
        found.setdefault(node["task"], set()).add(node["language"])
    return {task: len(languages) for task, languages in found.items()}


def test_phang2020_evaluates_exactly_xtreme_languages(xstilts_home, monkeypatch, tmp_path):
    monkeypatch.setenv("XSTILTS_DATA", str(tmp_path / "nothing"))
    summary = plan_json("phang2020")
    assert summary["benchmark"] == "xtreme"
    assert languages_per_task(summary) == {t: len(v) for t, v in XTREME.languages.items()}
    retrieval = [n for n in summary["evaluation_nodes"] if n["task"] in ("bucc2018", "tatoeba")]
    assert retrieval and all(n["recipe"] == {"layer_setting": "14/24", "layer": 14, "layers": 24, "pooling": "mean",
                                             "max_length": 512, "protocol": n["recipe"]["protocol"],
                                             "similarity": n["recipe"]["similarity"]} for n in retrieval)
    assert {n["recipe"]["protocol"] for n in retrieval} == {"mining", "nearest"}


def test_rq5_evaluates_exactly_xtreme_r_languages_and_scales_the_layer(xstilts_home, monkeypatch, tmp_path):
    monkeypatch.setenv("XSTILTS_DATA", str(tmp_path / "nothing"))
    summary = plan_json("rq5-xtreme-r-encoders")
    assert languages_per_task(summary) == {t: len(v) for t, v in XTREME_R.languages.items()}
    layers = {n["model"]: n["recipe"]["layer"] for n in summary["evaluation_nodes"] if "recipe" in n}
    # XLM-R large: layer 14 of 24; mT5 base's encoder (12 layers, from its published shape before any download):
    # 14/24 of 12 = 7 (rq5 retrieves with the whole mT5's encoder)
    assert layers == {"xlmr-large": 14, "mt5-base": 7}


def test_rq4_evaluates_exactly_xglue_languages(xstilts_home, monkeypatch, tmp_path):
    monkeypatch.setenv("XSTILTS_DATA", str(tmp_path / "nothing"))
    summary = plan_json("rq4-order-mixed-language")
    assert summary["benchmark"] == "xglue"
    assert languages_per_task(summary) == {t: len(XGLUE.languages[t]) for t in
                                           ("xglue-ner", "xglue-pos", "xglue-xnli", "xglue-pawsx", "xglue-mlqa",
                                            "xglue-qg", "xglue-ntg")}


def test_layer_rule_scales_with_depth():
    # round(14 * L / 24), halves up
    assert [resolve_layer(14, 24, depth) for depth in (2, 6, 12, 24, 36)] == [1, 4, 7, 14, 21]
    assert resolve_layer(-1, 0, 12) == -1 and resolve_layer(3, 0, 12) == 3


def test_benchmark_tasks_and_retrieval_settings_are_validated(tmp_path):
    text = (ROOT / "presets" / "phang2020.yaml").read_text()
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace("retrieval: {layer: 14/24,", "retrieval: {layer: 25/24,"))
    with pytest.raises(ConfigError) as error:
        load_study(str(path))
    assert "evaluate.retrieval.layer" in str(error.value) and "'25/24'" in str(error.value)
    text = text.replace("    evaluate: [\"{target}\"]  #", "    evaluate: [\"{target}\", xcopa]  #", 1)
    path.write_text(text.replace("retrieval: {layer: 14/24,", "retrieval_by_task: {xnli: {pooling: cls}}\n"
                                                               "  retrieval: {layer: 14/24,"))
    with pytest.raises(ConfigError) as error:
        load_study(str(path))
    message = str(error.value)
    assert "task 'xcopa' is not a task of XTREME" in message
    assert "task 'xnli' is a classification task; retrieval settings apply to retrieval tasks only" in message


# ---------------------------------------------------------------- the recipe as run


RETRIEVAL_STUDY = """\
name: recipe-{name}
model:
  build: {{hidden_size: 32, num_layers: 2, num_heads: 2, intermediate_size: 64, max_length: 128}}
  tokenizer: {{train: {{corpus: [mock-nli], vocab_size: 300}}}}
stages:
  unused: {{sources: [{{task: mock-nli}}], steps: 1}}
pipelines:
  loaded: {{stages: [], evaluate: [tatoeba]}}
evaluate:
  languages: [de]
  max_examples: 60
  retrieval: {{layer: {layer}, pooling: cls, max_length: 24}}
runtime: {{progress: false, threads: 1, trackers: []}}
store: {store}
data_root: {data}
"""


def test_retrieval_recipe_is_run_and_recorded(tmp_path, xstilts_home):
    from xstilts.studies.runner import run_study

    data = tmp_path / "data"
    (data / "tatoeba").mkdir(parents=True)
    for side in ("deu", "eng"):
        shutil.copy(SAMPLES / "tatoeba/laser_v1" / f"tatoeba.deu-eng.{side}", data / "tatoeba")
    runs = {}
    for name, layer in (("relative", '"1/2"'), ("absolute", "1"), ("last", "-1")):
        path = tmp_path / f"{name}.yaml"
        path.write_text(RETRIEVAL_STUDY.format(name=name, layer=layer, store=tmp_path / "runs", data=data))
        (row,) = run_study(load_study(str(path)), tmp_path / name)
        runs[name] = row
    recipes = {name: json.loads(row["recipe"]) for name, row in runs.items()}
    assert recipes["relative"] == {"layer": 1, "layer_setting": "1/2", "layers": 2, "pooling": "cls",
                                   "max_length": 24, "protocol": "nearest", "similarity": "cosine"}
    assert recipes["last"]["layer"] == 2 and recipes["absolute"]["layer"] == 1
    # "1/2" of a 2-layer encoder is layer 1: the same embeddings, so the same score; the settings differ, and
    # so do the evaluations' keys (a result never stands for another recipe)
    assert runs["relative"]["value"] == runs["absolute"]["value"]
    assert len({row["eval_key"] for row in runs.values()}) == 3
    assert runs["relative"]["weight"] == 60 and runs["relative"]["benchmark"] == ""
    written = (tmp_path / "relative" / "results.csv").read_text()
    assert "recipe" in written.splitlines()[0] and (tmp_path / "relative" / "recipe.md").is_file()


# ---------------------------------------------------------------- recipe cards


def card(*args: str) -> str:
    result = CliRunner().invoke(app, ["plan", *args, "--recipe"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_phang2020_card_matches_the_reference_except_the_stated_deviation(xstilts_home, monkeypatch, tmp_path):
    monkeypatch.setenv("XSTILTS_DATA", str(tmp_path / "nothing"))
    text = card("phang2020")
    assert "0 differ without an explanation" in text and "UNEXPLAINED" not in text
    assert "| selection data | none (the final checkpoint) | tydiqa dev |" in text
    assert "≠ deliberate: jiant early-stops TyDiQA on the English GoldP dev set" in text
    assert "| training tasks | mnli | mnli |" in text  # XNLI trains MNLI, as jiant did
    assert "| layer | 14/24 | 14/24 |" in text and "| max length | 512 | 512 |" in text
    assert "| languages | 33 | 33 |" in text  # UD-POS in XTREME's 33


def test_a_changed_setting_is_flagged(xstilts_home, monkeypatch, tmp_path):
    monkeypatch.setenv("XSTILTS_DATA", str(tmp_path / "nothing"))
    text = (ROOT / "presets" / "phang2020.yaml").read_text()
    assert "optimizer: {lr: 1.0e-5}" in text
    path = tmp_path / "changed.yaml"
    path.write_text(text.replace("optimizer: {lr: 1.0e-5}", "optimizer: {lr: 2.0e-5}", 1))
    changed = card(str(path))
    assert "| learning rate | 2e-05 | 1e-05 |" in changed and "≠ UNEXPLAINED" in changed
    assert "0 differ without an explanation" not in changed


def test_documented_card_is_current(xstilts_home, monkeypatch, tmp_path):
    """docs/recipes/phang2020.md is `xstilts plan phang2020 --recipe`; regenerate it with that command."""
    monkeypatch.setenv("XSTILTS_DATA", str(tmp_path / "nothing"))
    assert (ROOT / "docs" / "recipes" / "phang2020.md").read_text() == card("phang2020")
