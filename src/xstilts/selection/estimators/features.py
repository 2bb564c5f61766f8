"""What the estimators read from an encoder: mean-pooled text vectors (similarity) and labelled feature rows
(logme). Forward passes only, in fp32, on the study's device; on an encoder-decoder, its encoder.

Feature rows for LogME, per family, are what that family's head reads:

- classification: the pooled sentence vector (``families.heads.sentence_states``), one 0/1 column per class;
- multiple choice: each (context, choice) row's pooled vector, one column: the correct choice or not;
- tagging: the first subword of each word (the positions the tagging loss reads), one column per tag;
- span QA: every real token, three columns: answer start, answer end, other. Starts and ends are rare among
  tokens, so every start and end position is kept and the other tokens are sampled up to the row budget;
- retrieval, MLM and generation have no labels to score: no rows (the caller notes it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from xstilts.families import get_family
from xstilts.families.common import IGNORE_INDEX, encode
from xstilts.families.heads import sentence_states
from xstilts.selection.estimators.settings import EstimatorSettings
from xstilts.studies.context import Context, checked_model_kind, ensure_tokenizer
from xstilts.studies.plan import StageNode

LABELLED_FAMILIES = ("classification", "multiple_choice", "tagging", "span_qa")


def device_of(context: Context) -> torch.device:
    runtime = context.study.runtime
    use_cuda = runtime.device == "cuda" or (runtime.device == "auto" and torch.cuda.is_available())
    return torch.device("cuda" if use_cuda else "cpu")


def load_encoder(context: Context, model: str, node: StageNode | None) -> torch.nn.Module:
    """The encoder after ``node`` (None: the model as loaded; a built, random one seeded from the study's first
    seed and the model's key, so every estimator sees the same one), in eval mode on the study's device."""
    from xstilts.models.checkpoint import load_model_from_checkpoint
    from xstilts.models.setup import initial_encoder
    from xstilts.training.loop import seed_int

    tokenizer, _ = ensure_tokenizer(context, model)
    kind = checked_model_kind(context, model, [])
    if node is None:
        torch.manual_seed(seed_int(context.study.seeds[0], "init", context.plan.model_keys[model]))
        encoder = initial_encoder(context.study.model_configs()[model], tokenizer, kind)
    else:
        encoder = load_model_from_checkpoint(context.store.run(node.key).checkpoint, kind, tokenizer)
    if kind == "encoder-decoder":
        encoder = encoder.get_encoder()
    return encoder.to(device_of(context)).eval()


@torch.no_grad()
def mean_pooled(encoder: torch.nn.Module, tokenizer: Any, texts: list[str], max_length: int,
                batch_size: int) -> tuple[np.ndarray, int]:
    """One vector per text (the mean of its last hidden states over its real tokens) and the tokens encoded."""
    device = next(encoder.parameters()).device
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths together: less padding
    vectors = np.zeros((len(texts), encoder.config.hidden_size))
    tokens = 0
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        batch = tokenizer([texts[i] for i in rows], truncation=True, max_length=max_length, padding=True,
                          return_tensors="pt")
        batch = {key: value.to(device) for key, value in batch.items() if key in ("input_ids", "attention_mask")}
        hidden = encode(encoder, batch).last_hidden_state.float()
        mask = batch["attention_mask"].unsqueeze(-1).float()
        vectors[rows] = ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).cpu().numpy()
        tokens += int(batch["attention_mask"].sum())
    return vectors, tokens


@torch.no_grad()
def labelled_rows(encoder: torch.nn.Module, task: Any, features: list[dict[str, Any]], pad_token_id: int,
                  settings: EstimatorSettings) -> tuple[np.ndarray, np.ndarray, int]:
    """(feature rows, 0/1 label columns, tokens encoded) of a labelled task's featurized examples; see the
    module docstring for what a row is per family."""
    family = get_family(task.family)
    device = next(encoder.parameters()).device
    rows: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    tokens = 0
    for start in range(0, len(features), settings.batch_size):
        batch = family.collate(features[start:start + settings.batch_size], pad_token_id)
        batch = {key: value.to(device) for key, value in batch.items()}
        tokens += int(batch["attention_mask"].sum())
        vectors, columns = _rows_of(task, encoder, batch)
        rows.append(vectors.float().cpu().numpy())
        labels.append(columns)
    matrix, columns = np.concatenate(rows), np.concatenate(labels)
    keep = _sample_rows(columns, settings.max_features, task.family == "span_qa")
    return matrix[keep], columns[keep], tokens


def _rows_of(task: Any, encoder: torch.nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, np.ndarray]:
    if task.family == "classification":
        labels = batch["labels"].cpu().numpy()
        return sentence_states(encoder, batch), np.eye(len(task.labels))[labels]
    if task.family == "multiple_choice":
        real = batch["choice_mask"]
        flat = {key: batch[key][real] for key in ("input_ids", "attention_mask", "token_type_ids") if key in batch}
        choice = torch.arange(real.shape[1], device=real.device).expand_as(real)
        correct = (choice == batch["labels"].unsqueeze(1))[real].cpu().numpy()
        return sentence_states(encoder, flat), correct[:, None].astype(float)
    hidden = encode(encoder, batch).last_hidden_state
    if task.family == "tagging":
        labels = batch["labels"]
        chosen = labels != IGNORE_INDEX
        return hidden[chosen], np.eye(len(task.labels))[labels[chosen].cpu().numpy()]
    if task.family == "span_qa":
        real = batch["attention_mask"].bool()
        positions = torch.arange(real.shape[1], device=real.device).expand_as(real)
        start = positions == batch["start_positions"].unsqueeze(1)
        end = positions == batch["end_positions"].unsqueeze(1)
        columns = torch.stack([start, end, ~(start | end)], dim=-1)[real]
        return hidden[real], columns.cpu().numpy().astype(float)
    raise ValueError(f"family {task.family!r} has no labelled rows (only {', '.join(LABELLED_FAMILIES)})")


def _sample_rows(columns: np.ndarray, budget: int, keep_rare: bool) -> np.ndarray:
    """Row indices within ``budget``, drawn with a fixed seed (the same rows for every encoder scored, so scores
    differ only by the features). ``keep_rare``: every row with a 1 outside the last ("other") column stays."""
    count = len(columns)
    if count <= budget:
        return np.arange(count)
    generator = np.random.default_rng(0)
    if not keep_rare:
        return np.sort(generator.choice(count, budget, replace=False))
    rare = np.flatnonzero(columns[:, :-1].any(axis=1))
    others = np.flatnonzero(~columns[:, :-1].any(axis=1))
    room = max(budget - len(rare), 0)
    sampled = generator.choice(others, min(room, len(others)), replace=False)
    return np.sort(np.concatenate([rare, sampled]))
