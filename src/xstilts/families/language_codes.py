"""mBART-50's language codes: what tells a multilingual encoder-decoder which language it reads and writes.

An mBART-50 source is ``[code] text </s>`` and its target ``[code] text </s>`` (``de_DE``, ``en_XX``, ...); to
generate in a language, the decoder's first token is forced to that language's code. Without it, a model trained
on English keeps writing English, the failure zero-shot generation is known for. Tokenizers that carry such codes
(``lang_code_to_id``: MBart50TokenizerFast, MBartTokenizerFast) are set to the code of the language being
featurized (``source_language``), and generation forces the code the source opens with (``forced_code``): XGLUE's
generation tasks write in the language they read. T5 and mT5 have no language codes; nothing changes for them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from xstilts.errors import XstiltsError


def language_codes(tokenizer: Any) -> dict[str, int]:
    """The tokenizer's language codes and their ids (empty for a tokenizer without any)."""
    codes = getattr(tokenizer, "lang_code_to_id", None)
    return dict(codes) if isinstance(codes, dict) else {}


def code_for(tokenizer: Any, language: str) -> str | None:
    """The code of ``language`` (an ISO 639 code: ``de`` -> ``de_DE``), None when the tokenizer has no codes."""
    codes = language_codes(tokenizer)
    if not codes:
        return None
    for code in codes:
        if code.split("_")[0] == language:
            return code
    raise XstiltsError(f"the model's tokenizer has no language code for {language!r} (it knows "
                       f"{', '.join(sorted(c.split('_')[0] for c in codes))}): evaluate it only in those languages, "
                       "or use a model that covers this one (mT5 needs no codes)")


@contextmanager
def source_language(tokenizer: Any, language: str) -> Iterator[None]:
    """While featurizing ``language``: sources and targets open with its code (a tokenizer without codes is left
    as it is). The tokenizer's own setting is restored after."""
    code = code_for(tokenizer, language)
    if code is None:
        yield
        return
    before = (getattr(tokenizer, "src_lang", None), getattr(tokenizer, "tgt_lang", None))
    tokenizer.src_lang, tokenizer.tgt_lang = code, code
    try:
        yield
    finally:
        if before[0] is not None:
            tokenizer.src_lang = before[0]
        if before[1] is not None:
            tokenizer.tgt_lang = before[1]


def forced_code(tokenizer: Any, first_ids: Sequence[int]) -> int | None:
    """The language code every source of a batch opens with, to force as the output's first token; None when the
    tokenizer has no codes or the sources do not open with one code."""
    ids = set(language_codes(tokenizer).values())
    if not ids or not first_ids or len(set(first_ids)) != 1 or first_ids[0] not in ids:
        return None
    return int(first_ids[0])
