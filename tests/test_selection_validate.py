"""Validation of selection against a measured grid, on a small mock study with three seeds: measured gains from
hand-written rows (a missing cell, a baseline trained once), the naive baselines, the metrics and verdicts of a
validation, and the report it writes."""

from __future__ import annotations

import json
import math

import pytest

from xstilts.errors import XstiltsError
from xstilts.selection.baselines import (
    LARGEST,
    RANDOM,
    SAME_FAMILY,
    candidate_sizes,
    naive_baselines,
    random_ranking,
)
from xstilts.selection.estimate import ALL, Cost, Estimate
from xstilts.selection.measured import Measured, measured_gains
from xstilts.selection.metrics import METRICS, expected_ndcg_at_k, ndcg_at_k, noise_ceiling, regret_at_k
from xstilts.selection.report import write_validation
from xstilts.selection.validate import CEILING, validate

STUDY = """\
name: sel-mini
model:
  build: {hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64, max_length: 256}
  tokenizer: {train: {corpus: [mock-mlm], vocab_size: 400}}
seeds: [0, 1, 2]
stages:
  mlm: {seed: 0, sources: [{task: mock-mlm, languages: [en, qad]}], steps: 2}
  nli: {sources: [{task: mock-nli, max_examples: 120}], steps: 2}
  qa: {sources: [{task: mock-qa}], steps: 2}
  pos: {sources: [{task: mock-pos, max_examples: 80}], steps: 2}
  choice: {sources: [{task: mock-choice, max_examples: 150}], steps: 2}
  multi: {sources: [{task: mock-nli, max_examples: 120}, {task: mock-qa}, {task: mock-mlm, languages: [qad]}],
          steps: 2}
  paraphrase: {sources: [{task: mock-paraphrase}], steps: 2}
  ner: {sources: [{task: mock-ner}], steps: 2}
grids:
  - name: "{intermediate}/{target}"
    stages: [mlm, "{intermediate}", "{target}"]
    axes: {intermediate: [null, nli, qa, pos, choice, multi], target: [paraphrase, ner]}
  - name: "{intermediate}/retrieval"
    stages: [mlm, "{intermediate}"]
    evaluate: [mock-retrieval]
    axes: {intermediate: [null, nli, qa, pos, choice, multi]}
"""
CANDIDATES = ["nli", "qa", "pos", "choice", "multi"]
PARA, NER, RETRIEVAL = "mock-paraphrase", "mock-ner", "mock-retrieval"
# Gains of the whole target per seed. Paraphrase: pos is best at seeds 0 and 1, choice at seed 2; none of the
# three best is in the top 3 of "largest" (multi, qa, choice: choice is) or of "same family" (nli, multi, qa).
PARA_GAINS = {0: {"pos": 3.0, "choice": 2.0, "nli": 1.0, "qa": 0.0, "multi": -1.0},
              1: {"pos": 3.0, "nli": 2.0, "choice": 1.0, "qa": 0.0, "multi": -1.0},
              2: {"choice": 3.0, "pos": 2.0, "nli": 1.0, "multi": 0.0, "qa": -1.0}}
# NER: the seed-mean order (pos, multi, qa, choice, nli) is the "same family" ranking itself.
NER_GAINS = {0: {"pos": 2.0, "multi": 1.0, "qa": 0.5, "choice": 0.0, "nli": -1.0},
             1: {"pos": 2.0, "multi": 0.0, "qa": 1.0, "choice": 0.5, "nli": -1.0},
             2: {"pos": 1.0, "multi": 2.0, "qa": 0.0, "choice": 0.5, "nli": -0.5}}


@pytest.fixture(scope="module")
def context(xstilts_home, tmp_path_factory):
    from xstilts.config.load import load_study
    from xstilts.studies.context import make_context

    path = tmp_path_factory.mktemp("selection") / "sel-mini.yaml"
    path.write_text(STUDY)
    return make_context(load_study(path))


@pytest.fixture(scope="module")
def problem(context):
    from xstilts.selection.problem import selection_problems

    (found,) = selection_problems(context.plan)
    return found


def _row(pipeline, task, language, seed, value, **extra):
    return {"pipeline": pipeline, "task": task, "language": language, "seed": seed, "main": True,
            "metric": "accuracy", "value": value, "model": "sel-mini-model", **extra}


