"""From the world to syntax: random facts and events, and the clauses that say them.

Every function takes the ``random.Random`` it draws from, so a caller's seed fixes everything. Facts are
``world.Atom``s; ``atom_clause`` says one with a choice of wordings (``variant``) that keep its meaning -
the raw material of paraphrases ("Anna gave Ben a dog" / "Anna gave a dog to Ben" / "A dog was given to Ben
by Anna").
"""

from __future__ import annotations

import random

from xstilts.micro.grammar import AP, NP, PP, Adv, Clause, Rel, Sentence
from xstilts.micro.world import (
    ACTIONS,
    AGES,
    CITIES,
    COLOURS,
    COMPANIES,
    FIRST_NAMES,
    INTRANSITIVE_ACTIONS,
    OWNABLE,
    PEOPLE_NOUNS,
    PERSON_STATES,
    PETS,
    PROFESSIONS,
    SIZES,
    SPOTS,
    SURNAMES,
    YEARS,
    Action,
    Atom,
    Thing,
)

NAMES = tuple(sorted(FIRST_NAMES))

# ------------------------------------------------------------------ noun phrases


def person(name: str, mark: str = "") -> NP:
    return NP(name, kind="name", entity="PER", mark=mark)


def city(name: str, mark: str = "") -> NP:
    return NP(name, kind="name", entity="LOC", mark=mark)


def company(name: str, mark: str = "") -> NP:
    return NP(name, kind="name", entity="ORG", mark=mark)


def pronoun(name: str) -> NP:
    return NP("she" if FIRST_NAMES[name.split()[0]] == "f" else "he", kind="pron")


def again(np: NP) -> NP:
    """A second mention: a pronoun where English would use one ("Anna ... because she ...")."""
    if np.kind == "name" and np.entity == "PER":
        return pronoun(np.head)
    if np.conj or (np.kind == "noun" and np.plural):
        return NP("they", kind="pron")
    return np


def thing_np(thing: Thing, det: str = "a", mark: str = "") -> NP:
    return NP(thing.noun, det=det, adjs=thing.adjs, mark=mark)


def the(noun: str, *adjs: str, plural: bool = False) -> NP:
    return NP(noun, det="the", adjs=adjs, plural=plural)


def random_thing(rng: random.Random, nouns: tuple[str, ...] = OWNABLE) -> Thing:
    noun = rng.choice(nouns)
    adjs: tuple[str, ...] = ()
    roll = rng.random()
    if roll < 0.3:
        adjs = (rng.choice(COLOURS),)
    elif roll < 0.45:
        adjs = (rng.choice(SIZES),)
    elif roll < 0.6:
        adjs = (rng.choice(SIZES), rng.choice(COLOURS))  # size before colour, as English orders them
    return Thing(noun, adjs)


def full_name(rng: random.Random, first: str) -> str:
    return f"{first} {rng.choice(SURNAMES)}"


# ------------------------------------------------------------------ facts

FACT_KINDS = ("live", "work_in", "work_for", "job", "age", "born", "own", "give", "older")


def random_value(rng: random.Random, rel: str) -> object:
    if rel in ("live", "work_in"):
        return rng.choice(CITIES)
    if rel == "work_for":
        return rng.choice(COMPANIES)
    if rel == "job":
        return rng.choice(PROFESSIONS)
    if rel == "age":
        return rng.choice(AGES)
    if rel == "born":
        return rng.choice(YEARS)
    return random_thing(rng)


def random_atom(rng: random.Random, subject: str, others: list[str], kinds: tuple[str, ...] = FACT_KINDS) -> Atom:
    rel = rng.choice(kinds)
    if rel == "give":
        return Atom("give", (subject, rng.choice(others), random_thing(rng)))
    if rel == "older":
        return Atom("older", (subject, rng.choice(others)))
    return Atom(rel, (subject, random_value(rng, rel)))


# How many wordings each relation has (variant is taken modulo this).
VARIANTS = {"own": 2, "give": 3, "older": 2}


