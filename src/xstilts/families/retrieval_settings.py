"""The retrieval family's declarative part: its settings (``Task.settings``) as one checked value and what
they resolve to, its metrics per protocol, its description.

Torch-free, so that ``xstilts plan`` can show what each retrieval evaluation will use and ``xstilts validate``
can check a task without loading the model stack; :mod:`xstilts.families.retrieval` (the family itself)
reads them through here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xstilts.families.spec import FamilySpec, SettingProblem, Settings, choice, custom, integer, text
from xstilts.scoring.mining import THRESHOLD_RULES
from xstilts.scoring.retrieval import (
    BACKENDS,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_MARGIN_K,
    POOLINGS,
    SEARCH_PRECISIONS,
    SIMILARITIES,
    parse_layer,
    resolve_layer,
)

# Protocol -> the metrics it computes.
PROTOCOLS: dict[str, tuple[str, ...]] = {
    "nearest": ("accuracy",),
    "mining": ("f1", "precision", "recall"),
    "ranking": ("map@20", "mrr@20"),
}


def _layer_problem(layer: Any) -> str | None:
    if parse_layer(layer) is None:
        return (f'layer must be an integer hidden-state index or "n/m" (layer n of an m-layer encoder, n <= m), '
                f"not {layer!r}")
    return None


@dataclass(frozen=True)
class RetrievalSettings(Settings):
    family = "retrieval"

    layer: int | str = custom(-1, _layer_problem, doc='hidden state to pool: an index (0 = embeddings, -1 = last '
                              'layer) or "n/m", layer n of an m-layer encoder scaled to the encoder\'s depth')
    pooling: str = choice("mean", POOLINGS, doc="mean over the real tokens (<s> and </s> included) or the first")
    similarity: str = choice("cosine", SIMILARITIES, doc="cosine or margin (ratio margin)")
    margin_k: int = integer(DEFAULT_MARGIN_K, low=1, doc="neighbours per side for the ratio margin")
    chunk_size: int = integer(DEFAULT_CHUNK_SIZE, low=1, doc="query rows per similarity block")
    # e5 models expect "query: " for symmetric tasks such as bitext mining.
    prefix: str = text("", doc="text put before every sentence")
    backend: str = choice("exact", BACKENDS, doc="exact (chunked matrix products) or faiss (optional package; "
                          "same neighbours)")
    search_precision: str = choice("fp32", SEARCH_PRECISIONS, doc="exact search's similarity blocks: fp32, or bf16 "
                                   "(fast where the device has native bf16) with the candidates re-scored in fp32: "
                                   "the same neighbours")
    protocol: str = choice("nearest", tuple(PROTOCOLS), doc="nearest (Tatoeba), mining (BUCC) or ranking "
                           "(LAReQA, Mewsli-X)")
    threshold_split: str = text("dev", nonempty=True, doc="mining: the split whose gold sets the margin "
                                "threshold (BUCC: dev, the sample part)")
    threshold_rule: str = choice("official", THRESHOLD_RULES, doc="mining: how the threshold is chosen "
                                 "(official: XTREME's driver; change-points: scoring.mining)")

    def combined_problems(self) -> list[SettingProblem]:
        if self.search_precision != "fp32" and self.backend != "exact":
            return [("search_precision", "bf16 similarity blocks are the exact backend's: drop search_precision or "
                     "use backend: exact")]
        if self.protocol == "mining" and self.similarity != "margin":
            return [("similarity", "the mining protocol scores pairs by ratio margin: set similarity: margin")]
        if self.protocol == "ranking" and self.similarity != "cosine":
            return [("similarity", "the ranking protocol ranks candidates by cosine: set similarity: cosine")]
        return []

    def offered_metrics(self, spec: FamilySpec) -> tuple[tuple[str, ...], str]:
        return PROTOCOLS[self.protocol], f"the {self.protocol} protocol of the retrieval family"

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


SPEC = FamilySpec(
    name="retrieval",
    description="embeddings + nearest neighbour, margin mining or ranking; evaluation only (Tatoeba, BUCC, LAReQA, "
    "Mewsli-X)",
    settings=RetrievalSettings,
    metrics=tuple(dict.fromkeys(metric for metrics in PROTOCOLS.values() for metric in metrics)),
    trainable=False,
    texts=lambda example: [t for t in (example.get("source"), example.get("target")) if t],
)
