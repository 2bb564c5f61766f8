"""The estimators of `xstilts select` (selection/estimators): LogME against the closed-form evidence, and each
estimator on a tiny study of mock tasks (MLM, two candidate intermediate tasks, a tagging, a classification and
a retrieval target): scores for every target, costs, the run store and JSON caches as their memory."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from xstilts.errors import ConfigError
from xstilts.selection.estimate import ALL
from xstilts.selection.estimators.logme import evidence, logme, maximise_evidence, one_hot
from xstilts.selection.estimators.settings import EstimatorSettings


def gaussian_log_density(features: np.ndarray, target: np.ndarray, alpha: float, beta: float) -> float:
    """log N(target; 0, I / beta + F F' / alpha): the evidence with the weights integrated out by hand."""
    n = len(target)
    covariance = np.eye(n) / beta + features @ features.T / alpha
    _, log_det = np.linalg.slogdet(covariance)
    return -0.5 * (n * math.log(2 * math.pi) + log_det + target @ np.linalg.solve(covariance, target))


@pytest.mark.parametrize("shape", [(30, 4), (8, 20)])  # more rows than dimensions, and fewer
def test_evidence_is_the_marginal_likelihood(shape):
    rng = np.random.default_rng(1)
    features = rng.normal(size=shape)
    target = features @ rng.normal(size=shape[1]) + 0.5 * rng.normal(size=shape[0])
    for alpha, beta in [(1.0, 1.0), (0.3, 4.0), (7.0, 0.2)]:
        assert evidence(features, target, alpha, beta) == pytest.approx(
            gaussian_log_density(features, target, alpha, beta), rel=1e-9)


def test_evidence_by_hand_one_row_one_dimension():
    # F = [[2]], y = [1], alpha = beta = 1: y ~ N(0, 1/beta + 4/alpha = 5), log p = -(log(2 pi 5) + 1/5) / 2
    assert evidence(np.array([[2.0]]), np.array([1.0]), 1.0, 1.0) == pytest.approx(
        -0.5 * (math.log(2 * math.pi * 5) + 0.2))


def test_the_fixed_point_is_the_maximum_over_a_grid():
    rng = np.random.default_rng(2)
    features = rng.normal(size=(40, 5))
    target = features @ rng.normal(size=5) + 0.3 * rng.normal(size=40)
    alpha, beta, best = maximise_evidence(features, target)
    assert best == pytest.approx(gaussian_log_density(features, target, alpha, beta), rel=1e-9)
    grid = np.logspace(-3, 3, 61)
    assert max(evidence(features, target, a, b) for a in grid for b in grid) <= best + 1e-9


def test_logme_prefers_features_that_carry_the_labels():
    rng = np.random.default_rng(3)
    classes = rng.integers(0, 3, size=120)
    noise = rng.normal(size=(120, 6))
    informative = noise.copy()
    informative[:, :3] += 4.0 * one_hot(classes, 3)
    labels = one_hot(classes, 3)
    assert logme(informative, labels) > logme(noise, labels)
    # the score is the mean over the columns of the maximised evidence per row
    expected = np.mean([maximise_evidence(informative, column)[2] / 120 for column in labels.T])
    assert logme(informative, labels) == pytest.approx(expected)


def test_constant_label_columns_are_left_out():
    rng = np.random.default_rng(4)
    features = rng.normal(size=(20, 3))
    labels = np.zeros((20, 2))
    labels[:10, 0] = 1.0  # column 1 is constant: no information about the features
    assert logme(features, labels) == pytest.approx(maximise_evidence(features, labels[:, 0])[2] / 20)
    assert math.isnan(logme(features, np.zeros((20, 1))))


def test_bad_settings_name_the_key():
    with pytest.raises(ConfigError, match=r"select\.fraction"):
        EstimatorSettings(fraction=1.5)
    with pytest.raises(ConfigError, match=r"select\.examples"):
        EstimatorSettings(examples=0)


STUDY = """\
name: selection-estimators
model:
  build: {hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64, max_length: 128}
  tokenizer: {train: {corpus: [mock-mlm], vocab_size: 400}}
stages:
  mlm:
    sources: [{task: mock-mlm, languages: [en, qad]}]
    steps: 6
    batch_size: 16
    max_length: 64
    selection: {enabled: false}
  qa: &intermediate
    sources: [{task: mock-qa}]
    steps: 8
    batch_size: 8
    max_length: 96
    selection: {max_examples: 10}
  choice: {<<: *intermediate, sources: [{task: mock-choice}], steps: 4}
  pos:
    sources: [{task: mock-pos}]
    epochs: 0.5
    batch_size: 16
    max_length: 64
    selection: {max_examples: 10}
  nli: {sources: [{task: mock-nli}], steps: 8, batch_size: 16, max_length: 64, selection: {max_examples: 10}}
grids:
  - name: "{intermediate}/{target}"
    stages: [mlm, "{intermediate}", "{target}"]
    axes: {intermediate: [null, qa, choice], target: [pos, nli]}
  - name: "{intermediate}/retrieval"
    stages: [mlm, "{intermediate}"]
    evaluate: [mock-retrieval]
    axes: {intermediate: [null, qa, choice]}
evaluate: {max_examples: 20}
runtime: {progress: false, trackers: []}
"""

SETTINGS = EstimatorSettings(examples=40, language_examples=20, logme_examples=30, probe_max_examples=16)
TARGETS = ("mock-pos", "mock-nli", "mock-retrieval")


@pytest.fixture(scope="module")
def tiny(xstilts_home, tmp_path_factory):
    """(problem, context) of the tiny study, with its own run store."""
    from xstilts.config.load import load_study
    from xstilts.selection.problem import selection_problems
    from xstilts.studies.context import make_context

    folder = tmp_path_factory.mktemp("selection-estimators")
    path = folder / "study.yaml"
    path.write_text(STUDY + f"store: {folder / 'runs'}\n", encoding="utf-8")
    context = make_context(load_study(path))
    (problem,) = selection_problems(context.plan)
    assert problem.candidates == ["qa", "choice"] and set(problem.targets) == set(TARGETS)
    return problem, context


def run_folders(context) -> set[str]:
    root = context.store.root
    return {p.name for p in root.iterdir() if p.is_dir()} if root.exists() else set()


def starts(context) -> dict[str, int]:
    """Stage folder -> how many times a process started training it."""
    from xstilts.studies.stage import training_starts

    return {p.name: len(training_starts(p)) for p in Path(context.store.root).iterdir() if p.is_dir()}


def test_shortened_stage_steps():
    from xstilts.config.schema import StageConfig
    from xstilts.selection.estimators.nodes import shortened

    stage = StageConfig(sources=[{"task": "mock-nli"}], steps=10)
    name, short = shortened("nli", stage, 0.25, Path("."))
    assert (name, short.steps, short.epochs) == ("nli[steps=3]", 3, None)  # ceil(10 x 0.25)
    assert shortened("nli", stage, 0.01, Path("."))[1].steps == 1  # at least one step


def test_similarity(tiny):
    from xstilts.selection.estimators import ESTIMATORS

    problem, context = tiny
    first = ESTIMATORS["similarity"](problem, context, SETTINGS, lambda _: None)
    for target in TARGETS:
        scores = first.scores[(target, ALL)]
        assert set(scores) == {"qa", "choice"}
        assert all(-1.0 <= value <= 1.0 for value in scores.values())  # cosines
    assert set(first.scores[("mock-pos", "qad")]) == {"qa", "choice"}  # per language: the dev inputs in qad
    assert any("no English data" in note for note in first.notes)  # retrieval: ALL from its languages
    assert first.scores[("mock-retrieval", ALL)] == first.scores[("mock-retrieval", "qad")]
    assert first.cost.seconds > 0 and first.cost.flops > 0 and first.cost.grid_flops > 0
    assert first.cost.grid_seconds > 0
    folders = run_folders(context)
    again = ESTIMATORS["similarity"](problem, context, SETTINGS, lambda _: None)
    assert again.scores == first.scores and again.cost == first.cost
    assert any(note.startswith("cached") for note in again.notes)
    assert run_folders(context) == folders
    centred_off = ESTIMATORS["similarity"](problem, context, EstimatorSettings(**{**SETTINGS.as_dict(),
                                                                                "centre": False}), lambda _: None)
    assert not any(note.startswith("cached") for note in centred_off.notes)  # another setting: computed afresh


def test_logme_and_probe_share_their_intermediate_probes(tiny):
    from xstilts.selection.estimators import ESTIMATORS

    problem, context = tiny
    transfer = ESTIMATORS["logme"](problem, context, SETTINGS, lambda _: None)
    for target in ("mock-pos", "mock-nli"):
        scores = transfer.scores[(target, ALL)]
        assert set(scores) == {"qa", "choice"} and all(math.isfinite(v) for v in scores.values())
    assert ("mock-retrieval", ALL) not in transfer.scores
    assert any("'mock-retrieval'" in note and "no LogME score" in note for note in transfer.notes)
    assert transfer.cost.seconds > 0 and transfer.cost.flops > 0 and transfer.cost.grid_flops > 0
    trained = starts(context)
    assert sum(trained.values()) == 3  # the MLM prefix and two shortened intermediate stages, once each

    cached = ESTIMATORS["logme"](problem, context, SETTINGS, lambda _: None)
    assert cached.scores == transfer.scores and any(n.startswith("cached") for n in cached.notes)
    assert starts(context) == trained

    probe = ESTIMATORS["probe"](problem, context, SETTINGS, lambda _: None)
    for target in TARGETS:
        assert set(probe.scores[(target, ALL)]) == {"qa", "choice"}
    for language in ("en", "qad"):
        gains = probe.scores[("mock-nli", language)]
        assert all(-100.0 <= value <= 100.0 for value in gains.values())  # points of a percentage
    # ALL is the mean over the languages
    for candidate in ("qa", "choice"):
        per_language = [probe.scores[("mock-pos", language)][candidate] for language in ("en", "qad")]
        assert probe.scores[("mock-pos", ALL)][candidate] == pytest.approx(np.mean(per_language))
    after = starts(context)
    assert all(count == 1 for count in after.values())  # the shortened intermediates were not trained again
    # 2 shortened targets x (2 candidates + the baseline) new stages
    assert sum(after.values()) == sum(trained.values()) + 6
    assert probe.cost.seconds > 0 and probe.cost.flops > 0
    assert any("done by an earlier call" in note for note in probe.notes)

    folders = run_folders(context)
    again = ESTIMATORS["probe"](problem, context, SETTINGS, lambda _: None)
    assert again.scores == probe.scores and starts(context) == after and run_folders(context) == folders
    assert again.cost.seconds == pytest.approx(probe.cost.seconds, rel=1e-9)  # recorded seconds, nothing ran


def test_span_rows_keep_every_start_and_end():
    from xstilts.selection.estimators.features import _sample_rows

    columns = np.zeros((10, 3))
    columns[:, 2] = 1.0  # "other"
    columns[[3, 7]] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]  # a start and an end
    kept = _sample_rows(columns, 5, keep_rare=True)
    assert len(kept) == 5 and {3, 7} <= set(kept.tolist())
    assert _sample_rows(columns, 20, keep_rare=True).tolist() == list(range(10))  # within the budget: all