def _rows(problem, missing=()):
    """Baseline 50 everywhere; a candidate's row is 50 + its seed's gain + 1 in English, - 1 in qad (so the mean
    over both is the gain); retrieval's baseline only at seed 0 (its one stage, mlm, has its own seed)."""
    rows = []
    for target, gains in ((PARA, PARA_GAINS), (NER, NER_GAINS)):
        spec = problem.targets[target]
        for seed in (0, 1, 2):
            for language, shift in (("en", 1.0), ("qad", -1.0)):
                rows.append(_row(spec.baseline, target, language, seed, 50.0))
                for candidate, pipeline in spec.pipelines.items():
                    if (pipeline, language, seed) not in missing:
                        rows.append(_row(pipeline, target, language, seed, 50.0 + gains[seed][candidate] + shift))
    spec = problem.targets[RETRIEVAL]
    rows.append(_row(spec.baseline, RETRIEVAL, "qad", 0, 40.0))
    for seed in (0, 1, 2):
        for i, pipeline in enumerate(spec.pipelines.values()):
            rows.append(_row(pipeline, RETRIEVAL, "qad", seed, 40.0 + i + seed))
    return rows


@pytest.fixture(scope="module")
def model_label(problem):
    return problem.study.model_label(problem.model)


def _labelled(rows, label):
    return [{**row, "model": label} for row in rows]


def test_measured_gains_from_rows(problem, model_label):
    rows = _labelled(_rows(problem, missing={("qa/paraphrase", "qad", 2)}), model_label)
    rows += [{**rows[0], "main": False, "value": 0.0},  # another metric of the task: not the main one
             {**rows[0], "model": "another-model", "value": 0.0},  # another model's row
             {**rows[1], "split": "dev", "value": 0.0}]  # a dev row beside the test row: test wins
    failed = next(r for r in rows if (r["pipeline"], r["language"], r["seed"]) == ("choice/paraphrase", "qad", 1))
    failed["value"] = float("nan")  # a failed score: missing, not a gain of nan
    measured = measured_gains(problem, rows)
    assert measured.gains[(PARA, "qad")]["choice"] == {0: 1.0, 2: 2.0}
    assert any("not a number" in note for note in measured.notes)
    assert measured.seeds == [0, 1, 2]
    assert measured.gains[(PARA, "en")]["pos"] == {0: 4.0, 1: 4.0, 2: 3.0}  # 50 + 3 + 1 - 50
    assert measured.gains[(PARA, "qad")]["multi"] == {0: -2.0, 1: -2.0, 2: -1.0}
    assert measured.gains[(PARA, ALL)]["nli"] == {0: 1.0, 1: 2.0, 2: 1.0}
    # the missing cell: qa on paraphrase in qad at seed 2; nor is there a mean over languages there
    assert measured.gains[(PARA, "qad")]["qa"] == {0: -1.0, 1: -1.0}
    assert measured.gains[(PARA, ALL)]["qa"] == {0: 0.0, 1: 0.0}
    assert any("'qa/paraphrase' has no result at seed 2 (qad)" in note for note in measured.notes)
    assert any("no mean over its languages for qa@2" in note for note in measured.notes)
    # retrieval's baseline is trained once: its seed-0 value is every seed's baseline
    assert measured.gains[(RETRIEVAL, "qad")]["qa"] == {0: 1.0, 1: 2.0, 2: 3.0}
    assert measured.mean_gains(PARA, ALL)["pos"] == pytest.approx(8 / 3)


def test_a_missing_baseline_leaves_its_cells_unmeasured(problem, model_label):
    rows = [r for r in _labelled(_rows(problem), model_label)
            if not (r["pipeline"] == "none/ner" and r["seed"] == 1)]
    measured = measured_gains(problem, rows)
    assert measured.gains[(NER, "qad")]["pos"] == {0: 1.0, 2: 0.0}
    assert measured.gains[(NER, ALL)]["pos"] == {0: 2.0, 2: 1.0}
    assert any("baseline 'none/ner' has no result at seed(s) 1 (every language)" in n for n in measured.notes)


def test_measured_gains_without_rows_names_the_command(problem):
    with pytest.raises(XstiltsError, match="sel-mini.*xstilts run sel-mini"):
        measured_gains(problem, [])


def test_measured_gains_refuse_two_runs_mixed(problem, model_label):
    rows = _labelled(_rows(problem), model_label)
    with pytest.raises(XstiltsError, match="two different results"):
        measured_gains(problem, rows + [{**rows[0], "value": 1.0}])


