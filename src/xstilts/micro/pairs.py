"""Sentence-pair items: NLI (MNLI/XNLI role) and paraphrase (QQP and PAWS-X roles).

An item is built once as meaning (facts, clauses) with its label, then rendered in every language asked for,
so parallel test sets say the same thing in each language.

NLI labels come from the small logic of ``world`` (entailment between facts, taxonomy, functional relations,
monotonicity under negation), never from the way a hypothesis was made, and every label mixes surface forms
so that no single cue decides it: negation appears in entailments ("Anna lives in Rome" => "Anna does not live
in Paris") and in neutral pairs, contradictions come without negation ("Anna lives in Paris"), and neutral
hypotheses share most of their words with the premise ("Ben lives in Rome").

Paraphrase pairs mix meaning-preserving rewordings (dative shift, passive, own/have, older/younger with the
roles swapped, symmetric "met", reordered coordinations and adverbs) with pairs that keep the words but
change who does what (PAWS-style swaps) and, for the QQP role, pairs that change a word.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from xstilts.micro.grammar import NP, PP, Adv, Clause, Sentence
from xstilts.micro.phrasing import (
    NAMES,
    VARIANTS,
    atom_clause,
    city,
    person,
    pronoun,
    random_atom,
    random_thing,
    random_value,
    statement,
    thing_np,
)
from xstilts.micro.world import (
    ANIMALS,
    CITIES,
    COLOURS,
    FUNCTIONAL,
    HYPERNYM,
    NLI_LABELS,
    SIZES,
    THING_RELATIONS,
    Atom,
    Thing,
    ambiguous,
    ancestors,
    nli_label,
)

Meaning = tuple[tuple[Sentence, ...], tuple[Sentence, ...], str]  # (text, text_pair, label)

# ------------------------------------------------------------------ NLI

_PREMISE_KINDS = ("live", "work_in", "work_for", "job", "age", "born", "own", "own", "give", "older")


def _premise_facts(rng: random.Random, people: list[str]) -> list[Atom]:
    """One or two consistent facts about the first two people (the third is never mentioned); short premises
    keep the task learnable by a tiny encoder in a few hundred steps."""
    count = rng.choice((1, 1, 2))
    facts: list[Atom] = []
    keys: set[tuple[str, str]] = set()
    while len(facts) < count:
        subject = people[0] if not facts else rng.choice(people[:2])
        other = people[1] if subject == people[0] else people[0]
        atom = random_atom(rng, subject, [other], _PREMISE_KINDS)
        # One value per functional relation and person; a comparison never sits next to ages or birth years.
        key = ("age" if atom.rel in ("age", "born", "older") else atom.rel, subject)
        ages = [f.rel for f in facts if f.rel in ("age", "born", "older")]
        if key in keys or (key[0] == "age" and ages and "older" in (atom.rel, *ages)):
            continue
        keys.add(key)
        facts.append(atom.negated() if rng.random() < 0.2 else atom)
    return facts


def _other_thing(rng: random.Random, thing: Thing, how: str) -> Thing:
    if how == "general":  # a hypernym and/or fewer adjectives
        noun = rng.choice(ancestors(thing.noun))
        adjs = tuple(a for a in thing.adjs if rng.random() < 0.5)
        return Thing(noun, adjs)
    if how == "special":  # one more adjective
        options = [a for a in (*SIZES, *COLOURS) if a not in thing.adjs]
        extra = rng.choice(options)
        adjs = (extra, *thing.adjs) if extra in SIZES else (*thing.adjs, extra)
        if any(a in SIZES for a in adjs) and sum(a in SIZES for a in adjs) > 1:
            adjs = tuple(a for a in adjs if a not in SIZES or a == extra)
        if sum(a in COLOURS for a in adjs) > 1:
            adjs = tuple(a for a in adjs if a not in COLOURS or a == extra)
        return Thing(thing.noun, tuple(sorted(adjs, key=lambda a: a not in SIZES)))
    # a sibling: another kind of the same parent ("a cat" for "a dog")
    parent = HYPERNYM.get(thing.noun)
    siblings = [n for n, p in sorted(HYPERNYM.items()) if p == parent and n != thing.noun] if parent else []
    return Thing(rng.choice(siblings) if siblings else random_thing(rng).noun, thing.adjs)


def _mutate(rng: random.Random, atom: Atom, people: list[str]) -> Atom:
    """A hypothesis near ``atom``; its label is decided afterwards by the logic."""
    rel, args = atom.rel, atom.args
    ops = ["same", "same", "negate", "person", "new"]
    if rel in FUNCTIONAL:
        ops += ["alt", "alt", "alt_neg", "alt_neg", "relation"]
    if rel in THING_RELATIONS:
        ops += ["general", "general", "special", "sibling", "flip_general", "flip_special"]
        if rel == "give":
            ops += ["recipient", "reverse"]
    if rel == "older":
        ops += ["reverse", "reverse", "reverse_neg"]
    op = rng.choice(ops)
    polarity = atom.positive
    if op == "same":
        return atom
    if op == "negate":
        return atom.negated()
    if op == "person":
        others = [p for p in people if p not in args]
        return Atom(rel, (rng.choice(others), *args[1:]), polarity)
    if op == "new":
        return random_atom(rng, args[0], [p for p in people if p != args[0]])
    if op in ("alt", "alt_neg"):
        value = random_value(rng, rel)
        while value == args[-1]:
            value = random_value(rng, rel)
        return Atom(rel, (*args[:-1], value), op == "alt")
    if op == "relation":
        swap = {"live": "work_in", "work_in": "live"}
        if rel in swap:
            return Atom(swap[rel], args, polarity)
        return random_atom(rng, args[0], [p for p in people if p != args[0]])
    if op in ("general", "special", "sibling"):
        return Atom(rel, (*args[:-1], _other_thing(rng, args[-1], op)), polarity)
    if op in ("flip_general", "flip_special"):
        thing = _other_thing(rng, args[-1], op.split("_")[1])
        return Atom(rel, (*args[:-1], thing), not polarity)
    if op == "recipient":
        others = [p for p in people if p not in args[:2]]
        return Atom(rel, (args[0], rng.choice(others), args[2]), polarity)
    if op == "reverse":
        return Atom(rel, (args[1], args[0], *args[2:]), polarity)
    return Atom(rel, (args[1], args[0], *args[2:]), not polarity)  # reverse_neg


def _facts_text(rng: random.Random, facts: list[Atom]) -> tuple[Sentence, ...]:
    clauses = []
    for index, fact in enumerate(facts):
        # "Anna lives in Rome and she owns a dog": a pronoun when the subject is the one just named
        repeated = index and fact.args[0] == facts[index - 1].args[0] and fact.rel not in ("older", "give")
        subject = pronoun(fact.args[0]) if repeated and rng.random() < 0.7 else None
        clauses.append(atom_clause(fact, rng.randrange(6), subject=subject))
    if len(clauses) == 1:
        return (statement(clauses[0]),)
    if rng.random() < 0.5:
        return tuple(statement(clause) for clause in clauses)
    return (statement(*clauses, link="and"),)


def nli_meaning(rng: random.Random, slot: int) -> Meaning:
    label = NLI_LABELS[slot % 3]
    while True:
        people = rng.sample(NAMES, 3)
        facts = _premise_facts(rng, people)
        for _ in range(60):
            hypothesis = _mutate(rng, rng.choice(facts), people)
            if ambiguous(facts, hypothesis) or nli_label(facts, hypothesis) != label:
                continue
            premise = _facts_text(rng, facts)
            variant = rng.randrange(6)
            if hypothesis in facts and len(facts) == 1:
                # the same fact: reworded where it can be, so that the pair is not a copy
                original = next(i for i in range(6) if atom_clause(facts[0], i) == premise[0].clauses[0])
                if VARIANTS.get(hypothesis.rel, 1) == 1:
                    continue
                variant = original + 1
            return premise, (statement(atom_clause(hypothesis, variant)),), label


# ------------------------------------------------------------------ paraphrase


def _two_people(rng: random.Random) -> tuple[str, str, str]:
    a, b, c = rng.sample(NAMES, 3)
    return a, b, c


# Every family below makes both kinds of pair (``same`` meaning or not) from the same construction, so the
# construction gives the label away neither in one sentence nor in the pair; only reading who does what does.
# ``lexical``: a QQP-style near miss (one word changed) instead of a PAWS-style swap of the same words.


def _give(rng: random.Random, same: bool, lexical: bool) -> tuple[Any, Any]:
    """"Anna gave Ben a dog" = "Anna gave a dog to Ben" = "A dog was given to Ben by Anna" != "Ben gave ..."."""
    a, b, c = _two_people(rng)
    thing = random_thing(rng)
    atom = Atom("give", (a, b, thing), rng.random() > 0.1)
    first = rng.randrange(3)
    if same:
        return atom_clause(atom, first), atom_clause(atom, rng.choice([v for v in range(3) if v != first]))
    if lexical:
        other = Atom("give", (a, c, thing) if rng.random() < 0.5 else (a, b, random_thing(rng)), atom.positive)
        if other == atom:
            other = Atom("give", (a, c, thing), atom.positive)
    else:
        other = Atom("give", (b, a, thing), atom.positive)
    return atom_clause(atom, first), atom_clause(other, rng.randrange(3))


def _older(rng: random.Random, same: bool, lexical: bool) -> tuple[Any, Any]:
    """"Anna is older than Ben" = "Ben is younger than Anna" != "Ben is older than Anna", "Anna is younger
    than Ben"."""
    a, b, c = _two_people(rng)
    atom = Atom("older", (a, b), rng.random() > 0.1)
    first = rng.randrange(2)
    if same:
        return atom_clause(atom, first), atom_clause(atom, 1 - first)
    if lexical:
        other = Atom("older", (a, c) if rng.random() < 0.5 else (c, b), atom.positive)
        return atom_clause(atom, first), atom_clause(other, rng.randrange(2))
    return atom_clause(atom, first), atom_clause(Atom("older", (b, a), atom.positive), rng.randrange(2))


