"""Run a plan in this process: each stage once (skipped when done, resumed when interrupted), then every
evaluation, then gather the result rows into ``results.csv`` and the per-example score units into
``example_scores.jsonl`` (see :mod:`xstilts.studies.example_scores`).

Stages meet through folders (``runs/<key>/checkpoint``), never through memory, so any executor can run a
node given only the plan and the store.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xstilts import __version__, threads
from xstilts.atomic import published_folder, remove_published_folder
from xstilts.config.schema import StudyConfig
from xstilts.run_folder import RunFolder
from xstilts.studies.evaluations import eval_max_length, evaluated_task
from xstilts.studies.example_scores import (
    EXAMPLE_SCORES,
    gather_example_scores,
    units_path,
    write_example_scores,
    write_units,
)
from xstilts.studies.plan import EvalNode, Plan, StageNode, build_plan
from xstilts.studies.processes import Processes
from xstilts.studies.store import (
    RunStore,
    default_data_root,
    write_json_atomic,
    write_text_atomic,
    write_yaml_atomic,
    xstilts_home,
)
from xstilts.tasks.custom import DATA_ROOT_FIELD

RESULT_COLUMNS = [
    "study", "pipeline", "model", "seed", "task", "family", "language", "split", "metric", "value", "chance",
    "zero_shot", "main", "intermediate", "pretraining", "n_examples", "stage_key", "eval_key", "axes",
    # The benchmark whose languages and aggregation apply and the published setup the study follows (empty:
    # none); the value's denominator (queries, questions, tokens: a mean pooled over languages weighs each by
    # it); the evaluation's settings (JSON).
    "benchmark", "reference", "weight", "recipe",
]


@dataclass
class Context:
    study: StudyConfig
    plan: Plan
    store: RunStore
    data_root: Path
    home: Path
    processes: Processes = field(default_factory=Processes)
    # model name -> (tokenizer, tokenizer id): every model of a study has its own
    tokenizers: dict[str, tuple[Any, str]] = field(default_factory=dict)

    @property
    def features_root(self) -> Path:
        return self.home / "features"


def resolve_data_root(study: StudyConfig) -> Path:
    return Path(study.data_root) if study.data_root else default_data_root()


def with_data_root_paths(study: StudyConfig, data_root: Path) -> StudyConfig:
    """The study with ``{data_root}`` filled in where paths may use it (code-switching dictionaries, e.g.
    ``{data_root}/muse/en-de.txt``): like task files under the data root, they are looked for at run time."""
    if not any(s.code_switch and DATA_ROOT_FIELD in p for stage in study.stages.values()
               for s in stage.sources for p in (s.code_switch.dictionaries.values() if s.code_switch else ())):
        return study
    study = study.model_copy(deep=True)
    for stage in study.stages.values():
        for source in stage.sources:
            if source.code_switch is not None:
                source.code_switch.dictionaries = {
                    language: path.replace(DATA_ROOT_FIELD, str(data_root))
                    for language, path in source.code_switch.dictionaries.items()}
    return study


def make_context(study: StudyConfig, provisional: bool = False) -> Context:
    """The plan and where things live. ``provisional``: a missing data file does not stop the plan (see
    ``build_plan``); for ``xstilts plan`` only, never to run."""
    data_root = resolve_data_root(study)
    study = with_data_root_paths(study, data_root)
    home = xstilts_home()
    store = RunStore(Path(study.store) if study.store else home / "runs")
    return Context(study, build_plan(study, data_root, provisional), store, data_root, home)


def run_study(study: StudyConfig, out_dir: Path, log=None, *, executor: str | None = None, wait: bool = True,
              base: Path | None = None) -> list[dict[str, Any]] | None:
    """Run every pending node and write ``out_dir/results.csv`` and ``out_dir/example_scores.jsonl``; returns
    the rows. ``executor`` (default ``runtime.executor``) is local, ray or slurm; ``base`` is the folder the
    study's relative task files are read from (the study file's; default: the working directory). With
    ``wait=False`` the slurm executor returns None once its jobs are submitted."""
    from xstilts.studies.executors import check_executor
    from xstilts.training.tracking import check_trackers_installed, viewing_hint

    executor = check_executor(executor or study.runtime.executor)
    check_trackers_installed(study.runtime.trackers)  # before any stage trains or is submitted
    if executor != "local":
        return _run_elsewhere(study, out_dir, log, executor, wait, base)
    import torch
    import transformers

    # Per-file loading bars from transformers drown the stage progress; our own bar says enough.
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    if study.runtime.threads:
        torch.set_num_threads(study.runtime.threads)
    if study.runtime.workers > 1 and study.runtime.progress:
        # Several workers' progress bars would fight over one terminal: each says what it starts instead.
        study = study.model_copy(update={"runtime": study.runtime.model_copy(update={"progress": False})})
    context = make_context(study)
    runtime = study.runtime
    context.processes = Processes(use_cuda=runtime.device == "cuda" or (runtime.device == "auto"
                                                                        and torch.cuda.is_available()))
    main = context.processes.is_main
    if main:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_yaml_atomic(out_dir / "study.yaml", study.model_dump(mode="json"))
    say = (log or (lambda message: None)) if main else (lambda message: None)
    pending = [n for n in context.plan.stages if not context.store.is_done(n.key)]
    say(f"{len(context.plan.stages)} stages ({len(pending)} to run), {len(context.plan.evaluations)} evaluations")
    if pending and (hint := viewing_hint(runtime, context.store.root)):
        say(hint)
    if context.processes.world > 1:
        _run_in_group(context, say)
        if not main:
            return []
    elif runtime.workers > 1:
        from xstilts.studies.workers import run_with_workers

        say(f"{runtime.workers} parallel workers sharing {runtime.threads or os.cpu_count()} threads")
        from xstilts.studies.executors.nodes import job_spec

        run_with_workers(lambda should_stop: drain(context, say, should_stop), runtime.workers, runtime.threads,
                         job_spec(study, base))
    else:
        drain(context, say)
    return write_results(context, out_dir)


def _run_elsewhere(study: StudyConfig, out_dir: Path, log, executor: str, wait: bool,
                   base: Path | None) -> list[dict[str, Any]] | None:
    """The driver of the ray and slurm executors: submit the nodes, wait, gather. It trains nothing itself."""
    from xstilts.studies.executors import run_elsewhere
    from xstilts.studies.executors.nodes import job_spec

    say = log or (lambda message: None)
    context = make_context(study)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_yaml_atomic(out_dir / "study.yaml", study.model_dump(mode="json"))
    pending = [n for n in context.plan.stages if not context.store.is_done(n.key)]
    say(f"{len(context.plan.stages)} stages ({len(pending)} to run), {len(context.plan.evaluations)} evaluations; "
        f"executor {executor}")
    if not run_elsewhere(executor, context, job_spec(study, base), say, wait=wait):
        return None
    return write_results(context, out_dir)


def write_results(context: Context, out_dir: Path) -> list[dict[str, Any]]:
    """Gather the plan's results from the store into ``results.csv``, ``example_scores.jsonl`` and
    ``summary.md``, with the study's recipe card beside them (``recipe.md``)."""
    from xstilts.reports.summary import write_summary
    from xstilts.studies.recipe_card import recipe_card

    rows = gather_rows(context)
    write_text_atomic(out_dir / "recipe.md", recipe_card(context.study, context.plan))
    write_results_csv(out_dir / "results.csv", rows)
    write_example_scores(out_dir / EXAMPLE_SCORES, gather_example_scores(context.store, context.plan.evaluations))
    write_summary(context.study, rows, out_dir)
    return rows


