"""Syntax: language-independent clause structures and their rendering, with annotations, in any language.

A sentence is built once as a tree (``Sentence`` of ``Clause`` with ``NP``/``PP``/``AP``/``Adv`` parts) and
rendered in each language by ``realize``, which orders the words by the language's parameters (word order,
adjective and adposition order, case particles, articles, question syntax) and inflects them. Every word
comes out as a token annotated *while it is placed* - never recovered afterwards - with

- its universal part of speech (UPOS),
- its named-entity tag (IOB2: PER, LOC, ORG; only names carry one),
- its CCG supertag (English only: categories in the style of CCGbank, e.g. ``(S[dcl]\\NP)/NP``),
- a mark (a string) inherited from the NP it belongs to, which locates answer spans for QA.

So tags and answer spans line up with the words in every language however the words are reordered.
"""

from __future__ import annotations

from dataclasses import dataclass

from xstilts.micro.languages import Language
from xstilts.micro.world import PEOPLE_NOUNS

# (form, upos, ner, ccg, mark); ccg is "" outside English, mark is "" unless the word's NP is marked.
Tok = tuple[str, str, str, str, str]

# ------------------------------------------------------------------ structures


@dataclass(frozen=True, slots=True)
class NP:
    """A noun phrase. ``kind``: noun (a lexeme), name (a literal name, never translated), num (digits),
    pron (a nominative pronoun lexeme: he, she, it, they, this), wh (who, what) or gap (the missing NP of a
    relative clause). A noun with ``det="which"`` is a question phrase too."""

    head: str
    kind: str = "noun"
    det: str = ""  # "the", "a", "which" or none
    plural: bool = False
    adjs: tuple[str, ...] = ()
    count: int | None = None  # a numeral in digits: "3 dogs"
    entity: str = ""  # PER, LOC or ORG for names
    mod: PP | Rel | None = None  # post-nominal in English: "the cat under the table", "the man who ..."
    conj: tuple[NP, ...] = ()  # coordination ("Anna and Ben"); head is ignored
    mark: str = ""

    @property
    def is_wh(self) -> bool:
        return self.kind == "wh" or self.det == "which"

    @property
    def is_plural(self) -> bool:
        return self.plural or bool(self.conj) or (self.kind == "pron" and self.head == "they")


@dataclass(frozen=True, slots=True)
class PP:
    prep: str
    np: NP
    arg: bool = False  # an argument of the verb ("lives in Rome": CCG PP) rather than a modifier


@dataclass(frozen=True, slots=True)
class AP:
    """A predicative adjective phrase: "happy", "older than Ben", "34 years old", "how old"."""

    adj: str
    degree: str = "pos"  # "pos" or "cmp"
    than: NP | None = None
    measure: NP | None = None
    wh: bool = False  # "how old"


@dataclass(frozen=True, slots=True)
class Adv:
    word: str  # an adverb lexeme, or the question adverbs where/when/why
    place: str = "end"  # front (sentence-initial), pre (before the verb) or end

    @property
    def is_wh(self) -> bool:
        return self.word in ("where", "when", "why")


@dataclass(frozen=True, slots=True)
class Rel:
    clause: Clause  # its subject or object is NP("", kind="gap")


@dataclass(frozen=True, slots=True)
class Clause:
    verb: str  # a verb lexeme; "be" for the copula
    subj: NP
    obj: NP | None = None
    obj2: NP | None = None  # the first object of a double-object verb: "gave [Ben] the dog"
    pred: NP | AP | PP | None = None  # copula complement, or a resultative ("painted the fence [red]")
    pps: tuple[PP, ...] = ()
    advs: tuple[Adv, ...] = ()
    tense: str = "pres"  # "pres" or "past"
    neg: bool = False
    passive: bool = False


@dataclass(frozen=True, slots=True)
class Sentence:
    clauses: tuple[Clause, ...]
    links: tuple[str, ...] = ()  # the conjunction before each clause after the first: and, but, because
    question: bool = False