def _own(rng: random.Random, same: bool, lexical: bool) -> tuple[Any, Any]:
    """"Anna owns a red car" = "Anna has a red car" != "Anna does not have a red car", "Ben has ..."."""
    a, b, c = _two_people(rng)
    atom = Atom("own", (a, random_thing(rng)), rng.random() > 0.15)
    first = rng.randrange(2)
    if same:
        return atom_clause(atom, first), atom_clause(atom, 1 - first)
    if lexical:
        other = Atom("own", (b, atom.args[1]) if rng.random() < 0.5 else (a, random_thing(rng)), atom.positive)
        other = other if other != atom else Atom("own", (b, atom.args[1]), atom.positive)
    else:
        other = atom.negated()
    return atom_clause(atom, first), atom_clause(other, rng.randrange(2))


def _animals(rng: random.Random, count: int = 2) -> list[NP]:
    nouns = rng.sample(ANIMALS, count)
    with_adjectives = rng.random() < 0.6
    adjs = rng.sample((*SIZES, *COLOURS), count) if with_adjectives else [""] * count
    return [NP(noun, det="the", adjs=(adj,) if adj else ()) for noun, adj in zip(nouns, adjs, strict=True)]


def _chase(rng: random.Random, same: bool, lexical: bool) -> tuple[Any, Any]:
    """"The dog chased the cat" = "The cat was chased by the dog" != "The cat chased the dog", "The small
    dog chased the big cat" (adjectives swapped)."""
    x, y, z = _animals(rng, 3)
    verb = rng.choice(("chase", "see", "find"))

    def say(agent: NP, patient: NP, passive: bool) -> Clause:
        if passive:
            return Clause(verb, patient, pps=(PP("by", agent),), tense="past", passive=True)
        return Clause(verb, agent, obj=patient, tense="past")

    voice = rng.random() < 0.5
    if same:
        return say(x, y, voice), say(x, y, not voice)
    if lexical:
        return say(x, y, voice), say(x, z, rng.random() < 0.5)
    if x.adjs and y.adjs and rng.random() < 0.4:
        from dataclasses import replace

        swapped = replace(x, adjs=y.adjs), replace(y, adjs=x.adjs)
        return say(x, y, voice), say(*swapped, rng.random() < 0.5)
    return say(x, y, voice), say(y, x, rng.random() < 0.5)