def eval_groups(context: Context) -> dict[str, list[EvalNode]]:
    """Evaluations by the stage they read: one group loads its model once."""
    groups: dict[str, list[EvalNode]] = {}
    for evaluation in context.plan.evaluations:
        groups.setdefault(evaluation.stage.key, []).append(evaluation)
    return groups


def _run_in_group(context: Context, say) -> None:
    """A torchrun/accelerate process group: every process trains each stage together, in plan order; the main
    process then evaluates alone."""
    for node in context.plan.stages:
        run_stage_node(context, node, say)
    if context.processes.is_main:  # evaluation needs no process group: the main process does it alone
        with context.processes.solo():
            for evaluations in eval_groups(context).values():
                run_evaluations(context, evaluations, say)
    context.processes.barrier()


def drain(context: Context, say, should_stop=lambda: False) -> None:
    """Run every node of the plan that is not done: the first ready one (its inputs done) that nobody else
    holds, again and again, in plan order. One process alone runs the plan in order; several (parallel workers,
    or other runs of the same study) share it through the store's locks, and none waits while it has work."""
    store = context.store
    upstream = {node.parent.key for node in context.plan.stages if node.parent is not None}
    jobs: list[tuple[str, str, Any]] = [("stage", node.key, node) for node in context.plan.stages]
    jobs += [("eval", f"{key}.eval", group) for key, group in eval_groups(context).items()]

    def finished(kind: str, payload: Any) -> bool:
        if kind == "stage":
            return store.is_done(payload.key)
        return all(eval_path(context, evaluation).exists() for evaluation in payload)

    def ready(kind: str, payload: Any) -> bool:
        if kind == "stage":
            return payload.parent is None or store.is_done(payload.parent.key)
        stage = payload[0].stage
        return stage.untrained or store.is_done(stage.key)

    while jobs and not should_stop():
        ran = False
        for job in list(jobs):
            kind, lock_key, payload = job
            if finished(kind, payload):
                jobs.remove(job)
                continue
            if not ready(kind, payload):
                continue
            alone = kind == "stage" and payload.key in upstream
            with threads.node_slot(store.root / "workers.lock", alone) as slot, store.try_lock(lock_key) as got:
                if not (slot and got):
                    continue
                if not finished(kind, payload):
                    if kind == "stage":
                        _train_node(context, payload, say)
                    else:
                        run_evaluations(context, payload, say)
            jobs.remove(job)
            ran = True
            break
        if jobs and not ran:
            time.sleep(0.2)  # everything left is running elsewhere or waits for something that is


