"""What the estimators may spend, with the defaults ``xstilts select`` uses. Every field enters the cache keys
of the estimators that read it, so a changed setting computes afresh instead of reusing a stale result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from xstilts.errors import ConfigError


@dataclass(frozen=True)
class EstimatorSettings:
    # similarity: English training examples embedded per task (the first ones of each file, as featurize's
    # limit takes them); a few hundred give a task vector whose cosines move by well under 0.01 between samples.
    examples: int = 300
    # similarity: subtract the mean vector of all tasks before the cosine. Mean-pooled states of one encoder are
    # anisotropic (every pair of task vectors has a cosine near 1), so without centring the ranking follows
    # the common direction, not what tells the tasks apart.
    centre: bool = True
    # similarity: inputs of each target language embedded (its dev split, labels unused).
    language_examples: int = 200
    # logme and probe: each intermediate stage (logme, probe) and target stage (probe) trains this fraction
    # of its steps (at least one step).
    fraction: float = 0.25
    # logme: English training examples of the target whose features are scored.
    logme_examples: int = 300
    # logme: at most this many feature rows per target (token-level tasks give one row per word or token);
    # a span task keeps every answer start and end and samples the other tokens.
    max_features: int = 4000
    # probe: evaluation examples per target language (its dev split).
    probe_max_examples: int = 100
    # similarity: tokens per embedded text (longer texts are cut)
    max_length: int = 128
    # sequences per forward pass when embedding
    batch_size: int = 32

    def __post_init__(self) -> None:
        problems = []
        for name in ("examples", "language_examples", "max_length", "logme_examples", "max_features", "probe_max_examples",
                     "batch_size"):
            if getattr(self, name) < 1:
                problems.append(f"select.{name}: {getattr(self, name)} is not a positive count; give 1 or more")
        if not 0.0 < self.fraction <= 1.0:
            problems.append(f"select.fraction: {self.fraction} is outside (0, 1]; give e.g. 0.25 (a quarter of "
                            "each stage's steps)")
        if problems:
            raise ConfigError(problems)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_pairs(cls, pairs: Sequence[str]) -> EstimatorSettings:
        """The settings of ``xstilts select --setting NAME=VALUE ...`` (the others at their defaults); every
        problem is reported at once."""
        from xstilts.families.spec import close_hint

        defaults = cls().as_dict()
        values: dict[str, Any] = {}
        problems = []
        for pair in pairs:
            name, separator, text = (part.strip() for part in pair.partition("="))
            if not separator or not name:
                problems.append(f"--setting {pair!r}: write NAME=VALUE, e.g. fraction=0.5")
            elif name not in defaults:
                problems.append(f"select.{name}: no such setting{close_hint(name, list(defaults))}; the settings "
                                f"are {', '.join(defaults)}")
            else:
                try:
                    values[name] = _parsed(text, defaults[name])
                except ValueError:
                    problems.append(f"select.{name}: {text!r} is not a valid {type(defaults[name]).__name__} (default "
                                    f"{defaults[name]!r})")
        if problems:
            raise ConfigError(problems)
        return cls(**values)


def _parsed(text: str, default: Any) -> Any:
    """``text`` as a value of ``default``'s type (bool before int: a bool is an int in Python)."""
    if isinstance(default, bool):
        if text.lower() in ("true", "yes", "1"):
            return True
        if text.lower() in ("false", "no", "0"):
            return False
        raise ValueError(text)
    return type(default)(text)
