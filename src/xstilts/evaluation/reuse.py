"""Outputs of one model state, kept by what determines them, so that no sentence is encoded twice.

A family says when a feature's raw output depends on nothing but the model and the feature's content
(:meth:`Family.reuse_key`; the retrieval family: the token ids, which hold the text, its prefix and the token
limit, and the layer and pooling). Within one pass, features with the same key are encoded once; across passes
that share an :class:`OutputCache` (the evaluations of one stage: one loaded model state), a key seen before is
not encoded again: BUCC's dev set embedded for the threshold and again when it is itself evaluated, the
English side that every Tatoeba-style language pair shares, a sentence repeated inside a set.

A cache belongs to one model state: make a new one whenever the weights change (each stage's evaluations do;
the training loop's dev evaluations use none).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class OutputCache:
    """Raw outputs by reuse key, with counts of what was encoded and what was reused."""

    outputs: dict[Hashable, Any] = field(default_factory=dict)
    encoded: int = 0
    reused: int = 0

    def keep(self, key: Hashable, value: Any) -> None:
        # Shared by every feature with this key: an array is made read-only so that nobody changes it for all.
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
        self.outputs[key] = value

    def summary(self) -> str:
        total = self.encoded + self.reused
        return f"{self.encoded} of {total} inputs encoded, {self.reused} reused"


def plan_reuse(keys: list[Hashable | None], cache: OutputCache) -> tuple[list[int], dict[int, Hashable]]:
    """(indices to encode, {index: key} of those whose output comes from the cache or an earlier index of the
    same pass). An index with key None is always encoded; the first index of a new key is encoded, the others
    wait for it."""
    todo: list[int] = []
    reused: dict[int, Hashable] = {}
    first: set[Hashable] = set()
    for index, key in enumerate(keys):
        if key is None:
            todo.append(index)
        elif key in cache.outputs or key in first:
            reused[index] = key
        else:
            first.add(key)
            todo.append(index)
    return todo, reused