def _ensure_tokenizer(context: Context, model: str | None = None) -> tuple[Any, str]:
    """(tokenizer, tokenizer id) of a model of the study (``None``: its only model), prepared once."""
    if model is None:
        (model,) = context.plan.model_keys  # callers of a several-model study always name the model
    if model not in context.tokenizers:
        from xstilts.models.setup import prepare_tokenizer

        with context.processes.main_first():
            context.tokenizers[model] = prepare_tokenizer(
                context.study.model_configs()[model], context.data_root, context.home / "tokenizers",
                context.plan.model_keys[model])
    return context.tokenizers[model]


def _featurize(context: Context, task, split: str, language: str, max_length: int, limit: int | None,
               model: str | None = None):
    from xstilts.data.cache import featurize_cached

    tokenizer, tokenizer_id = _ensure_tokenizer(context, model)
    with context.processes.main_first():
        return featurize_cached(task, split, language, data_root=context.data_root, cache_root=context.features_root,
                                tokenizer=tokenizer, tokenizer_id=tokenizer_id, max_length=max_length, limit=limit)


def run_stage_node(context: Context, node: StageNode, say) -> None:
    store, processes = context.store, context.processes
    if store.is_done(node.key):
        return
    # Only the main process locks; in a process group the others wait for it at the barrier.
    with store.lock(node.key) if processes.is_main else nullcontext():
        processes.barrier()
        if not store.is_done(node.key):  # another runner may have finished it while we waited
            _train_node(context, node, say)
        processes.barrier()


