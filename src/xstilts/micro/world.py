"""The micro-benchmark's world: the English vocabulary, the named entities, a taxonomy, events with their
causes and effects, and facts (atoms) with the small logic that decides entailment between them.

Nothing here knows about syntax or about the synthetic languages: ``languages`` gives every lexeme a word in
each language and ``grammar`` puts words in order. Lexemes are keyed by an id that is the English lemma,
with a suffix where English spells two lexemes alike ("open" the verb, "open_adj" the adjective), so that
every synthetic language can give them different words, as real languages do.

Every table is a tuple or a dict that is only ever read in sorted or declared order, so generation does not
depend on hash seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

# ------------------------------------------------------------------ lexemes


@dataclass(frozen=True)
class Lexeme:
    id: str
    pos: str  # NOUN, VERB, ADJ, ADP, DET, PRON, ADV, PART, CCONJ, SCONJ, AUX; FUNC for synthetic-only words
    # English forms. NOUN: (singular, plural). VERB: (base, 3sg present, past, participle). ADJ: (positive,
    # comparative or ""). Others: (form,). Synthetic-only lexemes (case and question particles) have none.
    forms: tuple[str, ...]


def _table(pos: str, text: str, width: int) -> list[Lexeme]:
    """Rows of ``id form form ...``; a row with fewer forms than ``width`` repeats the id as the first form
    and derives nothing else (every irregularity is spelled out)."""
    lexemes = []
    for line in text.strip().splitlines():
        parts = line.split()
        ident, forms = parts[0], parts[1:]
        if len(forms) != width:
            raise ValueError(f"lexeme row {line!r} needs {width} forms")
        lexemes.append(Lexeme(ident, pos, tuple(forms)))
    return lexemes


_NOUNS = _table("NOUN", """
man man men
woman woman women
child child children
teacher teacher teachers
doctor doctor doctors
farmer farmer farmers
baker baker bakers
pilot pilot pilots
nurse nurse nurses
student student students
singer singer singers
lawyer lawyer lawyers
engineer engineer engineers
painter painter painters
dog dog dogs
cat cat cats
horse horse horses
cow cow cows
sheep sheep sheep
mouse mouse mice
rabbit rabbit rabbits
sparrow sparrow sparrows
eagle eagle eagles
owl owl owls
parrot parrot parrots
salmon salmon salmon
shark shark sharks
mammal mammal mammals
bird bird birds
fish fish fish
animal animal animals
car car cars
bike bike bikes
boat boat boats
bus bus buses
truck truck trucks
vehicle vehicle vehicles
guitar guitar guitars
piano piano pianos
violin violin violins
drum drum drums
instrument instrument instruments
apple apple apples
pear pear pears
banana banana bananas
plum plum plums
cherry cherry cherries
fruit fruit fruits
cup cup cups
glass glass glasses
plate plate plates
bottle bottle bottles
bowl bowl bowls
vase vase vases
book book books
letter letter letters
newspaper newspaper newspapers
lamp lamp lamps
candle candle candles
phone phone phones
key key keys
wallet wallet wallets
box box boxes
clock clock clocks
chair chair chairs
table table tables
bed bed beds
sofa sofa sofas
window window windows
door door doors
shirt shirt shirts
coat coat coats
hat hat hats
ball ball balls
plant plant plants
tree tree trees
flower flower flowers
garden garden gardens
kitchen kitchen kitchens
room room rooms
street street streets
park park parks
house house houses
office office offices
school school schools
station station stations
market market markets
bread bread breads
cake cake cakes
soup soup soups
milk milk milks
water water waters
tea tea teas
fence fence fences
race race races
game game games
year year years
company company companies
city city cities
cause cause causes
""", 2)

_VERBS = _table("VERB", """
be be is was been
have have has had had
do do does did done
own own owns owned owned
give give gives gave given
send send sends sent sent
show show shows showed shown
lend lend lends lent lent
sell sell sells sold sold
buy buy buys bought bought
bring bring brings brought brought
find find finds found found
lose lose loses lost lost
see see sees saw seen
like like likes liked liked
chase chase chases chased chased
feed feed feeds fed fed
wash wash washes washed washed
paint paint paints painted painted
read read reads read read
write write writes wrote written
drop drop drops dropped dropped
fill fill fills filled filled
open open opens opened opened
close close closes closed closed
repair repair repairs repaired repaired
water_v water waters watered watered
forget forget forgets forgot forgotten
light light lights lit lit
heat heat heats heated heated
meet meet meets met met
visit visit visits visited visited
live live lives lived lived
work work works worked worked
sleep sleep sleeps slept slept
play play plays played played
wait wait waits waited waited
run run runs ran run
fly fly flies flew flown
bear bear bears bore born
happen happen happens happened happened
grow grow grows grew grown
die die dies died died
break break breaks broke broken
eat eat eats ate eaten
drink drink drinks drank drunk
win win wins won won
walk walk walks walked walked
search search searches searched searched
start start starts started started
belong belong belongs belonged belonged
catch catch catches caught caught
""", 4)

_ADJECTIVES = _table("ADJ", """
red red -
blue blue -
green green -
black black -
white white -
yellow yellow -
brown brown -
grey grey -
big big bigger
small small smaller
tall tall taller
old old older
young young younger
new new -
happy happy -
sad sad -
tired tired -
hungry hungry -
angry angry -
wet wet -
dry dry -
hot hot -
cold cold -
dark dark -
bright bright -
clean clean -
dirty dirty -
full full -
empty empty -
open_adj open -
closed closed -
quiet quiet -
""", 2)

_FUNCTION = [
    *_table("DET", "the the\na a\nwhich which", 1),
    *_table("PRON", """
