"""Lineage keys and plans: stable, sensitive to what matters, blind to what does not; zero-shot flags."""

from __future__ import annotations

import copy

import pytest
import yaml

from xstilts.config.load import parse_study
from xstilts.studies.plan import build_plan
from xstilts.tasks import get_task

BASE = yaml.safe_load("""\
name: plan
model:
  build: {hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64}
  tokenizer: {train: {corpus: [mock-mlm], vocab_size: 400}}
seeds: [0, 1]
stages:
  mlm: {sources: [{task: mock-mlm, languages: [en, qad]}], steps: 5, selection: {enabled: false}}
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
    # evaluations: per seed 2 pipelines x mock-nli x (en, qad) + retrieval x qad
    assert len(plan.evaluations) == 2 * (2 * 2 + 1)
    parents = {n.key: n.parent.key if n.parent else None for n in plan.stages}
    assert sum(node.parent is not None for node in plan.stages) == 2 * 3  # all but mlm, per seed
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
    lambda d: d["stages"]["target"]["sources"][0].update(max_length=64),  # a source's own length
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


def test_a_source_without_its_own_length_keeps_its_key(data_root):
    from xstilts.studies.plan import _stage_described

    # Described as before the option existed: the source fields then were these five.
    stage = parse_study(copy.deepcopy(BASE)).stages["target"]
    (source,) = _stage_described(stage)["sources"]
    assert set(source) == {"task", "split", "languages", "max_examples", "fraction"}
    # a length equal to the stage's cuts the same features: the same key; another one: another key
    before = keys(plan_of(BASE, data_root))
    same, other = copy.deepcopy(BASE), copy.deepcopy(BASE)
    same["stages"]["target"]["sources"][0]["max_length"] = 256  # the stage's default max_length
    other["stages"]["target"]["sources"][0]["max_length"] = 128
    assert keys(plan_of(same, data_root)) == before
    changed = {k for k, v in keys(plan_of(other, data_root)).items() if before.get(k) != v}
    assert changed == {k for k in before if k[0] == "target"}


def test_xnli_is_evaluated_after_a_stage_that_trains_mnli(tmp_path):
    # jiant's XNLI: train MNLI, select on MNLI dev, evaluate XNLI through the same head (real data is not
    # here: a provisional plan, which needs no files)
    data = {"name": "xnli", "model": copy.deepcopy(BASE["model"]),
            "stages": {"xnli": {"sources": [{"task": "mnli"}], "epochs": 2}},
            "pipelines": {"none/xnli": {"stages": ["xnli"], "evaluate": ["xnli"]}}}
    study = parse_study(data)
    plan = build_plan(study, tmp_path / "no-data", provisional=True)
    (node,) = plan.stages
    assert node.kind == "target" and [s.task for s in node.config.sources] == ["mnli"]
    languages = [e.language for e in plan.evaluations if e.task == "xnli" and e.stage is node]
    assert languages == ["ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh"]
    # model selection reads MNLI's dev set, the training task's
    from xstilts.config.checks import selection_task_names

    assert selection_task_names(node.config) == ["mnli"]
    assert any("mnli" in path and "dev" in path for path in plan.missing)


def test_data_content_enters_the_key(data_root, tmp_path):
    import shutil

    local = tmp_path / "data"
    shutil.copytree(data_root, local)
    data = copy.deepcopy(BASE)
    data["data_root"] = str(local)
    before = keys(plan_of(data, local))
    train = get_task("mock-nli").path("train", "en", local)
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


def test_a_stage_with_its_own_seed_is_trained_once_for_every_study_seed(data_root):
    data = copy.deepcopy(BASE)
    data["stages"]["mlm"]["seed"] = 0
    plan = plan_of(data, data_root)
    mlm = [n for n in plan.stages if n.name == "mlm"]
    assert len(mlm) == 1 and mlm[0].seed == 0  # one MLM stage, where BASE has one per seed
    assert len(plan.stages) == 1 + 2 * 3  # mlm once; inter and both targets per seed
    later = [n for n in plan.stages if n.name != "mlm"]
    assert {n.seed for n in later} == {0, 1} and all(n.parent.key == mlm[0].key or n.parent.name == "inter"
                                                     for n in later)
    # the seed-0 stages keep the keys they have without the option (a stage's own seed 0 = the study's seed 0)
    assert keys(plan_of(BASE, data_root))[("mlm", 0, "baseline,stilts,retrieval")] == mlm[0].key
    data["stages"]["mlm"]["seed"] = 1
    assert plan_of(data, data_root).stages[0].key != mlm[0].key


def test_non_english_selection_or_training_is_not_zero_shot(data_root):
    data = copy.deepcopy(BASE)
    data["stages"]["inter"]["selection"] = {"languages": ["en", "qad"]}
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


# ----- several models, grids with `set`, axes, kinds: expansion only, nothing is trained -----

MODELS = {
    "small": {"build": {"hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64},
              "tokenizer": {"train": {"corpus": ["mock-mlm"], "vocab_size": 400}}},
    "large": {"label": "large-enc",
              "build": {"hidden_size": 64, "num_layers": 2, "num_heads": 2, "intermediate_size": 128},
              "tokenizer": {"train": {"corpus": ["mock-mlm"], "vocab_size": 400}}},
}
TASK_STAGES = {
    "mlm": {"sources": [{"task": "mock-mlm", "languages": ["en", "qad"]}], "steps": 5, "selection": {"enabled": False}},
    "qa": {"sources": [{"task": "mock-qa"}], "steps": 5},
    "choice": {"sources": [{"task": "mock-choice"}], "steps": 5},
    "ner": {"sources": [{"task": "mock-ner"}], "steps": 5},
    "nli": {"sources": [{"task": "mock-nli"}], "steps": 5},
    "pos": {"sources": [{"task": "mock-pos"}], "steps": 5},
    "para": {"sources": [{"task": "mock-paraphrase"}], "steps": 5},
}
INTERS, TARGETS = ["qa", "choice", "ner"], ["nli", "pos", "para"]


def grid_study(model_axis: bool = True, **changes) -> dict:
    axes = {"inter": [None, *INTERS], "target": TARGETS}
    name = "{inter}/{target}"
    if model_axis:
        axes = {"model": ["small", "large"], **axes}
        name = "{model}/" + name
    data = {"name": "grid", "models": copy.deepcopy(MODELS), "seeds": [0, 1], "stages": copy.deepcopy(TASK_STAGES),
            "grids": [{"name": name, "stages": ["mlm", "{inter}", "{target}"], "axes": axes}]}
    data.update(changes)
    return data


@pytest.mark.parametrize("model_axis", [True, False])
def test_grid_counts_and_sharing_by_hand(model_axis, data_root):
    """3 intermediate x (3 targets + baseline) x 2 seeds x 2 models, with the model as an axis or implicit."""
    plan = plan_of(grid_study(model_axis), data_root)
    # per model and seed: 1 mlm, 3 intermediate stages, 3 targets after mlm + 3 x 3 after an intermediate
    kinds = plan.kinds()
    assert (kinds["mlm"], kinds["intermediate"], kinds["target"]) == (4, 4 * 3, 4 * 12)
    assert len(plan.stages) == 4 * 16 == len({n.key for n in plan.stages})  # no duplicates
    # each target stage is evaluated on its task's test data in en and qad; each target node is one group
    assert (kinds["evaluate"], kinds["evaluation_groups"]) == (4 * 12 * 2, 4 * 12)
    assert len({(n.model, n.seed) for n in plan.stages}) == 4
    children: dict[str, list] = {}
    for node in plan.stages:
        if node.parent is not None:
            children.setdefault(node.parent.key, []).append(node)
    for node in plan.stages:
        if node.kind == "intermediate":  # trained once, shared by all three targets that start from it
            assert sorted(c.name for c in children[node.key]) == sorted(TARGETS) and len(node.pipelines) == 3
        if node.kind == "mlm":  # shared by 4 x 3 pipelines, feeding 3 intermediate and 3 baseline targets
            assert len(node.pipelines) == 12 and len(children[node.key]) == 6
    # models never share a stage: every key differs between them, down to the mlm root
    small = {n.key for n in plan.stages if n.model == "small"}
    large = {n.key for n in plan.stages if n.model == "large"}
    assert len(small) == len(large) == 32 and small.isdisjoint(large)


def test_model_axis_and_implicit_models_give_the_same_keys(data_root):
    with_axis = {n.key for n in plan_of(grid_study(True), data_root).stages}
    implicit = {n.key for n in plan_of(grid_study(False), data_root).stages}
    assert with_axis == implicit


def test_grid_keys_stable_across_builds_and_studies_sharing_a_prefix(data_root):
    first = plan_of(grid_study(), data_root)
    again = plan_of(grid_study(), data_root)
    assert [n.key for n in first.stages] == [n.key for n in again.stages]
    assert [e.key for e in first.evaluations] == [e.key for e in again.evaluations]
    # another study, other names, one pipeline: its stages are the big grid's, so it would reuse its runs
    other = {"name": "other", "models": {"s": copy.deepcopy(MODELS["small"])}, "seeds": [1],
             "stages": {"pretrain": TASK_STAGES["mlm"], "squadish": TASK_STAGES["qa"], "xnli": TASK_STAGES["nli"]},
             "pipelines": {"p": ["pretrain", "squadish", "xnli"]}}
    shared = plan_of(other, data_root)
    assert len(shared.stages) == 3 and {n.key for n in shared.stages} <= {n.key for n in first.stages}


def _small_target_keys(data: dict, data_root) -> set[str]:
    return {n.key for n in plan_of(data, data_root).stages if n.model == "small" and n.kind == "target"}


def _with_set(entries: dict, axes: dict) -> dict:
    data = grid_study(False, seeds=[0])
    data["models"] = {"small": data["models"]["small"]}
    data["grids"] = [{"name": "{target}/" + "/".join("{" + a + "}" for a in axes), "stages": ["mlm", "qa", "{target}"],
                      "axes": {"target": ["nli"], **axes}, "set": entries}]
    return data


@pytest.mark.parametrize("edit", [
    lambda d: d["models"]["small"]["build"].update(hidden_size=48),  # the model
    lambda d: d.update(seeds=[2]),  # the seed
    lambda d: d["grids"][0]["axes"].update(fraction=[0.25]),  # a data fraction, through `set`
    lambda d: d["grids"][0]["axes"].update(lr=[3e-5]),  # a learning rate, through `set`
    lambda d: d["grids"][0].update(stages=["qa", "mlm", "{target}"]),  # the order of the stages
    lambda d: d["grids"][0]["set"].update({"mlm.sources[0].max_examples": 10}),  # a cap two stages up
])
def test_keys_change_with_every_field_that_matters(edit, data_root):
    entries = {"qa.sources[0].fraction": "{fraction}", "{target}.optimizer.lr": "{lr}"}
    data = _with_set(entries, {"fraction": [0.5], "lr": [2e-5]})
    before = _small_target_keys(data, data_root)
    changed = copy.deepcopy(data)
    edit(changed)
    assert before and before.isdisjoint(_small_target_keys(changed, data_root))


def test_keys_ignore_checkpoint_every_and_stage_names(data_root):
    data = _with_set({"qa.sources[0].fraction": "{fraction}"}, {"fraction": [0.5]})
    before = {n.key for n in plan_of(data, data_root).stages}
    renamed = copy.deepcopy(data)
    renamed["stages"]["squad"] = renamed["stages"].pop("qa")
    renamed["stages"]["squad"]["checkpoint_every"] = 3
    renamed["grids"][0]["stages"] = ["mlm", "squad", "{target}"]
    renamed["grids"][0]["set"] = {"squad.sources[0].fraction": "{fraction}"}
    renamed["grids"][0]["name"] = "other-{target}-{fraction}"
    assert {n.key for n in plan_of(renamed, data_root).stages} == before


def test_set_derives_named_stages_shared_across_cells_and_studies(data_root):
    data = grid_study(False, seeds=[0])
    data["models"] = {"small": data["models"]["small"]}
    data["grids"] = [{
        "name": "{inter}/{target}/{fraction}", "stages": ["mlm", "{inter}", "{target}"],
        "axes": {"inter": [None, "qa"], "target": ["nli", "pos"], "fraction": [0.25, 1.0]},
        "set": {"{inter}.sources[0].fraction": "{fraction}", "{target}.optimizer.lr": 3e-5},
    }]
    study = parse_study(data)
    assert study.pipeline("qa/nli/0.25").stages == ["mlm", "qa[fraction=0.25]", "nli[lr=3e-05]"]
    assert study.pipeline("none/pos/1.0").stages == ["mlm", "pos[lr=3e-05]"]
    assert study.stages["qa[fraction=0.25]"].sources[0].fraction == 0.25  # the number, not the text "0.25"
    assert study.stages["qa"].sources[0].fraction is None  # the original is untouched
    assert study.pipeline("qa/nli/0.25").axes == {"inter": "qa", "target": "nli", "fraction": 0.25}
    plan = build_plan(study, data_root)
    # mlm; qa at 2 fractions; per fraction 2 targets after qa; 2 baseline targets shared by both fractions
    assert len(plan.stages) == 1 + 2 + 2 * 2 + 2
    (derived,) = [n for n in plan.stages if n.name == "qa[fraction=0.25]"]
    assert sorted(derived.pipelines) == ["qa/nli/0.25", "qa/pos/0.25"]
    # a hand-written stage with the same content is the same run: the key depends on the content only
    by_hand = copy.deepcopy(data)
    by_hand["grids"] = []
    by_hand["stages"]["quarter"] = {"sources": [{"task": "mock-qa", "fraction": 0.25}], "steps": 5}
    by_hand["stages"]["nli"]["optimizer"] = {"lr": 3e-5}
    by_hand["pipelines"] = {"p": ["mlm", "quarter", "nli"]}
    hand_keys = {n.key for n in plan_of(by_hand, data_root).stages}
    assert hand_keys <= {n.key for n in plan.stages}


def test_set_templates_keep_types_and_format_text(data_root):
    data = _with_set({"qa.steps": "{steps}", "qa.sources[0].languages": ["{lang}"]}, {"steps": [7], "lang": ["en"]})
    data["grids"][0]["name"] = "s{steps}-{lang}-{target}"
    study = parse_study(data)
    (derived,) = [s for s in study.pipeline("s7-en-nli").stages if s.startswith("qa[")]
    assert derived == "qa[languages=['en'],steps=7]"
    assert study.stages[derived].steps == 7 and study.stages[derived].sources[0].languages == ["en"]


@pytest.mark.parametrize(("entry", "expected"), [
    ({"qaa.steps": 3}, "no stage 'qaa' to set fields of; did you mean 'qa'"),
    ({"qa.optimzer.lr": 3}, "no field 'optimzer' in the stage; did you mean 'optimizer'"),
    ({"qa.sources[3].fraction": 0.5}, "sources has 1 entries; [3] is out of range"),
    ({"qa.sources[0].fraction": 2.0}, "sources[0].fraction: Input should be less than or equal to 1"),
    ({"qa.sources[0].task": "mock-qaa"}, "unknown task 'mock-qaa': did you mean 'mock-qa'"),
    ({"qa.steps..x": 1}, "is not a field path"),
    ({"pos.steps": 1}, "names a stage that none of the grid's pipelines uses"),
])
def test_set_errors_name_the_grid_and_the_key(entry, expected):
    from xstilts.errors import ConfigError

    data = _with_set(entry, {})
    data["grids"][0]["name"] = "cell-{target}"
    with pytest.raises(ConfigError) as caught:
        parse_study(data)
    (problem,) = caught.value.problems
    assert "grid 'cell-{target}'" in problem and repr(next(iter(entry))) in problem and expected in problem


def test_set_error_points_at_its_line(tmp_path):
    from xstilts.config.load import load_study
    from xstilts.errors import ConfigError

    data = _with_set({"qa.sources[0].fraction": "{fraction}"}, {"fraction": [0.5, 3]})
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "qa.sources[0].fraction" in text)
    with pytest.raises(ConfigError) as caught:
        load_study(path)
    (problem,) = caught.value.problems
    assert f"study.yaml:{line}:" in problem and "less than or equal to 1" in problem


def test_model_choice_errors():
    from xstilts.errors import ConfigError

    both = grid_study()
    both["model"] = MODELS["small"]
    with pytest.raises(ConfigError, match="exactly one of `model`"):
        parse_study(both)
    bad_axis = grid_study()
    bad_axis["grids"][0]["axes"]["model"] = ["small", "larg"]
    with pytest.raises(ConfigError, match="axis 'model' value 'larg' is not a key of `models`; did you mean 'large'"):
        parse_study(bad_axis)
    bad_pipeline = grid_study(pipelines={"p": {"stages": ["mlm", "nli"], "model": "smal"}})
    with pytest.raises(ConfigError, match="pipelines.p.model: unknown model 'smal'; did you mean 'small'"):
        parse_study(bad_pipeline)
    twice = grid_study()
    twice["models"]["copy"] = {**copy.deepcopy(MODELS["small"]), "label": "other label"}
    with pytest.raises(ConfigError, match="models.copy: the same model as models.small"):
        parse_study(twice)
    single = copy.deepcopy(BASE)
    single["grids"] = [{"name": "{model}", "stages": ["mlm"], "axes": {"model": ["a"]}}]
    with pytest.raises(ConfigError, match="the study has a single `model`"):
        parse_study(single)


def test_model_override_refuses_several_models():
    from xstilts.config.load import override_model
    from xstilts.errors import XstiltsError

    with pytest.raises(XstiltsError, match=r"several `models` \(small, large\).*models.<name>.name_or_path"):
        override_model(grid_study(), "/some/folder")


def test_pipeline_naming_a_model_runs_only_with_it(data_root):
    data = grid_study(False, grids=[], pipelines={
        "everywhere": ["mlm", "nli"], "only-large": {"stages": ["mlm", "qa", "nli"], "model": "large"}})
    plan = plan_of(data, data_root)
    assert {(n.name, n.model) for n in plan.stages} == {
        ("mlm", "small"), ("nli", "small"), ("mlm", "large"), ("nli", "large"), ("qa", "large")}
    assert len(plan.stages) == 2 * (2 + 4)  # per seed: small mlm, nli; large mlm, nli, qa, nli after qa
    study = parse_study(data)
    assert study.model_label("large") == "large-enc" and study.model_label("small") == "small"


def test_axes_column_text():
    from xstilts.studies.results_files import RESULT_COLUMNS, axes_text

    assert "axes" in RESULT_COLUMNS
    assert axes_text({}) == "{}"
    assert axes_text({"target": "nli", "fraction": 0.25, "inter": None}) == \
        '{"fraction":0.25,"inter":null,"target":"nli"}'
    study = parse_study(grid_study())
    assert study.pipeline("large/none/pos").axes == {"model": "large", "inter": None, "target": "pos"}
    assert study.pipeline("large/none/pos").model == "large"
    explicit = parse_study(grid_study(grids=[], pipelines={"p": {"stages": ["mlm", "nli"], "axes": {"steps": 5}}}))
    assert explicit.pipeline("p").axes == {"steps": 5}


# ----- study shapes that stay configuration -----

def _shape_plan(pipelines: dict, data_root, stages: dict | None = None):
    data = {"name": "shape", "model": copy.deepcopy(MODELS["small"]), "seeds": [0],
            "stages": {**copy.deepcopy(TASK_STAGES), **(stages or {})}, "pipelines": pipelines}
    return plan_of(data, data_root)


def test_multi_task_intermediate_is_one_stage(data_root):
    multi = {"sources": [{"task": "mock-qa"}, {"task": "mock-choice"}],
             "sampler": {"kind": "temperature", "temperature": 2.0}, "steps": 5}
    plan = _shape_plan({"multi": ["mlm", "multi", "nli"], "multi-pos": ["mlm", "multi", "pos"]}, data_root,
                       {"multi": multi})
    kinds = plan.kinds()
    assert (kinds["mlm"], kinds["intermediate"], kinds["target"]) == (1, 1, 2)
    (node,) = [n for n in plan.stages if n.kind == "intermediate"]
    assert [s.task for s in node.config.sources] == ["mock-qa", "mock-choice"]


def test_joint_training_is_one_target_stage_keyed_apart_from_sequential(data_root):
    joint = {"sources": [{"task": "mock-qa"}, {"task": "mock-nli"}], "steps": 5}
    plan = _shape_plan({"joint": {"stages": ["mlm", "joint"], "evaluate": ["mock-nli"]},
                        "sequential": ["mlm", "qa", "nli"]}, data_root, {"joint": joint})
    kinds = {n.name: n.kind for n in plan.stages}
    assert kinds == {"mlm": "mlm", "joint": "target", "qa": "intermediate", "nli": "target"}
    assert len({n.key for n in plan.stages}) == 4
    assert plan.kinds()["evaluate"] == 2 * 2  # mock-nli in en and qad, after each of the two targets


def test_stage_orders_give_different_keys(data_root):
    plan = _shape_plan({"qa-first": ["mlm", "qa", "choice", "nli"], "choice-first": ["mlm", "choice", "qa", "nli"]},
                       data_root)
    assert len(plan.stages) == 1 + 2 * 3  # only mlm is shared
    assert len([n for n in plan.stages if n.name == "nli"]) == 2
    assert [n.kind for n in plan.stages].count("intermediate") == 4


def test_fractions_and_caps_as_grid_axes(data_root):
    data = {"name": "sizes", "model": copy.deepcopy(MODELS["small"]), "seeds": [0, 1],
            "stages": copy.deepcopy(TASK_STAGES),
            "grids": [{"name": "qa-{cap}/nli", "stages": ["mlm", "qa", "nli"], "axes": {"cap": [10, 20, None]},
                       "set": {"qa.sources[0].max_examples": "{cap}"}}]}
    study = parse_study(data)
    assert [study.stages[study.pipeline(f"qa-{c}/nli").stages[1]].sources[0].max_examples
            for c in (10, 20, "none")] == [10, 20, None]
    plan = build_plan(study, data_root)
    # a null cap leaves the stage as written (qa[max_examples=none] has qa's content: same key as qa itself)
    kinds = plan.kinds()
    assert (kinds["mlm"], kinds["intermediate"], kinds["target"]) == (2, 2 * 3, 2 * 3)


def test_grid_names_take_format_specs_and_null_drops_an_evaluated_task():
    data = _with_set({"{target}.optimizer.lr": "{lr}"}, {"lr": [2e-5], "also": [None, "mock-retrieval"]})
    data["grids"][0].update(name="lr{lr:.0e}-{also}", evaluate=["mock-nli", "{also}"])
    study = parse_study(data)
    assert study.pipeline("lr2e-05-none").evaluate == ["mock-nli"]
    assert study.pipeline("lr2e-05-mock-retrieval").evaluate == ["mock-nli", "mock-retrieval"]
    assert study.pipeline("lr2e-05-none").axes == {"target": "nli", "lr": 2e-5, "also": None}


@pytest.mark.parametrize("name", ["lr{lr:d}", "lr{", "lr{lr.real.x}"])
def test_unfillable_name_template_is_a_config_error(name):
    from xstilts.errors import ConfigError

    data = _with_set({}, {"lr": [2e-5]})
    data["grids"][0]["name"] = name
    with pytest.raises(ConfigError, match=r"grid 'lr\{.*cannot fill its templates"):
        parse_study(data)


def test_a_dumped_study_validates_again_to_the_same_plan(data_root):
    """`run` writes study.yaml from the expanded config: grids gone, derived stages and axes kept."""
    data = _with_set({"qa.sources[0].fraction": "{fraction}"}, {"fraction": [0.5, 1.0]})
    study = parse_study(data)
    again = parse_study(yaml.safe_load(yaml.safe_dump(study.model_dump(mode="json"))))
    assert again.pipelines == study.pipelines and again.stages == study.stages and again.grids == []
    assert [n.key for n in build_plan(again, data_root).stages] == [n.key for n in build_plan(study, data_root).stages]
