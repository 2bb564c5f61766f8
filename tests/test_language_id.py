"""The off-target share of generated text (scoring/language_id.py) on real sentences: the XGLUE sample's
passages and titles (/work/shared/samples/xglue, see its SOURCES.md) and sentences written for this test in
each language; letterless outputs, synthetic languages (n/a), aliases and restricted candidate sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from xstilts.scoring import language_id
from xstilts.scoring.language_id import off_target, off_target_units

XGLUE = Path("/work/shared/samples/xglue/hf_xglue/xglue_full_dataset")
needs_sample = pytest.mark.skipif(not XGLUE.is_dir(), reason="XGLUE sample not available")

# Written for this test: a news title and a question per language, as QG and NTG generate them.
SENTENCES = {
    "en": ["The city council approved the new budget on Tuesday", "how many people live in the capital city"],
    "de": ["Der Stadtrat hat am Dienstag den neuen Haushalt beschlossen", "wie viele Menschen wohnen in der Hauptstadt"],
    "es": ["El ayuntamiento aprobó el martes el nuevo presupuesto", "cuántas personas viven en la capital del país"],
    "fr": ["Le conseil municipal a approuvé mardi le nouveau budget", "combien de personnes habitent dans la capitale"],
    "it": ["Il consiglio comunale ha approvato martedì il nuovo bilancio", "quante persone vivono nella capitale"],
    "pt": ["A câmara municipal aprovou na terça-feira o novo orçamento", "quantas pessoas moram na capital do país"],
    "ru": ["Городской совет во вторник утвердил новый бюджет", "сколько людей живёт в столице страны"],
}


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_sentences_in_the_target_language_are_on_target(language):
    result = off_target(SENTENCES[language], language)
    assert result.identified == {language: 2}
    assert (result.off, result.total, result.percent) == (0, 2, 0.0)
    other = "en" if language != "en" else "de"
    assert off_target(SENTENCES[language], other).percent == 100.0


@needs_sample
@pytest.mark.parametrize(("folder", "language"), [("QG", "de"), ("QG", "es"), ("QG", "fr"), ("QG", "it"), ("QG", "pt"),
                                                  ("NTG", "ru"), ("NTG", "en")])
def test_xglue_sample_passages_are_identified_as_their_language(folder, language):
    path = XGLUE / folder / f"xglue.{folder.lower()}.{language}.src.dev"
    texts = path.read_text(encoding="utf-8").splitlines()
    assert len(texts) == 2 and off_target(texts, language).percent == 0.0


def test_answering_in_english_empty_and_letterless_outputs():
    # A zero-shot German model's outputs: 2 German, 2 English, 1 empty, 1 a year. Off target: 4 of 6 (the
    # English ones and the two without a letter, which are not German either).
    outputs = SENTENCES["de"] + SENTENCES["en"] + ["   ", "2019"]
    result = off_target(outputs, "de")
    assert (result.total, result.off, result.letterless) == (6, 4, 2)
    assert result.percent == pytest.approx(100 * 4 / 6)
    assert result.identified == {"de": 2, "en": 2, "": 2}
    assert result.as_json()["off_target"] == pytest.approx(100 * 4 / 6)
    assert result.as_json()["identifier"].startswith("py3langid 0.")
    units = off_target_units([f"x{i}" for i in range(6)], outputs, "de")
    assert units.ids == ["x0", "x1", "x2", "x3", "x4", "x5"]
    assert units.num == [0.0, 0.0, 1.0, 1.0, 1.0, 1.0] and units.den == [1.0] * 6
    assert units.value() == pytest.approx(result.percent)


@pytest.mark.parametrize("language", ["qaa", "qae", "wo"])
def test_languages_the_identifier_cannot_name_are_not_applicable(language):
    # The micro-benchmark's synthetic languages (ISO 639 private use) and a real language py3langid lacks
    # (Wolof): n/a, never a share that would call every output off target.
    result = off_target(SENTENCES["en"], language)
    assert result.off is None and result.percent is None and result.as_json()["off_target"] is None
    assert off_target_units(["a", "b"], SENTENCES["en"], language) is None
    assert language_id.identifier_label(language) is None


def test_codes_are_mapped_to_the_identifiers_labels():
    assert language_id.identifier_label("de") == "de"
    assert language_id.identifier_label("nb") == "no" and language_id.identifier_label("cmn") == "zh"
    assert language_id.identifier_label("swh") == "sw"
    assert {"de", "en", "es", "fr", "it", "pt", "ru"} <= language_id.identifier_languages()


def test_candidates_restrict_the_choice_and_must_hold_the_target():
    # Among German and English only, a French sentence is one of the two; among all languages it is French.
    french = SENTENCES["fr"][:1]
    assert off_target(french, "fr").identified == {"fr": 1}
    assert set(off_target(french, "de", candidates=["de", "en"]).identified) <= {"de", "en"}
    with pytest.raises(ValueError, match="must include the target language 'fr'"):
        off_target(french, "fr", candidates=["de", "en"])
    with pytest.raises(ValueError, match="'qaa' is not one py3langid identifies"):
        language_id.identify(french, candidates=["qaa", "en"])
    # A restricted identifier is an identifier of its own: the unrestricted one still sees French.
    assert language_id.identify(french) == ["fr"]


def test_mismatched_ids_and_texts():
    with pytest.raises(ValueError, match="2 ids for 1 generated texts"):
        off_target_units(["a", "b"], ["text"], "en")
    assert off_target([], "de").percent == 0.0
