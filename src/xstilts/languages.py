"""Language codes: validated, never free text.

Real languages use ISO 639-1 codes where one exists (as XTREME does), or ISO 639-3. Synthetic languages
(the micro-benchmark's) register themselves with :func:`register_language`.
"""

from __future__ import annotations

from xstilts.registry import did_you_mean

# ISO 639-1, all 183 codes.
_ISO_639_1 = """
aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el
en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it
iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt
my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl
sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo
za zh zu
""".split()

# ISO 639-3 codes used by the benchmarks for languages without a 639-1 code (XTREME-R, XGLUE, Tatoeba).
_EXTRA = """
ast cmn arz awa ang arq ber cbk csb dsb dtp fao gsw hsb ido ile ina jbo kab kzj lfn mhr nds nov pam pes
swg swh tzl war wuu yue zsm hsb qu ht
""".split()

_REGISTERED: dict[str, str] = {}


def register_language(code: str, description: str) -> None:
    """Add a language code (used by the micro-benchmark's synthetic languages)."""
    _REGISTERED[code] = description


def known_languages() -> set[str]:
    return set(_ISO_639_1) | set(_EXTRA) | set(_REGISTERED)


def is_private_use(code: str) -> bool:
    """ISO 639-2 reserves qaa-qtz for local use: synthetic and project-specific languages (the micro-benchmark)."""
    return len(code) == 3 and code[0] == "q" and "a" <= code[1] <= "t" and code[2].isascii() and code[2].isalpha()


def check_language(code: str) -> str | None:
    """None if valid, else a message with a suggestion."""
    if code in known_languages() or is_private_use(code):
        return None
    return f"unknown language code {code!r}: {did_you_mean(code, known_languages())}"
