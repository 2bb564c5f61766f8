"""Train one stage node: build its encoder (or whole encoder-decoder) and heads (from the model, or from the parent
stage's checkpoint), featurize its sources and dev sets, run the one training loop, and mark it done. Resuming is
the loop's job (``state/``); this module only decides what the loop gets.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

from xstilts import __version__
from xstilts.atomic import published_folder, remove_published_folder
from xstilts.run_folder import RunFolder
from xstilts.studies import activity
from xstilts.studies.context import Context, Say, checked_model_kind, ensure_tokenizer, featurize
from xstilts.studies.plan import StageNode
from xstilts.studies.store import write_json_atomic, write_yaml_atomic


def train_stage_node(context: Context, node: StageNode, say: Say) -> None:
    import torch

    from xstilts.config.checks import selection_task_names
    from xstilts.data.code_switch import with_code_switch
    from xstilts.families import get_family
    from xstilts.families.text_to_text import run_as
    from xstilts.models.bundle import EncoderWithHeads
    from xstilts.models.checkpoint import (
        finish_adapter_checkpoint,
        load_heads,
        load_model_from_checkpoint,
        read_heads_meta,
    )
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
    tokenizer, _ = ensure_tokenizer(context, node.model)
    stage = node.config

    torch.manual_seed(seed_int(node.seed, "init", node.key))
    # An encoder, or a whole encoder-decoder (its decoder and LM head train and are checkpointed with it).
    tasks = {s.task: get_task(s.task).with_data(context.data_root) for s in stage.sources}
    kind = checked_model_kind(context, node.model, tasks.values())
    if node.parent is None:
        encoder = initial_encoder(model, tokenizer, kind)
    else:
        encoder = load_model_from_checkpoint(store.run(node.parent.key).checkpoint, kind, tokenizer)
    # On an encoder-decoder, a task of an encoder family trains through its text-to-text variant.
    tasks = {name: run_as(task, kind) for name, task in tasks.items()}
    heads, head_meta = {}, {}
    for task in tasks.values():
        if task.head_name not in heads:
            head = get_family(task.family).build_head(task, encoder.config)
            if head is not None:  # a generation task trains the model's own LM head
                heads[task.head_name] = head
                head_meta[task.head_name] = {"task": task.name, "family": task.family}
    if stage.keep_heads and node.parent is not None:
        parent_checkpoint = store.run(node.parent.key).checkpoint
        parent_heads = read_heads_meta(parent_checkpoint)
        kept = [name for name in heads if name in parent_heads]
        load_heads(parent_checkpoint, heads, names=kept)
    if stage.peft is not None:
        # After the heads, so that a PEFT stage and its full fine-tuning twin start with the same heads.
        encoder = _with_adapter(encoder, stage.peft, node.name, say)

    sources = []
    for source in stage.sources:
        task = with_code_switch(tasks[source.task], source.code_switch)
        features = []
        for language in source.languages:
            limit = source.max_examples
            if source.fraction is not None:
                total = len(task.load(source.split, language, context.data_root))
                limit = max(1, math.ceil(total * source.fraction))
            data = featurize(context, task, source.split, language, stage.source_max_length(source), limit,
                              node.model)
            features.extend(data.features)
        sources.append(TrainSource(task, task.head_name, features))
    dev_sets = []
    if stage.selection.enabled:
        for task in (tasks[name] for name in selection_task_names(stage)):
            for language in stage.selection.languages:
                data = featurize(context, task, stage.selection.split, language, stage.task_max_length(task.name),
                                  stage.selection.max_examples, node.model)
                dev_sets.append(DevSet(task, task.head_name, data))

    bundle = EncoderWithHeads(encoder, heads)
    outcome = train_stage(
        folder, config=stage, seed=node.seed, bundle=bundle, sources=sources,
        dev_sets=dev_sets, pad_token_id=tokenizer.pad_token_id, runtime=study.runtime,
        title=f"{node.name} (seed {node.seed})", head_meta=head_meta,
        on_progress=_progress_reporter(store.root, main, node.name, say),
        tracking_run=StageRun(
            run_name(node.name, node.seed, node.key), project=study.runtime.tracking.project or study.name,
            tags={"stage": node.name, "seed": str(node.seed), "key": node.key, "study": study.name},
            params={"stage": node.name, "seed": node.seed, "key": node.key, **flat_params(stage.model_dump(mode="json"))},
            store_root=store.root),
    )
    if main and stage.peft is not None:
        # The checkpoint held the best adapter alone; now merged into the encoder, or kept beside it.
        finish_adapter_checkpoint(run.checkpoint, bundle.encoder, merge=stage.peft.merge)
    if main:
        write_json_atomic(run.metrics, {"stage": node.name, "key": node.key, **outcome.as_dict()})
        # DONE before the state goes: a crash between the two leaves a finished stage with a stale state folder
        # (disk only), never a finished stage that looks unfinished and would be trained again
        store.mark_done(node.key)
        remove_published_folder(run.state)


def _with_adapter(encoder, config, stage_name: str, say: Say):
    """The stage's encoder wrapped with a fresh adapter (its own weights frozen), and a line saying how much
    of it trains."""
    from xstilts.models.adapters import adapter_summary, add_adapter

    wrapped = add_adapter(encoder, config, where=f"stages.{stage_name}.peft")
    counts = adapter_summary(wrapped)
    say(f"stage {stage_name!r}: {config.method} (r {config.r}) on {', '.join(config.target_modules)}: "
        f"{counts['trainable']:,} of {counts['total']:,} encoder parameters train")
    return wrapped


def _progress_reporter(store_root: Path, main: bool, name: str, say: Say):
    """The loop's ``on_progress``: the activity file (the run's live display reads it) and, once, a line saying
    from which step a resumed stage goes on."""
    told = []

    def report(done: int, total: int, loss: float | None, resumed_from: int | None) -> None:
        if not main:
            return
        activity.step(store_root, done, total, loss, resumed_from)
        if resumed_from is not None and not told:
            told.append(True)
            say(f"stage {name!r}: resuming from step {resumed_from} of {total} (its saved training state)")

    return report


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
