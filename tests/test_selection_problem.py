"""What `xstilts select` chooses among, read from a study's plan: candidates, targets and their baselines."""

from __future__ import annotations

import pytest

from xstilts.config.load import load_study, parse_study
from xstilts.errors import XstiltsError
from xstilts.selection.problem import selection_problems
from xstilts.studies.context import make_context


def test_the_micro_phang2020_twin_is_nine_candidates_for_eight_targets(xstilts_home):
    (problem,) = selection_problems(make_context(load_study("micro-phang2020", size="tiny")).plan)
    # the preset's intermediate axis without null, in its order
    assert problem.candidates == ["nli", "paraphrase", "squad", "squad2", "choice", "ccg", "multitask", "squad-mlm",
                                  "nli-translated"]
    assert problem.prefix == ["mlm"]
    targets = problem.targets
    assert set(targets) == {f"micro-tiny-{t}" for t in ("xnli", "pawsx", "pos", "ner", "qa", "copa", "tatoeba",
                                                        "bucc")}
    xnli, tatoeba = targets["micro-tiny-xnli"], targets["micro-tiny-tatoeba"]
    assert (xnli.stage, xnli.baseline, xnli.pipelines["squad"]) == ("xnli", "none/xnli", "squad/xnli")
    assert xnli.languages == ["en", "qaa", "qab", "qac", "qad", "qae"]
    # retrieval is evaluated on the intermediate encoder: no target stage, no English test set
    assert (tatoeba.stage, tatoeba.baseline, tatoeba.pipelines["ccg"]) == (None, "none/retrieval", "ccg/retrieval")
    assert tatoeba.languages == ["qaa", "qab", "qac", "qad", "qae"]
    assert [c.sources[0].task for c in problem.stages_of("nli")] == ["micro-tiny-nli"]


def test_a_study_without_a_baseline_pipeline_is_an_error(xstilts_home, tmp_path):
    study = parse_study({
        "name": "no-baseline",
        "model": {"build": {"hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64},
                  "tokenizer": {"train": {"corpus": ["mock-mlm"], "vocab_size": 400}}},
        "stages": {"qa": {"sources": [{"task": "mock-qa"}], "steps": 2},
                   "nli": {"sources": [{"task": "mock-nli"}], "steps": 2}},
        "pipelines": {"qa-nli": ["qa", "nli"]},
        "store": str(tmp_path / "runs"),
    })
    with pytest.raises(XstiltsError, match="no pipelines to select over.*intermediate: \\[null"):
        selection_problems(make_context(study).plan)
