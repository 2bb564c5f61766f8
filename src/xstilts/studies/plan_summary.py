"""What ``xstilts plan`` reports: every node of the plan with its kind, state and compute estimate, and totals.

The summary is plain data (JSON-able); the command prints it as a table or as JSON (``xstilts plan --json``):

- ``stages``, ``done``, ``to_run``; ``evaluations``, ``evaluations_done``, ``evaluations_to_run`` (distinct
  evaluations: several pipelines asking for the same one count once);
- ``kinds``: ``{mlm, intermediate, target, evaluate, evaluation_groups}``;
- ``models``: ``{name: {label, parameters, layer_parameters, vocab_hidden, how, decoder_parameters,
  flops_per_token}}`` (None when unknown; ``decoder_parameters`` only for an encoder-decoder, whose nodes count
  encoder and decoder tokens apart: see ``estimate.seq2seq_flops``); ``flops_per_token``: ``{train, train_mlm,
  evaluate}``, what one token costs whatever the data (a stage with an mlm source pays ``train_mlm``), so a plan
  made before the download still prices the work;
- ``flops_per_second``, ``compute`` and ``compute_to_run``: ``{tokens, flops, seconds, unknown,
  tokens_unknown}``, sums over the nodes whose numbers are known; the same over the stages alone
  (``compute_training``, ``compute_training_to_run``) and over the evaluations alone (``compute_evaluation``,
  ``compute_evaluation_to_run``: forward only, at the same FLOP/s) (``unknown``: nodes whose model size or data
  size is not known, so ``flops`` and ``seconds`` are lower bounds when it is not 0; ``tokens_unknown``: nodes
  whose data size is not known; ``tokens_published``: nodes counted, wholly or in part, from published sizes);
- ``provisional`` and ``missing_data``: data files that are not there yet; the keys that read them are
  placeholders, so nothing counts as done; their tokens come from the splits' published sizes where known
  (``tasks.published_sizes``), and are unknown otherwise until the data is downloaded;
- every node's ``published_sizes``: True when some of its example counts are published sizes, not counted from
  files; the totals' ``tokens_published`` counts those nodes;
- ``nodes`` (stages: ``kind, key, stage, seed, model, parent, pipelines, zero_shot, done, tokens, flops,
  seconds, flops_per_token``) and ``evaluation_nodes`` (``kind, key, stage, stage_key, seed, model, task, split,
  language, max_length, pipelines, done, tokens, flops, seconds, flops_per_token``; ``pipelines``: those that
  ask for the evaluation; a retrieval evaluation also has ``recipe``: ``{layer_setting,
  layer, layers, pooling, max_length, protocol, similarity}``, ``layer`` being the hidden state pooled for this
  model (None when its depth is only known once it loads));
- ``benchmark``: the benchmark whose languages the evaluations use (None: each task's own).

See :mod:`xstilts.studies.estimate` for how tokens, FLOPs and times are estimated.
"""

from __future__ import annotations

from typing import Any

from xstilts.config.evaluations import eval_max_length, evaluated_task
from xstilts.config.model_kinds import model_kind
from xstilts.errors import XstiltsError
from xstilts.families import family_spec
from xstilts.families.text_to_text import run_as
from xstilts.studies import estimate
from xstilts.studies.context import Context
from xstilts.studies.evaluate import is_evaluated
from xstilts.tasks import get_task