def atom_clause(atom: Atom, variant: int = 0, subject: NP | None = None, mark: str = "",
                mark_role: str = "value") -> Clause:
    """The clause that says ``atom``. ``subject`` replaces the first person's NP (a pronoun, a full name);
    ``mark`` marks the NP of ``mark_role`` (value, subject or recipient) for answer spans."""
    rel, args, neg = atom.rel, atom.args, not atom.positive
    who = subject or person(args[0])
    if mark and mark_role == "subject":
        who = _marked(who, mark)
    value_mark = mark if mark_role == "value" else ""
    if rel in ("live", "work_in"):
        verb = "live" if rel == "live" else "work"
        return Clause(verb, who, pps=(PP("in", city(args[1], value_mark), arg=True),), neg=neg)
    if rel == "work_for":
        return Clause("work", who, pps=(PP("for", company(args[1], value_mark), arg=True),), neg=neg)
    if rel == "job":
        return Clause("be", who, pred=NP(args[1], det="a", mark=value_mark), neg=neg)
    if rel == "age":
        years = NP("year", plural=True, count=args[1], mark=value_mark)
        return Clause("be", who, pred=AP("old", measure=years), neg=neg)
    if rel == "born":
        year = NP(str(args[1]), kind="num", mark=value_mark)
        return Clause("bear", who, pps=(PP("in", year),), tense="past", passive=True, neg=neg)
    if rel == "own":
        return Clause("own" if variant % 2 == 0 else "have", who, obj=thing_np(args[1], mark=value_mark), neg=neg)
    if rel == "give":
        recipient = person(args[1], mark if mark_role == "recipient" else "")
        gift = thing_np(args[2], mark=value_mark)
        form = variant % 3
        if form == 0:
            return Clause("give", who, obj=gift, obj2=recipient, tense="past", neg=neg)
        if form == 1:
            return Clause("give", who, obj=gift, pps=(PP("to", recipient, arg=True),), tense="past", neg=neg)
        return Clause("give", gift, pps=(PP("to", recipient, arg=True), PP("by", who)), tense="past",
                      passive=True, neg=neg)
    if rel == "older":
        first, second = who, person(args[1])
        if variant % 2 == 0:
            return Clause("be", first, pred=AP("old", "cmp", than=second), neg=neg)
        return Clause("be", second, pred=AP("young", "cmp", than=first), neg=neg)
    raise ValueError(f"no wording for relation {rel!r}")


def _marked(np: NP, mark: str) -> NP:
    from dataclasses import replace

    return replace(np, mark=mark)


def statement(*clauses: Clause, link: str = "and") -> Sentence:
    return Sentence(tuple(clauses), (link,) * (len(clauses) - 1))


# ------------------------------------------------------------------ events (cause and effect)


def cause_clause(action: Action, agent: NP, obj: str, colour: str = "", obj_np: NP | None = None) -> Clause:
    """"Anna dropped the glass." ``obj_np`` replaces "the glass" (a pronoun on a second mention)."""
    pps = (PP("with", NP("water")),) if action.with_water else ()
    pred = AP(colour) if action.effect[1] == "colour" else None
    return Clause(action.verb, agent, obj=obj_np or the(obj), pred=pred, pps=pps, tense="past")


