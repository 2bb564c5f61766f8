"""The mock tasks' data, generated in code: a small English/German world rendered by hand-written grammar rules
into examples of every family (see ``xstilts.tasks.mock`` for the declarations).

Determinism: every task draws from its own ``random.Random(seed)`` with a fixed seed and never from global
randomness, and examples are serialised with sorted keys, so the files have the same bytes on every machine
and every run (their hashes enter lineage keys).

Dev and test sets are parallel, as in XNLI: the German example renders the same facts as the English one and
carries the same id. Train is English only (zero-shot transfer). The MLM corpora are the exception: each
language draws its own facts, so the two corpora are not translations of each other.

The German is real but simple: a bilingual lexicon of a few dozen words with genders and plurals, case and
adjective endings, verb-second order after a fronted adverb, participles at the end of perfect clauses and
verb-final "obwohl" clauses.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Example = dict[str, Any]
Parallel = dict[str, Any]  # language -> the rendering of one drawn item in that language
Tagged = list[tuple[str, str]]  # (word, UPOS or IOB2 tag)
Word = tuple[str, str]  # (English, German)

LANGUAGES = ("en", "de")
SIZES = {"train": 400, "dev": 100, "test": 100}
MLM_SIZES = {"train": 400, "dev": 50}
RETRIEVAL_DISTRACTORS = 0.2

# ------------------------------------------------------------------ lexicon


@dataclass(frozen=True)
class Noun:
    en: str
    en_plural: str
    de: str
    gender: str  # German gender: "m", "f" or "n"
    de_plural: str


def _nouns(table: str) -> dict[str, Noun]:
    nouns = {}
    for line in table.strip().splitlines():
        en, en_plural, de, gender, de_plural = line.split()
        nouns[en] = Noun(en, en_plural, de, gender, de_plural)
    return nouns


NOUNS = _nouns("""
man men Mann m Männer
woman women Frau f Frauen
child children Kind n Kinder
teacher teachers Lehrer m Lehrer
dog dogs Hund m Hunde
cat cats Katze f Katzen
car cars Auto n Autos
bike bikes Fahrrad n Fahrräder
house houses Haus n Häuser
boat boats Boot n Boote
lamp lamps Lampe f Lampen
guitar guitars Gitarre f Gitarren
book books Buch n Bücher
letter letters Brief m Briefe
newspaper newspapers Zeitung f Zeitungen
table tables Tisch m Tische
chair chairs Stuhl m Stühle
picture pictures Bild n Bilder
bottle bottles Flasche f Flaschen
apple apples Apfel m Äpfel
tree trees Baum m Bäume
bed beds Bett n Betten
glass glasses Glas n Gläser
cup cups Tasse f Tassen
plate plates Teller m Teller
window windows Fenster n Fenster
door doors Tür f Türen
shirt shirts Hemd n Hemden
phone phones Handy n Handys
plant plants Pflanze f Pflanzen
food foods Essen n Essen
room rooms Zimmer n Zimmer
film films Film m Filme
service services Service m Services
music musics Musik f Musiken
hotel hotels Hotel n Hotels
staff staffs Personal n Personale
evening evenings Abend m Abende
trip trips Reise f Reisen
concert concerts Konzert n Konzerte
waiter waiters Kellner m Kellner
coffee coffees Kaffee m Kaffees
game games Spiel n Spiele
""")

COLOURS: list[Word] = [("red", "rot"), ("blue", "blau"), ("green", "grün"), ("black", "schwarz"),
                       ("white", "weiß"), ("yellow", "gelb")]
SIZES_AGES: list[Word] = [("big", "groß"), ("small", "klein"), ("old", "alt"), ("new", "neu")]
PERSON_ADJECTIVES: list[Word] = [("old", "alt"), ("young", "jung"), ("tall", "groß"), ("happy", "glücklich"),
                                 ("tired", "müde"), ("hungry", "hungrig")]
NUMBERS: list[Word] = [("two", "zwei"), ("three", "drei"), ("four", "vier"), ("five", "fünf")]

# Names are shared by both languages; none ends in s/x/z, so both genitives are plain: "Anna's", "Annas".
FIRST_NAMES: dict[str, str] = {
    "Anna": "f", "Ben": "m", "Clara": "f", "David": "m", "Emma": "f", "Lena": "f", "Paul": "m", "Sara": "f",
    "Tom": "m", "Julia": "f", "Karl": "m", "Mia": "f", "Leon": "m", "Nina": "f", "Erik": "m",
}
SURNAMES = ["Schmidt", "Weber", "Fischer", "Becker", "Wagner", "Klein", "Wolf", "Braun", "Hoffmann", "Richter"]
PET_NAMES = ["Bello", "Rex", "Luna", "Minka", "Bruno", "Lucky", "Mimi", "Struppi"]

CITIES: list[Word] = [("Berlin", "Berlin"), ("Hamburg", "Hamburg"), ("Munich", "München"), ("Vienna", "Wien"),
                      ("Cologne", "Köln"), ("Zurich", "Zürich"), ("Paris", "Paris"), ("London", "London"),
                      ("Rome", "Rom"), ("Prague", "Prag"), ("New York", "New York"),
                      ("Los Angeles", "Los Angeles"), ("Frankfurt am Main", "Frankfurt am Main")]
# Companies take no article in either language ("arbeitet bei Siemens"); some contain a person or place name.
COMPANIES = ["Siemens", "Bosch", "Lufthansa", "Adidas", "Google", "Hugo Boss", "Red Bull", "General Motors",
             "Mercedes Benz"]
CLUBS: list[Word] = [("Union Berlin", "Union Berlin"), ("Real Madrid", "Real Madrid"),
                     ("Borussia Dortmund", "Borussia Dortmund"), ("Bayern Munich", "Bayern München"),
                     ("Ajax Amsterdam", "Ajax Amsterdam")]

# Owned things come in any colour; animals are never owned in NLI and QA (QA's pets are their own fact).
OWNABLE = ["car", "bike", "house", "boat", "lamp", "guitar", "chair", "cup"]
PETS = ["dog", "cat"]
ANIMALS = ("dog", "cat")
ANIMAL_COLOURS: list[Word] = [("black", "schwarz"), ("white", "weiß"), ("brown", "braun")]

# ------------------------------------------------------------------ rendering helpers

_ARTICLES = {
    ("def", "nom"): {"m": "der", "f": "die", "n": "das", "pl": "die"},
    ("def", "acc"): {"m": "den", "f": "die", "n": "das", "pl": "die"},
    ("def", "dat"): {"m": "dem", "f": "der", "n": "dem", "pl": "den"},
    ("indef", "nom"): {"m": "ein", "f": "eine", "n": "ein"},
    ("indef", "acc"): {"m": "einen", "f": "eine", "n": "ein"},
    ("indef", "dat"): {"m": "einem", "f": "einer", "n": "einem"},
}


def _de_adjective_ending(article: str | None, case: str, gender: str) -> str:
    """Attributive adjective ending: weak after der/die/das, mixed after ein/kein, strong without article."""
    if gender == "pl":
        return "en" if article is not None or case == "dat" else "e"
    if article == "def":
        return "e" if case == "nom" or (case == "acc" and gender != "m") else "en"
    if case == "dat":
        return "en"
    if gender == "m":
        return "er" if case == "nom" else "en"
    return "e" if gender == "f" else "es"


def de_np(noun: Noun, article: str | None, case: str, adjective: str | None = None,
          number: str | None = None) -> Tagged:
    """German noun phrase. ``article``: "def", "indef", "kein" or None (plural with a number word)."""
    gender = "pl" if number else noun.gender
    out: Tagged = []
    if number:
        out.append((number, "NUM"))
    elif article is not None:
        kind = "indef" if article == "kein" else article
        word = _ARTICLES[(kind, case)][gender]
        out.append(("k" + word if article == "kein" else word, "DET"))
    if adjective:
        stem = adjective[:-1] if adjective.endswith("e") else adjective  # müde -> müdes, not müdees
        out.append((stem + _de_adjective_ending(None if number else article, case, gender), "ADJ"))
    out.append((noun.de_plural if number else noun.de, "NOUN"))
    return out


def en_np(noun: Noun, article: str | None, adjective: str | None = None, number: str | None = None) -> Tagged:
    """English noun phrase; "a"/"an" follows the sound of the next word (all our vowel-initial words are
    vowel-sounding)."""
    out: Tagged = []
    if number:
        out.append((number, "NUM"))
    elif article == "def":
        out.append(("the", "DET"))
    elif article == "indef":
        out.append(("an" if (adjective or noun.en)[0] in "aeiou" else "a", "DET"))
    if adjective:
        out.append((adjective, "ADJ"))
    out.append((noun.en_plural if number else noun.en, "NOUN"))
    return out


def words(tagged: Tagged) -> str:
    return " ".join(word for word, _ in tagged)


def detokenize(tokens: list[str]) -> str:
    """Join tokens as running text: no space before punctuation."""
    text = " ".join(tokens)
    for mark in ".,?!":
        text = text.replace(" " + mark, mark)
    return text


def capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def _capitalize_first(tagged: Tagged) -> Tagged:
    return [(capitalize(tagged[0][0]), tagged[0][1]), *tagged[1:]]


def _other(rng: random.Random, pool: list, exclude: Any) -> Any:
    return rng.choice([item for item in pool if item != exclude])


# ------------------------------------------------------------------ NLI

NLI_LABELS = ("entailment", "neutral", "contradiction")

# A statement is (person, kind, value, negated) for kinds live/work/own, or (person, "attr", (noun, adjective)).


def _nli_fact(rng: random.Random, kind: str) -> Any:
    if kind == "live":
        return rng.choice(CITIES)
    if kind == "work":
        return rng.choice(COMPANIES)
    return (NOUNS[rng.choice(OWNABLE)], rng.choice(COLOURS))


def _nli_predicate(kind: str, value: Any, negated: bool, lang: str) -> str:
    """The verb phrase of a statement, without its subject."""
    en = lang == "en"
    if kind == "live":
        city = value[0] if en else value[1]
        return (f"does not live in {city}" if negated else f"lives in {city}") if en else \
            (f"wohnt nicht in {city}" if negated else f"wohnt in {city}")
    if kind == "work":
        return (f"does not work for {value}" if negated else f"works for {value}") if en else \
            (f"arbeitet nicht bei {value}" if negated else f"arbeitet bei {value}")
    noun, colour = value
    if en:
        phrase = words(en_np(noun, "indef", colour[0] if colour else None))
        return f"does not own {phrase}" if negated else f"owns {phrase}"
    return "besitzt " + words(de_np(noun, "kein" if negated else "indef", "acc", colour[1] if colour else None))


def _join_predicates(parts: list[str], lang: str) -> str:
    conjunction = " and " if lang == "en" else " und "
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + conjunction + parts[-1]


def _nli_sentence(person: str, statements: list[tuple], lang: str) -> str:
    if statements[0][0] == "attr":
        noun, adjective = statements[0][1]
        if lang == "en":
            return f"{person}'s {noun.en} is {adjective[0]}."
        return f"{person}s {noun.de} ist {adjective[1]}."
    parts = [_nli_predicate(kind, value, negated, lang) for kind, value, negated in statements]
    return f"{person} {_join_predicates(parts, lang)}."


def _nli_hypothesis(rng: random.Random, label: str, facts: dict[str, Any]) -> tuple[bool, tuple]:
    """A hypothesis for ``label``: (about the premise's person?, statement).

    Hypotheses come in kinds, drawn with weights. As in real NLI data, the common kinds carry shallow cues
    (contradictions are mostly negations, entailments mostly restate the premise), so a small model can
    start learning quickly; the rarer kinds break the cues ("does not live in Paris" is entailed, "owns a
    bike" is neutral, "Anna's car is old" is neutral but "Anna's car is blue" a contradiction), so the task
    is not solved by them."""
    live, work, own = facts.get("live"), facts.get("work"), facts.get("own")
    kinds: list[tuple[float, list[tuple[bool, tuple]]]] = []
    if label == "entailment":
        restated = [(True, (kind, value, False)) for kind, value in facts.items()]
        if own:
            restated.append((True, ("own", (own[0], None), False)))
        kinds.append((4, restated))
        if own:
            kinds.append((1, [(True, ("attr", own))]))
        negated = []
        if live:
            negated.append((True, ("live", _other(rng, CITIES, live), True)))
        if work:
            negated.append((True, ("work", _other(rng, COMPANIES, work), True)))
        kinds.append((1, negated))
    elif label == "neutral":
        # The same fact about someone else, a fact the premise does not mention, or an unrelated object.
        kinds.append((2, [(False, (kind, value, False)) for kind, value in facts.items()]))
        missing = [kind for kind in ("live", "work", "own") if kind not in facts]
        kinds.append((2, [(True, (kind, _nli_fact(rng, kind), False)) for kind in missing]))
        if own:
            other = NOUNS[_other(rng, OWNABLE, own[0].en)]
            colour = rng.choice([None, rng.choice(COLOURS)])
            kinds.append((1, [(True, ("own", (other, colour), False)), (True, ("own", (other, None), True))]))
            kinds.append((1, [(True, ("attr", (own[0], rng.choice(SIZES_AGES))))]))
    else:
        kinds.append((4, [(True, (kind, value, True)) for kind, value in facts.items()]))
        changed = []
        if live:
            changed.append((True, ("live", _other(rng, CITIES, live), False)))
        if work:
            changed.append((True, ("work", _other(rng, COMPANIES, work), False)))
        if own:
            changed.append((True, ("attr", (own[0], _other(rng, COLOURS, own[1])))))
        kinds.append((2, changed))
    kinds = [(weight, group) for weight, group in kinds if group]
    group = rng.choices([group for _, group in kinds], weights=[weight for weight, _ in kinds])[0]
    return rng.choice(group)


def nli_item(rng: random.Random, slot: int) -> Parallel:
    label = NLI_LABELS[slot % len(NLI_LABELS)]
    person, other = rng.sample(sorted(FIRST_NAMES), 2)
    kinds = rng.sample(["live", "work", "own"], rng.choice([2, 2, 3]))
    facts = {kind: _nli_fact(rng, kind) for kind in kinds}
    about_person, statement = _nli_hypothesis(rng, label, facts)
    premise = [(kind, facts[kind], False) for kind in kinds]
    subject = person if about_person else other
    return {
        lang: {
            "text": _nli_sentence(person, premise, lang),
            "text_pair": _nli_sentence(subject, [statement], lang),
            "label": label,
        }
        for lang in LANGUAGES
    }


# ------------------------------------------------------------------ sentiment

SENTIMENT_LABELS = ("negative", "positive")
ASPECTS = ["food", "room", "film", "service", "music", "hotel", "staff", "evening", "trip", "concert", "waiter",
           "coffee", "game"]
PRAISE: list[Word] = [("good", "gut"), ("great", "toll"), ("wonderful", "wunderbar"), ("excellent", "ausgezeichnet"),
                      ("pleasant", "angenehm"), ("fantastic", "fantastisch")]
BLAME: list[Word] = [("bad", "schlecht"), ("terrible", "schrecklich"), ("awful", "furchtbar"),
                     ("boring", "langweilig"), ("disappointing", "enttäuschend"), ("mediocre", "mittelmäßig")]
# Only these read naturally after "not"; only these take "very" ("very excellent" is not English).
NEGATABLE = {"good", "great", "pleasant", "bad", "boring", "terrible"}
GRADABLE = {"good", "pleasant", "bad", "boring", "disappointing"}


def _judgement(rng: random.Random, aspect: Noun, positive: bool) -> dict[str, tuple[str, str]]:
    """One judgement as (subject, predicate) per language. "not" flips the adjective's polarity; "very" is
    never combined with "not" ("not very good" would be a weak, ambiguous judgement)."""
    negated = rng.random() < 0.25
    pool = PRAISE if positive != negated else BLAME
    adjective = rng.choice([a for a in pool if a[0] in NEGATABLE] if negated else pool)
    very = not negated and adjective[0] in GRADABLE and rng.random() < 0.4
    en_words = ["not"] * negated + ["very"] * very + [adjective[0]]
    de_words = ["nicht"] * negated + ["sehr"] * very + [adjective[1]]
    return {"en": (words(en_np(aspect, "def")), " ".join(en_words)),
            "de": (words(de_np(aspect, "def", "nom")), " ".join(de_words))}


def sentiment_item(rng: random.Random, slot: int) -> Parallel:
    label = SENTIMENT_LABELS[slot % 2]
    positive = label == "positive"
    form = rng.choice(["single", "overall", "and", "but", "although"])
    first_aspect, second_aspect = (NOUNS[name] for name in rng.sample(ASPECTS, 2))
    # The clause that decides the label comes last; "but" and "although" put a contrary one before it.
    main = _judgement(rng, second_aspect, positive)
    before = _judgement(rng, first_aspect, positive if form == "and" else not positive)
    out = {}
    for lang in LANGUAGES:
        (subject, predicate), (subject0, predicate0) = main[lang], before[lang]
        was = "was" if lang == "en" else "war"
        clause, clause0 = f"{subject} {was} {predicate}", f"{subject0} {was} {predicate0}"
        if form == "single":
            text = capitalize(clause) + "."
        elif form == "overall":
            text = f"Overall, {clause}." if lang == "en" else f"Insgesamt war {subject} {predicate}."
        elif form == "and":
            text = capitalize(clause0) + (" and " if lang == "en" else " und ") + clause + "."
        elif form == "but":
            text = capitalize(clause0) + (", but " if lang == "en" else ", aber ") + clause + "."
        elif lang == "en":
            text = f"Although {clause0}, {clause}."
        else:  # verb-final subordinate clause, then verb-second inversion in the main clause
            text = f"Obwohl {subject0} {predicate0} war, war {subject} {predicate}."
        out[lang] = {"text": text, "label": label}
    return out


# ------------------------------------------------------------------ multiple choice (cause and effect)


@dataclass(frozen=True)
class Action:
    key: str
    cause: Word  # templates: {p} person, {o} the object, {o_acc} German accusative, {c} colour
    effect: Word  # {O_nom} German nominative (capitalised), {o_kein} German "keinen/keine/kein N"
    objects: tuple[str, ...]


ACTIONS = [
    Action("drop", ("{p} dropped the {o}.", "{p} ließ {o_acc} fallen."),
           ("The {o} broke.", "{O_nom} ging kaputt."), ("glass", "cup", "plate", "lamp", "bottle", "phone")),
    Action("wash", ("{p} washed the {o}.", "{p} wusch {o_acc}."), ("The {o} was clean.", "{O_nom} war sauber."),
           ("glass", "cup", "plate", "window", "shirt", "car", "bottle")),
    Action("fill", ("{p} filled the {o} with water.", "{p} füllte {o_acc} mit Wasser."),
           ("The {o} was full.", "{O_nom} war voll."), ("glass", "cup", "bottle")),
    Action("empty", ("{p} emptied the {o}.", "{p} leerte {o_acc}."), ("The {o} was empty.", "{O_nom} war leer."),
           ("glass", "cup", "bottle")),
    Action("open", ("{p} opened the {o}.", "{p} öffnete {o_acc}."), ("The {o} was open.", "{O_nom} war offen."),
           ("window", "door", "bottle")),
    Action("close", ("{p} closed the {o}.", "{p} schloss {o_acc}."),
           ("The {o} was closed.", "{O_nom} war geschlossen."), ("window", "door")),
    Action("paint", ("{p} painted the {o} {c}.", "{p} strich {o_acc} {c} an."),
           ("The {o} was {c}.", "{O_nom} war {c}."), ("door", "car", "chair", "bike")),
    Action("switch_on", ("{p} switched on the {o}.", "{p} schaltete {o_acc} ein."),
           ("The room was bright.", "Das Zimmer war hell."), ("lamp",)),
    Action("switch_off", ("{p} switched off the {o}.", "{p} schaltete {o_acc} aus."),
           ("The room was dark.", "Das Zimmer war dunkel."), ("lamp",)),
    Action("charge", ("{p} charged the {o}.", "{p} lud {o_acc} auf."),
           ("The {o} had power again.", "{O_nom} hatte wieder Strom."), ("phone",)),
    Action("repair", ("{p} repaired the {o}.", "{p} reparierte {o_acc}."),
           ("The {o} worked again.", "{O_nom} funktionierte wieder."), ("car", "lamp", "phone", "bike")),
    Action("water", ("{p} watered the {o}.", "{p} goss {o_acc}."), ("The {o} grew.", "{O_nom} wuchs."),
           ("plant",)),
    Action("forget", ("{p} forgot to water the {o}.", "{p} vergaß, {o_acc} zu gießen."),
           ("The {o} died.", "{O_nom} ging ein."), ("plant",)),
    Action("read", ("{p} read the {o}.", "{p} las {o_acc}."), ("{p} knew the news.", "{p} kannte die Neuigkeit."),
           ("letter", "newspaper")),
    Action("iron", ("{p} ironed the {o}.", "{p} bügelte {o_acc}."), ("The {o} was smooth.", "{O_nom} war glatt."),
           ("shirt",)),
    Action("sell", ("{p} sold the {o}.", "{p} verkaufte {o_acc}."),
           ("{p} no longer had a {o}.", "{p} hatte {o_kein} mehr."), ("car", "bike", "boat", "guitar")),
    Action("lose", ("{p} lost the {o}.", "{p} verlor {o_acc}."), ("{p} looked for the {o}.", "{p} suchte {o_acc}."),
           ("phone", "letter", "book")),
]

# One concrete event: (action, object, colour or None), the person is shared by all choices of an example.
Event = tuple[Action, str, Word | None]


def _events() -> list[Event]:
    return [(action, obj, colour) for action in ACTIONS for obj in action.objects
            for colour in (COLOURS if "{c}" in action.cause[0] else [None])]


EVENTS = _events()


def _render_event(event: Event, part: str, person: str, lang: str) -> str:
    action, obj, colour = event
    noun = NOUNS[obj]
    template = getattr(action, part)[0 if lang == "en" else 1]
    return template.format(
        p=person, o=noun.en, c=(colour[0] if lang == "en" else colour[1]) if colour else "",
        o_acc=words(de_np(noun, "def", "acc")), O_nom=capitalize(words(de_np(noun, "def", "nom"))),
        o_kein=words(de_np(noun, "kein", "acc")),
    )


def choice_item(rng: random.Random, slot: int) -> Parallel:
    label = slot % 3
    person = rng.choice(sorted(FIRST_NAMES))
    correct = rng.choice(EVENTS)
    ask_effect = rng.random() < 0.5
    asked, answered = ("cause", "effect") if ask_effect else ("effect", "cause")

    def text(event: Event, part: str) -> str:
        return _render_event(event, part, person, "en")

    # A distractor must not be right too: its effect differs from the correct effect (a cause that leads to
    # the same effect would also be a correct answer) and its answer text differs from every other choice.
    chosen = [correct]
    same_object = [e for e in EVENTS if e[1] == correct[1]]
    while len(chosen) < 3:
        event = rng.choice(same_object if rng.random() < 0.6 else EVENTS)
        if text(event, "effect") != text(correct, "effect") and all(
            text(event, answered) != text(other, answered) for other in chosen
        ):
            chosen.append(event)
    distractors = chosen[1:]
    rng.shuffle(distractors)
    ordered = distractors[:label] + [correct] + distractors[label:]
    questions = {"en": ("What happened as a result?", "What was the cause?"),
                 "de": ("Was geschah daraufhin?", "Was war die Ursache?")}
    out = {}
    for lang in LANGUAGES:
        question = questions[lang][0 if ask_effect else 1]
        out[lang] = {
            "context": f"{_render_event(correct, asked, person, lang)} {question}",
            "choices": [_render_event(event, answered, person, lang) for event in ordered],
            "label": label,
        }
    return out


# ------------------------------------------------------------------ extractive QA

QA_KINDS = ("live", "work", "own", "age", "pet")
PRONOUNS = {("m", "en"): "He", ("f", "en"): "She", ("m", "de"): "Er", ("f", "de"): "Sie"}


def _qa_value(rng: random.Random, kind: str, taken: set) -> Any:
    """A value for a fact, different from the other person's (so every answer is unique in its context)."""
    while True:
        if kind == "live":
            value = rng.choice(CITIES)
        elif kind == "work":
            value = rng.choice(COMPANIES)
        elif kind == "own":
            value = (rng.choice(OWNABLE), rng.choice(COLOURS))
        elif kind == "age":
            value = rng.randint(18, 80)
        else:
            value = (rng.choice(PETS), rng.choice(PET_NAMES))
        if value not in taken:
            return value


def _qa_sentence(subject: str, kind: str, value: Any, lang: str) -> tuple[str, str, str]:
    """(text before the answer, the answer, text after it) of one fact sentence."""
    en = lang == "en"
    if kind == "live":
        return (f"{subject} lives in " if en else f"{subject} wohnt in "), value[0 if en else 1], "."
    if kind == "work":
        return (f"{subject} works for " if en else f"{subject} arbeitet bei "), value, "."
    if kind == "own":
        noun, colour = NOUNS[value[0]], value[1]
        phrase = words(en_np(noun, "indef", colour[0])) if en else words(de_np(noun, "indef", "acc", colour[1]))
        return (f"{subject} owns " if en else f"{subject} besitzt "), phrase, "."
    if kind == "age":
        return f"{subject} is " if en else f"{subject} ist ", str(value), " years old." if en else " Jahre alt."
    pet = NOUNS[value[0]]
    if en:
        return f"{subject} has {words(en_np(pet, 'indef'))} named ", value[1], "."
    return f"{subject} hat {words(de_np(pet, 'indef', 'acc'))} namens ", value[1], "."


def _qa_question(name: str, kind: str, pet: str, lang: str) -> str:
    en = lang == "en"
    questions = {
        "live": (f"Where does {name} live?", f"Wo wohnt {name}?"),
        "work": (f"For which company does {name} work?", f"Bei welcher Firma arbeitet {name}?"),
        "own": (f"What does {name} own?", f"Was besitzt {name}?"),
        "age": (f"How old is {name}?", f"Wie alt ist {name}?"),
        "pet": (f"What is the name of {name}'s {NOUNS[pet].en}?", f"Wie heißt {name}s {NOUNS[pet].de}?"),
    }
    return questions[kind][0 if en else 1]


def qa_item(rng: random.Random, slot: int) -> Parallel:
    answerable = slot % 3 != 0
    names = rng.sample(sorted(FIRST_NAMES), 3)  # two may appear; the third is never mentioned
    count = rng.randint(2, 5)
    first = rng.randint(1, count) if rng.random() < 0.7 else count
    kinds = [rng.sample(QA_KINDS, first), rng.sample(QA_KINDS, count - first)]
    people = [(names[i], rng.choice(SURNAMES), FIRST_NAMES[names[i]]) for i in range(2)]
    facts: list[dict[str, Any]] = [{}, {}]
    for kind in QA_KINDS:
        taken: set = set()
        for who in range(2):
            if kind in kinds[who]:
                facts[who][kind] = _qa_value(rng, kind, taken)
                taken.add(facts[who][kind])
    # "What does Anna own?" is ambiguous when Anna has a pet, so that question is never asked about her.
    def askable(who: int, kind: str) -> bool:
        return not (kind == "own" and "pet" in facts[who])

    if answerable:
        who = rng.choice([i for i in range(2) if facts[i]])
        kind = rng.choice([k for k in sorted(facts[who]) if askable(who, k)])
    else:
        # Mostly a plausible trap: a fact the context states for the other person only (SQuAD 2.0 style);
        # sometimes a question about someone the context never mentions.
        options = [(i, k) for i in range(2) for k in QA_KINDS if k not in facts[i] and askable(i, k)]
        if rng.random() < 0.2:
            options += [(2, k) for k in QA_KINDS]
        who, kind = rng.choice(options)
    asked = names[who]
    pet = facts[who][kind][0] if kind == "pet" and who < 2 and kind in facts[who] else rng.choice(PETS)
    out = {}
    for lang in LANGUAGES:
        sentences, answers = [], []
        offset = 0
        for index, (name, surname, gender) in enumerate(people):
            for position, fact_kind in enumerate(kinds[index]):
                subject = f"{name} {surname}" if position == 0 else PRONOUNS[(gender, lang)]
                before, answer, after = _qa_sentence(subject, fact_kind, facts[index][fact_kind], lang)
                if answerable and index == who and fact_kind == kind:
                    answers.append({"text": answer, "start": offset + len(before)})
                sentence = before + answer + after
                sentences.append(sentence)
                offset += len(sentence) + 1
        out[lang] = {"question": _qa_question(asked, kind, pet, lang), "context": " ".join(sentences),
                     "answers": answers}
    return out


# ------------------------------------------------------------------ POS tagging


@dataclass(frozen=True)
class Verb:
    en: tuple[str, str, str]  # 3rd person singular, plural, participle
    de: tuple[str, str, str]
    objects: tuple[str, ...] = ()  # empty: intransitive


VERBS = [
    Verb(("reads", "read", "read"), ("liest", "lesen", "gelesen"), ("book", "letter", "newspaper")),
    Verb(("sees", "see", "seen"), ("sieht", "sehen", "gesehen"),
         ("dog", "cat", "car", "house", "tree", "picture", "boat", "bike")),
    Verb(("buys", "buy", "bought"), ("kauft", "kaufen", "gekauft"),
         ("car", "bike", "book", "lamp", "table", "chair", "picture", "bottle", "apple", "house", "newspaper")),
    Verb(("finds", "find", "found"), ("findet", "finden", "gefunden"),
         ("book", "letter", "bottle", "apple", "picture", "dog", "cat", "phone")),
    Verb(("sells", "sell", "sold"), ("verkauft", "verkaufen", "verkauft"),
         ("car", "bike", "house", "book", "lamp", "table", "chair", "picture", "boat")),
    Verb(("washes", "wash", "washed"), ("wäscht", "waschen", "gewaschen"),
         ("car", "bike", "dog", "bottle", "apple", "table", "chair", "shirt", "cup")),
    Verb(("paints", "paint", "painted"), ("malt", "malen", "gemalt"), ("picture", "house", "dog", "cat", "apple")),
]
INTRANSITIVE = [Verb(("sleeps", "sleep", "slept"), ("schläft", "schlafen", "geschlafen")),
                Verb(("plays", "play", "played"), ("spielt", "spielen", "gespielt")),
                Verb(("waits", "wait", "waited"), ("wartet", "warten", "gewartet")),
                Verb(("sits", "sit", "sat"), ("sitzt", "sitzen", "gesessen"))]
PREPOSITIONS: list[tuple[str, str, tuple[str, ...]]] = [
    ("under", "unter", ("table", "chair", "tree", "bed")), ("behind", "hinter", ("house", "car", "tree")),
    ("on", "auf", ("chair", "bed", "table")), ("with", "mit", ("dog", "cat", "child")),
]
THING_ADJECTIVES = COLOURS + SIZES_AGES + [("beautiful", "schön")]
FREQUENCY: list[Word] = [("often", "oft"), ("always", "immer"), ("never", "nie"), ("rarely", "selten")]
# Present tense throughout, so no "yesterday" here.
TIME: list[Word] = [("today", "heute"), ("now", "jetzt"), ("tomorrow", "morgen")]


def _subject(rng: random.Random, animals: bool) -> tuple[dict[str, Tagged], bool]:
    """A subject in both languages and whether it is plural."""
    roll = rng.random()
    if roll < 0.3:
        name = rng.choice(sorted(FIRST_NAMES))
        return {"en": [(name, "PROPN")], "de": [(name, "PROPN")]}, False
    if roll < 0.45:
        a, b = rng.sample(sorted(FIRST_NAMES), 2)
        return {"en": [(a, "PROPN"), ("and", "CCONJ"), (b, "PROPN")],
                "de": [(a, "PROPN"), ("und", "CCONJ"), (b, "PROPN")]}, True
    if roll < 0.6:
        en, de = rng.choice([("he", "er"), ("she", "sie")])
        return {"en": [(en, "PRON")], "de": [(de, "PRON")]}, False
    nouns = ["man", "woman", "child", "teacher"] + (["dog", "cat"] if animals else [])
    noun = NOUNS[rng.choice(nouns)]
    adjective = rng.choice([None, None, *(ANIMAL_COLOURS if noun.en in ANIMALS else PERSON_ADJECTIVES)])
    article = rng.choice(["def", "indef"])
    return {"en": en_np(noun, article, adjective and adjective[0]),
            "de": de_np(noun, article, "nom", adjective and adjective[1])}, False


def _object(rng: random.Random, verb: Verb) -> dict[str, Tagged]:
    noun = NOUNS[rng.choice(verb.objects)]
    adjective = rng.choice([None, *(ANIMAL_COLOURS + SIZES_AGES if noun.en in ANIMALS else THING_ADJECTIVES)])
    if rng.random() < 0.2:
        number = rng.choice(NUMBERS)
        return {"en": en_np(noun, None, adjective and adjective[0], number[0]),
                "de": de_np(noun, None, "acc", adjective and adjective[1], number[1])}
    article = rng.choice(["def", "indef"])
    return {"en": en_np(noun, article, adjective and adjective[0]),
            "de": de_np(noun, article, "acc", adjective and adjective[1])}


def _pos_clause(rng: random.Random) -> dict[str, Tagged]:
    """One main clause (no final punctuation) in both languages."""
    form = rng.choice(["intransitive", "transitive", "frequency", "fronted", "perfect", "copula"])
    subject, plural = _subject(rng, animals=form in ("intransitive", "copula"))
    number = 1 if plural else 0
    if form == "copula":
        adjective = rng.choice(PERSON_ADJECTIVES)
        return {"en": subject["en"] + [("are" if plural else "is", "AUX"), (adjective[0], "ADJ")],
                "de": subject["de"] + [("sind" if plural else "ist", "AUX"), (adjective[1], "ADJ")]}
    if form == "intransitive":
        verb = rng.choice(INTRANSITIVE)
        en, de = subject["en"] + [(verb.en[number], "VERB")], subject["de"] + [(verb.de[number], "VERB")]
        if rng.random() < 0.7:
            prep_en, prep_de, places = rng.choice(PREPOSITIONS)
            place = NOUNS[rng.choice(places)]
            en += [(prep_en, "ADP"), *en_np(place, "def")]
            de += [(prep_de, "ADP"), *de_np(place, "def", "dat")]
        return {"en": en, "de": de}
    verb = rng.choice(VERBS)
    obj = _object(rng, verb)
    if form == "perfect":  # German puts the participle at the end of the clause
        aux_en, aux_de = ("have", "haben") if plural else ("has", "hat")
        return {"en": subject["en"] + [(aux_en, "AUX"), (verb.en[2], "VERB")] + obj["en"],
                "de": subject["de"] + [(aux_de, "AUX")] + obj["de"] + [(verb.de[2], "VERB")]}
    verb_en, verb_de = (verb.en[number], "VERB"), (verb.de[number], "VERB")
    if form == "frequency":  # English: before the verb; German: after it
        adverb = rng.choice(FREQUENCY)
        return {"en": subject["en"] + [(adverb[0], "ADV"), verb_en] + obj["en"],
                "de": subject["de"] + [verb_de, (adverb[1], "ADV")] + obj["de"]}
    if form == "fronted":  # German is verb-second: the subject follows the verb after a fronted adverb
        adverb = rng.choice(TIME)
        return {"en": [(adverb[0], "ADV")] + subject["en"] + [verb_en] + obj["en"],
                "de": [(adverb[1], "ADV"), verb_de] + subject["de"] + obj["de"]}
    return {"en": subject["en"] + [verb_en] + obj["en"], "de": subject["de"] + [verb_de] + obj["de"]}


def pos_sentence(rng: random.Random) -> dict[str, Tagged]:
    clause = _pos_clause(rng)
    if rng.random() < 0.25:
        second = _pos_clause(rng)
        conjunction = rng.choice([("and", "und"), ("but", "aber"), ("or", "oder")])
        comma = [(",", "PUNCT")] if conjunction[0] == "but" else []  # German needs the comma before "aber"
        clause = {lang: clause[lang] + comma + [(conjunction[i], "CCONJ")] + second[lang]
                  for i, lang in enumerate(LANGUAGES)}
    return {lang: _capitalize_first(clause[lang]) + [(".", "PUNCT")] for lang in LANGUAGES}


def pos_item(rng: random.Random, slot: int) -> Parallel:
    sentence = pos_sentence(rng)
    return {lang: {"tokens": [w for w, _ in sentence[lang]], "tags": [t for _, t in sentence[lang]]}
            for lang in LANGUAGES}


# Exactly the tags the grammar above produces, sorted (a test checks this against the generated files).
POS_LABELS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "NOUN", "NUM", "PRON", "PROPN", "PUNCT", "VERB")


# ------------------------------------------------------------------ NER

NER_LABELS = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG")


def _entity(name: str, kind: str) -> Tagged:
    parts = name.split()
    return [(part, ("B-" if i == 0 else "I-") + kind) for i, part in enumerate(parts)]


def _plain(text: str) -> Tagged:
    return [(word, "O") for word in text.split()]


def ner_sentence(rng: random.Random) -> dict[str, Tagged]:
    def person() -> str:
        name = rng.choice(sorted(FIRST_NAMES))
        return f"{name} {rng.choice(SURNAMES)}" if rng.random() < 0.5 else name

    p1, p2 = person(), person()
    while p2.split()[0] == p1.split()[0]:  # "Anna met Anna" is not a sentence anyone writes
        p2 = person()
    c1, c2 = rng.sample(CITIES, 2)
    company, company2 = rng.sample(COMPANIES, 2)
    club = rng.choice(CLUBS)
    per, per2 = _entity(p1, "PER"), _entity(p2, "PER")
    form = rng.randrange(9)
    by_lang = {}
    for i, lang in enumerate(LANGUAGES):
        en = lang == "en"
        loc, loc2 = _entity(c1[i], "LOC"), _entity(c2[i], "LOC")
        org, org2 = _entity(company, "ORG"), _entity(company2, "ORG")
        if form == 0:
            tagged = per + _plain("works for" if en else "arbeitet bei") + org + _plain("in") + loc
        elif form == 1:
            tagged = per + _plain("lives in" if en else "wohnt in") + loc
        elif form == 2:
            tagged = per + _plain("met" if en else "traf") + per2 + _plain("in") + loc
        elif form == 3:
            tagged = org + _plain("opened an office in" if en else "eröffnete ein Büro in") + loc
        elif form == 4:  # verb-second after a fronted adverb in German
            tagged = (_plain("Yesterday") + per + _plain("flew from") if en else _plain("Gestern flog") + per +
                      _plain("von")) + loc + _plain("to" if en else "nach") + loc2
        elif form == 5:
            tagged = per + _plain("and" if en else "und") + per2 + _plain("visited" if en else "besuchten") + loc
        elif form == 6:
            tagged = per + _plain("plays for" if en else "spielt für") + _entity(club[i], "ORG")
        elif form == 7:
            tagged = org + _plain("bought" if en else "kaufte") + org2
        else:
            tagged = _plain("The weather in" if en else "Das Wetter in") + loc + _plain("was nice" if en else
                                                                                         "war schön")
        by_lang[lang] = tagged + [(".", "O")]
    return by_lang


def ner_item(rng: random.Random, slot: int) -> Parallel:
    sentence = ner_sentence(rng)
    return {lang: {"tokens": [w for w, _ in sentence[lang]], "tags": [t for _, t in sentence[lang]]}
            for lang in LANGUAGES}


# ------------------------------------------------------------------ plain sentences (retrieval, MLM)


def any_sentence(rng: random.Random) -> dict[str, str]:
    """One sentence in both languages from a random generator (parallel renderings of the same facts)."""
    roll = rng.random()
    if roll < 0.4:
        tagged = pos_sentence(rng)
        return {lang: detokenize([w for w, _ in tagged[lang]]) for lang in LANGUAGES}
    if roll < 0.6:
        tagged = ner_sentence(rng)
        return {lang: detokenize([w for w, _ in tagged[lang]]) for lang in LANGUAGES}
    if roll < 0.75:
        item = nli_item(rng, rng.randrange(3))
        return {lang: item[lang]["text"] for lang in LANGUAGES}
    if roll < 0.9:
        item = sentiment_item(rng, rng.randrange(2))
        return {lang: item[lang]["text"] for lang in LANGUAGES}
    event = rng.choice(EVENTS)
    person = rng.choice(sorted(FIRST_NAMES))
    return {lang: _render_event(event, "cause", person, lang) + " " + _render_event(event, "effect", person, lang)
            for lang in LANGUAGES}


def retrieval_item(rng: random.Random, slot: int) -> Parallel:
    return any_sentence(rng)


# ------------------------------------------------------------------ assembling splits

Generator = Callable[[random.Random, int], Parallel]


def _key(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _draw_unique(rng: random.Random, make: Generator, count: int, seen: set[str], key_lang: str = "en"
                 ) -> list[Parallel]:
    """``count`` items whose ``key_lang`` rendering was not drawn before (in any split), so no dev or test
    example repeats a training example. ``slot`` (the item's position) lets generators balance labels."""
    items: list[Parallel] = []
    attempts = 0
    while len(items) < count:
        attempts += 1
        if attempts > 50 * count + 1000:
            raise RuntimeError(f"{make.__name__} cannot draw {count} distinct items: the grammar is too small")
        item = make(rng, len(items))
        key = _key(item[key_lang])
        if key not in seen:
            seen.add(key)
            items.append(item)
    rng.shuffle(items)  # labels were drawn in a cycle; shuffle so files are not ordered by label
    return items


def _with_ids(split: str, examples: list[Example]) -> list[Example]:
    return [{"id": f"{split}-{index:04d}", **example} for index, example in enumerate(examples)]


def _parallel_task(seed: int, make: Generator) -> dict[tuple[str, str], list[Example]]:
    rng = random.Random(seed)
    seen: set[str] = set()
    files = {}
    for split, count in SIZES.items():
        items = _draw_unique(rng, make, count, seen)
        for lang in ("en",) if split == "train" else LANGUAGES:
            files[(split, lang)] = _with_ids(split, [item[lang] for item in items])
    return files


def _retrieval_task(seed: int) -> dict[tuple[str, str], list[Example]]:
    rng = random.Random(seed)
    seen: set[str] = set()
    files = {}
    for split in ("dev", "test"):
        count = SIZES[split]
        distractors = round(count * RETRIEVAL_DISTRACTORS)
        pairs = _draw_unique(rng, retrieval_item, count, seen)
        # German sources must be unique too, else a source would have two right targets.
        sources: set[str] = set()
        examples = []
        for index, pair in enumerate(pairs):
            duplicate = pair["de"] in sources
            sources.add(pair["de"])
            is_distractor = index < distractors or duplicate
            examples.append({"source": None if is_distractor else pair["de"], "target": pair["en"]})
        rng.shuffle(examples)
        files[(split, "de")] = _with_ids(split, examples)
    return files


def _mlm_task(seed: int) -> dict[tuple[str, str], list[Example]]:
    files = {}
    for offset, lang in enumerate(LANGUAGES):
        # One stream per language: the corpora describe different facts, they are not translations.
        rng = random.Random(seed + 1000 * (offset + 1))
        seen: set[str] = set()

        def make(rng: random.Random, slot: int, lang: str = lang) -> Parallel:
            return {lang: {"text": " ".join(any_sentence(rng)[lang] for _ in range(rng.randint(1, 3)))}}

        for split, count in MLM_SIZES.items():
            items = _draw_unique(rng, make, count, seen, key_lang=lang)
            files[(split, lang)] = _with_ids(split, [item[lang] for item in items])
    return files


# Fixed seeds, one per task: changing one changes that task's files (and so its fingerprint) only.
GENERATORS: dict[str, Callable[[], dict[tuple[str, str], list[Example]]]] = {
    "mock-nli": lambda: _parallel_task(11, nli_item),
    "mock-sentiment": lambda: _parallel_task(12, sentiment_item),
    "mock-choice": lambda: _parallel_task(13, choice_item),
    "mock-qa": lambda: _parallel_task(14, qa_item),
    "mock-pos": lambda: _parallel_task(15, pos_item),
    "mock-ner": lambda: _parallel_task(16, ner_item),
    "mock-retrieval": lambda: _retrieval_task(17),
    "mock-mlm": lambda: _mlm_task(18),
}


def generate(task_name: str) -> dict[tuple[str, str], list[Example]]:
    """All files of one mock task: (split, language) -> examples with ids."""
    return GENERATORS[task_name]()


from xstilts.tasks.generated import to_jsonl  # noqa: E402,F401  (re-exported: the files' format lives there)
