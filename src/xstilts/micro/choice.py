"""Multiple-choice items about causes and effects: COPA/XCOPA (2 choices), micro SocialIQa (3) and
HellaSwag/CosmosQA (4 choices).

Wrong choices are near misses, never unrelated sentences: the result of another action on the same object
("Anna dropped the glass" -> not "The glass was clean"), the right kind of result for another object ("The
cup broke"), or, in two-event stories, the result of the *other* event ("Anna dropped the glass and Ben washed
the plate. What happened to the plate?" -> not "The plate broke"). So a model must bind actions to objects
instead of matching words.
"""

from __future__ import annotations

import random

from xstilts.micro.grammar import NP, PP, Clause, Sentence
from xstilts.micro.phrasing import (
    NAMES,
    again,
    cause_clause,
    cause_question,
    effect_clause,
    effect_question,
    person,
    statement,
    the,
)
from xstilts.micro.world import ACTIONS, COLOURS, Action

# An event: (action, object, colour for "paint").
Event = tuple[Action, str, str]
_OBJECT_EFFECTS = ("verb", "neg_verb", "adj", "neg_adj")  # results about the object, not the person


def _event(rng: random.Random, actions: tuple[Action, ...] = ACTIONS) -> Event:
    action = rng.choice(actions)
    return action, rng.choice(action.objects), rng.choice(COLOURS)


def _actions_for(obj: str) -> list[Action]:
    return [action for action in ACTIONS if obj in action.objects]


def _effect(event: Event, agent: NP) -> Clause:
    return effect_clause(event[0], agent, event[1], event[2])


def _opposite(rng: random.Random, event: Event, agent: NP) -> Clause:
    action, obj, colour = event
    if action.effect[1] == "colour":  # painted red -> "the fence was blue"
        colour = rng.choice([c for c in COLOURS if c != colour])
    return effect_clause(action, agent, obj, colour, effect=action.opposite)


def _cause(event: Event, agent: NP) -> Clause:
    return cause_clause(event[0], agent, event[1], event[2])


def _pick(right: Clause, tiers: list[list[Clause]], count: int) -> list[Clause]:
    """``count`` distinct wrong choices, taken tier by tier (better near misses first)."""
    chosen: list[Clause] = []
    for tier in tiers:
        for clause in tier:
            if len(chosen) < count and clause != right and clause not in chosen:
                chosen.append(clause)
    return chosen


def _wrong_effects(rng: random.Random, event: Event, agent: NP, count: int) -> list[Clause]:
    action, obj, colour = event
    # the opposite result; another action's result on the same object; the result for another object
    opposite = [_opposite(rng, event, agent)]
    same_object = [_effect((a, obj, colour), agent) for a in _actions_for(obj) if a.verb != action.verb]
    other_object = [_effect((action, o, colour), agent) for o in action.objects if o != obj]
    for tier in (same_object, other_object):
        rng.shuffle(tier)
    tiers = [opposite, same_object, other_object] if rng.random() < 0.5 else [same_object, opposite, other_object]
    return _pick(_effect(event, agent), tiers, count)


def copa_meaning(rng: random.Random, slot: int, choices: int) -> tuple[tuple[Sentence, ...], list[Sentence], int]:
    """(context: premise and question, choices, index of the right one); one event, cause or effect asked."""
    label = slot % choices
    agent = person(rng.choice(NAMES))
    while True:
        event = _event(rng)
        action, obj, colour = event
        if rng.random() < 0.5:
            premise, right, question = _cause(event, agent), _effect(event, agent), effect_question()
            wrong = _wrong_effects(rng, event, agent, choices - 1)
        else:
            premise, right, question = _effect(event, agent), _cause(event, agent), cause_question()
            # Wrong causes act on the same object but do not lead to the premise ("The glass broke" - not
            # "Anna washed the glass"); other objects only fill up items of more than two choices.
            same_object = [(a, obj, colour) for a in _actions_for(obj) if a.verb != action.verb]
            other_object = [(action, o, colour) for o in action.objects if o != obj]
            rng.shuffle(same_object)
            rng.shuffle(other_object)
            tiers = [[_cause(e, agent) for e in events if _effect(e, agent) != premise]
                     for events in (same_object, other_object if choices > 2 else [])]
            wrong = _pick(right, tiers, choices - 1)
        if len(wrong) == choices - 1:
            break
    options = wrong[:label] + [right] + wrong[label:]
    return (statement(premise), question), [statement(c) for c in options], label


def story_meaning(rng: random.Random, slot: int) -> tuple[tuple[Sentence, ...], list[Sentence], int]:
    """Four choices. Half the items are ``copa_meaning`` items; the other half tell two events and ask what
    happened to the object of one of them; every choice is about that object."""
    if rng.random() < 0.5:
        return copa_meaning(rng, slot, 4)
    label = slot % 4
    object_actions = tuple(a for a in ACTIONS if a.effect[0] in _OBJECT_EFFECTS)
    while True:
        first, second = _event(rng, object_actions), _event(rng, object_actions)
        if first[1] == second[1] or first[0].verb == second[0].verb:
            continue
        a, b = rng.sample(NAMES, 2)
        agents = (person(a), person(b) if rng.random() < 0.6 else again(person(a)))
        asked, other = (first, second) if rng.random() < 0.5 else (second, first)
        agent = agents[0] if asked is first else agents[1]
        right = _effect(asked, agent)
        obj = asked[1]
        # the other event's action on the asked object first: it is what a careless reader would pick
        crossed = [_effect((other[0], obj, other[2]), agent)] if obj in other[0].objects else []
        same_object = [_effect((x, obj, asked[2]), agent) for x in _actions_for(obj) if x.verb != asked[0].verb]
        rng.shuffle(same_object)
        wrong = _pick(right, [crossed, [_opposite(rng, asked, agent)], same_object], 3)
        if len(wrong) == 3:
            break
    story = statement(_cause(first, agents[0]), _cause(second, agents[1]), link="and")
    question = Sentence((Clause("happen", NP("what", kind="wh"), pps=(PP("to", the(asked[1])),),
                                tense="past"),), question=True)
    options = wrong[:label] + [right] + wrong[label:]
    return (story, question), [statement(c) for c in options], label