who who
what what
he he
him him
she she
her her
it it
they they
them them
this this
who_rel who
that_rel that
""", 1),
    *_table("ADV", """
where where
when when
why why
how how
yesterday yesterday
today today
often often
always always
then then
again again
now now
""", 1),
    *_table("ADP", """
in in
on on
under under
behind behind
near near
from from
to to
for for
with with
by by
than than
""", 1),
    *_table("CCONJ", "and and\nbut but", 1),
    *_table("SCONJ", "because because", 1),
    *_table("PART", "not not", 1),
    # Synthetic-only grammatical words: case particles and the question particle (English has none).
    Lexeme("ACC", "FUNC", ()),
    Lexeme("DAT", "FUNC", ()),
    Lexeme("Q", "FUNC", ()),
]

LEXEMES: dict[str, Lexeme] = {lexeme.id: lexeme for lexeme in (*_NOUNS, *_VERBS, *_ADJECTIVES, *_FUNCTION)}
if len(LEXEMES) != len(_NOUNS) + len(_VERBS) + len(_ADJECTIVES) + len(_FUNCTION):
    raise ValueError("two lexemes share an id")
# Closed-class words get short pseudo-words, as function words are short in real languages.
CLOSED_CLASS = frozenset(lex.id for lex in LEXEMES.values() if lex.pos not in ("NOUN", "VERB", "ADJ"))

# ------------------------------------------------------------------ taxonomy and semantic classes

HYPERNYM: dict[str, str] = {
    **dict.fromkeys(("dog", "cat", "horse", "cow", "sheep", "mouse", "rabbit"), "mammal"),
    **dict.fromkeys(("sparrow", "eagle", "owl", "parrot"), "bird"),
    **dict.fromkeys(("salmon", "shark"), "fish"),
    **dict.fromkeys(("mammal", "bird", "fish"), "animal"),
    **dict.fromkeys(("car", "bike", "boat", "bus", "truck"), "vehicle"),
    **dict.fromkeys(("guitar", "piano", "violin", "drum"), "instrument"),
    **dict.fromkeys(("apple", "pear", "banana", "plum", "cherry"), "fruit"),
}


def ancestors(noun: str) -> tuple[str, ...]:
    """The noun and everything above it: dog -> (dog, mammal, animal)."""
    chain = [noun]
    while chain[-1] in HYPERNYM:
        chain.append(HYPERNYM[chain[-1]])
    return tuple(chain)


def is_a(noun: str, ancestor: str) -> bool:
    return ancestor in ancestors(noun)


PROFESSIONS = ("teacher", "doctor", "farmer", "baker", "pilot", "nurse", "student", "singer", "lawyer",
               "engineer", "painter")
PEOPLE_NOUNS = ("man", "woman", "child", *PROFESSIONS)
PETS = ("dog", "cat", "horse", "rabbit", "parrot", "mouse")
ANIMALS = tuple(noun for noun in sorted(HYPERNYM) if is_a(noun, "animal") and noun not in ("mammal", "bird", "fish"))
# Things a person can own or give, with the adjectives that make sense for them.
OWNABLE = ("car", "bike", "boat", "truck", "guitar", "piano", "violin", "drum", "lamp", "phone", "clock", "chair",
           "table", "sofa", "hat", "coat", "book", "box", "key", "ball", *PETS)
COLOURS = ("red", "blue", "green", "black", "white", "yellow", "brown", "grey")
SIZES = ("big", "small")
PERSON_STATES = ("happy", "sad", "tired", "hungry", "angry", "wet")
# Where a thing can be put: (adposition, the nouns it can be under/behind/on/near).
SPOTS = (("under", ("table", "chair", "bed", "sofa", "tree")), ("behind", ("door", "sofa", "house", "tree", "fence")),
         ("on", ("table", "chair", "bed", "sofa")), ("near", ("window", "door", "tree", "station", "house")))

# ------------------------------------------------------------------ names (shared by every language)

FIRST_NAMES: dict[str, str] = {
    "Anna": "f", "Ben": "m", "Clara": "f", "David": "m", "Emma": "f", "Felix": "m", "Greta": "f", "Hugo": "m",
    "Ida": "f", "Jonas": "m", "Karin": "f", "Leo": "m", "Maria": "f", "Nils": "m", "Olga": "f", "Paul": "m",
    "Rosa": "f", "Simon": "m", "Tina": "f", "Viktor": "m", "Wanda": "f", "Oskar": "m", "Lena": "f", "Tom": "m",
    "Yara": "f", "Omar": "m", "Mei": "f", "Kofi": "m",
    # Also places or parts of company names below: only context tells the entity type.
    "Florence": "f", "Sydney": "f", "Georgia": "f", "Austin": "m", "Jordan": "m", "Lincoln": "m",
}
SURNAMES = ("Schmidt", "Weber", "Novak", "Garcia", "Rossi", "Lindqvist", "Kowalski", "Dubois", "Silva", "Jensen",
            "Tanaka", "Okafor", "Petrov", "Murphy", "Berg", "Hale", "Lopez", "Moreau")
CITIES = ("Paris", "Rome", "Berlin", "Madrid", "Vienna", "Oslo", "Lisbon", "Cairo", "Lima", "Tokyo", "Dublin",
          "Prague", "Athens", "Warsaw", "Nairobi", "Seoul", "New York", "Los Angeles", "Buenos Aires", "Cape Town",
          "Hong Kong", "San Diego", "Rio de Janeiro", "Tel Aviv", "Kuala Lumpur", "Mexico City",
          "Florence", "Sydney", "Georgia", "Austin", "Jordan", "Lincoln")
COMPANIES = ("Acme", "Globex", "Initech", "Vexa", "Orlo Bank", "Nordwind Air", "Blue River Foods", "Vexa Motors",
             "Stellar Labs", "Kappa Group", "Red Fern Books", "Polar Tech", "Green Leaf Energy", "Austin Motors",
             "Florence Bank", "Lincoln Press", "Sydney Air", "Jordan Steel")
YEARS = tuple(range(1950, 2011))
AGES = tuple(range(18, 91))

# ------------------------------------------------------------------ facts and their logic


@dataclass(frozen=True, order=True)
class Thing:
    """An indefinite description of an object or animal: "a big red car" = Thing("car", ("big", "red"))."""

    noun: str
    adjs: tuple[str, ...] = ()

    def covers(self, other: Thing) -> bool:
        """Whether every ``other`` is also a ``self``: "an animal" covers "a black dog"."""
        return is_a(other.noun, self.noun) and set(self.adjs) <= set(other.adjs)


@dataclass(frozen=True, order=True)
class Atom:
    """One fact with a polarity. Relations and their arguments (people are first names):

    live, work_in (person, city); work_for (person, company); job (person, profession); age (person, int);
    born (person, year); own (person, Thing); give (giver, recipient, Thing); older (person, person).
    A negative ``own``/``give`` atom says there is no such thing: "Anna does not own a dog" = no dog at all.
    """

    rel: str
    args: tuple
    positive: bool = True

    def negated(self) -> Atom:
        return Atom(self.rel, self.args, not self.positive)


# Relations whose last argument is a function of the others: one home city, one employer, one age ...
FUNCTIONAL = frozenset({"live", "work_in", "work_for", "job", "age", "born"})
THING_RELATIONS = frozenset({"own", "give"})


def entails(premise: Atom, hypothesis: Atom) -> bool:
    p, h = premise, hypothesis
    if p == h:
        return True
    if p.rel != h.rel:
        return False
    if p.rel in FUNCTIONAL:
        # Anna lives in Rome => Anna does not live in Paris.
        return p.positive and not h.positive and p.args[:-1] == h.args[:-1] and p.args[-1] != h.args[-1]
    if p.rel in THING_RELATIONS and p.args[:-1] == h.args[:-1] and p.positive == h.positive:
        # Upward in positive contexts (a black dog => an animal), downward under negation.
        return h.args[-1].covers(p.args[-1]) if p.positive else p.args[-1].covers(h.args[-1])
    if p.rel == "older":
        # Anna is older than Ben => Ben is not older than Anna.
        return p.positive and not h.positive and h.args == p.args[::-1]
    return False


def contradicts(premise: Atom, hypothesis: Atom) -> bool:
    p, h = premise, hypothesis
    if p.rel != h.rel:
        return False
    if p.args == h.args and p.positive != h.positive:
        return True
    if p.rel in FUNCTIONAL:
        return p.positive and h.positive and p.args[:-1] == h.args[:-1] and p.args[-1] != h.args[-1]
    if p.rel in THING_RELATIONS and p.args[:-1] == h.args[:-1] and p.positive != h.positive:
        # Anna owns a black dog / Anna does not own an animal; and the other way round.
        yes, no = (p, h) if p.positive else (h, p)
        return no.args[-1].covers(yes.args[-1])
    if p.rel == "older":
        return p.positive and h.positive and h.args == p.args[::-1]
    return False


def implied(premises: list[Atom] | tuple[Atom, ...]) -> list[Atom]:
    """The premises and the comparisons their ages or birth years imply (Anna is 40, Ben is 30: Anna is older
    than Ben; equal ages: neither is older)."""
    out = list(premises)
    for kind, sign in (("age", 1), ("born", -1)):  # older = more years, or born earlier
        known = sorted((a.args[0], a.args[1]) for a in premises if a.rel == kind and a.positive)
        for first, x in known:
            for second, y in known:
                if first != second and sign * (x - y) > 0:
                    out.append(Atom("older", (first, second)))
                elif first != second and x == y:
                    out.append(Atom("older", (first, second), False))
    return out


def ambiguous(premises: list[Atom] | tuple[Atom, ...], hypothesis: Atom) -> bool:
    """Hypotheses whose label hangs on world knowledge the logic leaves out, which generators skip: owning
    after a gift (was it kept?), an age next to a birth year (which year is it now?)."""
    h = hypothesis
    person = h.args[0]
    for p in premises:
        if h.rel == "own" and p.rel == "give" and person in p.args[:2]:
            return True
        if h.rel == "give" and p.rel == "own" and p.args[0] in h.args[:2]:
            return True
        if {h.rel, p.rel} == {"age", "born"} and p.args[0] == person:
            return True
    if h.rel == "older":
        # Decided by the premises only when both people have an age, or both a birth year (``implied``).
        known = {(p.rel, p.args[0]) for p in premises if p.rel in ("age", "born") and p.args[0] in h.args}
        decided = len({rel for rel, _ in known}) == 1 and len(known) == 2
        return bool(known) and not decided
    return False


NLI_LABELS = ("entailment", "neutral", "contradiction")


def nli_label(premises: list[Atom] | tuple[Atom, ...], hypothesis: Atom) -> str:
    """The label the facts decide. Premises are assumed consistent (generators never draw two values of a
    functional relation for one person)."""
    facts = implied(premises)
    if any(entails(p, hypothesis) for p in facts):
        return "entailment"
    if any(contradicts(p, hypothesis) for p in facts):
        return "contradiction"
    return "neutral"


# ------------------------------------------------------------------ events: causes and effects


@dataclass(frozen=True)
class Action:
    """Someone does ``verb`` to an object of ``objects`` (past tense); the usual result is ``effect``, and
    ``opposite`` is a result that does not follow (a near miss that mentions the same object).

    Effects are (kind, word): ("verb", "break") "the glass broke"; ("neg_verb", "break") "the glass did not
    break"; ("adj", "clean") "the glass was clean" (word "colour": the colour of the action); ("neg_adj",
    "hungry") "the dog was not hungry"; ("agent_adj", "happy") "Anna was happy"; ("neg_agent_adj", ...);
    ("not_own", "") "Anna did not have the car"; ("own", "") "Anna had the car"; ("search", "") "Anna
    searched for the key"; ("find", "") "Anna found the key". ``with_water``: "filled the cup with water".
    """

    verb: str
    objects: tuple[str, ...]
    effect: tuple[str, str]
    opposite: tuple[str, str]
    with_water: bool = False


ACTIONS = (
    Action("drop", ("glass", "cup", "plate", "vase", "bowl", "phone", "lamp", "clock"), ("verb", "break"),
           ("neg_verb", "break")),
    Action("wash", ("glass", "cup", "plate", "bowl", "shirt", "coat", "car", "dog", "window"), ("adj", "clean"),
           ("adj", "dirty")),
    Action("fill", ("glass", "cup", "bottle", "bowl", "vase"), ("adj", "full"), ("adj", "empty"), with_water=True),
    Action("open", ("window", "door", "box", "bottle"), ("adj", "open_adj"), ("adj", "closed")),
    Action("close", ("window", "door", "box"), ("adj", "closed"), ("adj", "open_adj")),
    Action("light", ("candle", "lamp"), ("adj", "bright"), ("adj", "dark")),
    Action("repair", ("car", "bike", "lamp", "phone", "clock", "truck"), ("verb", "work"), ("neg_verb", "work")),
    Action("water_v", ("plant", "tree", "flower", "garden"), ("verb", "grow"), ("verb", "die")),
    Action("forget", ("plant", "flower"), ("verb", "die"), ("verb", "grow")),
    Action("feed", ("dog", "cat", "horse", "rabbit", "parrot"), ("neg_adj", "hungry"), ("adj", "hungry")),
    Action("heat", ("soup", "milk", "water", "tea"), ("adj", "hot"), ("adj", "cold")),
    Action("sell", ("car", "bike", "boat", "piano", "truck"), ("not_own", ""), ("own", "")),
    Action("lose", ("key", "wallet", "phone", "hat"), ("search", ""), ("find", "")),
    Action("win", ("race", "game"), ("agent_adj", "happy"), ("agent_adj", "sad")),
    Action("eat", ("apple", "pear", "banana", "cake", "bread", "soup"), ("neg_agent_adj", "hungry"),
           ("agent_adj", "hungry")),
    Action("paint", ("fence", "door", "chair", "bike", "car", "box"), ("adj", "colour"), ("adj", "colour")),
)
# Causes with no object: "Anna ran in the park." -> "Anna was tired" (not: "Anna was not tired").
INTRANSITIVE_ACTIONS = (("run", ("agent_adj", "tired"), ("neg_agent_adj", "tired")),
                        ("walk", ("agent_adj", "tired"), ("neg_agent_adj", "tired")),
                        ("sleep", ("neg_agent_adj", "tired"), ("agent_adj", "tired")))