def effect_clause(action: Action, agent: NP, obj: str, colour: str = "", obj_np: NP | None = None,
                  effect: tuple[str, str] | None = None) -> Clause:
    """"The glass broke." / "The glass was clean." / "Anna was happy." ... (``effect`` overrides the
    action's usual result, e.g. with its ``opposite``)."""
    kind, word = effect or action.effect
    thing = obj_np or the(obj)
    if kind in ("verb", "neg_verb"):
        advs = (Adv("again"),) if word == "work" and kind == "verb" else ()  # "worked again", "did not work"
        return Clause(word, thing, advs=advs, tense="past", neg=kind == "neg_verb")
    if kind in ("adj", "neg_adj"):
        return Clause("be", thing, pred=AP(colour if word == "colour" else word), tense="past",
                      neg=kind == "neg_adj")
    if kind in ("agent_adj", "neg_agent_adj"):
        return Clause("be", agent, pred=AP(word), tense="past", neg=kind == "neg_agent_adj")
    if kind in ("not_own", "own"):
        return Clause("have", agent, obj=thing, tense="past", neg=kind == "not_own")
    if kind == "search":
        return Clause("search", agent, pps=(PP("for", thing, arg=True),), tense="past")
    if kind == "find":
        return Clause("find", agent, obj=thing, tense="past")
    raise ValueError(f"unknown effect kind {kind!r}")


IT = NP("it", kind="pron")
# Results that mention only the object ("the glass broke") or only the person ("Anna was happy").
_OBJECT_EFFECT_KINDS = frozenset({"verb", "neg_verb", "adj", "neg_adj"})
_AGENT_EFFECT_KINDS = frozenset({"agent_adj", "neg_agent_adj"})


def intransitive_cause(verb: str, agent: NP) -> Clause:
    return Clause(verb, agent, pps=(PP("in", the("park")),), tense="past")


def intransitive_effect(effect: tuple[str, str], agent: NP) -> Clause:
    kind, word = effect
    return Clause("be", agent, pred=AP(word), tense="past", neg=kind.startswith("neg"))


def effect_question() -> Sentence:
    return Sentence((Clause("happen", NP("what", kind="wh"), advs=(Adv("then"),), tense="past"),), question=True)


def cause_question() -> Sentence:
    return Sentence((Clause("happen", NP("this", kind="pron"), advs=(Adv("why"),), tense="past"),), question=True)


# ------------------------------------------------------------------ sentences of every kind

_TIME = ("yesterday", "today", "now")
_FREQUENCY = ("often", "always")


def _subject(rng: random.Random) -> NP:
    """A person-like subject: a name, a full name, a pronoun or a described person."""
    roll = rng.random()
    if roll < 0.45:
        return person(rng.choice(NAMES))
    if roll < 0.6:
        return person(full_name(rng, rng.choice(NAMES)))
    if roll < 0.72:
        return NP(rng.choice(("he", "she", "they")), kind="pron")
    if roll < 0.82:
        a, b = rng.sample(NAMES, 2)
        return NP("", conj=(person(a), person(b)))
    noun = rng.choice(PEOPLE_NOUNS)
    plural = rng.random() < 0.25
    adjs = (rng.choice(("old", "young", "tall", "happy", "tired")),) if rng.random() < 0.3 else ()
    return NP(noun, det="the" if plural or rng.random() < 0.5 else "a", adjs=adjs, plural=plural)


def fact_sentence(rng: random.Random) -> Clause:
    a, b = rng.sample(NAMES, 2)
    atom = random_atom(rng, a, [b])
    if rng.random() < 0.2:
        atom = atom.negated()
    subject = _subject(rng) if atom.rel not in ("older", "give") and rng.random() < 0.5 else None
    clause = atom_clause(atom, rng.randrange(6), subject=subject)
    if subject is not None and subject.is_plural and atom.rel in ("job",):
        clause = Clause("be", subject, pred=NP(atom.args[1], plural=True), neg=clause.neg)
    return clause