def test_naive_baselines(problem, context):
    sizes = candidate_sizes(problem, context.data_root)
    # max_examples as the study sets them; the mock tasks have 200 training examples; MLM is not counted
    assert sizes == {"nli": 120, "qa": 200, "pos": 80, "choice": 150, "multi": 320}
    largest, family, rand = naive_baselines(problem, context.data_root)
    assert largest.ranking(PARA, "qad") == ["multi", "qa", "choice", "nli", "pos"]
    assert family.ranking(PARA, ALL) == ["nli", "multi", "qa", "choice", "pos"]  # pure classification, then mixed
    assert family.ranking(NER, ALL) == ["pos", "multi", "qa", "choice", "nli"]
    assert family.ranking(RETRIEVAL, ALL) == largest.ranking(RETRIEVAL, ALL)  # no retrieval candidate
    assert any(RETRIEVAL in note for note in family.notes)
    assert (largest.estimator, family.estimator, rand.estimator) == (LARGEST, SAME_FAMILY, RANDOM)


def _estimate(name, rankings, cost=None):
    """An estimator whose scores put each target's candidates in the given order (for every language)."""
    return Estimate(name, {(t, ALL): {c: float(len(order) - i) for i, c in enumerate(order)}
                           for t, order in rankings.items()}, cost or Cost())


ORACLE = {PARA: ["pos", "choice", "nli", "qa", "multi"], NER: ["pos", "multi", "qa", "choice", "nli"]}


@pytest.fixture(scope="module")
def validation(problem, context, model_label):
    measured = measured_gains(problem, _labelled(_rows(problem), model_label))
    estimates = [_estimate("oracle", ORACLE, Cost(seconds=2.0, flops=1e12, grid_flops=4e12)),
                 Estimate("undecided", {(PARA, ALL): {c: 0.0 for c in CANDIDATES}}), _estimate("reverse", {t: o[::-1] for t, o in ORACLE.items()})]
    return validate(problem, measured, estimates, naive_baselines(problem, context.data_root))


def test_validation_scores_against_single_seeds_and_the_seed_mean(validation):
    oracle = validation.scored[("oracle", PARA, ALL)]
    per_seed = [ndcg_at_k(ORACLE[PARA], PARA_GAINS[s], 3) for s in (0, 1, 2)]
    assert oracle.per_seed["ndcg@3"].mean == pytest.approx(sum(per_seed) / 3)
    assert oracle.per_seed["regret@3"].values == [0.0, 0.0, 0.0]
    assert oracle.per_seed["regret@1"].values == [0.0, 0.0, 1.0]  # pos is not best at seed 2
    assert oracle.seed_mean["ndcg@3"] == 1.0 and oracle.seed_mean["spearman"] == pytest.approx(1.0)
    assert oracle.top == [["pos"], ["choice"], ["nli"]]
    largest = validation.scored[(LARGEST, PARA, ALL)]
    assert largest.per_seed["regret@3"].values == [1.0, 2.0, 0.0]  # best of multi, qa, choice vs 3, 3, 3
    rand = validation.scored[(RANDOM, PARA, ALL)]
    assert rand.per_seed["ndcg@3"].values == pytest.approx([expected_ndcg_at_k(PARA_GAINS[s], 3) for s in (0, 1, 2)])
    assert rand.top == []
    # an estimator whose scores all tie is the random ranking (its Spearman is undefined instead of 0)
    undecided = validation.scored[("undecided", PARA, ALL)]
    for metric in ("ndcg@3", "regret@1", "regret@3"):
        assert undecided.per_seed[metric].values == pytest.approx(rand.per_seed[metric].values), metric
    assert undecided.top == [sorted(CANDIDATES)]  # one block, by name
    # per language, the estimators' ALL ranking is used; English gains are the ALL gains + 1 (same order)
    assert validation.scored[("oracle", PARA, "en")].per_seed["ndcg@3"].mean == pytest.approx(sum(per_seed) / 3)


def test_the_noise_ceiling_of_a_cell(validation):
    ceiling = validation.ceiling[(PARA, ALL)]
    assert ceiling["regret@1"].values == pytest.approx(
        [regret_at_k(sorted(PARA_GAINS[s], key=lambda c: -PARA_GAINS[s][c]), PARA_GAINS[t], 1)
         for s, t in ((0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1))])
    assert ceiling["ndcg@3"].mean == pytest.approx(noise_ceiling(PARA_GAINS, METRICS["ndcg@3"]).mean)


