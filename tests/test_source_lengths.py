"""A source's own max_length (jiant tokenizes each task of a multi-task stage at its own length): a tiny study
featurizes that source, and its task's dev set for model selection, at the source's length; every other
source, and the evaluation after the stage, at the stage's."""

from __future__ import annotations

import pytest
import yaml

from helpers import tiny_model_yaml
from xstilts.config.load import parse_study

STUDY = f"""\
name: lengths
{tiny_model_yaml()}stages:
  mixed:
    sources: [{{task: mock-nli, max_examples: 24, max_length: 16}}, {{task: mock-paraphrase, max_examples: 24}}]
    steps: 2
    batch_size: 4
    max_length: 64
    selection: {{every: 2, max_examples: 8}}
pipelines:
  only: {{stages: [mixed], evaluate: [mock-nli]}}
evaluate: {{languages: [en], max_examples: 8}}
runtime: {{progress: false, threads: 1}}
"""


@pytest.fixture()
def featurized(xstilts_home, tmp_path, monkeypatch) -> dict[tuple[str, str], tuple[int, int]]:
    """(task, split) -> (max_length asked for, longest feature) of every featurization of the tiny study."""
    from xstilts.data import cache
    from xstilts.studies.runner import run_study

    seen: dict[tuple[str, str], tuple[int, int]] = {}
    original = cache.featurize_cached

    def spy(task, split, language, **kwargs):
        data = original(task, split, language, **kwargs)
        seen[(task.name, split)] = (kwargs["max_length"], max(len(f["input_ids"]) for f in data.features))
        return data

    monkeypatch.setattr(cache, "featurize_cached", spy)
    data = yaml.safe_load(STUDY)
    data["store"] = str(tmp_path / "runs")
    run_study(parse_study(data), tmp_path / "out")
    return seen


def test_each_source_is_cut_at_its_own_length(featurized):
    # mock-nli trains and selects at its source's 16 tokens; the longest of its features is cut there, while
    # mock-paraphrase, without a length of its own, keeps the stage's 64 (and has features longer than 16).
    assert featurized[("mock-nli", "train")] == (16, 16)
    assert featurized[("mock-nli", "dev")] == (16, 16)
    length, longest = featurized[("mock-paraphrase", "train")]
    assert length == 64 and 16 < longest <= 64
    assert featurized[("mock-paraphrase", "dev")][0] == 64
    # evaluation after the stage reads the stage's length, and mock-nli's test pairs are longer than 16 tokens
    length, longest = featurized[("mock-nli", "test")]
    assert length == 64 and 16 < longest <= 64