def event_sentence(rng: random.Random) -> Sentence:
    agent = _subject(rng) if rng.random() < 0.4 else person(rng.choice(NAMES))
    if rng.random() < 0.15:
        verb, effect, _ = rng.choice(INTRANSITIVE_ACTIONS)
        cause, result = intransitive_cause(verb, agent), intransitive_effect(effect, agent)
    else:
        action = rng.choice(ACTIONS)
        obj, colour = rng.choice(action.objects), rng.choice(COLOURS)
        roll = rng.random()
        if roll < 0.35:
            return statement(cause_clause(action, agent, obj, colour))
        if roll < 0.6:
            return statement(effect_clause(action, agent, obj, colour))
        if roll < 0.8:  # "The glass broke because Anna dropped it." - pronouns only for what was mentioned
            kind = action.effect[0]
            agent_again = again(agent) if kind not in _OBJECT_EFFECT_KINDS else agent
            obj_again = IT if kind not in _AGENT_EFFECT_KINDS else None
            return statement(effect_clause(action, agent, obj, colour),
                             cause_clause(action, agent_again, obj, colour, obj_again), link="because")
        return statement(cause_clause(action, agent, obj, colour),
                         effect_clause(action, again(agent), obj, colour, IT), link="and")
    if rng.random() < 0.5:
        return statement(cause)
    return statement(result, intransitive_cause(verb, again(agent)), link="because")


def location_sentence(rng: random.Random) -> Clause:
    prep, spots = rng.choice(SPOTS)
    animal = the(rng.choice(PETS), *((rng.choice(COLOURS),) if rng.random() < 0.4 else ()))
    spot = the(rng.choice(spots))
    if rng.random() < 0.5:
        return Clause("be", animal, pred=PP(prep, spot), neg=rng.random() < 0.2)
    # "The cat under the table is black." / "The dog near the door sleeps."
    subject = NP(animal.head, det="the", mod=PP(prep, spot))
    if rng.random() < 0.5:
        return Clause("be", subject, pred=AP(rng.choice(COLOURS + PERSON_STATES)))
    return Clause(rng.choice(("sleep", "wait", "play")), subject, tense=rng.choice(("pres", "past")))


def relative_sentence(rng: random.Random) -> Clause:
    noun = rng.choice(PEOPLE_NOUNS)
    if rng.random() < 0.5:  # subject gap: "The teacher who lives in Rome owns a red car."
        inner = atom_clause(Atom(rng.choice(("live", "work_in")), ("", rng.choice(CITIES))),
                            subject=NP("", kind="gap"))
        head = NP(noun, det="the", mod=Rel(inner))
        return atom_clause(Atom("own", ("", random_thing(rng))), rng.randrange(2), subject=head)
    # object gap: "Anna sold the car that Ben bought."
    a, b = rng.sample(NAMES, 2)
    thing = random_thing(rng, ("car", "bike", "boat", "piano", "guitar", "lamp", "clock", "book", "hat"))
    inner = Clause(rng.choice(("buy", "find", "paint", "repair")), person(b), obj=NP("", kind="gap"),
                   tense="past")
    obj = NP(thing.noun, det="the", adjs=thing.adjs, mod=Rel(inner))
    return Clause(rng.choice(("sell", "wash", "lose", "see", "like")), person(a), obj=obj, tense="past")


def adverb_sentence(rng: random.Random) -> Clause:
    subject = _subject(rng)
    if rng.random() < 0.5:
        verb = rng.choice(("feed", "wash", "see", "chase", "like"))
        obj = the(rng.choice(PETS), plural=rng.random() < 0.3)
        return Clause(verb, subject, obj=obj, advs=(Adv(rng.choice(_FREQUENCY), "pre"),))
    adverb = Adv(rng.choice(_TIME), rng.choice(("front", "end")))
    verb = rng.choice(("meet", "visit", "see"))
    obj = person(rng.choice(NAMES)) if verb == "meet" else (
        city(rng.choice(CITIES)) if verb == "visit" else the(rng.choice(PETS)))
    return Clause(verb, subject, obj=obj, advs=(adverb,), tense="past" if adverb.word == "yesterday" else "pres")


def question_sentence(rng: random.Random) -> Sentence:
    a, b = rng.sample(NAMES, 2)
    return Sentence((question_clause(rng, a, b),), question=True)