def plan_summary(context: Context, flops_per_second: float = estimate.DEFAULT_FLOPS_PER_SECOND) -> dict[str, Any]:
    """Totals, counts by kind, the models' sizes, and one entry per stage and per distinct evaluation."""
    plan, study, store = context.plan, context.study, context.store
    sizes = {name: estimate.model_size(model) for name, model in study.model_configs().items()}
    kinds = {name: model_kind(model) for name, model in study.model_configs().items()}
    depths = {name: estimate.model_depth(model) for name, model in study.model_configs().items()}

    def timed(entry: dict[str, Any], parameters: int | None, tokens: int | None, training: bool,
              frozen: bool = False, decoder_tokens: int | None = None,
              size: estimate.ModelSize | None = None) -> dict[str, Any]:
        if size is not None and size.decoder_parameters is not None:  # an encoder-decoder's two halves
            work = estimate.seq2seq_flops(size, tokens, decoder_tokens, training)
            tokens = None if tokens is None or decoder_tokens is None else tokens + decoder_tokens
            per_token = None if work is None or not tokens else work / tokens
        else:
            work = estimate.flops(parameters, tokens, training, frozen)
            per_token = estimate.flops(parameters, 1, training, frozen)
        return {**entry, "tokens": tokens, "flops": work,
                "seconds": None if work is None else work / flops_per_second, "flops_per_token": per_token}

    stages = []
    for node in plan.stages:
        published: set[tuple[str, str, str]] = set()
        parameters = estimate.compute_parameters(sizes[node.model], estimate.has_mlm(node.config))
        stages.append(timed({
            "kind": node.kind, "key": node.key, "stage": node.name, "seed": node.seed, "model": node.model,
            "parent": node.parent.key if node.parent else None, "pipelines": node.pipelines,
            "zero_shot": node.zero_shot, "done": store.is_done(node.key),
        }, parameters, _known(lambda n=node: estimate.stage_tokens(n.config, context.data_root), published),
            training=True, frozen=node.config.peft is not None,
            decoder_tokens=_known(lambda n=node: estimate.stage_target_tokens(n.config, context.data_root,
                                                                              kinds[n.model]), published),
            size=sizes[node.model]))
        stages[-1]["published_sizes"] = bool(published) and stages[-1]["tokens"] is not None

    evaluations, seen = [], {}
    for evaluation in plan.evaluations:
        stage = evaluation.stage
        if (stage.key, evaluation.key) in seen:  # several pipelines ask for the same evaluation: it runs once
            asked = seen[(stage.key, evaluation.key)]["pipelines"]
            if evaluation.pipeline not in asked:
                asked.append(evaluation.pipeline)
            continue
        task = evaluated_task(study, get_task(evaluation.task))
        max_length = eval_max_length(study, stage, task)
        published = set()
        tokens = _known(lambda e=evaluation, n=max_length: estimate.evaluation_tokens(
            study, e.task, e.split, e.language, n, context.data_root), published)
        entry = {
            "kind": "evaluate", "key": evaluation.key, "stage": stage.name, "stage_key": stage.key,
            "seed": evaluation.seed, "model": stage.model, "task": evaluation.task, "split": evaluation.split,
            "language": evaluation.language, "max_length": max_length, "pipelines": [evaluation.pipeline],
            "done": is_evaluated(context, evaluation),
        }
        if task.family == "retrieval":
            entry["recipe"] = _retrieval_recipe(task, max_length, depths[stage.model])
        size = sizes[stage.model]
        ran = run_as(task, kinds[stage.model])  # as it runs: a text-to-text variant on an encoder-decoder
        if size.decoder_parameters is not None and family_spec(ran.family).model_kind != "encoder-decoder":
            size = None  # retrieval on an encoder-decoder runs its encoder alone
        decoder_tokens = _known(lambda e=evaluation, t=ran, n=max_length: estimate.evaluation_decoder_tokens(
            study, t, e.split, e.language, n, context.data_root), published)
        entry = timed(entry, estimate.compute_parameters(sizes[stage.model], task.family == "mlm"), tokens,
                      training=False, decoder_tokens=decoder_tokens, size=size)
        entry["published_sizes"] = bool(published) and entry["tokens"] is not None
        seen[(stage.key, evaluation.key)] = entry
        evaluations.append(entry)

    nodes = stages + evaluations
    return {
        "study": study.name,
        "benchmark": study.benchmark,
        "stages": len(stages),
        "done": sum(s["done"] for s in stages),
        "to_run": sum(not s["done"] for s in stages),
        "evaluations": len(evaluations),
        "evaluations_done": sum(e["done"] for e in evaluations),
        "evaluations_to_run": sum(not e["done"] for e in evaluations),
        "kinds": plan.kinds(),
        "models": {name: {"label": study.model_label(name), **estimate.describe_size(size),
                          "flops_per_token": _flops_per_token(size)}
                   for name, size in sizes.items()},
        "flops_per_second": flops_per_second,
        "compute": _totals(nodes),
        "compute_to_run": _totals([n for n in nodes if not n["done"]]),
        # Training and evaluation apart: evaluation is forward only (2 FLOPs per parameter and token).
        "compute_training": _totals(stages),
        "compute_training_to_run": _totals([n for n in stages if not n["done"]]),
        "compute_evaluation": _totals(evaluations),
        "compute_evaluation_to_run": _totals([n for n in evaluations if not n["done"]]),
        "provisional": bool(plan.missing),
        "missing_data": plan.missing,
        "nodes": stages,
        "evaluation_nodes": evaluations,
    }


