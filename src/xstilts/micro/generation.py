"""Generation items (XGLUE QG and NTG roles): a question from a passage and its answer; a title from a news text.

Question generation reuses the extractive-QA passages (``qa.qa_meaning``, always answerable; the builder in
``tasks`` renders them): the source is the marked answer and the passage, the target the question that the
answer answers. A value that a passage states twice (the same city as home and workplace) would make two
questions right, so the builder draws such passages again; a person's name recurs by design (full name, then
first name in the gift sentence) and stays (``asks_for_a_person``).

News title generation: a short news text of three or four sentences holds exactly one newsworthy event (a company
buys another or opens an office, a person founds a company, flies somewhere, meets someone, wins a race, visits a
city) among background facts about the people in it (home, job, age, employer, what they own). The title is
that event as a headline: present tense, no articles, no time, no starting point, the full name of a person the
event may only call "she" (named earlier in the text). The event sits anywhere in the text, and the headline is
never its words in order, so copying the first words of the text is a weak baseline; a model has to find the
event, resolve the pronoun and rewrite the clause.
"""

from __future__ import annotations

import random

from xstilts.micro.grammar import NP, PP, Adv, Clause, Sentence
from xstilts.micro.phrasing import (
    NAMES,
    atom_clause,
    city,
    company,
    full_name,
    person,
    pronoun,
    random_value,
    statement,
)
from xstilts.micro.world import CITIES, COMPANIES, YEARS, Atom

# ------------------------------------------------------------------ question generation


def asks_for_a_person(question: Sentence) -> bool:
    """Whether the question's answer is a person ("Who is a doctor?", "Who did Anna give a dog to?")."""
    clause = question.clauses[0]
    return (clause.subj.kind == "wh" and clause.subj.head == "who") or any(
        pp.np.kind == "wh" and pp.np.head == "who" for pp in clause.pps)


# ------------------------------------------------------------------ news title generation

NEWS_KINDS = ("acquire", "office", "found", "flight", "meeting", "race", "visit")
# Background facts about the person of the news: one of each kind at most (never two homes), and an age or a
# year of birth, never both (they could disagree).
_BACKGROUND = ("live", "job", "age", "own", "work_for")
_WHEN = (None, ("yesterday", "front"), ("yesterday", "end"), ("today", "end"))


def _when(rng: random.Random) -> tuple[Adv, ...]:
    choice = rng.choice(_WHEN)
    return () if choice is None else (Adv(*choice),)


def _event(kind: str, rng: random.Random, subject: NP, who: str) -> tuple[Clause, Clause]:
    """(the event as the text says it, the event as its headline). ``subject``: how the text names the person
    (full name or pronoun); ``who``: the full name the headline uses."""
    if kind in ("acquire", "office"):
        buyer, bought = rng.sample(COMPANIES, 2)
        if kind == "office":
            place = city(rng.choice(CITIES))
            return (Clause("open", company(buyer), obj=NP("office", det="a"), pps=(PP("in", place),), tense="past",
                           advs=_when(rng)),
                    Clause("open", company(buyer), obj=NP("office"), pps=(PP("in", place),)))
        headline = Clause("buy", company(buyer), obj=company(bought))
        if rng.random() < 0.4:  # "Globex was bought by Acme yesterday."
            return Clause("buy", company(bought), pps=(PP("by", company(buyer)),), tense="past", passive=True,
                          advs=_when(rng)), headline
        return Clause("buy", company(buyer), obj=company(bought), tense="past", advs=_when(rng)), headline
    named = person(who)
    if kind == "found":
        firm = company(rng.choice(COMPANIES))
        year = (PP("in", NP(str(rng.choice(YEARS)), kind="num")),) if rng.random() < 0.6 else ()
        return Clause("start", subject, obj=firm, pps=year, tense="past"), Clause("start", named, obj=firm)
    if kind == "flight":
        origin, destination = rng.sample(CITIES, 2)
        start = (PP("from", city(origin)),) if rng.random() < 0.6 else ()
        return (Clause("fly", subject, pps=(*start, PP("to", city(destination))), tense="past", advs=_when(rng)),
                Clause("fly", named, pps=(PP("to", city(destination)),)))
    if kind == "meeting":
        other = person(full_name(rng, rng.choice([n for n in NAMES if n != who.split()[0]])))
        place = (PP("in", city(rng.choice(CITIES))),)
        return (Clause("meet", subject, obj=other, pps=place, tense="past", advs=_when(rng)),
                Clause("meet", named, obj=other, pps=place))
    if kind == "race":
        contest = rng.choice(("race", "game"))
        return (Clause("win", subject, obj=NP(contest, det="the"), tense="past", advs=_when(rng)),
                Clause("win", named, obj=NP(contest)))
    place = city(rng.choice(CITIES))
    return Clause("visit", subject, obj=place, tense="past", advs=_when(rng)), Clause("visit", named, obj=place)


def news_meaning(rng: random.Random, slot: int) -> tuple[tuple[Sentence, ...], Sentence]:
    """(the news text, its headline). The kinds of news come in a cycle over ``slot``, so they are balanced."""
    kind = NEWS_KINDS[slot % len(NEWS_KINDS)]
    first = rng.choice(NAMES)
    who = full_name(rng, first)
    count = rng.randint(3, 4)
    at = rng.randrange(count)  # where the event is told
    kinds = [("born" if rel == "age" and rng.random() < 0.5 else rel) for rel in rng.sample(_BACKGROUND, count - 1)]
    facts = [Atom(rel, (first, random_value(rng, rel))) for rel in kinds]
    # The person is named in full at the first mention and called "she"/"he" after it. Company news does not
    # mention the person, so the first fact names them wherever it stands.
    person_event = kind not in ("acquire", "office")
    named_at = 0 if person_event else (1 if at == 0 else 0)
    text_subject = person(who) if at == named_at else pronoun(first)
    told, headline = _event(kind, rng, text_subject, who)
    sentences: list[Sentence] = []
    facts_left = iter(facts)
    for index in range(count):
        if index == at:
            sentences.append(statement(told))
            continue
        subject = person(who) if index == named_at else pronoun(first)
        sentences.append(statement(atom_clause(next(facts_left), rng.randrange(2), subject=subject)))
    return tuple(sentences), Sentence((headline,))