def question_clause(rng: random.Random, a: str, b: str) -> Clause:
    """A question about a fact of ``a`` (``b``: a second person for questions that need one)."""
    kind = rng.choice(("live", "work_in", "work_for", "job", "age", "born", "own", "give_what", "give_who",
                       "give_to"))
    who = NP("who", kind="wh")
    if kind == "live":
        return Clause("live", person(a), advs=(Adv("where"),))
    if kind == "work_in":
        return Clause("work", person(a), advs=(Adv("where"),))
    if kind == "work_for":
        return Clause("work", person(a), pps=(PP("for", NP("company", det="which"), arg=True),))
    if kind == "job":
        return Clause("be", who, pred=NP(rng.choice(PROFESSIONS), det="a"))
    if kind == "age":
        return Clause("be", person(a), pred=AP("old", wh=True))
    if kind == "born":
        return Clause("bear", person(a), advs=(Adv("when"),), tense="past", passive=True)
    if kind == "own":
        return Clause("own", person(a), obj=NP("what", kind="wh"))
    if kind == "give_what":
        return Clause("give", person(a), obj=NP("what", kind="wh"), obj2=person(b), tense="past")
    thing = thing_np(random_thing(rng))
    if kind == "give_who":
        return Clause("give", who, obj=thing, obj2=person(b), tense="past")
    return Clause("give", person(a), obj=thing, pps=(PP("to", who, arg=True),), tense="past")


def entity_sentence(rng: random.Random) -> Sentence:
    """Sentences dense in names (for NER): people, places and companies, often multi-word."""

    def someone() -> NP:
        first = rng.choice(NAMES)
        return person(full_name(rng, first) if rng.random() < 0.5 else first)

    form = rng.randrange(10)
    c1, c2 = rng.sample(CITIES, 2)
    o1, o2 = rng.sample(COMPANIES, 2)
    year = NP(str(rng.choice(YEARS)), kind="num")
    if form == 0:
        clause = Clause("work", someone(), pps=(PP("for", company(o1), arg=True), PP("in", city(c1))))
    elif form == 1:
        clause = Clause("live", someone(), pps=(PP("in", city(c1), arg=True),), tense=rng.choice(("pres", "past")))
    elif form == 2:
        clause = Clause("meet", someone(), obj=someone(), pps=(PP("in", city(c1)),), tense="past")
    elif form == 3:
        clause = Clause("open", company(o1), obj=NP("office", det="a"), pps=(PP("in", city(c1)),), tense="past")
    elif form == 4:
        clause = Clause("fly", someone(), pps=(PP("from", city(c1)), PP("to", city(c2))), tense="past",
                        advs=(Adv("yesterday", rng.choice(("front", "end"))),) if rng.random() < 0.5 else ())
    elif form == 5:
        clause = Clause("visit", NP("", conj=(someone(), someone())), obj=city(c1), tense="past")
    elif form == 6:
        clause = Clause("start", someone(), obj=company(o1), pps=(PP("in", year),), tense="past")
    elif form == 7:
        clause = Clause("buy", company(o1), obj=company(o2), tense="past")
    elif form == 8:
        clause = Clause("bear", someone(), pps=(PP("in", city(c1)),), tense="past", passive=True)
    else:  # no entity at all, and a capitalised common word first
        return event_sentence(rng)
    return Sentence((clause,))


def any_sentence(rng: random.Random) -> Sentence:
    """A sentence of any construction the grammar has (POS, CCG, retrieval and the MLM corpora)."""
    roll = rng.random()
    if roll < 0.3:
        return Sentence((fact_sentence(rng),))
    if roll < 0.4:
        return statement(fact_sentence(rng), fact_sentence(rng), link=rng.choice(("and", "but")))
    if roll < 0.55:
        return event_sentence(rng)
    if roll < 0.65:
        return question_sentence(rng)
    if roll < 0.73:
        return Sentence((location_sentence(rng),))
    if roll < 0.81:
        return Sentence((relative_sentence(rng),))
    if roll < 0.91:
        return entity_sentence(rng)
    return Sentence((adverb_sentence(rng),))

