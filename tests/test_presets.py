"""The research presets: phang2020 and one per research question, each with an offline micro twin.

Every preset validates and plans (a real-data preset's plan is provisional here: its data is not downloaded);
phang2020's expansion is counted by hand; `--size tiny` of a real preset is its twin; and (slow, in CI) every
tiny twin runs end to end and its report holds what its research question needs.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from xstilts.config.load import load_study, preset_names
from xstilts.studies.context import make_context

QUESTIONS = ["phang2020", "rq1-model-scale", "rq2-intermediate-data-size", "rq3-multitask-vs-sequential",
             "rq4-order-mixed-language", "rq5-xtreme-r-encoders", "lora-intermediate"]


def test_every_research_preset_has_a_micro_twin():
    names = set(preset_names())
    for name in QUESTIONS:
        assert name in names and f"micro-{name}" in names
        for size in ("tiny", "micro"):
            twin = load_study(name, size=size)
            assert twin.name == f"micro-{name}"
            assert twin.variant == ("tiny" if size == "tiny" else None)


@pytest.mark.parametrize("name", QUESTIONS + [f"micro-{q}" for q in QUESTIONS])
def test_preset_plans_without_duplicate_nodes(name, xstilts_home, tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_DATA", str(tmp_path / "no-data"))  # real data is not here: a provisional plan
    size = "tiny" if name.startswith("micro-") else None
    context = make_context(load_study(name, size=size), provisional=True)
    plan = context.plan
    keys = [node.key for node in plan.stages]
    assert len(keys) == len(set(keys))
    assert plan.kinds()["target"] > 0 and plan.kinds()["evaluate"] > 0
    assert bool(plan.missing) == (not name.startswith("micro-"))  # micro data is generated: nothing missing
    # every evaluation reads a stage of the plan (or the model as loaded)
    assert all(e.stage.untrained or e.stage.key in set(keys) for e in plan.evaluations)


def test_phang2020_expansion_counted_by_hand(tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_DATA", str(tmp_path / "no-data"))
    plan = make_context(load_study("phang2020"), provisional=True).plan
    # 12 intermediate stages: ANLI+, MNLI, QQP, SQuAD, SQuAD 2.0, HellaSwag, CommonsenseQA, Cosmos QA, CCG,
    # multi-task, and the two rejected alternatives (SQuAD + MLM on text, MNLI + its XNLI-MT translations).
    # 13 intermediate choices (with none) x 6 target stages (XNLI, PAWS-X, UD-POS, PAN-X, TyDiQA, and SQuAD
    # for XQuAD + MLQA) = 78 target stages; retrieval trains nothing more.
    assert plan.kinds() | {"evaluate": 0, "evaluation_groups": 0} == {
        "mlm": 0, "intermediate": 12, "target": 78, "evaluate": 0, "evaluation_groups": 0}
    intermediate = [n for n in plan.stages if n.kind == "intermediate"]
    # each intermediate stage feeds 5 targets + XQuAD/MLQA + retrieval: 7 pipelines, trained once
    assert all(len(n.pipelines) == 7 for n in intermediate)
    assert len({n.name for n in intermediate}) == 12
    # test languages per choice, XTREME's (evaluate.py's XTREME_TASK2LANGS, not XTREME-R's): XNLI 15 +
    # PAWS-X 7 + UD-POS 33 + PAN-X 40 + TyDiQA 9 + XQuAD 11 + MLQA 7 + BUCC 4 + Tatoeba 36 = 162, for 13 choices
    assert plan.kinds()["evaluate"] == 13 * (15 + 7 + 33 + 40 + 9 + 11 + 7 + 4 + 36)
    translated = [n for n in plan.stages if "mnli-translated" in n.pipelines[0]]
    assert len(translated) == 1 + 6  # the intermediate stage and its six target stages
    assert all(not n.zero_shot for n in translated)
    english_only = [n for n in plan.stages if n.name in ("squad-mlm", "anli-plus", "multitask")]
    assert sorted(n.name for n in english_only) == ["anli-plus", "multitask", "squad-mlm"]
    assert all(n.zero_shot for n in english_only)


def test_phang2020_trains_as_jiant_did(tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_DATA", str(tmp_path / "no-data"))
    plan = make_context(load_study("phang2020"), provisional=True).plan
    study = plan.study
    # XNLI: MNLI trained (and selected on) after each of the 13 intermediate choices, XNLI evaluated in its 15
    # languages on exactly those target stages
    xnli_stages = [n for n in plan.stages if n.name == "xnli"]
    assert len(xnli_stages) == 13
    assert all(n.kind == "target" and [s.task for s in n.config.sources] == ["mnli"] for n in xnli_stages)
    evaluated = {(e.stage.key, e.language) for e in plan.evaluations if e.task == "xnli"}
    assert {key for key, _ in evaluated} == {n.key for n in xnli_stages} and len(evaluated) == 13 * 15
    # the multi-task stage: each source at jiant's length for its task (QA 384, the others 256)
    multitask = study.stages["multitask"]
    lengths = {s.task: multitask.source_max_length(s) for s in multitask.sources}
    assert {task for task, length in lengths.items() if length == 384} == {"squad", "squad2"}
    assert {length for task, length in lengths.items() if task not in ("squad", "squad2")} == {256}
    # CCG as jiant prepared it, alone and in the mixture; TyDiQA keeps its final checkpoint
    assert study.stages["ccg"].sources[0].task == "ccg-jiant" and "ccg-jiant" in lengths and "ccg" not in lengths
    assert study.stages["tydiqa"].selection.enabled is False


def test_rq1_and_rq5_run_every_pipeline_for_each_model(tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_DATA", str(tmp_path / "no-data"))
    for name, models in (("rq1-model-scale", {"xlmr-base", "xlmr-large"}),
                         ("rq5-xtreme-r-encoders", {"mt5-base", "mt5-base-encoder", "xlmr-large"})):
        plan = make_context(load_study(name), provisional=True).plan
        assert {n.model for n in plan.stages} == models
        # rq5's XCOPA stages are per model (their lr is): siqa-<model>, copa-<model>
        by_model = {m: sorted(n.name.replace(m, "<model>") for n in plan.stages if n.model == m) for m in models}
        if name == "rq1-model-scale":
            first, second = by_model.values()
            assert first == second  # the same grid for each model, no stage shared between them
        else:  # mT5 whole for everything but tagging, its encoder alone for tagging: together XLM-R's stages
            xlmr = set(by_model["xlmr-large"])
            assert set(by_model["mt5-base"]) | set(by_model["mt5-base-encoder"]) == xlmr
            assert {"udpos", "panx"} <= set(by_model["mt5-base-encoder"]) and "udpos" not in by_model["mt5-base"]


def test_rq5_trains_xcopa_as_xtreme_r_socialiqa_then_copa_continuing_the_head(tmp_path, monkeypatch):
    from xstilts.studies.results import describe_lineage

    monkeypatch.setenv("XSTILTS_DATA", str(tmp_path / "no-data"))
    study = load_study("rq5-xtreme-r-encoders")
    plan = make_context(study, provisional=True).plan
    lr = {"mt5-base": 2e-5, "xlmr-large": 3e-5}  # train_xcopa.sh: 3e-5 for XLM-R large, else 2e-5
    evaluations = [e for e in plan.evaluations if e.task == "xcopa"]
    assert {e.pipeline for e in evaluations} == {f"{m}/{i}/xcopa" for m in lr for i in ("none", "squad")}
    for evaluation in evaluations:
        model = evaluation.stage.model
        chain = [node for node in evaluation.stage.lineage if not node.untrained]
        names = [node.name for node in chain]
        assert names in ([f"siqa-{model}", f"copa-{model}"], ["squad", f"siqa-{model}", f"copa-{model}"])
        siqa, copa = (node.config for node in chain[-2:])
        assert [s.task for s in siqa.sources] == ["socialiqa"] and [s.task for s in copa.sources] == ["copa"]
        assert copa.keep_heads and not siqa.keep_heads  # COPA continues the SocialIQa-trained head
        for stage in (siqa, copa):
            assert (stage.epochs, stage.max_length, stage.batch_size * stage.grad_accumulation) == (5, 128, 32)
            assert stage.optimizer.lr == lr[model]
        # SocialIQa is part of XCOPA's own recipe (target_recipe), so the baseline stays "none" and the
        # intermediate column is what comes before it
        assert siqa.target_recipe and not copa.target_recipe
        assert describe_lineage(study, evaluation.stage, "xcopa")["intermediate"] == ("+".join(names[:-2]) or "none")


def test_rq5_twin_trains_copa_after_micro_socialiqa_continuing_the_head(tmp_path, monkeypatch):
    from xstilts.config.checks import heads_after
    from xstilts.tasks import get_task

    monkeypatch.setenv("XSTILTS_DATA", str(tmp_path / "data"))
    study = load_study("rq5-xtreme-r-encoders", size="tiny")
    copa = get_task("micro-tiny-copa")
    assert get_task("micro-tiny-socialiqa").head_name == copa.head_name  # as socialiqa and xcopa
    pipelines = {name: study.pipeline(name) for name in study.pipelines if name.endswith("/copa")}
    assert set(pipelines) == {f"{m}/{i}/copa" for m in ("xlmr", "bert", "mt5") for i in ("none", "squad")}
    for name, pipeline in pipelines.items():
        assert pipeline.stages[-2:] == ["siqa", "copa"] and pipeline.evaluate == ["micro-tiny-copa"]
        pretraining = "denoise" if name.startswith("mt5/") else "mlm"  # span corruption for the encoder-decoder
        assert pipeline.stages[:-2] in ([pretraining], [pretraining, "squad"])
        assert heads_after(study, pipeline.stages) == {copa.head_name}
    assert study.stages["copa"].keep_heads and not study.stages["siqa"].keep_heads
    assert [s.task for s in study.stages["siqa"].sources] == ["micro-tiny-socialiqa"]


# ---------------------------------------------------------------- the tiny twins, end to end (slow)


def _run_twin(name: str, out: Path) -> tuple[list[dict], str, Path]:
    from xstilts.reports.results import load_results
    from xstilts.reports.write import write_report
    from xstilts.studies.runner import run_study

    study = load_study(name, size="tiny")
    study.runtime.progress = False
    run_study(study, out / "results")
    write_report(load_results(out / "results"), out / "report", title=study.name, n_resamples=200)
    with open(out / "results" / "results.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return rows, (out / "report" / "report.md").read_text(encoding="utf-8"), out / "report"


@pytest.fixture(scope="module")
def twins(xstilts_home, tmp_path_factory):
    """Every tiny twin, in one home: they share the tiny micro encoder's MLM stage and tokenizer."""
    out = tmp_path_factory.mktemp("twins")
    return {name: _run_twin(name, out / name) for name in QUESTIONS}


