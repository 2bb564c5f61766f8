"""The micro-benchmark's languages: English and five synthetic languages that differ from it by controlled
typological parameters.

Each synthetic language has

- a lexicon: one pseudo-word stem per lexeme, drawn from the language's own syllable inventory
  (phonotactics) and checked so that no inflected form of one lexeme equals any form of another lexeme, any
  English word, any name, or any word of another synthetic language (the lexicon is bijective);
- inflection by suffixes: English-like (plural, 3rd singular present, past, participle, comparative) or rich
  (the verb agrees in number in every tense, adjectives agree with their noun);
- syntax parameters read by ``grammar``: word order (SVO, SOV, VSO), adjective and adposition order, case
  particles, articles, and English-style questions (wh-fronting, do-support, inversion) or wh-in-situ;
- a script: Latin, or a deterministic letter-by-letter transliteration into Cyrillic, Greek or Georgian.

Names and digits are never translated: they are shared anchors, as in real languages. As in real languages,
a name keeps its Latin spelling in a Latin-script language and is transliterated, by sound, into a language
written in another script (Anna -> Анна, Άννα, ანნა); digits are the same everywhere.

| code | nickname | differs from English in |
|------|----------|-------------------------|
| qaa  | close    | words only |
| qab  | script   | words, Cyrillic script |
| qac  | order    | words, VSO order, adjectives after nouns, wh-in-situ |
| qad  | mid      | words, SOV, postpositions, rich agreement, no articles, wh-in-situ, Greek script |
| qae  | far      | all of the above with adjectives after nouns, case particles, a question particle, Georgian |
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from xstilts.errors import XstiltsError
from xstilts.languages import register_language
from xstilts.micro.world import CITIES, CLOSED_CLASS, COMPANIES, FIRST_NAMES, LEXEMES, SURNAMES

# ------------------------------------------------------------------ scripts

_SCRIPTS: dict[str, dict[str, str]] = {
    "Latin": {},
    "Cyrillic": dict(zip("abvgdezijklmnoprstufhcy", "абвгдезийклмнопрстуфхцы", strict=True)),
    "Greek": dict(zip("abgdezhiklmnxoprstufy", "αβγδεζηικλμνξοπρστυφψ", strict=True)),
    "Georgian": dict(zip("abgdevztiklmnoprsuqfhcj", "აბგდევზთიკლმნოპრსუქფჰცჯ", strict=True)),
}
# Names are written by sound in the other scripts: every Latin letter has a spelling (the lexicon tables above
# only need the letters of the languages' own phonotactics); a few digraphs are read as one sound.
_NAME_DIGRAPHS: dict[str, dict[str, str]] = {
    "Cyrillic": {"sh": "ш", "ch": "ч", "th": "т", "ph": "ф", "ya": "я", "yu": "ю"},
    "Greek": {"th": "θ", "ph": "φ", "ch": "χ", "ps": "ψ", "ks": "ξ", "ou": "ου"},
    "Georgian": {"sh": "შ", "ch": "ჩ", "th": "თ", "ph": "ფ", "ts": "ც", "kh": "ხ"},
}
_NAME_LETTERS: dict[str, dict[str, str]] = {
    "Cyrillic": dict(zip("abcdefghijklmnopqrstuvwxyz",
                         ["а", "б", "к", "д", "е", "ф", "г", "х", "и", "дж", "к", "л", "м", "н", "о", "п", "к",
                          "р", "с", "т", "у", "в", "в", "кс", "и", "з"], strict=True)),
    "Greek": dict(zip("abcdefghijklmnopqrstuvwxyz",
                      ["α", "β", "κ", "ντ", "ε", "φ", "γ", "χ", "ι", "τζ", "κ", "λ", "μ", "ν", "ο", "π", "κ",
                       "ρ", "σ", "τ", "ου", "β", "ου", "ξ", "ι", "ζ"], strict=True)),
    "Georgian": dict(zip("abcdefghijklmnopqrstuvwxyz",
                         ["ა", "ბ", "კ", "დ", "ე", "ფ", "გ", "ჰ", "ი", "ჯ", "კ", "ლ", "მ", "ნ", "ო", "პ", "ქ",
                          "რ", "ს", "ტ", "უ", "ვ", "ვ", "ქს", "ი", "ზ"], strict=True)),
}


def transliterate_name(name: str, script: str) -> str:
    """One word of a name in ``script``: unchanged in Latin, else spelt by sound (capitalised where the
    script has capitals)."""
    if script == "Latin":
        return name
    digraphs, letters = _NAME_DIGRAPHS[script], _NAME_LETTERS[script]
    word, out, index = name.lower(), [], 0
    while index < len(word):
        pair = word[index:index + 2]
        if pair in digraphs:
            out.append(digraphs[pair])
            index += 2
            continue
        out.append(letters.get(word[index], word[index]))
        index += 1
    text = "".join(out)
    if script == "Greek" and text.endswith("σ"):
        text = text[:-1] + "ς"
    return text[:1].upper() + text[1:] if _CASED[script] else text


# Georgian (Mkhedruli) has no capital letters in running text; the others capitalise the first word.
_CASED = {"Latin": True, "Cyrillic": True, "Greek": True, "Georgian": False}


def transliterate(word: str, script: str) -> str:
    table = _SCRIPTS[script]
    if not table:
        return word
    out = "".join(table[letter] for letter in word)
    if script == "Greek" and out.endswith("σ"):
        out = out[:-1] + "ς"  # word-final sigma, as Greek spells it
    return out


# ------------------------------------------------------------------ the language type


@dataclass(frozen=True)
class Phonotactics:
    onsets: tuple[str, ...]
    vowels: tuple[str, ...]
    codas: tuple[str, ...]  # "" = open syllable


@dataclass
class Language:
    code: str
    nickname: str
    description: str
    word_order: str = "SVO"  # SVO, SOV or VSO
    adjective_after_noun: bool = False
    postpositions: bool = False
    case_particles: bool = False  # accusative and dative particles after object NPs
    rich_agreement: bool = False  # verbs agree in number in every tense; adjectives agree with the noun
    articles: bool = True
    wh_fronting: bool = True  # English-style questions: wh first, do-support, subject-auxiliary inversion
    question_particle: bool = False
    script: str = "Latin"
    phonotactics: Phonotactics | None = None  # None for English
    # Share of content words (nouns, verbs, adjectives) whose stem is the English stem: cognates, the shared
    # anchors that make real close languages transfer (they still take the language's own suffixes and script).
    cognate_share: float = 0.0
    suffixes: dict[str, str] = field(default_factory=dict)
    stems: dict[str, str] = field(default_factory=dict)  # lexeme id -> stem (Latin letters)
    _forms: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    @property
    def is_english(self) -> bool:
        return self.code == "en"

    @property
    def capitalizes(self) -> bool:
        return _CASED[self.script]

    def form(self, lexeme: str, feature: str = "") -> str:
        """The word for a lexeme with an inflection feature: NOUN sg/pl; VERB base, pres.sg, pres.pl,
        past.sg, past.pl, part; ADJ pos/cmp (and pos.pl/cmp.pl where adjectives agree)."""
        key = (lexeme, feature)
        word = self._forms.get(key)
        if word is None:
            word = english_form(lexeme, feature) if self.is_english else self._synthetic(lexeme, feature)
            self._forms[key] = word
        return word

    def _synthetic(self, lexeme: str, feature: str) -> str:
        stem = self.stems[lexeme]
        return transliterate(stem + self.suffixes.get(feature, ""), self.script)

    def name(self, part: str) -> str:
        """One word of a name as this language writes it (see ``transliterate_name``)."""
        key = (part, "name")
        word = self._forms.get(key)
        if word is None:
            word = self._forms[key] = transliterate_name(part, self.script)
        return word

    def capitalize(self, word: str) -> str:
        return word[:1].upper() + word[1:] if self.capitalizes else word


def english_form(lexeme: str, feature: str) -> str:
    entry = LEXEMES[lexeme]
    forms = entry.forms
    if entry.pos == "NOUN":
        return forms[1] if feature == "pl" else forms[0]
    if entry.pos == "VERB":
        if lexeme == "be":
            return {"base": "be", "pres.sg": "is", "pres.pl": "are", "past.sg": "was", "past.pl": "were",
                    "part": "been"}[feature]
        base, third, past, participle = forms
        return {"base": base, "pres.sg": third, "pres.pl": base, "past.sg": past, "past.pl": past,
                "part": participle}[feature]
    if entry.pos == "ADJ":
        return forms[1] if feature.startswith("cmp") else forms[0]
    if not forms:
        raise KeyError(f"English has no word for the grammatical particle {lexeme!r}")
    return forms[0]


# Inflection features per part of speech (what the lexicon generator must keep apart).
_FEATURES = {
    "NOUN": ("sg", "pl"),
    "VERB": ("base", "pres.sg", "pres.pl", "past.sg", "past.pl", "part"),
    "ADJ": ("pos", "cmp", "pos.pl", "cmp.pl"),
}

ENGLISH = Language("en", "english", "English", script="Latin")

# Cognate shares fall with typological distance, as shared vocabulary does between real languages.
COGNATES = {"qaa": 0.4, "qab": 0.3, "qac": 0.2, "qad": 0.1, "qae": 0.0}

_SYNTHETIC = (
    Language(
        "qaa", "close", "Micro qaa: English grammar and morphology with other words (close to English)",
        phonotactics=Phonotactics(tuple("ptkbdgmnlrsfv"), tuple("aeiou"), ("", "", "n", "r", "l", "s")),
        suffixes={"pl": "en", "pres.sg": "et", "past.sg": "ado", "past.pl": "ado", "part": "ido", "cmp": "ar"},
        cognate_share=COGNATES["qaa"],
    ),
    Language(
        "qab", "script", "Micro qab: English grammar and morphology, other words, Cyrillic script",
        script="Cyrillic",
        phonotactics=Phonotactics(tuple("bvgdzklmnprst"), tuple("aeiouy"), ("", "", "", "k", "t", "m")),
        suffixes={"pl": "i", "pres.sg": "et", "past.sg": "al", "past.pl": "al", "part": "an", "cmp": "ej"},
        cognate_share=COGNATES["qab"],
    ),
    Language(
        "qac", "order", "Micro qac: verb-subject-object order, adjectives after nouns, wh-in-situ questions",
        word_order="VSO", adjective_after_noun=True, wh_fronting=False,
        phonotactics=Phonotactics(tuple("hklmnptw"), tuple("aeiou"), ("",)),
        suffixes={"pl": "ne", "pres.sg": "ia", "past.sg": "ta", "past.pl": "ta", "part": "wa", "cmp": "mo"},
        cognate_share=COGNATES["qac"],
    ),
    Language(
        "qad", "mid", "Micro qad: subject-object-verb order, postpositions, agreement, no articles, Greek script",
        word_order="SOV", postpositions=True, rich_agreement=True, articles=False, wh_fronting=False,
        script="Greek",
        phonotactics=Phonotactics(tuple("ptkmnlrsdgzx"), tuple("aeio"), ("", "", "s", "n")),
        suffixes={"pl": "oi", "pres.sg": "ei", "pres.pl": "ousi", "past.sg": "ise", "past.pl": "isan",
                  "part": "menos", "cmp": "teros", "pos.pl": "oi", "cmp.pl": "teroi"},
        cognate_share=COGNATES["qad"],
    ),
    Language(
        "qae", "far", "Micro qae: SOV, adjectives after nouns, postpositions, case particles, agreement, "
        "no articles, question particle, Georgian script (far from English)",
        word_order="SOV", adjective_after_noun=True, postpositions=True, case_particles=True,
        rich_agreement=True, articles=False, wh_fronting=False, question_particle=True, script="Georgian",
        phonotactics=Phonotactics(tuple("bgdvztklmnprsqfhcj"), tuple("aeiou"), ("", "", "r", "l", "m")),
        suffixes={"pl": "ebi", "pres.sg": "obs", "pres.pl": "oben", "past.sg": "a", "past.pl": "es",
                  "part": "uli", "cmp": "ze", "pos.pl": "ni", "cmp.pl": "zeni"},
    ),
)

LANGUAGES: dict[str, Language] = {"en": ENGLISH, **{lang.code: lang for lang in _SYNTHETIC}}
LANGUAGE_CODES: tuple[str, ...] = tuple(LANGUAGES)
SYNTHETIC_CODES: tuple[str, ...] = tuple(lang.code for lang in _SYNTHETIC)
CLOSE, FAR = "qaa", "qae"


def get_language(code: str) -> Language:
    if code not in LANGUAGES:
        raise XstiltsError(
            f"the micro-benchmark has no language {code!r}: choose one of {', '.join(LANGUAGE_CODES)}"
        )
    return LANGUAGES[code]


# ------------------------------------------------------------------ lexicon generation


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _english_words() -> set[str]:
    words = {form.lower() for lexeme in LEXEMES.values() for form in lexeme.forms if form != "-"}
    words |= {"is", "are", "was", "were", "been", "an"}
    for name in (*FIRST_NAMES, *SURNAMES, *CITIES, *COMPANIES):
        words |= {part.lower() for part in name.split()}
    return words


def _lexeme_features(lexeme: str, lang: Language) -> tuple[str, ...]:
    features = _FEATURES.get(LEXEMES[lexeme].pos, ("",))
    return tuple(dict.fromkeys(lang.suffixes.get(f, "") for f in features))  # distinct suffixes only


def _draw_stems(lang: Language, taken: set[str]) -> None:
    """Give every lexeme a stem whose forms are all new; ``taken`` grows with every form given out, so the
    check covers English words, names and the languages drawn before this one."""
    assert lang.phonotactics is not None
    sounds = lang.phonotactics
    rng = random.Random(_seed(f"xstilts-micro-lexicon-{lang.code}"))
    cognate_rng = random.Random(_seed(f"xstilts-micro-cognates-{lang.code}"))  # own stream: same other stems
    for lexeme in sorted(LEXEMES):
        suffixes = _lexeme_features(lexeme, lang)
        if cognate_rng.random() < lang.cognate_share and _take_cognate(lang, lexeme, suffixes, taken):
            continue
        syllables = (1, 1, 2) if lexeme in CLOSED_CLASS else (2, 2, 3)
        for attempt in range(10_000):
            count = rng.choice(syllables) + attempt // 2000  # grow words if the short ones run out
            stem = "".join(
                rng.choice(sounds.onsets) + rng.choice(sounds.vowels) + rng.choice(sounds.codas)
                for _ in range(count)
            )
            forms = {stem + suffix for suffix in suffixes}
            if len(forms) == len(suffixes) and not forms & taken:
                taken |= forms
                lang.stems[lexeme] = stem
                break
        else:  # pragma: no cover - the inventories are far larger than the vocabulary
            raise RuntimeError(f"cannot draw a word for {lexeme!r} in {lang.code}")


def _take_cognate(lang: Language, lexeme: str, suffixes: tuple[str, ...], taken: set[str]) -> bool:
    """Give a content word the English stem if its forms stay unambiguous: they may equal the lexeme's own
    English forms (true cognates) but no other word; letters the script cannot write rule a cognate out."""
    entry = LEXEMES[lexeme]
    if lexeme in CLOSED_CLASS or lexeme == "be" or " " in entry.forms[0]:
        return False
    stem = entry.forms[0].lower()
    table = _SCRIPTS[lang.script]
    if table and not set(stem) <= set(table):
        return False
    own = {form.lower() for form in entry.forms}
    forms = {stem + suffix for suffix in suffixes}
    if len(forms) != len(suffixes) or (forms - own) & taken:
        return False
    taken |= forms
    lang.stems[lexeme] = stem
    return True


def _build() -> None:
    taken = _english_words()
    for lang in _SYNTHETIC:
        _draw_stems(lang, taken)
        register_language(lang.code, lang.description)


_build()

# ------------------------------------------------------------------ typology

TYPOLOGY_FEATURES = ("lexicon", "script", "verb_final", "verb_initial", "adjective_after_noun", "postpositions",
                     "case_marking", "rich_agreement", "no_articles", "wh_in_situ")


def typology(code: str) -> dict[str, float]:
    """The language's typological features as numbers in [0, 1] (English: all 0)."""
    lang = get_language(code)
    return {
        "lexicon": 0.0 if lang.is_english else 1.0,
        "script": 0.0 if lang.script == "Latin" else 1.0,
        "verb_final": float(lang.word_order == "SOV"),
        "verb_initial": float(lang.word_order == "VSO"),
        "adjective_after_noun": float(lang.adjective_after_noun),
        "postpositions": float(lang.postpositions),
        "case_marking": float(lang.case_particles),
        "rich_agreement": float(lang.rich_agreement),
        "no_articles": float(not lang.articles),
        "wh_in_situ": float(not lang.wh_fronting),
    }


def typological_distance(a: str, b: str) -> float:
    """Mean absolute difference of the typology vectors: 0 for the same language, 1 for opposite in every
    feature."""
    first, second = typology(a), typology(b)
    return sum(abs(first[key] - second[key]) for key in TYPOLOGY_FEATURES) / len(TYPOLOGY_FEATURES)