def _fly(rng: random.Random, same: bool, lexical: bool) -> tuple[Any, Any]:
    """"Anna flew from Rome to Oslo" = "Anna flew to Oslo from Rome" != "Anna flew from Oslo to Rome"."""
    a, _, _ = _two_people(rng)
    c1, c2, c3 = rng.sample(CITIES, 3)

    def say(origin: str, goal: str, goal_first: bool) -> Clause:
        pps = (PP("from", city(origin)), PP("to", city(goal)))
        return Clause("fly", person(a), pps=pps[::-1] if goal_first else pps, tense="past")

    order = rng.random() < 0.5
    if same:
        return say(c1, c2, order), say(c1, c2, not order)
    if lexical:
        return say(c1, c2, order), say(c1, c3, rng.random() < 0.5)
    return say(c1, c2, order), say(c2, c1, rng.random() < 0.5)


_SWAPPABLE = ("live", "work_in", "work_for", "job", "own")


def _two_facts(rng: random.Random, same: bool, lexical: bool) -> tuple[Any, Any]:
    """"Anna lives in Rome and Ben is a pilot" = "Ben is a pilot and Anna lives in Rome" != "Ben lives in Rome
    and Anna is a pilot" (the people swapped)."""
    a, b, c = _two_people(rng)
    first, second = random_atom(rng, a, [b], _SWAPPABLE), random_atom(rng, b, [a], _SWAPPABLE)
    while second.rel == first.rel and second.args[1] == first.args[1]:
        second = random_atom(rng, b, [a], _SWAPPABLE)
    v1, v2 = rng.randrange(2), rng.randrange(2)
    one, two = atom_clause(first, v1), atom_clause(second, v2)
    if same:
        return statement(one, two), statement(two, one)
    if lexical:
        changed = Atom(second.rel, (c, second.args[1]))
        other = (one, atom_clause(changed, v2))
    else:
        other = (atom_clause(Atom(first.rel, (b, first.args[1])), v1),
                 atom_clause(Atom(second.rel, (a, second.args[1])), v2))
    return statement(one, two), statement(*(other if rng.random() < 0.5 else other[::-1]))