def test_verdicts_follow_the_rule(validation):
    verdicts = {(v.estimator, v.target): v for v in validation.verdicts}

    def by_rule(estimator, target):
        mine = validation.scored[(estimator, target, ALL)].per_seed
        ceiling = validation.ceiling[(target, ALL)]["ndcg@3"]
        beats = all(mine["ndcg@3"].mean > validation.scored[(b, target, ALL)].per_seed["ndcg@3"].mean and
                    mine["regret@3"].mean < validation.scored[(b, target, ALL)].per_seed["regret@3"].mean
                    for b in (LARGEST, SAME_FAMILY, RANDOM))
        return beats and mine["ndcg@3"].mean >= ceiling.mean - ceiling.spread

    for key, verdict in verdicts.items():
        if (*key, ALL) in validation.scored:
            assert verdict.useful == by_rule(*key), key
        else:
            assert verdict.useful is None and "no ranking" in verdict.reasons[0]
    # paraphrase: the oracle has regret@3 0 at every seed, every baseline more; it reaches the ceiling
    assert verdicts[("oracle", PARA)].useful is True
    # NER: the oracle is the "same family" ranking: a tie, which is not a win
    assert verdicts[("oracle", NER)].useful is False
    assert any("does not beat same family" in reason for reason in verdicts[("oracle", NER)].reasons)
    assert verdicts[("reverse", PARA)].useful is False
    assert set(verdicts) == {(e, t) for e in ("oracle", "undecided", "reverse") for t in (PARA, NER, RETRIEVAL)}


def test_distance_groups(validation):
    # micro generator distances: English 0.0, qad its own (from the generator's typology)
    from xstilts.micro.languages import typological_distance

    assert validation.distances == {"en": 0.0, "qad": typological_distance("en", "qad")}
    group = f"{round(typological_distance('en', 'qad'), 1):.1f}"
    assert validation.groups() == {"0.0": ["en"], group: ["qad"]}
    cells = [validation.scored[("oracle", t, "qad")].per_seed["ndcg@3"].mean for t in (PARA, NER)]
    assert validation.by_distance[("oracle", group)]["ndcg@3"] == pytest.approx(sum(cells) / 2)  # not retrieval
    assert (CEILING, "0.0") in validation.by_distance


def test_one_seed_has_no_ceiling_and_no_verdict(problem):
    gains = {(PARA, ALL): {c: {0: PARA_GAINS[0][c]} for c in CANDIDATES}}
    measured = Measured("sel-mini", "m", [0], gains)
    result = validate(problem, measured, [_estimate("oracle", ORACLE)], [random_ranking(problem)])
    assert result.ceiling == {}
    assert next(v for v in result.verdicts if v.target == PARA).useful is None
    assert any("one seed measured" in note for note in result.notes)


def test_a_candidate_missing_a_seed_is_left_out_of_its_cell(problem):
    gains = {(PARA, ALL): {c: dict(enumerate(PARA_GAINS[s][c] for s in (0, 1, 2))) for c in CANDIDATES}}
    del gains[(PARA, ALL)]["multi"][2]  # four candidates x three seeds beat five candidates x two seeds
    result = validate(problem, Measured("sel-mini", "m", [0, 1, 2], gains), [], [random_ranking(problem)])
    assert result.cells[(PARA, ALL)].candidates == ["nli", "qa", "pos", "choice"]
    assert result.cells[(PARA, ALL)].seeds == [0, 1, 2]
    assert any("multi left out" in note for note in result.notes)


def test_report_files(validation, tmp_path):
    written = write_validation(validation, tmp_path)
    assert {p.name for p in written} == {"selection.md", "selection.json", "selection.png", "selection.svg"}
    text = (tmp_path / "selection.md").read_text()
    for heading in ("## Verdicts", "| target | oracle | undecided | reverse |", "## Per target (all its languages)",
                    "## Per language: NDCG@3 against single seeds", "## Per typological distance from English: "
                    "regret@3", "## Cost", "| ranking | top 3 | NDCG@3 | regret@1 | regret@3 | Spearman |"):
        assert heading in text, heading
    assert "strictly higher" in text  # the rule is stated
    assert f"| {PARA} | **useful** | not useful: " in text
    assert "| undecided | 5 tied (choice, multi, ...) |" in text
    assert "| oracle | 2.0 | 1e+12 | 4e+12 | n/a | 25.00% |" in text  # a quarter of the grid's FLOPs
    data = json.loads((tmp_path / "selection.json").read_text())
    assert {(v["estimator"], v["target"]): v["useful"] for v in data["verdicts"]}[("oracle", PARA)] is True
    assert data["baselines"] == [LARGEST, SAME_FAMILY, RANDOM]
    assert all(value is None or not math.isnan(value) for row in data["by_distance"] for value in row.values()
               if isinstance(value, float))
    assert (tmp_path / "selection.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_validation_modules_do_not_import_torch():
    import subprocess
    import sys

    code = ("import sys\nimport xstilts.selection.measured, xstilts.selection.baselines, xstilts.selection.validate\n"
            "import xstilts.selection.report\nprint(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"  # matplotlib only when a plot is drawn