# Object forms of pronouns in languages without case particles (English: he -> him).
_OBJECT_PRONOUN = {"he": "him", "she": "her", "they": "them", "it": "it", "this": "this"}
_AN = frozenset("aeio")  # "an" before these letters; the vocabulary has no "a u..." exception to worry about


def _cx(category: str) -> str:
    """Parenthesise a complex category used as an argument or result."""
    return f"({category})" if ("/" in category or "\\" in category) else category


# ------------------------------------------------------------------ rendering


class _Renderer:
    def __init__(self, lang: Language):
        self.lang = lang
        self.en = lang.is_english

    def word(self, lexeme: str, upos: str, ccg: str = "", feature: str = "", mark: str = "") -> Tok:
        return (self.lang.form(lexeme, feature), upos, "O", ccg if self.en else "", mark)

    # ----- noun phrases

    def np(self, np: NP, case: str = "nom", wh_cat: str = "") -> list[Tok]:
        """``case``: nom, acc, dat (case particles follow acc and dat NPs) or obl (inside a PP)."""
        lang, kind = self.lang, np.kind
        if kind == "gap":
            return []
        if np.conj:
            toks: list[Tok] = []
            for index, part in enumerate(np.conj):
                if index:
                    toks.append(self.word("and", "CCONJ", "conj"))
                toks += self.np(part, "obl")
        elif kind == "name":
            parts = np.head.split()
            last = len(parts) - 1
            toks = [
                (lang.name(part), "PROPN", (("B-" if i == 0 else "I-") + np.entity) if np.entity else "O",
                 ("N" if i == last else "N/N") if self.en else "", "")
                for i, part in enumerate(parts)
            ]
        elif kind == "num":
            toks = [(np.head, "NUM", "O", "N" if self.en else "", "")]
        elif kind == "pron":
            lemma = np.head
            if case != "nom" and not lang.case_particles:
                lemma = _OBJECT_PRONOUN[lemma]
            toks = [self.word(lemma, "PRON", "NP")]
        elif kind == "wh":
            toks = [self.word(np.head, "PRON", wh_cat)]
        else:
            toks = self._noun_phrase(np, wh_cat)
        if np.mark:
            toks = [(*tok[:4], np.mark) for tok in toks]
        if lang.case_particles and case in ("acc", "dat"):
            toks.append(self.word("ACC" if case == "acc" else "DAT", "ADP"))
        return toks

    def _noun_phrase(self, np: NP, wh_cat: str) -> list[Tok]:
        lang = self.lang
        plural = np.plural
        toks: list[Tok] = []
        if np.det == "which":
            toks.append(self.word("which", "DET", f"{_cx(wh_cat)}/N"))
        elif np.det and lang.articles:
            toks.append(self.word(np.det, "DET", "NP[nb]/N"))
        if np.count is not None:
            toks.append((str(np.count), "NUM", "O", "N/N" if self.en else "", ""))
        agree = ".pl" if plural and lang.rich_agreement else ""
        adjs = [self.word(adj, "ADJ", "N/N", "pos" + agree) for adj in np.adjs]
        noun = self.word(np.head, "NOUN", "N", "pl" if plural else "sg")
        if lang.adjective_after_noun:
            toks += [noun, *adjs]
        else:
            toks += [*adjs, noun]
        if self.en and np.det == "a" and toks[1][0][0] in _AN:
            toks[0] = ("an", *toks[0][1:])
        if np.mod is not None:
            modifier = self._modifier(np.mod, np.head in PEOPLE_NOUNS)
            # Verb-final languages put modifiers before the noun (as Japanese, Turkish and Korean do).
            toks = modifier + toks if lang.word_order == "SOV" else toks + modifier
        return toks

    def _modifier(self, mod: PP | Rel, person: bool) -> list[Tok]:
        if isinstance(mod, PP):
            return self.pp(mod, "(NP\\NP)/NP")
        gap_is_subject = mod.clause.subj.kind == "gap"
        # "the man who lives in Rome", "the dog that chased the cat", "the car that Anna bought"
        lexeme = "who_rel" if gap_is_subject and person else "that_rel"
        category = "(NP\\NP)/(S[dcl]\\NP)" if gap_is_subject else "(NP\\NP)/(S[dcl]/NP)"
        pronoun = self.word(lexeme, "PRON", category)
        body = self.clause(mod.clause)
        return [*body, pronoun] if self.lang.word_order == "SOV" else [pronoun, *body]

    def pp_parts(self, pp: PP, prep_cat: str = "", wh_cat: str = "") -> tuple[Tok, list[Tok]]:
        if not prep_cat:
            prep_cat = "PP/NP" if pp.arg else "((S\\NP)\\(S\\NP))/NP"
        return self.word(pp.prep, "ADP", prep_cat), self.np(pp.np, "obl", wh_cat)

    def pp(self, pp: PP, prep_cat: str = "", wh_cat: str = "") -> list[Tok]:
        prep, obj = self.pp_parts(pp, prep_cat, wh_cat)
        return [*obj, prep] if self.lang.postpositions else [prep, *obj]

    # ----- predicates

    def ap(self, ap: AP, feature_plural: bool) -> list[Tok]:
        agree = ".pl" if feature_plural and self.lang.rich_agreement else ""
        if ap.degree == "cmp":
            adj = self.word(ap.adj, "ADJ", "(S[adj]\\NP)/PP", "cmp" + agree)
            than = self.pp(PP("than", ap.than, arg=True)) if ap.than is not None else []
            # "older than Ben"; postpositional languages put the standard first ("Ben than older").
            return [*than, adj] if self.lang.postpositions else [adj, *than]
        if ap.measure is not None:
            measure = self.np(ap.measure, "obl")
            return [*measure, self.word(ap.adj, "ADJ", "(S[adj]\\NP)\\NP", "pos" + agree)]
        if ap.wh:
            how = self.word("how", "ADV", "(S[wq]/(S[q]/(S[adj]\\NP)))/(S[adj]\\NP)")
            return [how, self.word(ap.adj, "ADJ", "S[adj]\\NP", "pos" + agree)]
        return [self.word(ap.adj, "ADJ", "S[adj]\\NP", "pos" + agree)]

    def pred(self, pred: NP | AP | PP, plural: bool, wh_cat: str) -> list[Tok]:
        if isinstance(pred, AP):
            return self.ap(pred, plural)
        if isinstance(pred, PP):
            return self.pp(PP(pred.prep, pred.np, arg=True))
        return self.np(pred, "nom", wh_cat)

    # ----- clauses

    def clause(self, c: Clause, main: bool = False) -> list[Tok]:
        """One clause. In a ``main`` question, English-style languages front the question words and invert
        the auxiliary; other languages leave them in place."""
        lang = self.lang
        plural = c.subj.is_plural
        finite = f"{c.tense}.{'pl' if plural else 'sg'}"
        wh = _wh_part(c)
        fronted = main and lang.wh_fronting and wh not in ("", "subj")
        mood = "q" if fronted else "dcl"
        wh_object = "S[wq]/(S[q]/NP)"
        fronted_toks: list[Tok] = []

        # Complements in English order, as (role, CCG argument category, tokens).
        complements: list[tuple[str, str, list[Tok]]] = []
        if c.obj2 is not None:
            complements.append(("obj", "NP", self.np(c.obj2, "dat", wh_object)))
        if c.obj is not None:
            complements.append(("obj", "NP", self.np(c.obj, "acc", wh_object)))
        if c.pred is not None:
            category = "S[adj]\\NP" if isinstance(c.pred, AP) else ("PP" if isinstance(c.pred, PP) else "NP")
            complements.append(("pred", category, self.pred(c.pred, plural, wh_object)))
        if fronted and wh in ("obj", "obj2", "pred"):
            role_index = {"obj2": 0, "obj": 1 if c.obj2 is not None else 0}.get(wh, len(complements) - 1)
            role, category, fronted_toks = complements[role_index]
            complements[role_index] = (role, category, [])
        adjuncts: list[Tok] = []
        for index, pp in enumerate(c.pps):
            is_wh = wh == f"pp{index}"
            prep, obj = self.pp_parts(pp, wh_cat=wh_object if is_wh else "")
            if fronted and is_wh:  # the preposition is stranded: "Which company does Anna work for?"
                fronted_toks, toks = obj, [prep]
            else:
                toks = [*obj, prep] if lang.postpositions else [prep, *obj]
            if pp.arg:
                complements.append(("pp", "PP", toks))
            else:
                adjuncts += toks
        front = [self.word(a.word, "ADV", "S/S") for a in c.advs if a.place == "front"]
        pre = [self.word(a.word, "ADV", "(S\\NP)/(S\\NP)") for a in c.advs if a.place == "pre"]
        end: list[Tok] = []
        for adv in c.advs:
            if adv.place == "end":
                if fronted and adv.is_wh:
                    fronted_toks = [self.word(adv.word, "ADV", "S[wq]/S[q]")]
                else:
                    end.append(self.word(adv.word, "ADV", "(S\\NP)\\(S\\NP)"))
        subject = self.np(c.subj, "nom", "S[wq]/(S[dcl]\\NP)")
        negation = [self.word("not", "PART", "(S\\NP)\\(S\\NP)")] if c.neg else []
        copula = c.verb == "be" and not c.passive
        verb_group = self.verb_group(c, finite, mood, fronted, copula, complements)
        if lang.wh_fronting:
            # English-style: S (aux) (not) V complements adjuncts; a question fronts its wh part and inverts.
            verb_group = verb_group[:1] + negation + verb_group[1:]
            rest = [tok for _, _, toks in complements for tok in toks] + adjuncts + end
            if fronted:
                return front + fronted_toks + verb_group[:1] + subject + pre + verb_group[1:] + rest
            return front + subject + pre + verb_group + rest
        # Other languages keep wh words in place and order the parts by the word order.
        verb_group = negation + verb_group
        objects = [tok for role, _, toks in complements if role == "obj" for tok in toks]
        preds = [tok for role, _, toks in complements if role == "pred" for tok in toks]
        pps = [tok for role, _, toks in complements if role == "pp" for tok in toks] + adjuncts
        if lang.word_order == "SOV":
            return front + subject + end + objects + pps + preds + pre + verb_group
        if lang.word_order == "VSO":
            return front + pre + verb_group + subject + objects + preds + pps + end
        return front + subject + pre + verb_group + objects + preds + pps + end

    def verb_group(self, c: Clause, finite: str, mood: str, fronted: bool, copula: bool,
                   complements: list[tuple[str, str, list[Tok]]]) -> list[Tok]:
        """Auxiliary (if any) first, then the main verb; negation is placed by the caller."""
        lang = self.lang
        aux: Tok | None = None
        if c.passive:
            aux_feature, main_feature = "pss", "part"
            aux = self.word("be", "AUX", "", finite)
        elif lang.wh_fronting and (c.neg or fronted) and not copula:  # do-support
            aux_feature, main_feature = "b", "base"
            aux = self.word("do", "AUX", "", finite)
        else:
            aux_feature, main_feature = mood, finite
        category = ""
        if self.en:
            if copula:  # the copula is its own auxiliary: it takes the predicate
                category = _aux_category(mood, complements[0][1] if complements else "NP")
            else:
                category = f"S[{aux_feature}]\\NP"
                for _, argument, _ in reversed(complements):
                    category = f"({category})/{_cx(argument)}"
                if aux is not None:
                    aux = (*aux[:3], _aux_category(mood, f"S[{aux_feature}]\\NP"), "")
        main = self.word(c.verb, "AUX" if copula else "VERB", category, main_feature)
        if aux is None:
            return [main]
        # Verb-final languages put the auxiliary after the participle (as Hindi and Japanese do).
        return [main, aux] if lang.word_order == "SOV" and not lang.wh_fronting else [aux, main]

    def sentence(self, s: Sentence) -> list[Tok]:
        toks: list[Tok] = []
        for index, c in enumerate(s.clauses):
            if index:
                link = s.links[index - 1]
                if link == "but":
                    toks.append((",", "PUNCT", "O", "," if self.en else "", ""))
                upos, category = ("SCONJ", "((S\\NP)\\(S\\NP))/S[dcl]") if link == "because" else ("CCONJ", "conj")
                toks.append(self.word(link, upos, category))
            toks += self.clause(c, main=s.question and index == 0)
        if s.question and self.lang.question_particle:
            toks.append(self.word("Q", "PART"))
        toks.append(("?" if s.question else ".", "PUNCT", "O", "." if self.en else "", ""))
        first = toks[0]
        if first[1] not in ("PROPN", "NUM"):
            toks[0] = (self.lang.capitalize(first[0]), *first[1:])
        return toks


