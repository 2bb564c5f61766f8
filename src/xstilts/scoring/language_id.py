"""Off-target generation: the share of generated outputs that are not in the language they should be in.

A model fine-tuned on English and asked zero-shot to generate German often answers in English. For each
evaluated language this module identifies the language of every generated output with py3langid (langid.py's
naive Bayes model; its model file ships inside the wheel, so nothing is downloaded at run time) and reports
``off_target``: the percent of outputs NOT identified as the target language (0-100, lower is better).

Decisions, and why:

- **Every language of the identifier is a candidate** (140 in py3langid 0.4; 0.3 had another model of 97). The
  share answers "is it in the target language?", so no other language is assumed: restricting the
  candidates to, say, the benchmark's languages would force an output in a third language onto one of them,
  and English, the failure that matters most, is always a candidate. ``candidates`` restricts the set for a
  caller who knows better (it must hold the target language).
- **Codes**: the identifier's labels are ISO 639-1 codes where one exists, as ours are; ``ALIASES`` maps the
  few codes of ours that it spells otherwise (``nb`` and ``no`` are both Norwegian Bokmål, ``cmn`` is ``zh``,
  ``swh`` is ``sw``, ...). A target language the identifier has no label for (the micro-benchmark's
  synthetic ``qaa``-``qae``, or a real language it does not know) is **not identifiable**: the share is
  ``None`` ("n/a") rather than a number that would count every output as off-target.
- **Empty and letterless outputs** (blank, digits, punctuation only) have no language: the identifier would
  give an arbitrary label from a flat distribution. They are not identified as the target language, so they
  count as off-target, and are counted apart (``OffTarget.letterless``) so that "answered in another
  language" and "generated nothing" can be told apart.
- **Short outputs** with letters are identified like any other: py3langid is less sure of two words than of
  a sentence, and no confidence threshold hides that (a threshold would turn uncertain outputs into a third
  class that is neither on nor off target). Outputs are identified as generated, case included (py3langid
  lower-cases an all-capitals text itself).

The units (``scoring/units.py``) are one per output: ``num`` 1 when off target, ``den`` 1, so paired tests can
resample outputs like any accuracy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from xstilts.scoring.units import Units

# Our codes that py3langid spells otherwise (ISO 639-3 macro-language members, or a second name).
ALIASES: dict[str, str] = {"nb": "no", "cmn": "zh", "swh": "sw", "zsm": "ms", "pes": "fa", "fil": "tl"}
# The label of outputs without a letter: not a language.
LETTERLESS = ""


@dataclass(frozen=True)
class OffTarget:
    """Off-target outputs of one language: ``percent`` (None when the language cannot be identified), the
    number of outputs, how many were off target, how many of those had no letter, and the identified
    languages (label -> count; ``""`` for letterless outputs)."""

    language: str
    total: int
    off: int | None
    letterless: int
    identified: dict[str, int] = field(default_factory=dict)

    @property
    def percent(self) -> float | None:
        if self.off is None:
            return None
        return 100.0 * self.off / self.total if self.total else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"language": self.language, "off_target": self.percent, "outputs": self.total, "off": self.off,
                "letterless": self.letterless, "identified": dict(self.identified), "identifier": identifier_name()}


@lru_cache(maxsize=8)
def _identifier(candidates: tuple[str, ...] | None) -> Any:
    """A py3langid identifier of its own (the module-level one is shared and ``set_languages`` mutates it)."""
    from py3langid import langid

    identifier = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE)
    if candidates is not None:
        identifier.set_languages(list(candidates))
    return identifier


def identifier_name() -> str:
    """The identifier and its version, recorded with every share (another model gives other numbers)."""
    from importlib.metadata import version

    return f"py3langid {version('py3langid')}"


def identifier_languages() -> frozenset[str]:
    """Every language label of the installed identifier."""
    return frozenset(_identifier(None).nb_classes)


def identifier_label(language: str) -> str | None:
    """The identifier's label for one of our language codes, or None when it cannot identify the language."""
    label = ALIASES.get(language, language)
    return label if label in identifier_languages() else None


def has_letters(text: str) -> bool:
    return any(character.isalpha() for character in text)


def identify(texts: Iterable[str], candidates: Sequence[str] | None = None) -> list[str]:
    """The identified language label of each text (``LETTERLESS`` for a text without letters)."""
    identifier = _identifier(_candidate_labels(candidates))
    return [identifier.classify(text)[0] if has_letters(text) else LETTERLESS for text in texts]


def _candidate_labels(candidates: Sequence[str] | None) -> tuple[str, ...] | None:
    if candidates is None:
        return None
    labels = []
    for language in candidates:
        label = identifier_label(language)
        if label is None:
            raise ValueError(f"candidate language {language!r} is not one py3langid identifies")
        labels.append(label)
    return tuple(sorted(set(labels)))


def off_target(texts: Sequence[str], language: str, candidates: Sequence[str] | None = None) -> OffTarget:
    """How many of ``texts`` (generated for target ``language``) are not identified as ``language``."""
    texts = [text.strip() for text in texts]
    letterless = sum(not has_letters(text) for text in texts)
    target = identifier_label(language)
    if target is None:
        return OffTarget(language, len(texts), None, letterless)
    if candidates is not None and language not in candidates:
        raise ValueError(f"the candidates {list(candidates)} must include the target language {language!r}")
    labels = identify(texts, candidates)
    return OffTarget(language, len(texts), sum(label != target for label in labels), letterless,
                     dict(Counter(labels).most_common()))


def off_target_units(ids: Sequence[Any], texts: Sequence[str], language: str,
                     candidates: Sequence[str] | None = None) -> Units | None:
    """The ``off_target`` metric's units (one per output: 1 off target, 0 on; ``den`` 1), or None when the
    language cannot be identified (report "n/a", not a number). For a generation family's ``example_units``."""
    if len(ids) != len(texts):
        raise ValueError(f"{len(ids)} ids for {len(texts)} generated texts")
    target = identifier_label(language)
    if target is None:
        return None
    if candidates is not None and language not in candidates:
        raise ValueError(f"the candidates {list(candidates)} must include the target language {language!r}")
    labels = identify([text.strip() for text in texts], candidates)
    return Units.of(ids, ([float(label != target) for label in labels], [1.0] * len(labels)))