def _train_node(context: Context, node: StageNode, say) -> None:
    import torch

    from xstilts.config.checks import selection_task_names
    from xstilts.data.code_switch import with_code_switch
    from xstilts.families import get_family
    from xstilts.models.bundle import EncoderWithHeads
    from xstilts.models.checkpoint import load_encoder_from_checkpoint, load_heads, read_heads_meta
    from xstilts.models.setup import initial_encoder
    from xstilts.tasks import get_task
    from xstilts.training.loop import DevSet, TrainSource, seed_int, train_stage
    from xstilts.training.tracking import StageRun, flat_params, run_name

    study, store = context.study, context.store
    main = context.processes.is_main
    run = store.run(node.key)
    folder = run.path
    folder.mkdir(parents=True, exist_ok=True)
    model = study.model_configs()[node.model]
    if main:
        write_yaml_atomic(run.config, {
            "stage": node.name, "key": node.key, "parent": node.parent.key if node.parent else None,
            "seed": node.seed, "zero_shot": node.zero_shot, "xstilts_version": __version__,
            "model_name": node.model, "model": model.model_dump(mode="json"),
            "config": node.config.model_dump(mode="json"),
        })
    resuming = published_folder(run.state) is not None
    if main:
        append_start_record(folder, resuming)
    say(f"{'resume' if resuming else 'train'} stage {node.name!r} (seed {node.seed}) -> {folder}")
    tokenizer, _ = _ensure_tokenizer(context, node.model)
    stage = node.config

    torch.manual_seed(seed_int(node.seed, "init", node.key))
    if node.parent is None:
        encoder = initial_encoder(model, tokenizer)
    else:
        encoder = load_encoder_from_checkpoint(store.run(node.parent.key).checkpoint)
    tasks = {s.task: get_task(s.task).with_data(context.data_root) for s in stage.sources}
    heads, head_meta = {}, {}
    for task in tasks.values():
        if task.head_name not in heads:
            heads[task.head_name] = get_family(task.family).build_head(task, encoder.config)
            head_meta[task.head_name] = {"task": task.name, "family": task.family}
    if stage.keep_heads and node.parent is not None:
        parent_checkpoint = store.run(node.parent.key).checkpoint
        parent_heads = read_heads_meta(parent_checkpoint)
        kept = [name for name in heads if name in parent_heads]
        load_heads(parent_checkpoint, heads, names=kept)

    sources = []
    for source in stage.sources:
        task = with_code_switch(tasks[source.task], source.code_switch)
        features = []
        for language in source.languages:
            limit = source.max_examples
            if source.fraction is not None:
                total = len(task.load(source.split, language, context.data_root))
                limit = max(1, math.ceil(total * source.fraction))
            data = _featurize(context, task, source.split, language, stage.source_max_length(source), limit,
                              node.model)
            features.extend(data.features)
        sources.append(TrainSource(task, task.head_name, features))
    dev_sets = []
    if stage.selection.enabled:
        for task in (tasks[name] for name in selection_task_names(stage)):
            for language in stage.selection.languages:
                data = _featurize(context, task, stage.selection.split, language, stage.task_max_length(task.name),
                                  stage.selection.max_examples, node.model)
                dev_sets.append(DevSet(task, task.head_name, data))

    outcome = train_stage(
        folder, config=stage, seed=node.seed, bundle=EncoderWithHeads(encoder, heads), sources=sources,
        dev_sets=dev_sets, pad_token_id=tokenizer.pad_token_id, runtime=study.runtime,
        title=f"{node.name} (seed {node.seed})", head_meta=head_meta,
        tracking_run=StageRun(
            run_name(node.name, node.seed, node.key), project=study.runtime.tracking.project or study.name,
            tags={"stage": node.name, "seed": str(node.seed), "key": node.key, "study": study.name},
            params={"stage": node.name, "seed": node.seed, "key": node.key, **flat_params(stage.model_dump(mode="json"))},
            store_root=store.root),
    )
    if main:
        write_json_atomic(run.metrics, {"stage": node.name, "key": node.key, **outcome.as_dict()})
        remove_published_folder(run.state)
        store.mark_done(node.key)