def _main(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["main"] == "True"]


def _plots(folder: Path) -> set[str]:
    return {p.stem for p in (folder / "plots").glob("*.png") if p.with_suffix(".svg").exists()}


@pytest.mark.slow
def test_twins_report_the_paper_table_per_language_and_significance(twins):
    for name, (rows, text, folder) in twins.items():
        targets = {r["task"] for r in _main(rows) if r["family"] != "retrieval"}
        assert targets, name
        assert "## Paper table" in text and "Zero-shot languages only" in text, name
        for target in targets:  # a per-language table for every target task
            assert f"### {target.removeprefix('micro-tiny-')}" in text, (name, target)
        assert "Significance against the baseline" in text, name
        kinds = {plot.split("-")[0] for plot in _plots(folder)}  # per-model plots carry the model's name
        assert {"heatmap", "languages", "typology"} <= kinds, name
        html = (folder / "report.html").read_text(encoding="utf-8")
        # plots inline (base64 SVG), nothing fetched from elsewhere
        assert html.count('src="data:image/svg+xml;base64') == len(_plots(folder)), name
        assert "http://" not in html and "https://" not in html, name
        assert "\\toprule" in (folder / "report.tex").read_text(encoding="utf-8"), name


@pytest.mark.slow
def test_phang2020_twin_keeps_the_rejected_alternatives_apart(twins):
    rows, text, _ = twins["phang2020"]
    columns = {r["intermediate"] for r in _main(rows)}
    assert {"none", "micro-tiny-squad+micro-tiny-mlm", "micro-tiny-nli+micro-tiny-nli@translate-train"} <= columns
    translated = [r for r in rows if r["intermediate"] == "micro-tiny-nli+micro-tiny-nli@translate-train"]
    assert translated and all(r["zero_shot"] == "False" for r in translated)
    assert "squad+mlm" in text and "nli+nli@translate-train" in text


