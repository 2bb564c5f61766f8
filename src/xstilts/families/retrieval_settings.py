"""The settings of a retrieval task (``Task.settings``) as one checked value, and what they resolve to.

Torch-free, so that ``xstilts plan`` can show what each retrieval evaluation will use without loading the
model stack; :mod:`xstilts.families.retrieval` (the family itself) reads them through here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xstilts.errors import XstiltsError
from xstilts.evaluation.mining import THRESHOLD_RULES
from xstilts.evaluation.retrieval import (
    BACKENDS,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_MARGIN_K,
    POOLINGS,
    SIMILARITIES,
    parse_layer,
    resolve_layer,
)
from xstilts.registry import did_you_mean

if TYPE_CHECKING:
    from xstilts.tasks.base import Task

# Protocol -> the metrics it computes.
PROTOCOLS: dict[str, tuple[str, ...]] = {
    "nearest": ("accuracy",),
    "mining": ("f1", "precision", "recall"),
    "ranking": ("map@20", "mrr@20"),
}

@dataclass(frozen=True)
class RetrievalSettings:
    layer: int | str = -1
    pooling: str = "mean"
    similarity: str = "cosine"
    margin_k: int = DEFAULT_MARGIN_K
    chunk_size: int = DEFAULT_CHUNK_SIZE
    # Text put before every sentence: e5 models expect "query: " for symmetric tasks such as bitext mining.
    prefix: str = ""
    # "exact" (chunked matrix products) or "faiss" (optional package; same neighbours).
    backend: str = "exact"
    protocol: str = "nearest"
    # Mining: the split whose gold sets the margin threshold (BUCC: dev = the "sample" part).
    threshold_split: str = "dev"
    # Mining: how the threshold is chosen: "official" (XTREME's driver) or "change-points" (evaluation.mining).
    threshold_rule: str = "official"

    @classmethod
    def of(cls, task: Task) -> RetrievalSettings:
        """The task's settings, checked; every problem is reported at once."""
        known = tuple(cls.__dataclass_fields__)
        problems = [
            f"unknown setting {key!r} ({did_you_mean(key, known)})"
            for key in task.settings
            if key not in known
        ]
        values = {key: task.settings[key] for key in known if key in task.settings}
        settings = cls(**values)

        def is_int(value: Any) -> bool:
            return isinstance(value, int) and not isinstance(value, bool)

        if parse_layer(settings.layer) is None:
            problems.append(f'layer must be an integer hidden-state index or "n/m" (layer n of an m-layer encoder, '
                            f'n <= m), not {settings.layer!r}')
        if settings.pooling not in POOLINGS:
            problems.append(f"pooling {settings.pooling!r} is not one of {', '.join(POOLINGS)}")
        if settings.similarity not in SIMILARITIES:
            problems.append(f"similarity {settings.similarity!r} is not one of {', '.join(SIMILARITIES)}")
        if not isinstance(settings.prefix, str):
            problems.append(f"prefix must be a string, not {settings.prefix!r}")
        if settings.backend not in BACKENDS:
            problems.append(f"backend {settings.backend!r} is not one of {', '.join(BACKENDS)}")
        if settings.protocol not in PROTOCOLS:
            problems.append(f"protocol {settings.protocol!r} is not one of {', '.join(PROTOCOLS)}")
        elif settings.protocol == "mining" and settings.similarity != "margin":
            problems.append("the mining protocol scores pairs by ratio margin: set similarity: margin")
        elif settings.protocol == "ranking" and settings.similarity != "cosine":
            problems.append("the ranking protocol ranks candidates by cosine: set similarity: cosine")
        if settings.threshold_rule not in THRESHOLD_RULES:
            problems.append(f"threshold_rule {settings.threshold_rule!r} is not one of {', '.join(THRESHOLD_RULES)}")
        if not isinstance(settings.threshold_split, str) or not settings.threshold_split:
            problems.append(f"threshold_split must be a split name, not {settings.threshold_split!r}")
        for metric in task.metrics:
            if settings.protocol in PROTOCOLS and metric not in PROTOCOLS[settings.protocol]:
                problems.append(f"the {settings.protocol} protocol has no metric {metric!r} (it computes "
                                f"{', '.join(PROTOCOLS[settings.protocol])})")
        for key in ("margin_k", "chunk_size"):
            value = getattr(settings, key)
            if not is_int(value) or value < 1:
                problems.append(f"{key} must be a positive integer, not {value!r}")
        if problems:
            raise XstiltsError(f"retrieval task {task.name!r} has bad settings: " + "; ".join(problems))
        return settings

    def resolved_layer(self, depth: int | None) -> int | None:
        """The hidden-state index pooled for an encoder of ``depth`` layers (counted from the embeddings, so
        -1 on a 24-layer encoder is 24); None when the depth is not known."""
        index, of = parse_layer(self.layer)
        if of:
            return resolve_layer(index, of, depth) if depth is not None else None
        if index < 0:
            return depth + 1 + index if depth is not None else None
        return index


def encoder_depth(config: Any) -> int | None:
    """The number of layers of a Hugging Face encoder config (BERT-style or T5-style names), None if unknown."""
    for name in ("num_hidden_layers", "num_layers"):
        value = getattr(config, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None