@pytest.mark.parametrize("task_name", ["mock-nli", "mock-choice", "mock-pos", "mock-qa"])
def test_labelled_rows_follow_the_families_heads(tiny, task_name):
    """Rows and label columns per family, counted from the features themselves (module docstring of features.py)."""
    from xstilts.families.common import IGNORE_INDEX
    from xstilts.selection.estimators.features import labelled_rows, load_encoder
    from xstilts.studies.context import ensure_tokenizer, featurize
    from xstilts.tasks import get_task

    problem, context = tiny
    task = get_task(task_name).with_data(context.data_root)
    data = featurize(context, task, "train", "en", 64, 12, problem.model)
    tokenizer, _ = ensure_tokenizer(context, problem.model)
    encoder = load_encoder(context, problem.model, None)
    rows, labels, tokens = labelled_rows(encoder, task, data.features, tokenizer.pad_token_id,
                                         EstimatorSettings(max_features=100_000))
    features = data.features
    assert rows.shape == (len(labels), 32) and tokens > 0
    if task.family == "classification":  # one row per example, one column per class, exactly one 1
        assert labels.shape == (len(features), len(task.labels)) and (labels.sum(axis=1) == 1).all()
    elif task.family == "multiple_choice":  # one row per choice, the correct one marked
        assert len(labels) == sum(len(f["input_ids"]) for f in features) and labels.sum() == len(features)
    elif task.family == "tagging":  # one row per labelled (first-subword) position
        assert len(labels) == sum(sum(label != IGNORE_INDEX for label in f["labels"]) for f in features)
        assert (labels.sum(axis=1) == 1).all()
    else:  # span QA: every real token; each feature one start and one end
        assert len(labels) == sum(len(f["input_ids"]) for f in features)
        assert labels[:, 0].sum() == len(features) and labels[:, 1].sum() == len(features)