def _aux_category(mood: str, complement: str) -> str:
    """An auxiliary (or the copula) taking ``complement``: declarative (S[dcl]\\NP)/X, inverted (S[q]/X)/NP."""
    if mood == "q":
        return f"(S[q]/{_cx(complement)})/NP"
    return f"(S[dcl]\\NP)/{_cx(complement)}"


def _wh_part(c: Clause) -> str:
    """Which part of the clause holds the question word: subj, obj, obj2, pred, pp<i>, adv, or ""."""
    if c.subj.is_wh:
        return "subj"
    if c.obj is not None and c.obj.is_wh:
        return "obj"
    if c.obj2 is not None and c.obj2.is_wh:
        return "obj2"
    if (isinstance(c.pred, NP) and c.pred.is_wh) or (isinstance(c.pred, AP) and c.pred.wh):
        return "pred"
    for index, pp in enumerate(c.pps):
        if pp.np.is_wh:
            return f"pp{index}"
    if any(adv.is_wh for adv in c.advs):
        return "adv"
    return ""


# ------------------------------------------------------------------ entry points

_RENDERERS: dict[str, _Renderer] = {}


def realize(sentence: Sentence, lang: Language) -> list[Tok]:
    """The annotated tokens of a sentence in a language."""
    renderer = _RENDERERS.get(lang.code)
    if renderer is None:
        renderer = _RENDERERS[lang.code] = _Renderer(lang)
    return renderer.sentence(sentence)


