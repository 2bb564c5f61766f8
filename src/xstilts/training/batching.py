"""Which features go into which batch, and which source each training step draws from.

Batches are *length grouped*: each epoch shuffles all features, cuts the shuffle into large groups, sorts
each group by length and cuts it into batches, then shuffles the batch order. Features of similar length
end up together, so padding to the longest feature of the batch wastes little, while the big random groups
and the batch shuffle keep the batches random enough for SGD.

A stage that trains on several sources draws one source per step from a fixed distribution
(:func:`mixture_weights`); each source walks through its own epochs independently. Everything is driven by
numpy generators seeded from the run seed, and :class:`MixtureStream` can save and restore its exact
position so that a resumed run sees the same batches as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from xstilts.errors import XstiltsError
from xstilts.registry import did_you_mean

MIXTURE_KINDS = ("proportional", "temperature", "uniform", "capped")
_STATE_VERSION = 1


def _entropy(*parts: int | str) -> list[int]:
    """Non-negative integers for ``np.random.SeedSequence`` from ints (any sign) and strings.

    Strings go through sha256 rather than ``hash()`` because ``hash()`` of a str changes between processes.
    """
    words: list[int] = []
    for part in parts:
        if isinstance(part, str):
            words.append(int.from_bytes(hashlib.sha256(part.encode("utf-8")).digest()[:8], "little"))
        else:
            words.append(int(part) % 2**64)  # negative seeds are legal for users, not for SeedSequence
    return words


def derive_seed(*parts: int | str) -> int:
    """A stable 63-bit seed from a tuple of ints/strings (same tuple -> same seed, in every process)."""
    return int(np.random.SeedSequence(_entropy(*parts)).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _check_batch_size(batch_size: int) -> None:
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise XstiltsError(f"batch size must be a positive integer, got {batch_size!r}")


def length_grouped_batches(
    lengths: Sequence[int], batch_size: int, seed: int, epoch: int, group_factor: int = 50
) -> list[list[int]]:
    """Batches (lists of feature indices) for one epoch; every index appears exactly once.

    ``group_factor`` batches' worth of shuffled features are sorted by length together; 0 or 1 gives plain
    random batches. The result depends only on (lengths, batch_size, seed, epoch, group_factor).
    """
    _check_batch_size(batch_size)
    if group_factor < 0:
        raise XstiltsError(f"group_factor must be 0 or more, got {group_factor}")
    rng = np.random.default_rng(np.random.SeedSequence(_entropy(seed, epoch)))
    order = rng.permutation(len(lengths))
    if group_factor > 1:
        length_array = np.asarray(lengths, dtype=np.int64)
        group = batch_size * group_factor
        pieces = []
        for start in range(0, len(order), group):
            chunk = order[start : start + group]
            # stable sort: ties keep their shuffled order, so equal lengths are still mixed randomly
            pieces.append(chunk[np.argsort(length_array[chunk], kind="stable")])
        order = np.concatenate(pieces) if pieces else order
    # Groups are whole multiples of batch_size, so only the very last batch can be short.
    batches = [order[start : start + batch_size].tolist() for start in range(0, len(order), batch_size)]
    # Without this shuffle every group would run from short to long batches: a visible sawtooth in the loss.
    return [batches[i] for i in rng.permutation(len(batches))]


def mixture_weights(
    sizes: Sequence[int], kind: str, temperature: float = 1.0, cap: int | None = None
) -> list[float]:
    """Sampling probability of each source.

    - ``proportional``: p_i ∝ n_i
    - ``temperature``: p_i ∝ n_i^(1/T) (T=1 is proportional, large T tends to uniform)
    - ``uniform``: every non-empty source equally
    - ``capped``: p_i ∝ min(n_i, cap) (proportional, but no source counts for more than ``cap`` examples)

    Empty sources always get weight 0: they have no batch to give.
    """
    if kind not in MIXTURE_KINDS:
        raise XstiltsError(f"unknown mixture kind {kind!r}: {did_you_mean(kind, MIXTURE_KINDS)}")
    if len(sizes) == 0:
        raise XstiltsError("a mixture needs at least one source; the stage lists none")
    counts = np.asarray(sizes, dtype=np.float64)
    if (counts < 0).any():
        raise XstiltsError(f"source sizes cannot be negative, got {list(sizes)}")
    if not (counts > 0).any():
        raise XstiltsError(
            f"every source of the mixture is empty (sizes {list(sizes)}); check the data files and size caps"
        )
    if kind == "proportional":
        raw = counts
    elif kind == "temperature":
        if not temperature > 0:
            raise XstiltsError(
                f"mixture temperature must be > 0, got {temperature} (1 = proportional, larger = flatter)"
            )
        raw = np.where(counts > 0, counts ** (1.0 / temperature), 0.0)
    elif kind == "uniform":
        raw = (counts > 0).astype(np.float64)
    else:  # capped
        if cap is None:
            raise XstiltsError("mixture kind 'capped' needs a cap (the most examples a source counts for)")
        if cap <= 0:
            raise XstiltsError(f"mixture cap must be a positive number of examples, got {cap}")
        raw = np.minimum(counts, cap)
    return (raw / raw.sum()).tolist()


def steps_for_epochs(source_sizes: Sequence[int], batch_size: int, epochs: float) -> int:
    """Steps that cover ``epochs`` passes, one pass being every batch of every source once."""
    _check_batch_size(batch_size)
    if not epochs > 0:
        raise XstiltsError(f"epochs must be > 0, got {epochs}")
    one_pass = sum(math.ceil(n / batch_size) for n in source_sizes)
    # The tolerance keeps float noise (0.1 * 30 = 3.0000000000000004) from adding a step.
    return max(0, math.ceil(epochs * one_pass - 1e-9))


class MixtureStream:
    """An endless stream of (source index, batch of feature indices) with a resumable state."""

    def __init__(
        self,
        source_lengths: list[Sequence[int]],
        batch_size: int,
        weights: list[float],
        seed: int,
        group_factor: int = 50,
    ):
        _check_batch_size(batch_size)
        if len(source_lengths) == 0:
            raise XstiltsError("a mixture needs at least one source; the stage lists none")
        if len(weights) != len(source_lengths):
            raise XstiltsError(f"{len(weights)} mixture weights for {len(source_lengths)} sources")
        w = np.asarray(weights, dtype=np.float64)
        if (w < 0).any() or not w.sum() > 0 or not np.isfinite(w).all():
            raise XstiltsError(f"mixture weights must be >= 0 with a positive sum, got {list(weights)}")
        for i, lengths in enumerate(source_lengths):
            if w[i] > 0 and len(lengths) == 0:
                raise XstiltsError(f"source {i} of the mixture has no features but a weight of {weights[i]}")
        self.source_lengths = [list(lengths) for lengths in source_lengths]
        self.batch_size = int(batch_size)
        self.weights = (w / w.sum()).tolist()
        self.seed = seed
        self.group_factor = group_factor
        self._source_seeds = [derive_seed(seed, i) for i in range(len(source_lengths))]
        self._rng = np.random.default_rng(np.random.SeedSequence(_entropy(seed, "mixture")))
        self._epochs = [0] * len(source_lengths)
        self._positions = [0] * len(source_lengths)
        self.steps = 0
        # (epoch, batches) of the epoch each source is in; rebuilt on demand, never saved.
        self._cache: dict[int, tuple[int, list[list[int]]]] = {}

    @property
    def num_sources(self) -> int:
        return len(self.source_lengths)

    def _batches(self, source: int) -> list[list[int]]:
        epoch = self._epochs[source]
        cached = self._cache.get(source)
        if cached is None or cached[0] != epoch:
            batches = length_grouped_batches(
                self.source_lengths[source],
                self.batch_size,
                self._source_seeds[source],
                epoch,
                self.group_factor,
            )
            cached = self._cache[source] = (epoch, batches)
        return cached[1]

    def next_batch(self) -> tuple[int, list[int]]:
        source = int(self._rng.choice(self.num_sources, p=self.weights))
        batches = self._batches(source)
        batch = batches[self._positions[source]]
        self._positions[source] += 1
        if self._positions[source] == len(batches):
            # Roll over right away, so epochs_completed reads exactly 1.0 after a full pass.
            self._epochs[source] += 1
            self._positions[source] = 0
        self.steps += 1
        return source, batch

    def epochs_completed(self, source: int) -> float:
        per_epoch = math.ceil(len(self.source_lengths[source]) / self.batch_size)
        if per_epoch == 0:
            return 0.0
        return self._epochs[source] + self._positions[source] / per_epoch

    def state_dict(self) -> dict[str, Any]:
        return {
            "version": _STATE_VERSION,
            "rng": self._rng.bit_generator.state,
            "epochs": list(self._epochs),
            "positions": list(self._positions),
            "steps": self.steps,
            # Saved to catch a resume on different data, which would silently give different batches.
            "source_sizes": [len(lengths) for lengths in self.source_lengths],
            "batch_size": self.batch_size,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("version") != _STATE_VERSION:
            raise XstiltsError(
                f"the checkpoint's batch stream state has version {state.get('version')!r}, this xstilts "
                f"reads version {_STATE_VERSION}; resume with the xstilts that wrote it or start the stage anew"
            )
        sizes = [len(lengths) for lengths in self.source_lengths]
        if list(state["source_sizes"]) != sizes or state["batch_size"] != self.batch_size:
            raise XstiltsError(
                "cannot resume the batch stream: the checkpoint was saved with source sizes "
                f"{state['source_sizes']} and batch size {state['batch_size']}, the stage now has {sizes} and "
                f"{self.batch_size}; resume with the same data and batch size, or start the stage anew"
            )
        self._rng.bit_generator.state = state["rng"]
        self._epochs = [int(e) for e in state["epochs"]]
        self._positions = [int(p) for p in state["positions"]]
        self.steps = int(state["steps"])
        self._cache.clear()