def _retrieval_recipe(task, max_length: int, depth: int | None) -> dict[str, Any]:
    from xstilts.families.retrieval_settings import RetrievalSettings

    settings = RetrievalSettings.of(task)
    return {"layer_setting": settings.layer, "layer": settings.resolved_layer(depth), "layers": depth,
            "pooling": settings.pooling, "max_length": max_length, "protocol": settings.protocol,
            "similarity": settings.similarity}


def _flops_per_token(size: estimate.ModelSize) -> dict[str, float] | None:
    """What one token costs with this model, whatever the data: to train (with an mlm source: the vocabulary
    projection too) and to evaluate. None when the model's size is unknown."""
    if not size.known:
        return None
    return {"train": estimate.flops(estimate.compute_parameters(size, False), 1, True),
            "train_mlm": estimate.flops(estimate.compute_parameters(size, True), 1, True),
            "evaluate": estimate.flops(estimate.compute_parameters(size, False), 1, False)}


def _known(count, published: set[tuple[str, str, str]]):
    """A token count, or None when it needs data that is neither there nor of a published size (a provisional
    plan); the (task, split, language) it took from published sizes are added to ``published``."""
    with estimate.published_sizes_used() as used:
        try:
            value = count()
        except XstiltsError:
            return None
    published |= used
    return value


def _totals(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """Sums over nodes; FLOPs and seconds over the nodes whose model size is known (``unknown`` counts the
    others)."""
    known = [n for n in nodes if n["flops"] is not None]
    return {"tokens": sum(n["tokens"] for n in nodes if n["tokens"] is not None),
            "flops": sum(n["flops"] for n in known),
            "seconds": sum(n["seconds"] for n in known), "unknown": len(nodes) - len(known),
            "tokens_unknown": sum(n["tokens"] is None for n in nodes),
            "tokens_published": sum(bool(n.get("published_sizes")) for n in nodes)}


def evaluation_groups(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Distinct evaluations grouped by the stage they read (one table row each): summed tokens and time (None
    when one of them is unknown), and the pipelines that ask for them."""
    groups: dict[str, dict[str, Any]] = {}
    for e in summary["evaluation_nodes"]:
        group = groups.setdefault(e["stage_key"], {
            "kind": "evaluate", "stage": e["stage"], "seed": e["seed"], "model": e["model"], "count": 0,
            "done": True, "tokens": 0, "seconds": 0.0, "pipelines": []})
        group["count"] += 1
        group["pipelines"] += [p for p in e.get("pipelines", []) if p not in group["pipelines"]]
        group["done"] = group["done"] and e["done"]
        group["tokens"] = None if group["tokens"] is None or e["tokens"] is None else group["tokens"] + e["tokens"]
        group["seconds"] = None if group["seconds"] is None or e["seconds"] is None else group["seconds"] + e["seconds"]
    return list(groups.values())


def compact_names(names: list[str], width: int = 48) -> str:
    """``a, b, c`` within ``width`` characters, the rest as ``+N more`` (at least one name is shown)."""
    shown: list[str] = []
    for i, name in enumerate(names):
        rest = len(names) - i - 1
        more = f" +{rest} more" if rest else ""
        candidate = ", ".join([*shown, name])
        if shown and len(candidate) + len(more) > width:
            return ", ".join(shown) + f" +{len(names) - len(shown)} more"
        shown.append(name)
    return ", ".join(shown)


def bounded(value: float | None, unknown: int, count: int, show) -> str:
    """A total over ``count`` nodes of which ``unknown`` are not counted: ``show(value)``, ``at least ...``
    when some are unknown, ``unknown`` when all are (never a 0 that only means "nothing known")."""
    if value is None or (count and unknown >= count):
        return "unknown"
    return f"at least {show(value)}" if unknown else show(value)


def human_count(value: float | None) -> str:
    if value is None:
        return "unknown"
    for unit, size in (("E", 1e18), ("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.1f}{unit}"
    return f"{value:.0f}"


def human_time(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