def _meet(rng: random.Random, same: bool, lexical: bool) -> tuple[Any, Any]:
    """"Anna met Ben in Rome" = "Ben met Anna in Rome" = "Anna and Ben met in Rome" (met is symmetric)."""
    a, b, c = _two_people(rng)
    c1, c2 = rng.sample(CITIES, 2)

    def forms(x: str, y: str, where: str) -> list[Clause]:
        pps = (PP("in", city(where)),)
        return [Clause("meet", person(x), obj=person(y), pps=pps, tense="past"),
                Clause("meet", person(y), obj=person(x), pps=pps, tense="past"),
                Clause("meet", NP("", conj=(person(x), person(y))), pps=pps, tense="past")]

    if same:
        first, second = rng.sample(forms(a, b, c1), 2)
        return first, second
    other = forms(a, c, c1) if rng.random() < 0.5 else forms(a, b, c2)
    return rng.choice(forms(a, b, c1)), rng.choice(other)


def _coordination(rng: random.Random, same: bool, lexical: bool) -> tuple[Any, Any]:
    """"Anna and Ben live in Rome" = "Ben and Anna live in Rome" != "Anna and Tom live in Rome"."""
    a, b, c = _two_people(rng)
    rel = rng.choice(("live", "work_in", "work_for", "job", "own"))
    atom = Atom(rel, ("", random_value(rng, rel)))

    def say(x: str, y: str) -> Clause:
        subject = NP("", conj=(person(x), person(y)))
        if rel == "job":
            return Clause("be", subject, pred=NP(atom.args[1], plural=True))
        return atom_clause(atom, 0, subject=subject)

    if same:
        return say(a, b), say(b, a)
    return say(a, b), (say(*rng.sample((a, c), 2)) if rng.random() < 0.5 else say(c, b))


