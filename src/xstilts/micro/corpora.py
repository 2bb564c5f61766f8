"""Monolingual corpora for MLM pretraining, one per language and NOT parallel: each language draws its own
facts from its own random stream, as real monolingual corpora describe different things. Only the world
(names, places, the kinds of events) is shared, so a model can still align languages through shared names
and digits, the anchors real multilingual models rely on too.
"""

from __future__ import annotations

import hashlib
import random

from xstilts.micro.grammar import realize, surface
from xstilts.micro.languages import get_language
from xstilts.micro.phrasing import any_sentence


def derived_seed(*parts: object) -> int:
    """A seed from any parts, the same on every machine and Python run (no ``hash()``)."""
    text = "\x1f".join(str(part) for part in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def corpus(language: str, size: int, seed: int = 0) -> list[str]:
    """``size`` sentences in ``language``. A longer corpus extends a shorter one with the same seed."""
    lang = get_language(language)
    rng = random.Random(derived_seed("corpus", seed, language))
    return [surface(realize(any_sentence(rng), lang)) for _ in range(size)]