@pytest.mark.slow
def test_rq1_twin_compares_model_sizes(twins):
    rows, text, folder = twins["rq1-model-scale"]
    assert {r["model"] for r in rows} == {"micro-xlmr-tiny-L1-H32", "micro-xlmr-tiny-L2-H64"}
    assert "models" in _plots(folder)
    for model in ("micro-xlmr-tiny-L1-H32", "micro-xlmr-tiny-L2-H64"):
        assert model in text


@pytest.mark.slow
def test_rq2_twin_has_scaling_curves_over_the_fraction(twins):
    rows, text, folder = twins["rq2-intermediate-data-size"]
    fractions = {json.loads(r["axes"]).get("fraction") for r in rows}
    assert {0.1, 0.3, 1.0} <= fractions
    assert "scaling-fraction" in _plots(folder) or any(p.startswith("scaling") for p in _plots(folder))
    assert "fraction=0.3" in text


@pytest.mark.slow
def test_rq3_twin_tells_joint_from_sequential(twins):
    rows, text, _ = twins["rq3-multitask-vs-sequential"]
    columns = {r["intermediate"] for r in _main(rows)}
    assert {"none", "micro-tiny-nli", "micro-tiny-nli (joint)", "micro-tiny-squad (joint)"} <= columns
    assert "nli (joint)" in text