T5_STUDY = """\
name: selection-estimators-t5
model:
  build: {architecture: t5, hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64}
  tokenizer: {train: {corpus: [mock-mlm], vocab_size: 400}}
stages:
  qa: {sources: [{task: mock-qa}], steps: 4, batch_size: 8, max_length: 96, selection: {max_examples: 8}}
  choice: {sources: [{task: mock-choice}], steps: 4, batch_size: 8, max_length: 96, selection: {max_examples: 8}}
  nli: {sources: [{task: mock-nli}], steps: 4, batch_size: 8, max_length: 64, selection: {max_examples: 8}}
grids:
  - name: "{intermediate}/{target}"
    stages: ["{intermediate}", "{target}"]
    axes: {intermediate: [null, qa, choice], target: [nli]}
evaluate: {max_examples: 8, decoding: {max_new_tokens: 6}}
runtime: {progress: false, trackers: []}
"""


@pytest.mark.slow
def test_an_encoder_decoder_without_prefix_stages(xstilts_home, tmp_path):
    """A built T5 and no pretraining stage: similarity and logme read the encoder half of the model as loaded
    (and of the probes), the probe trains the text-to-text variants as the runner does."""
    from xstilts.config.load import load_study
    from xstilts.selection.estimators import ESTIMATORS
    from xstilts.selection.problem import selection_problems
    from xstilts.studies.context import make_context

    path = tmp_path / "study.yaml"
    path.write_text(T5_STUDY + f"store: {tmp_path / 'runs'}\n", encoding="utf-8")
    context = make_context(load_study(path))
    (problem,) = selection_problems(context.plan)
    assert problem.prefix == []
    settings = EstimatorSettings(examples=20, language_examples=10, logme_examples=16, probe_max_examples=8)
    for name in ("similarity", "logme", "probe"):
        estimate = ESTIMATORS[name](problem, context, settings, lambda _: None)
        assert set(estimate.scores[("mock-nli", ALL)]) == {"qa", "choice"}
        assert all(math.isfinite(v) for v in estimate.scores[("mock-nli", ALL)].values())
        assert estimate.cost.flops > 0 and estimate.cost.grid_flops > 0


