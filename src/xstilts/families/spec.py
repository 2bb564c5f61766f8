"""The declarative part of a family, importable without torch: its settings as a strict typed spec, the
metrics it computes, the model kind it needs, its one-line description and the few facts the study checks
need (trainable, declared labels, plain-text files, auxiliary objective).

Each family keeps this part in ``families/<family>_settings.py`` (a :class:`FamilySpec` named ``SPEC``);
the family module (which imports torch) reads its settings through it, ``xstilts ls families`` and
``xstilts validate`` read it without loading the model stack. Nothing else restates it.

Settings: a frozen dataclass subclassing :class:`Settings` whose fields are made by :func:`integer`,
:func:`number`, :func:`flag`, :func:`text`, :func:`choice` or :func:`custom` (default, type, range).
:meth:`Settings.parse` checks a task's ``settings`` mapping: an unknown key is a problem with a "did you
mean", a value of the wrong type or out of range is a problem, and every problem is reported at once. A key
set to null takes its default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal

from xstilts.errors import XstiltsError
from xstilts.registry import did_you_mean

# The model a family needs: an encoder (under task heads) or an encoder-decoder (the generation family), which
# `xstilts validate` checks against each study model's kind (``config/model_kinds.py``) before any is loaded.
ModelKind = Literal["encoder", "encoder-decoder"]
MODEL_KINDS: tuple[str, ...] = ("encoder", "encoder-decoder")
# Self-supervised pretraining on unlabelled text: MLM for encoders, T5's span corruption for encoder-decoders.
# A stage of these alone is the plan's pretraining kind ("mlm"), never an intermediate task in result labels, and
# its sources are exempt from the zero-shot rule (unlabelled text in any language is what pretraining reads).
PRETRAINING_FAMILIES: tuple[str, ...] = ("mlm", "denoising")

# (setting key, message); the key is None for a problem of the settings as a whole.
SettingProblem = tuple[str | None, str]


def close_hint(value: Any, choices: Sequence[str]) -> str:
    """"; did you mean 'x'?" when a choice is close to ``value``, else nothing (the caller lists them)."""
    hint = did_you_mean(str(value), tuple(choices))
    return f"; {hint}" if hint.startswith("did you mean") else ""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Rule:
    """What one setting accepts. ``kind``: int, number, bool, str or choice (custom rules use ``check``)."""

    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    nonempty: bool = False
    check: Callable[[Any], str | None] | None = None
    doc: str = ""

    def problem(self, key: str, value: Any) -> str | None:
        """None when ``value`` fits, else what is wrong (naming the key)."""
        if self.check is not None:
            return self.check(value)
        if self.kind == "bool":
            return None if isinstance(value, bool) else f"{key} must be true or false, got {value!r}"
        if self.kind == "str":
            if not isinstance(value, str) or (self.nonempty and not value):
                return f"{key} must be a {'non-empty ' if self.nonempty else ''}string, got {value!r}"
            return None
        if self.kind == "choice":
            return None if value in self.choices else (
                f"{key} {value!r} is not one of {', '.join(self.choices)}{close_hint(value, self.choices)}")
        numeric = _is_int(value) or (self.kind == "number" and isinstance(value, float))
        if not numeric or (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            return f"{key} must be {self.describe()}, got {value!r}"
        return None

    def describe(self) -> str:
        noun = {"int": "an integer", "number": "a number", "bool": "true or false", "str": "a string"}.get(
            self.kind, "one of " + ", ".join(self.choices))
        if self.low is not None and self.high is not None:
            return f"{noun} from {self.low} to {self.high}"
        if self.low is not None:
            return f"{noun} >= {self.low}"
        if self.high is not None:
            return f"{noun} <= {self.high}"
        return noun


def _setting(default: Any, rule: Rule) -> Any:
    return field(default=default, metadata={"rule": rule})


def integer(default: int | None, *, low: int | None = None, high: int | None = None, doc: str = "") -> Any:
    """An integer setting (a default of None: unset unless given)."""
    return _setting(default, Rule("int", low=low, high=high, doc=doc))


def number(default: float, *, low: float | None = None, high: float | None = None, doc: str = "") -> Any:
    return _setting(default, Rule("number", low=low, high=high, doc=doc))


def flag(default: bool, *, doc: str = "") -> Any:
    return _setting(default, Rule("bool", doc=doc))


def text(default: str, *, nonempty: bool = False, doc: str = "") -> Any:
    return _setting(default, Rule("str", nonempty=nonempty, doc=doc))


def choice(default: str, choices: Sequence[str], *, doc: str = "") -> Any:
    return _setting(default, Rule("choice", choices=tuple(choices), doc=doc))


def custom(default: Any, check: Callable[[Any], str | None], *, doc: str = "") -> Any:
    """A setting checked by ``check(value)``: None when it fits, else the message."""
    return _setting(default, Rule("custom", check=check, doc=doc))


def rule_of(setting: Any) -> Rule:
    return setting.metadata["rule"]


class Settings:
    """Base of a family's settings (subclasses are frozen dataclasses built with the helpers above)."""

    family: ClassVar[str] = ""

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))  # type: ignore[arg-type]

    @classmethod
    def parse(cls, given: Mapping[str, Any]) -> tuple[Any, list[SettingProblem]]:
        """(the settings, None if any problem) and every problem, each with the key it is about."""
        known = cls.keys()
        problems: list[SettingProblem] = [
            (str(key), f"unknown {cls.family} setting {key!r}; {did_you_mean(str(key), known)}" if known
             else f"unknown setting {key!r}: the {cls.family} family has no settings")
            for key in given if key not in known
        ]
        values: dict[str, Any] = {}
        bad_value = False
        for setting in fields(cls):  # type: ignore[arg-type]
            value = given.get(setting.name)
            if value is None:  # a missing or null setting takes its default
                continue
            message = rule_of(setting).problem(setting.name, value)
            if message:
                problems.append((setting.name, message))
                bad_value = True
            else:
                values[setting.name] = value
        if bad_value:
            return None, problems
        settings = cls(**values)
        problems += settings.combined_problems()
        return (None if problems else settings), problems

    def combined_problems(self) -> list[SettingProblem]:
        """Problems of settings that are each valid but do not go together (subclasses extend)."""
        return []

    @classmethod
    def of(cls, task: Any) -> Any:
        """The task's settings, checked; every problem is reported at once."""
        settings, problems = cls.parse(task.settings)
        if problems:
            raise XstiltsError(f"task {task.name!r} has bad {cls.family} settings: "
                               + "; ".join(message for _, message in problems))
        return settings

    def offered_metrics(self, spec: FamilySpec) -> tuple[tuple[str, ...], str]:
        """(the metrics a task with these settings can report, who computes them for messages). Default: every
        metric of the family; retrieval narrows them to its protocol's."""
        return spec.metrics, f"the {spec.name} family"