@pytest.mark.slow
def test_rq4_twin_orders_and_mixed_data_are_columns(twins):
    rows, text, _ = twins["rq4-order-mixed-language"]
    orders = {json.loads(r["axes"]).get("order") for r in rows}
    assert orders == {"english-then-mixed", "mixed-then-english", "mixed-from-start", "english-only", "none"}
    mixed = [r for r in rows if json.loads(r["axes"]).get("order") not in ("english-only", "none")]
    assert mixed and all(r["zero_shot"] == "False" for r in mixed)  # translated or code-switched data
    # the two orders of the same stages are different columns
    columns = {r["intermediate"] for r in _main(rows)}
    assert {"micro-tiny-nli+micro-tiny-nli~cs", "micro-tiny-nli~cs+micro-tiny-nli"} <= columns


@pytest.mark.slow
def test_rq5_twin_compares_two_architectures_with_retrieval(twins):
    rows, text, folder = twins["rq5-xtreme-r-encoders"]
    assert {r["model"] for r in rows} == {"micro-xlmr-tiny", "micro-bert-tiny", "micro-mt5-tiny"}
    assert {r["task"] for r in rows if r["family"] == "retrieval"} == {"micro-tiny-tatoeba"}
    assert "models" in _plots(folder)


@pytest.mark.slow
def test_lora_twin_pairs_lora_with_full_intermediate_training(twins):
    rows, text, _ = twins["lora-intermediate"]
    columns = {r["intermediate"] for r in _main(rows)}
    assert columns == {"none", "micro-tiny-nli", "micro-tiny-nli~lora"}
    assert {json.loads(r["axes"]).get("training") for r in _main(rows)} == {"full", "lora", None}
    assert "Paired conditions" in text and "PEFT vs full training" in text.split("Paired conditions")[1]