def test_a_target_without_dev_split_is_probed_on_the_study_split(tiny, monkeypatch):
    """Probe studies per split: dev where a target has it, the study's split where not; the shortened
    intermediate stages are the same nodes in both."""
    import dataclasses

    from xstilts.selection.estimators import nodes

    problem, context = tiny
    real = nodes.get_task

    def without_dev(name):
        task = real(name)
        return dataclasses.replace(task, splits={"test": ("qad",)}) if name == "mock-retrieval" else task

    monkeypatch.setattr(nodes, "get_task", without_dev)
    studies = {probe.split: probe for probe in nodes.probe_studies(context, problem, SETTINGS)}
    assert set(studies) == {"dev", "test"}
    assert set(studies["dev"].baselines) == {"mock-pos", "mock-nli"}
    assert set(studies["test"].baselines) == {"mock-retrieval"}
    assert studies["test"].study.evaluate.split == "test" and studies["dev"].study.evaluate.split == "dev"
    keys = {split: {c: nodes.stage_node_of(nodes.derived_context(context, probe.study), pipeline).key
                    for c, pipeline in probe.intermediate.items()} for split, probe in studies.items()}
    assert keys["dev"] == keys["test"]
    assert studies["dev"].study.stages["qa[steps=2]"].steps == 2  # ceil(8 x 0.25)
