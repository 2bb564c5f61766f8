"""Lineage keys and plans: stable, sensitive to what matters, blind to what does not; zero-shot flags."""

from __future__ import annotations

import copy

import pytest
import yaml

from xstilts.config.load import parse_study
from xstilts.studies.plan import build_plan

BASE = yaml.safe_load("""\
name: plan
model:
  build: {hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64}
  tokenizer: {train: {corpus: [mock-mlm], vocab_size: 400}}
seeds: [0, 1]
stages:
  mlm: {sources: [{task: mock-mlm, languages: [en, de]}], steps: 5, selection: {enabled: false}}
  inter: {sources: [{task: mock-qa}], steps: 5}
  target: {sources: [{task: mock-nli}], steps: 5}
pipelines:
  baseline: [mlm, target]
  stilts: [mlm, inter, target]
  retrieval: {stages: [mlm, inter], evaluate: [mock-retrieval]}
""")


@pytest.fixture()
def data_root(xstilts_home):
    return xstilts_home / "data"


def plan_of(data: dict, data_root):
    return build_plan(parse_study(data), data_root)


def keys(plan) -> dict[tuple[str, int, str], str]:
    return {(node.name, node.seed, ",".join(node.pipelines)): node.key for node in plan.stages}


def test_sharing_and_counts(data_root):
    plan = plan_of(BASE, data_root)
    # per seed: mlm (shared by 3 pipelines), inter (shared by 2), target after mlm, target after inter
    assert len(plan.stages) == 2 * 4
    mlm = [n for n in plan.stages if n.name == "mlm"]
    assert len(mlm) == 2 and all(sorted(n.pipelines) == ["baseline", "retrieval", "stilts"] for n in mlm)
    # evaluations: per seed 2 pipelines x mock-nli x (en, de) + retrieval x de
    assert len(plan.evaluations) == 2 * (2 * 2 + 1)
    parents = {n.key: n.parent.key if n.parent else None for n in plan.stages}
    for node in plan.stages:  # parents come before children
        if node.parent:
            assert [n.key for n in plan.stages].index(node.parent.key) < [n.key for n in plan.stages].index(node.key)
    assert len(set(parents)) == len(plan.stages)


def test_keys_are_stable(data_root):
    assert keys(plan_of(BASE, data_root)) == keys(plan_of(copy.deepcopy(BASE), data_root))


@pytest.mark.parametrize("edit", [
    lambda d: d["stages"]["target"].update(steps=6),
    lambda d: d["stages"]["target"]["optimizer"].update(lr=2e-5) if "optimizer" in d["stages"]["target"]
    else d["stages"]["target"].update(optimizer={"lr": 2e-5}),
    lambda d: d["stages"]["target"].update(max_length=128),
    lambda d: d["stages"]["target"]["sources"][0].update(max_examples=10),
    lambda d: d["stages"]["mlm"].update(steps=6),  # upstream change propagates
    lambda d: d["model"]["build"].update(hidden_size=64),
    lambda d: d["model"]["tokenizer"]["train"].update(vocab_size=500),
])
def test_target_key_changes_with_everything_that_matters(edit, data_root):
    before = keys(plan_of(BASE, data_root))
    data = copy.deepcopy(BASE)
    edit(data)
    after = keys(plan_of(data, data_root))
    target_before = {k: v for k, v in before.items() if k[0] == "target"}
    target_after = {k: v for k, v in after.items() if k[0] == "target"}
    assert set(target_before.values()).isdisjoint(target_after.values())


def test_key_ignores_what_does_not_change_the_output(data_root):
    before = keys(plan_of(BASE, data_root))
    data = copy.deepcopy(BASE)
    data["stages"]["target"]["checkpoint_every"] = 7
    data["name"] = "renamed-study"
    data["model"]["label"] = "nicer name"
    data["stages"]["target2"] = data["stages"].pop("target")  # stage names are labels, not identity
    data["pipelines"] = {"baseline": ["mlm", "target2"], "stilts": ["mlm", "inter", "target2"],
                         "retrieval": BASE["pipelines"]["retrieval"]}
    after = plan_of(data, data_root)
    assert sorted(before.values()) == sorted(n.key for n in after.stages)


def test_data_content_enters_the_key(data_root, tmp_path):
    import shutil

    local = tmp_path / "data"
    shutil.copytree(data_root, local)
    data = copy.deepcopy(BASE)
    data["data_root"] = str(local)
    before = keys(plan_of(data, local))
    train = local / "mock" / "mock-nli" / "train-en.jsonl"
    lines = train.read_text().splitlines()
    train.write_text("\n".join(lines[:-1]) + "\n")  # one example fewer
    after = keys(plan_of(data, local))
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {k for k in before if k[0] == "target"}


def test_seed_gives_distinct_keys(data_root):
    plan = plan_of(BASE, data_root)
    by_seed = {}
    for node in plan.stages:
        by_seed.setdefault(node.seed, set()).add(node.key)
    assert by_seed[0].isdisjoint(by_seed[1])


def test_non_english_selection_or_training_is_not_zero_shot(data_root):
    data = copy.deepcopy(BASE)
    data["stages"]["inter"]["selection"] = {"languages": ["en", "de"]}
    plan = plan_of(data, data_root)
    flags = {(n.name, ",".join(sorted(n.pipelines))): n.zero_shot for n in plan.stages if n.seed == 0}
    assert flags[("mlm", "baseline,retrieval,stilts")] is True  # multilingual MLM is pretraining, still zero-shot
    assert flags[("inter", "retrieval,stilts")] is False
    assert flags[("target", "stilts")] is False  # inherited from its upstream stage
    assert flags[("target", "baseline")] is True


def test_grid_expands_pipelines_and_null_drops_a_stage(data_root):
    data = copy.deepcopy(BASE)
    data["seeds"] = [0]
    data["stages"]["pos"] = {"sources": [{"task": "mock-pos"}], "steps": 5}
    data["grids"] = [{"name": "{inter}/{target}", "stages": ["mlm", "{inter}", "{target}"],
                      "axes": {"inter": [None, "inter"], "target": ["target", "pos"]}}]
    study = parse_study(data)
    assert study.pipeline("none/pos").stages == ["mlm", "pos"]
    assert study.pipeline("inter/target").stages == ["mlm", "inter", "target"]
    plan = build_plan(study, data_root)
    # the grid's none/target and inter/target are the hand-written baseline and stilts pipelines: shared
    assert len(plan.stages) == 6  # mlm, inter, target x2, pos x2
    assert {n.name for n in plan.stages if "none/target" in n.pipelines} == {"mlm", "target"}


def test_grid_with_unknown_placeholder_is_a_config_error():
    from xstilts.errors import ConfigError

    data = copy.deepcopy(BASE)
    data["grids"] = [{"name": "{inter}", "stages": ["{intr}"], "axes": {"inter": ["inter"]}}]
    with pytest.raises(ConfigError, match="axes are"):
        parse_study(data)
