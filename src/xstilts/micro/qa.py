"""Extractive QA items (SQuAD 1.1 / 2.0 and XQuAD roles): a short text about two people and one question.

The answer is an NP of the text, marked in the tree (``NP.mark``), so its character span is known in every
language however the words are ordered. Questions need the text read with care: people come back as
pronouns ("She works for Acme"), both people have facts of the same kinds, the asked fact may be worded
differently from the question ("Anna has a dog" / "What does Anna own?"), and unanswerable questions ask for
a fact the text states about the *other* person, or in the other direction ("What did Ben give Anna?" when
Anna gave Ben something), or about someone never mentioned - the SQuAD 2.0 kind of plausible trap.
"""

from __future__ import annotations

import random

from xstilts.micro.grammar import AP, NP, PP, Adv, Clause, Sentence
from xstilts.micro.phrasing import (
    atom_clause,
    full_name,
    person,
    pronoun,
    random_thing,
    random_value,
    statement,
    thing_np,
)
from xstilts.micro.world import FIRST_NAMES, Atom, Thing

ANSWER = "answer"
_GENDERED = {g: tuple(sorted(n for n, x in FIRST_NAMES.items() if x == g)) for g in ("f", "m")}
_KINDS = ("live", "work", "job", "age", "own")


def _facts(rng: random.Random, people: list[str]) -> dict[str, list[Atom]]:
    """Two or three facts per person; values differ between the two people so every answer is unique."""
    facts: dict[str, list[Atom]] = {p: [] for p in people}
    used: dict[str, set] = {}
    for who in people:
        for kind in rng.sample(_KINDS, rng.randint(2, 3)):  # short contexts: cheap to train on
            rel = {"work": rng.choice(("work_in", "work_for")), "age": rng.choice(("age", "born"))}.get(kind, kind)
            value = random_value(rng, rel)
            while value in used.setdefault(rel, set()) or (rel == "own" and value.noun in used.get("nouns", ())):
                value = random_value(rng, rel)
            used[rel].add(value)
            if rel == "own":
                used.setdefault("nouns", set()).add(value.noun)
            facts[who].append(Atom(rel, (who, value)))
    return facts


def _question(kind: str, asked: str, other: str, thing: Thing | None, job: str) -> Clause:
    who = NP("who", kind="wh")
    if kind == "live":
        return Clause("live", person(asked), advs=(Adv("where"),))
    if kind == "work_in":
        return Clause("work", person(asked), advs=(Adv("where"),))
    if kind == "work_for":
        return Clause("work", person(asked), pps=(PP("for", NP("company", det="which"), arg=True),))
    if kind == "job":
        return Clause("be", who, pred=NP(job, det="a"))
    if kind == "age":
        return Clause("be", person(asked), pred=AP("old", wh=True))
    if kind == "born":
        return Clause("bear", person(asked), advs=(Adv("when"),), tense="past", passive=True)
    if kind == "own":
        return Clause("own", person(asked), obj=NP("what", kind="wh"))
    if kind == "give_what":  # What did Anna give Ben?
        return Clause("give", person(asked), obj=NP("what", kind="wh"), obj2=person(other), tense="past")
    assert thing is not None
    if kind == "give_who":  # Who gave Ben a dog?
        return Clause("give", who, obj=thing_np(thing), obj2=person(asked), tense="past")
    return Clause("give", person(asked), obj=thing_np(thing), pps=(PP("to", who, arg=True),), tense="past")


def qa_meaning(rng: random.Random, slot: int, negatives: bool) -> tuple[tuple[Sentence, ...], Sentence, bool]:
    """(context sentences, question, answerable). With ``negatives`` every third item is unanswerable."""
    answerable = not (negatives and slot % 3 == 0)
    genders = ["f", "m"]
    rng.shuffle(genders)
    # Different genders, so that "she" and "he" are never ambiguous.
    people = [rng.choice(_GENDERED[genders[0]]), rng.choice(_GENDERED[genders[1]])]
    stranger = rng.choice([n for n in FIRST_NAMES if n not in people])
    facts = _facts(rng, people)
    gift: Atom | None = None
    if rng.random() < 0.6:
        giver, recipient = rng.sample(people, 2)
        owned = {a.args[1].noun for fs in facts.values() for a in fs if a.rel == "own"}
        thing = random_thing(rng)
        while thing.noun in owned:
            thing = random_thing(rng)
        gift = Atom("give", (giver, recipient, thing))

    def has(who: str, rel: str) -> bool:
        return any(a.rel == rel for a in facts.get(who, ()))

    # What can be asked: (kind, about whom, the other person).
    # A gift's recipient owns it too, in a way: no "What does Ben own?" about the recipient.
    receiver = gift.args[1] if gift is not None else ""
    if answerable:
        options = [(a.rel, who) for who in people for a in facts[who] if not (a.rel == "own" and who == receiver)]
        if gift is not None:
            options += [("give_what", gift.args[0]), ("give_who", gift.args[1]), ("give_to", gift.args[0])]
    else:
        options = []
        for who in people:
            for rel in ("live", "work_in", "work_for", "age", "born", "own"):
                blocked = {"work_in": "work_for", "work_for": "work_in", "age": "born", "born": "age"}.get(rel)
                if not has(who, rel) and not (blocked and has(who, blocked)) and not (rel == "own" and who == receiver):
                    options.append((rel, who))
        options += [(rel, stranger) for rel in ("live", "work_for", "age", "own")]
        options.append(("job", ""))
        if gift is not None:  # the gift the other way round
            options += [("give_what", gift.args[1]), ("give_who", gift.args[0]), ("give_to", gift.args[1])]
    kind, asked = rng.choice(options)
    other = next((p for p in people if p != asked), people[0])
    jobs = [a.args[1] for fs in facts.values() for a in fs if a.rel == "job"]
    job = ""
    if kind == "job":
        if answerable:
            job = next(a.args[1] for a in facts[asked] if a.rel == "job")
        else:
            job = rng.choice([j for j in ("teacher", "doctor", "pilot", "nurse", "farmer") if j not in jobs])
    question = _question(kind, asked, other, gift.args[2] if gift else None, job)

    # The text: each person's facts (full name first, then a pronoun), then the gift.
    sentences: list[Sentence] = []
    order = people[:] if rng.random() < 0.5 else people[::-1]
    for who in order:
        mention = full_name(rng, who)
        for index, fact in enumerate(facts[who]):
            mark, role = "", "value"
            if answerable and fact.args[0] == asked and fact.rel == kind and kind != "job":
                mark = ANSWER
            subject = person(mention) if index == 0 else pronoun(who)
            if answerable and kind == "job" and who == asked and index == 0:
                mark, role = ANSWER, "subject"  # "Who is a doctor?" -> the person's full name
            clause = atom_clause(fact, rng.randrange(6), subject=subject, mark=mark, mark_role=role)
            sentences.append(statement(clause))
    if gift is not None:
        mark, role = "", "value"
        if answerable and kind == "give_what":
            mark = ANSWER
        elif answerable and kind in ("give_who", "give_to"):
            mark, role = ANSWER, "subject" if kind == "give_who" else "recipient"
        # double object or "to" (the passive would make "Who gave ...?" a matter of voice, not reading)
        sentences.append(statement(atom_clause(gift, rng.randrange(2), mark=mark, mark_role=role)))
    return tuple(sentences), Sentence((question,), question=True), answerable
