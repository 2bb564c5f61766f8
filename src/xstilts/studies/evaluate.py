"""Run the evaluations of one stage: load its encoder (or whole encoder-decoder) and heads once, then for each
(task, split, language) featurize, predict, score and write predictions, per-example score units and result rows
(``eval/<key>.json``, which marks the evaluation done).

Prediction runs longest first in token-budget batches under the run's precision (:mod:`xstilts.evaluation.predict`),
and every evaluation of the stage shares one output cache: an input whose family gives a reuse key (a retrieval
sentence) is encoded once for all of them (:mod:`xstilts.evaluation.reuse`).
"""

from __future__ import annotations

import json
from pathlib import Path

from xstilts.config.evaluations import eval_max_length, evaluated_task
from xstilts.scoring.example_scores import write_units
from xstilts.studies.context import Context, Say, checked_model_kind, ensure_tokenizer, featurize
from xstilts.studies.example_scores import units_path
from xstilts.studies.plan import EvalNode
from xstilts.studies.store import write_json_atomic, write_text_atomic


def constant_prediction(predictions: list, per_word: bool = False) -> bool:
    """Every example got the same output (one class, one answer, one ranking; with ``per_word``, tagging: one tag
    for every word): a degenerate model, flagged in the results whatever its score. Examples without a
    prediction (retrieval candidates) and sets of one output do not count."""
    outputs = [p for p in predictions if p is not None]
    if per_word:
        outputs = [tag for sentence in outputs for tag in sentence]
    texts = {json.dumps(output, sort_keys=True) for output in outputs}
    return len(outputs) > 1 and len(texts) == 1


def eval_path(context: Context, evaluation: EvalNode) -> Path:
    return context.store.run(evaluation.stage.key).eval_result(evaluation.key)


def is_evaluated(context: Context, evaluation: EvalNode) -> bool:
    """Its result file exists: the evaluation is done."""
    return eval_path(context, evaluation).exists()


def trained_precision(context: Context, stage_key: str) -> str:
    """The precision a stage was trained in, from its metrics.json ("unrecorded": trained before precisions were
    recorded)."""
    path = context.store.run(stage_key).metrics
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("precision") or "unrecorded"
    except (OSError, ValueError):
        return "unrecorded"


def run_evaluations(context: Context, evaluations: list[EvalNode], say: Say) -> None:
    todo = [e for e in evaluations if not eval_path(context, e).exists()]
    if not todo:
        return
    import torch

    from xstilts.evaluation.predict import evaluate_features
    from xstilts.evaluation.reuse import OutputCache
    from xstilts.families import get_family
    from xstilts.families.text_to_text import reported_family, run_as
    from xstilts.models.checkpoint import load_heads, load_model_from_checkpoint
    from xstilts.tasks import get_task
    from xstilts.training.acceleration import configure_encoder
    from xstilts.training.loop import make_accelerator, run_precision
    from xstilts.training.precision import precision_label

    stage = todo[0].stage
    checkpoint = context.store.run(stage.key).checkpoint
    kind = checked_model_kind(context, stage.model, [get_task(e.task) for e in todo])
    what = "the model as loaded (no stages)" if stage.untrained else f"stage {stage.name!r}"
    say(f"evaluate {len(todo)} task/language pairs on {what} (seed {stage.seed})")
    tokenizer, _ = ensure_tokenizer(context, stage.model)
    precision = run_precision(context.study.runtime)
    accelerator = make_accelerator(context.study.runtime, precision=precision)
    # The row reports the stage's precision, and says so when this machine evaluates in another.
    precision_text = precision_label(None if stage.untrained else trained_precision(context, stage.key),
                                     precision.name)
    if stage.untrained:
        from xstilts.models.setup import initial_encoder
        from xstilts.training.loop import seed_int

        torch.manual_seed(seed_int(stage.seed, "init", stage.key))  # matters only for a built (random) encoder
        encoder = initial_encoder(context.study.model_configs()[stage.model], tokenizer, kind).to(accelerator.device)
    else:
        encoder = load_model_from_checkpoint(checkpoint, kind, tokenizer).to(accelerator.device)
    configure_encoder(encoder, context.study.runtime, training=False)
    heads: dict[str, torch.nn.Module] = {}
    for evaluation in todo:
        task = run_as(get_task(evaluation.task).with_data(context.data_root), kind)
        family = get_family(task.family)
        if family.trainable and task.head_name not in heads:
            head = family.build_head(task, encoder.config)
            if head is not None:  # generation has none: the LM head is the model's
                heads[task.head_name] = head
    if heads:
        load_heads(checkpoint, heads, names=list(heads))
    for head in heads.values():
        head.to(accelerator.device)
    settings = context.study.evaluate
    # One model state for every evaluation below: a sentence embedded once (BUCC's dev set as the threshold of
    # test and as an evaluation of its own, an English side that several language pairs share) is reused.
    cache = OutputCache()
    for evaluation in todo:
        # On an encoder-decoder, a task of an encoder family runs through its text-to-text variant (same name,
        # metrics and scoring; the row names the encoder family).
        task = evaluated_task(context.study, run_as(get_task(evaluation.task).with_data(context.data_root), kind),
                              evaluation.language)
        family = get_family(task.family)
        max_length = eval_max_length(context.study, stage, task)
        data = featurize(context, task, evaluation.split, evaluation.language, max_length, settings.max_examples,
                          stage.model)
        references = {}
        for split in family.reference_splits(task, evaluation.split):
            reference = featurize(context, task, split, evaluation.language, max_length, settings.max_examples,
                                   stage.model)
            references[split] = (reference.examples, reference.features)
        # Retrieval on an encoder-decoder embeds with its encoder alone.
        model = encoder.get_encoder() if kind == "encoder-decoder" and family.spec.model_kind == "encoder" else encoder
        evaluated = evaluate_features(
            model, heads.get(task.head_name) if family.trainable else None, family, task, data.examples,
            data.features, split=evaluation.split, references=references,
            pad_token_id=tokenizer.pad_token_id, batch_size=settings.batch_size, batch_tokens=settings.batch_tokens,
            device=accelerator.device, autocast=accelerator.autocast, cache=cache,
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
            {"task": task.name, "family": reported_family(task.family), "language": evaluation.language,
             "split": evaluation.split,
             "metric": metric, "value": value, "chance": chance.get(metric), "main": metric == task.main_metric,
             "n_examples": len(data.examples), "recipe": recipe, "constant": constant_prediction(predictions, per_word=task.family == "tagging"),
             "weight": sum(evaluated.units[metric].den) if metric in evaluated.units else None,
             "precision": precision_text}
            for metric, value in scores.items()
        ]
        # Units first: the .json marks the evaluation done, so a done evaluation of this version has its units.
        write_units(units_path(context.store, evaluation), evaluation.key, [ex["id"] for ex in data.examples],
                    evaluated.units)
        write_json_atomic(eval_path(context, evaluation), {"key": evaluation.key, "rows": rows})
    if cache.reused:
        say(f"reused outputs of repeated inputs: {cache.summary()}")