def _adverb(rng: random.Random, same: bool, lexical: bool) -> tuple[Any, Any]:
    """"Yesterday Anna visited Rome" = "Anna visited Rome yesterday" != "Anna visited Rome today"."""
    a, b, _ = _two_people(rng)
    obj = city(rng.choice(CITIES)) if rng.random() < 0.5 else person(b)
    verb = "visit" if obj.entity == "LOC" else "meet"
    place = rng.choice(("front", "end"))
    first = Clause(verb, person(a), obj=obj, advs=(Adv("yesterday", place),), tense="past")
    if same:
        other_place = "end" if place == "front" else "front"
        return first, Clause(verb, person(a), obj=obj, advs=(Adv("yesterday", other_place),), tense="past")
    return first, Clause(verb, person(a), obj=obj, advs=(Adv("today", rng.choice(("front", "end"))),),
                         tense="past")


def _questions(rng: random.Random, same: bool, lexical: bool) -> tuple[Any, Any]:
    """Question pairs (QQP): "Who gave Ben a dog?" = "Who gave a dog to Ben?" != "Who did Ben give a dog to?";
    "What does Anna own?" = "What does Anna have?" != "Where does Anna live?" / "... Ben own?"."""
    a, b, _ = _two_people(rng)
    who, what = NP("who", kind="wh"), NP("what", kind="wh")
    if rng.random() < 0.5:
        thing = thing_np(random_thing(rng))
        double = Clause("give", who, obj=thing, obj2=person(b), tense="past")
        dative = Clause("give", who, obj=thing, pps=(PP("to", person(b), arg=True),), tense="past")
        reverse = Clause("give", person(b), obj=thing, pps=(PP("to", who, arg=True),), tense="past")
        pair = (double, dative) if same else (rng.choice((double, dative)), reverse)
    else:
        own, have = Clause("own", person(a), obj=what), Clause("have", person(a), obj=what)
        if same:
            pair = (own, have)
        elif lexical:
            pair = (rng.choice((own, have)), Clause("own", person(b), obj=what))
        else:
            verb = rng.choice(("live", "work"))
            pair = (rng.choice((own, have)), Clause(verb, person(a), advs=(Adv("where"),)))
    return Sentence((pair[0],), question=True), Sentence((pair[1],), question=True)


_Family = Callable[[random.Random, bool, bool], tuple[Any, Any]]
_FAMILIES: dict[str, list[tuple[_Family, float]]] = {
    "paws": [(_give, 0.2), (_older, 0.15), (_chase, 0.15), (_fly, 0.1), (_two_facts, 0.15), (_meet, 0.08),
             (_coordination, 0.07), (_adverb, 0.05), (_own, 0.05)],
    "qqp": [(_give, 0.12), (_older, 0.1), (_chase, 0.08), (_fly, 0.06), (_two_facts, 0.12), (_meet, 0.06),
            (_coordination, 0.06), (_adverb, 0.05), (_own, 0.1), (_questions, 0.25)],
}
# Share of near misses that change a word rather than swap roles. PAWS-X's are half and half: a word change is
# learnt quickly, a swap only by reading who does what, so a tiny model sits clearly between chance and 100%.
_LEXICAL = {"paws": 0.5, "qqp": 0.5}
PAWS_LABELS = ("not_paraphrase", "paraphrase")
QQP_LABELS = ("not_duplicate", "duplicate")


def paraphrase_meaning(rng: random.Random, slot: int, style: str) -> Meaning:
    labels = PAWS_LABELS if style == "paws" else QQP_LABELS
    same = slot % 2 == 1
    table = _FAMILIES[style]
    family = rng.choices([f for f, _ in table], weights=[w for _, w in table])[0]
    first, second = family(rng, same, rng.random() < _LEXICAL[style])
    if rng.random() < 0.5:
        first, second = second, first

    def sentence(x: Clause | Sentence) -> Sentence:
        return x if isinstance(x, Sentence) else statement(x)

    return (sentence(first),), (sentence(second),), labels[int(same)]