def append_start_record(folder: Path, resuming: bool) -> None:
    """One ``{"event": "start"}`` line in ``log.jsonl`` each time a process starts (or resumes) training a
    stage, naming the host and process: who trained what, and proof that no stage was trained twice. It has
    no ``step``, so a resume's log trimming keeps it."""
    import socket

    record = {"event": "start", "resuming": resuming, "host": socket.gethostname(), "pid": os.getpid(),
              "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    with open(RunFolder(folder).log, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def training_starts(folder: Path) -> list[dict[str, Any]]:
    """The start records of a stage folder's ``log.jsonl`` (see :func:`append_start_record`)."""
    path = RunFolder(folder).log
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line torn by a crash
        if record.get("event") == "start":
            records.append(record)
    return records


def eval_path(context: Context, evaluation: EvalNode) -> Path:
    return context.store.run(evaluation.stage.key).eval_result(evaluation.key)


def is_evaluated(context: Context, evaluation: EvalNode) -> bool:
    """Its result file exists: the evaluation is done."""
    return eval_path(context, evaluation).exists()


def run_evaluations(context: Context, evaluations: list[EvalNode], say) -> None:
    todo = [e for e in evaluations if not eval_path(context, e).exists()]
    if not todo:
        return
    import torch

    from xstilts.evaluation.predict import evaluate_features
    from xstilts.families import get_family
    from xstilts.models.checkpoint import load_encoder_from_checkpoint, load_heads
    from xstilts.tasks import get_task
    from xstilts.training.loop import make_accelerator

    stage = todo[0].stage
    checkpoint = context.store.run(stage.key).checkpoint
    what = "the model as loaded (no stages)" if stage.untrained else f"stage {stage.name!r}"
    say(f"evaluate {len(todo)} task/language pairs on {what} (seed {stage.seed})")
    tokenizer, _ = _ensure_tokenizer(context, stage.model)
    accelerator = make_accelerator(context.study.runtime)
    if stage.untrained:
        from xstilts.models.setup import initial_encoder
        from xstilts.training.loop import seed_int

        torch.manual_seed(seed_int(stage.seed, "init", stage.key))  # matters only for a built (random) encoder
        encoder = initial_encoder(context.study.model_configs()[stage.model], tokenizer).to(accelerator.device)
    else:
        encoder = load_encoder_from_checkpoint(checkpoint).to(accelerator.device)
    heads: dict[str, torch.nn.Module] = {}
    for evaluation in todo:
        task = get_task(evaluation.task).with_data(context.data_root)
        family = get_family(task.family)
        if family.trainable and task.head_name not in heads:
            heads[task.head_name] = family.build_head(task, encoder.config)
    if heads:
        load_heads(checkpoint, heads, names=list(heads))
    for head in heads.values():
        head.to(accelerator.device)
    settings = context.study.evaluate
    for evaluation in todo:
        task = evaluated_task(context.study, get_task(evaluation.task).with_data(context.data_root))
        family = get_family(task.family)
        max_length = eval_max_length(context.study, stage, task)
        data = _featurize(context, task, evaluation.split, evaluation.language, max_length, settings.max_examples,
                          stage.model)
        references = {}
        for split in family.reference_splits(task, evaluation.split):
            reference = _featurize(context, task, split, evaluation.language, max_length, settings.max_examples,
                                   stage.model)
            references[split] = (reference.examples, reference.features)
        evaluated = evaluate_features(
            encoder, heads.get(task.head_name) if family.trainable else None, family, task, data.examples,
            data.features, split=evaluation.split, references=references,
            pad_token_id=tokenizer.pad_token_id, batch_size=settings.batch_size,
            device=accelerator.device, autocast=accelerator.autocast,
        )
        predictions, scores = evaluated.predictions, evaluated.scores
        chance = family.chance(task, data.examples)
        lines = "".join(
            json.dumps({"id": ex["id"], "prediction": p}, ensure_ascii=False) + "\n"
            for ex, p in zip(data.examples, predictions, strict=True)
        )
        write_text_atomic(context.store.run(stage.key).prediction_file(task.name, evaluation.split,
                                                                      evaluation.language), lines)
        recipe = json.dumps(family.evaluation_recipe(task, max_length, encoder.config), sort_keys=True,
                            separators=(",", ":"))
        rows = [
            {"task": task.name, "family": task.family, "language": evaluation.language, "split": evaluation.split,
             "metric": metric, "value": value, "chance": chance.get(metric), "main": metric == task.main_metric,
             "n_examples": len(data.examples), "recipe": recipe,
             "weight": sum(evaluated.units[metric].den) if metric in evaluated.units else None}
            for metric, value in scores.items()
        ]
        # Units first: the .json marks the evaluation done, so a done evaluation of this version has its units.
        write_units(units_path(context.store, evaluation), evaluation.key, [ex["id"] for ex in data.examples],
                    evaluated.units)
        write_json_atomic(eval_path(context, evaluation), {"key": evaluation.key, "rows": rows})


def describe_lineage(study: StudyConfig, stage: StageNode, task_name: str) -> dict[str, str]:
    """What a result row's model went through, as two labels for the paper table.

    ``pretraining``: ``model`` (a pretrained encoder), ``mlm`` (stages of MLM sources only), both, or ``none``
    (a randomly initialised encoder: the control). ``intermediate``: the sources trained before the stage that
    last trained the evaluated task's head (every non-MLM-only stage, for retrieval), in order, joined by
    ``+``, except stages marked ``target_recipe`` (part of the target task's own recipe, as SocialIQa is of
    XCOPA's in XTREME-R); then the other tasks trained in that same stage, marked `` (joint)``. A source is labelled by its
    task, with ``@split`` when it is not the train split (``xnli@translate-train``) and ``~cs`` when it is
    code-switched, so that sequential, joint, translated, code-switched and MLM-auxiliary variants of one task
    never share a column."""
    from xstilts.tasks import get_task

    evaluated = get_task(task_name)
    chain = [node for node in stage.lineage if not node.untrained]

    def trains_evaluated_head(node: StageNode) -> bool:
        return any(get_task(s.task).head_name == evaluated.head_name for s in node.config.sources)

    def mlm_only(node: StageNode) -> bool:
        return all(get_task(s.task).family == "mlm" for s in node.config.sources)

    last = max((i for i, node in enumerate(chain) if trains_evaluated_head(node)), default=len(chain))
    labels: list[str] = []
    for node in chain[:last]:
        if not mlm_only(node) and not node.config.target_recipe:
            labels += [source_label(source) for source in node.config.sources]
    if last < len(chain):
        labels += [f"{source_label(source)} (joint)" for source in chain[last].config.sources
                   if get_task(source.task).head_name != evaluated.head_name]
    mlm = any(mlm_only(node) for node in chain)
    start = "model" if study.model_configs()[stage.model].name_or_path else ""
    pretraining = "+".join(p for p in (start, "mlm" if mlm else "") if p) or "none"
    return {"intermediate": "+".join(dict.fromkeys(labels)) or "none", "pretraining": pretraining}


def source_label(source) -> str:
    """``task``; ``task@split`` for another split than train (translate-train data); ``task~cs`` for
    code-switched data."""
    label = source.task if source.split == "train" else f"{source.task}@{source.split}"
    return label + ("~cs" if source.code_switch is not None else "")


def gather_rows(context: Context) -> list[dict[str, Any]]:
    rows = []
    study = context.study
    for evaluation in context.plan.evaluations:
        path = eval_path(context, evaluation)
        if not path.exists():
            continue
        lineage = describe_lineage(study, evaluation.stage, evaluation.task)
        axes = axes_text(study.pipeline(evaluation.pipeline).axes)
        for row in json.loads(path.read_text())["rows"]:
            rows.append({
                "study": study.name, "pipeline": evaluation.pipeline, "model": study.model_label(evaluation.stage.model),
                "seed": evaluation.seed, **row, "zero_shot": evaluation.stage.zero_shot, **lineage,
                "stage_key": evaluation.stage.key, "eval_key": evaluation.key, "axes": axes,
                "benchmark": study.benchmark or "", "reference": study.reference or "",
            })
    return rows


def axes_text(axes: dict[str, Any]) -> str:
    """A pipeline's grid axis values as the ``axes`` column holds them: compact JSON, sorted keys."""
    return json.dumps(axes, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def results_csv_text(rows: list[dict[str, Any]]) -> str:
    """The rows as results.csv holds them: RESULT_COLUMNS, floats with 4 decimals."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RESULT_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


def write_results_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    write_text_atomic(path, results_csv_text(rows))