@dataclass(frozen=True)
class FamilySpec:
    name: str
    description: str  # one line, shown by `xstilts ls families`
    settings: type[Settings]
    # Every metric the family computes, its main one first.
    metrics: tuple[str, ...]
    model_kind: ModelKind = "encoder"
    # Retrieval is evaluation only: no head, never a training source.
    trainable: bool = True
    # A declared label set of 2 or more (classification, tagging).
    needs_labels: bool = False
    # A study-declared task may read plain text files (one text per line) instead of JSON lines.
    reads_plain_text: bool = False
    # A study-declared task may read source<TAB>target lines (``.tsv``) instead of JSON lines.
    reads_tsv_pairs: bool = False
    # An auxiliary objective (MLM next to a task): not selected on, not evaluated by default.
    auxiliary: bool = False
    # The raw texts of one example of the family's schema (a tokenizer trained on a task's data reads them).
    texts: Callable[[Mapping[str, Any]], list[str]] = lambda example: []

    def __post_init__(self) -> None:
        if self.model_kind not in MODEL_KINDS:
            raise ValueError(f"family {self.name!r}: model_kind {self.model_kind!r} is not one of {MODEL_KINDS}")
        if self.settings.family != self.name:
            raise ValueError(f"family {self.name!r}: its settings class says family {self.settings.family!r}")

    def defaults(self) -> Settings:
        return self.settings()

    def default_metrics(self, settings: Mapping[str, Any]) -> tuple[str, ...]:
        """The metrics of a declared task that lists none: the main metric its settings give."""
        parsed, _ = self.settings.parse(settings)
        offered, _ = (parsed or self.defaults()).offered_metrics(self)
        return offered[:1]

    def problems(self, settings: Mapping[str, Any], metrics: Sequence[str]) -> list[tuple[tuple, str]]:
        """Every problem of a task's settings and metrics against this family, each placed relative to the
        task: ``("settings", key)``, ``("settings",)`` or ``("metrics", i)``."""
        parsed, setting_problems = self.settings.parse(settings)
        out = [(("settings",) if key is None else ("settings", key), message) for key, message in setting_problems]
        if parsed is not None:
            offered, who = parsed.offered_metrics(self)
        else:  # the settings are broken: check against every metric of the family
            offered, who = self.metrics, f"the {self.name} family"
        for i, metric in enumerate(metrics):
            if metric not in offered:
                out.append((("metrics", i), f"{who} does not compute the metric {metric!r}{close_hint(metric, offered)}; "
                            f"it computes {', '.join(offered)}"))
        return out

    def check_task(self, task: Any) -> Settings:
        """The task's settings, after checking them and its metrics against this family; one error lists every
        problem (the runtime guard: ``xstilts validate`` reports the same problems with file and line)."""
        key = _memo_key(self.name, task)
        if key is not None and key in _CHECKED:
            return _CHECKED[key]
        problems = self.problems(task.settings, task.metrics)
        if problems:
            raise XstiltsError(f"task {task.name!r} does not fit the {self.name} family: "
                               + "; ".join(message for _, message in problems))
        settings = self.settings.parse(task.settings)[0]
        if key is not None:
            _CHECKED[key] = settings
        return settings


# (family, settings items, metrics) -> the checked settings: families check a task at every example they read.
_CHECKED: dict[tuple, Settings] = {}


def _memo_key(family: str, task: Any) -> tuple | None:
    try:
        # The type too: true == 1 == 1.0 in Python, but only one of them fits a setting.
        items = tuple(sorted((key, type(value).__name__, value) for key, value in task.settings.items()))
        key = (family, items, tuple(task.metrics))
        hash(key)
    except TypeError:  # a list or mapping as a value, keys of mixed types: check it every time
        return None
    return key