_NO_SPACE_BEFORE = frozenset(".,?")


def join(tokens: list[Tok]) -> tuple[str, dict[str, tuple[int, int]]]:
    """The text of a token list (a space between words, none before punctuation) and the character span
    ``(start, end)`` of every mark. A mark must cover consecutive words (answers are constituents)."""
    pieces: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    last_index: dict[str, int] = {}
    position = 0
    for index, (form, _, _, _, mark) in enumerate(tokens):
        if index and form not in _NO_SPACE_BEFORE:
            pieces.append(" ")
            position += 1
        if mark:
            if mark in spans:
                if last_index[mark] != index - 1:
                    raise ValueError(f"mark {mark!r} covers words that are not consecutive: {tokens}")
                spans[mark] = (spans[mark][0], position + len(form))
            else:
                spans[mark] = (position, position + len(form))
            last_index[mark] = index
        pieces.append(form)
        position += len(form)
    return "".join(pieces), spans


def surface(tokens: list[Tok]) -> str:
    """The text of a token list, like ``join`` without the spans (the fast path for corpora)."""
    return "".join([tokens[0][0], *(t[0] if t[0] in _NO_SPACE_BEFORE else " " + t[0] for t in tokens[1:])])


def render(sentence: Sentence, lang: Language) -> str:
    return surface(realize(sentence, lang))
