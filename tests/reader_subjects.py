"""The subjects of the reader fuzz suite: every format reader with its real-format sample (/work/shared/samples,
see each folder's SOURCES.md) or, where no sample exists (the intermediate tasks, CCGbank, the Mewsli-X
candidate set), a small file in the release's documented format, and the FileSpec of each file it reads.

Subjects whose files must agree with each other (BUCC's sentences and gold, Tatoeba's and SocialIQA's
line-aligned files, XGLUE's generation pairs, Mewsli-X's gold entities) refine the mutator's classification
with what the other files say (``refine``): an edit that leaves a gold id without its sentence is breaking."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reader_mutator import KEY, LABEL, TEXT, UNUSED, Col, Context, FileSpec, Mutation, decoded, is_blank
from xstilts.families import FAMILY_MODULES
from xstilts.formats import (
    bucc,
    ccgbank,
    lareqa,
    mewslix,
    multiple_choice,
    nli,
    panx,
    pawsx,
    qqp,
    squad,
    tatoeba,
    udpos,
    xcopa,
    xglue,
    xnli,
)

SAMPLES = Path(os.environ.get("XSTILTS_SAMPLES", "/work/shared/samples"))
Pairs = list[tuple[int, dict[str, Any]]]


class Breaks(Exception):
    """Raised by a subject's refinement: the edit breaks the subject (file, line)."""

    def __init__(self, file: str, line: int | None = None):
        super().__init__(file, line)
        self.file, self.line = file, line


@dataclass
class Subject:
    name: str
    files: dict[str, bytes]  # relative path -> content (every file the reader reads)
    specs: dict[str, FileSpec]  # the files the mutator edits
    read: Callable[[Path], Iterator[tuple[int, dict[str, Any]]]]  # folder -> (line, example)
    task: str | None = None  # a registered task whose family validates each example, as Task.load does
    positional: tuple[str, ...] = ("id",)  # fields that depend on position: not compared after an edit
    origin: Callable[[dict[str, Any]], str] | None = None  # the file an example comes from
    refine: Callable[[Subject, Mutation, Pairs], Mutation] | None = None
    canon: Callable[[list[dict[str, Any]]], Any] | None = None
    context: Context = field(init=False)

    def __post_init__(self) -> None:
        self.context = Context(dict(self.files), self.specs)

    def origin_of(self, example: dict[str, Any]) -> str:
        if self.origin is not None:
            return self.origin(example)
        return next(iter(self.specs))


def sample(path: str) -> bytes:
    return (SAMPLES / path).read_bytes()


def text_col(name: str, strip: bool = False) -> Col:
    return Col(TEXT, field=name, strip=strip)


def label_col(*allowed: str) -> Col:
    return Col(LABEL, allowed=tuple(allowed))


U, K = Col(UNUSED), Col(KEY)


def rows(columns: tuple[Col, ...], **options: Any) -> FileSpec:
    return FileSpec("rows", columns=columns, **options)


# ------------------------------------------------------------------------------------------ XTREME

NLI = ("entailment", "neutral", "contradiction")
XNLI_COLUMNS = (label_col(*xnli.XNLI_LANGUAGES), label_col(*NLI), U, U, U, U, text_col("text", True),
                text_col("text_pair", True)) + (U,) * 11


def xnli_subject(name: str, path: str, language: str) -> Subject:
    return Subject(name, {"xnli.dev.tsv": sample(path)}, {"xnli.dev.tsv": rows(XNLI_COLUMNS, header=True)},
                   lambda d: xnli.read_xnli(d / "xnli.dev.tsv", "dev", language), task="xnli")


def mnli_xnli_mt() -> Subject:
    columns = (text_col("text", True), text_col("text_pair", True), label_col(*NLI, "contradictory"))
    return Subject("xnli-mt-mnli", {"multinli.train.en.tsv": sample(
        "xnli/hf_xnli_all_languages/XNLI-MT-1.0/multinli/multinli.train.en.tsv")},
        {"multinli.train.en.tsv": rows(columns, header=True)},
        lambda d: xnli.read_xnli(d / "multinli.train.en.tsv", "train", "en"), task="xnli")


def pawsx_subject(language: str, name: str) -> Subject:
    columns = (U, text_col("text", True), text_col("text_pair", True), label_col("0", "1"))
    return Subject(f"pawsx-{language}", {name: sample(f"pawsx/hf_paws-x/x-final/{language}/{name}")},
                   {name: rows(columns, header=True, strip_line=True)},
                   lambda d: pawsx.read_pawsx(d / name, "dev", language), task="pawsx")


def udpos_subject() -> Subject:
    path = "ud-treebanks-v2.5/UD_Spanish-X/es_x-ud-test.conllu"
    columns = (K, text_col("tokens"), U, label_col(*udpos.UPOS_TAGS), U, U, K, U, K, U)
    return Subject("udpos-es", {path: sample("udpos/ud_v2.5_es_gsd/es_gsd-ud-dev.first25sent.conllu")},
                   {path: FileSpec("conllu", columns=columns)},
                   lambda d: udpos.read_udpos(d / "ud-treebanks-v2.5", "test", "es"), task="udpos")


def panx_subject() -> Subject:
    # Three real sentences of the en sample files in one file (each sample file holds one sentence).
    data = b"".join(sample(f"panx/hf_xtreme_PAN-X/en/{split}") for split in ("train", "dev", "test"))
    columns = (text_col("tokens"), label_col(*panx.LABELS))
    return Subject("panx-en", {"train": data},
                   {"train": FileSpec("blocks", columns=columns, strip_line=True, trailing_blank="empty-sentences")},
                   lambda d: panx.read_panx(d / "train", "train", "en"), task="panx")


SQUAD_KEYS = (
    ("data", (list,)), ("data[*].paragraphs", (list,)), ("data[*].paragraphs[*].context", (str,)),
    ("data[*].paragraphs[*].qas", (list,)), ("data[*].paragraphs[*].qas[*].id", (str, int)),
    ("data[*].paragraphs[*].qas[*].question", (str,)), ("data[*].paragraphs[*].qas[*].answers", (list,)),
    ("data[*].paragraphs[*].qas[*].answers[*].text", (str,)),
    ("data[*].paragraphs[*].qas[*].answers[*].answer_start", (int,)),
)
SQUAD_SPEC = FileSpec("json", required=SQUAD_KEYS, offsets=("data[*].paragraphs[*].qas[*].answers[*].answer_start",),
                      record_path="data[*].paragraphs[*].qas")


def squad_subject(name: str, path: str, reader: Callable, language: str, task: str) -> Subject:
    file = Path(path).name
    return Subject(name, {file: sample(path)}, {file: SQUAD_SPEC},
                   lambda d: reader(d / file, "test", language), task=task, positional=())


def bucc_subject() -> Subject:
    folder = "bucc2018/tfds_dummy/training-gold/bucc2018/fr-en"
    names = ("fr-en.training.fr", "fr-en.training.en", "fr-en.training.gold")
    files = {name: sample(f"{folder}/{name}") for name in names}
    specs = {
        names[0]: rows((K, text_col("source", True)), unique=True),
        names[1]: rows((K, text_col("target", True)), unique=True),
        names[2]: rows((K, K), unique=True, strip_line=True),
    }
    return Subject("bucc-fr", files, specs, lambda d: bucc.read_bucc(d, "test", "fr"), task="bucc2018",
                   positional=(), origin=lambda ex: names[0] if ex["source"] is not None else names[1],
                   refine=refine_bucc)


def refine_bucc(subject: Subject, mutation: Mutation, original: Pairs) -> Mutation:
    """An oracle of the release format: ``<id><TAB><sentence>`` lines, gold ``<src><TAB><en>`` pairs of ids
    that must name sentences of both sides."""
    if mutation.kind != "edit":
        return mutation
    files = {**subject.files, **mutation.files}
    names = list(subject.specs)
    sides = []
    for name in names[:2]:
        lines = [(n, line.split("\t")) for n, line in enumerate(decoded(files[name]), 1) if not is_blank(line)]
        if not lines:
            raise Breaks(name)
        sides.append([(n, fields[0].strip(), fields[1].strip()) for n, fields in lines])
    gold: dict[str, list[str]] = {}
    known = [{ident for _, ident, _ in side} for side in sides]
    pairs = [(n, line.strip().split("\t")) for n, line in enumerate(decoded(files[names[2]]), 1) if not is_blank(line)]
    if not pairs:
        raise Breaks(names[2])
    for n, (source, target) in pairs:
        if source.strip() not in known[0] or target.strip() not in known[1]:
            raise Breaks(names[2], n)
        gold.setdefault(source.strip(), []).append(target.strip())
    mutation.expected = (
        [{"id": i, "source": s, "target": None, "gold_targets": gold.get(i, [])} for _, i, s in sides[0]]
        + [{"id": i, "source": None, "target": s} for _, i, s in sides[1]])
    return mutation


def tatoeba_subject() -> Subject:
    names = ("tatoeba.cmn-eng.cmn", "tatoeba.cmn-eng.eng")
    files = {name: sample(f"tatoeba/laser_v1/{name}") for name in names}
    specs = {names[0]: FileSpec("lines", columns=(text_col("target", True),), trailing_blank="breaking"),
             names[1]: FileSpec("lines", columns=(text_col("source", True),), trailing_blank="breaking")}
    return Subject("tatoeba-zh", files, specs, lambda d: tatoeba.read_tatoeba(d / names[0], "test", "zh"),
                   task="tatoeba", positional=(), refine=refine_tatoeba)


def refine_tatoeba(subject: Subject, mutation: Mutation, original: Pairs) -> Mutation:
    """LASER's files: line i of one is the translation of line i of the other; queries in sorted English order."""
    if mutation.kind != "edit":
        return mutation
    files = {**subject.files, **mutation.files}
    other, english = ([line.strip() for line in decoded(files[name])] for name in subject.specs)
    if len(other) != len(english) or not other:
        raise Breaks("")
    for name, lines in zip(subject.specs, (other, english), strict=True):
        if "" in lines:
            raise Breaks(name, lines.index("") + 1)
    order = sorted(range(len(english)), key=lambda i: english[i])
    mutation.expected = [{"id": str(i), "source": english[i], "target": other[i]} for i in order]
    return mutation


def xcopa_subject() -> Subject:
    keys = (("premise", (str,)), ("choice1", (str,)), ("choice2", (str,)), ("question", (str,)), ("idx", (int,)))
    spec = FileSpec("jsonl", required=keys, labels=(("label", (0, 1)), ("question", ("cause", "effect"))))
    return Subject("xcopa-et", {"val.et.jsonl": sample("xcopa/hf_xcopa/val.et.jsonl")}, {"val.et.jsonl": spec},
                   lambda d: xcopa.read_xcopa(d / "val.et.jsonl", "dev", "et"), task="xcopa", positional=())


def lareqa_subject() -> Subject:
    files = {f"xquad-r/{language}.json": sample("lareqa/hf_xquad_r/en.json") for language in lareqa.POOL_LANGUAGES}
    files["xquad-r/zh.json"] = sample("lareqa/hf_xquad_r/zh.json")
    keys = SQUAD_KEYS + (("data[*].paragraphs[*].sentence_breaks", (list,)),)
    spec = FileSpec("json", required=keys, optional=(("data[*].paragraphs[*].sentences", (list,)),),
                    record_path="data[*].paragraphs[*].qas", droppable=False,
                    offsets=("data[*].paragraphs[*].qas[*].answers[*].answer_start",
                             "data[*].paragraphs[*].sentence_breaks[*]"))
    return Subject("lareqa-en", files, {"xquad-r/en.json": spec, "xquad-r/zh.json": spec},
                   lambda d: lareqa.read_lareqa(d / "xquad-r", "test", "en"), task="lareqa", positional=(),
                   origin=lambda ex: f"xquad-r/{'en' if ex['source'] is not None else ex['id'].split('_')[0]}.json",
                   canon=pool_canon)


def pool_canon(examples: list[dict[str, Any]]) -> Any:
    """A pool compared by texts: candidate ids number paragraphs, so a reordered file renames them."""
    texts = {ex["id"]: ex["target"] for ex in examples if ex["source"] is None}
    questions = [(ex["id"], ex["source"], sorted(texts[g] for g in ex["gold_targets"]))
                 for ex in examples if ex["source"] is not None]
    return questions, sorted(texts.values())


ENTITIES = [
    ("Q1757", "Helsinki is the capital of Finland."), ("Q167217", "Abu Musa is an island in the Persian Gulf."),
    ("Q3447452", "Lesser Tunb is a small island."), ("Q90", "Paris is the capital of France."),
]


def mewslix_subject() -> Subject:
    entities = "".join(json.dumps({"entity_id": qid, "title": qid, "description": text,
                                   "sentence_spans": [{"start": 0, "end": len(text)}]}) + "\n"
                       for qid, text in ENTITIES).encode()
    mentions, candidates = "wikinews_mentions-test.jsonl", mewslix.CANDIDATES_FILE
    span = "mentions[*].mention_span"
    mention_keys = (("context", (dict,)), ("context.language", (str,)), ("context.text", (str,)),
                    ("context.sentence_spans", (list,)), ("context.sentence_spans[*].start", (int,)),
                    ("context.sentence_spans[*].end", (int,)), ("mentions", (list,)),
                    ("mentions[*].example_id", (str,)), ("mentions[*].entity_id", (str,)), (span, (dict,)),
                    (f"{span}.start", (int,)), (f"{span}.end", (int,)), (f"{span}.text", (str,)))
    entity_keys = (("entity_id", (str,)), ("description", (str,)), ("sentence_spans", (list,)),
                   ("sentence_spans[*].start", (int,)), ("sentence_spans[*].end", (int,)))
    specs = {
        mentions: FileSpec("jsonl", required=mention_keys, labels=(("context.language", mewslix.LANGUAGES),),
                           offsets=(f"{span}.start", f"{span}.end", "context.sentence_spans[*].start"),
                           unique=True),
        candidates: FileSpec("jsonl", required=entity_keys, unique=True,
                             offsets=("sentence_spans[*].start", "sentence_spans[*].end")),
    }
    return Subject("mewslix-ar", {mentions: sample("mewslix/google-research_testdata/example_mentions.jsonl"),
                                  candidates: entities}, specs,
                   lambda d: mewslix.read_mewslix(d / mentions, "test", "ar"), task="mewslix", positional=(),
                   origin=lambda ex: mentions if ex["source"] is not None else candidates, refine=refine_mewslix)


def refine_mewslix(subject: Subject, mutation: Mutation, original: Pairs) -> Mutation:
    """Every gold entity must be in the candidate set; the language read must keep a mention."""
    if mutation.kind != "edit":
        return mutation
    files = {**subject.files, **mutation.files}
    mentions, candidates = list(subject.specs)
    known = {json.loads(line)["entity_id"] for line in decoded(files[candidates]) if not is_blank(line)}
    if not known:
        raise Breaks(candidates)
    ar = 0
    for number, line in enumerate(decoded(files[mentions]), 1):
        if is_blank(line):
            continue
        row = json.loads(line)
        if any(m["entity_id"] not in known for m in row["mentions"]):
            raise Breaks(mentions, number)
        ar += len(row["mentions"]) if row["context"]["language"] == "ar" else 0
    if not ar:
        raise Breaks(mentions)
    return mutation


# ------------------------------------------------------------------------------------------ XGLUE

XGLUE = "xglue/hf_xglue/xglue_full_dataset"


def xglue_rows(name: str, reader: Callable, path: str, columns: tuple[Col, ...], task: str,
               header: bool = False, positional: tuple[str, ...] = ("id",)) -> Subject:
    file = Path(path).name
    return Subject(name, {file: sample(f"{XGLUE}/{path}")}, {file: rows(columns, header=header)},
                   lambda d: reader(d / file, "dev", "en"), task=task, positional=positional)


def xglue_subjects() -> list[Subject]:
    text, pair = text_col("text"), text_col("text_pair")
    return [
        xglue_rows("xglue-nc", xglue.read_xglue_nc, "NC/xglue.nc.fr.dev", (text, pair, label_col(*xglue.NC_LABELS)),
                   "xglue-nc"),
        xglue_rows("xglue-qadsm", xglue.read_xglue_qadsm, "QADSM/xglue.qadsm.fr.dev",
                   (text, K, K, label_col(*xglue.QADSM_LABELS)), "xglue-qadsm"),
        xglue_rows("xglue-wpr", xglue.read_xglue_wpr, "WPR/xglue.wpr.en.test",
                   (text, K, K, label_col(*xglue.WPR_LABELS)), "xglue-wpr", positional=("id", "group")),
        xglue_rows("xglue-qam", xglue.read_xglue_qam, "QAM/xglue.qam.de.dev", (text, pair, label_col("0", "1")),
                   "xglue-qam"),
        xglue_rows("xglue-xnli", xglue.read_xglue_xnli, "XNLI/hi.test", (text, pair, label_col(*NLI)), "xglue-xnli"),
        xglue_rows("xglue-xnli-mnli", xglue.read_xglue_xnli, "XNLI/multinli.train.en.tsv",
                   (text, pair, label_col(*NLI, "contradictory")), "xglue-xnli", header=True),
        xglue_rows("xglue-pawsx", xglue.read_xglue_pawsx, "PAWSX/de/translated_train.tsv",
                   (K, text, pair, label_col("0", "1")), "xglue-pawsx", header=True, positional=()),
        xglue_tagging("xglue-ner", xglue.read_xglue_ner, ("NER/en.test", "NER/de.dev", "NER/es.dev"), xglue.NER_LABELS),
        xglue_tagging("xglue-pos", xglue.read_xglue_pos, ("POS/en.train", "POS/hi.dev", "POS/ru.dev"),
                      xglue.POS_LABELS),
        squad_subject("xglue-mlqa-de", f"{XGLUE}/MLQA/MLQA_V1/dev/dev-context-de-question-de.json", squad.read_squad,
                      "de", "xglue-mlqa"),
        generation_subject("xglue-qg", "en"),
        generation_subject("xglue-ntg", "ru"),
    ]


def xglue_tagging(name: str, reader: Callable, paths: tuple[str, ...], labels: tuple[str, ...]) -> Subject:
    # Real sentences of several sample files in one file (each sample holds one), a blank line between them.
    data = b"\n\n".join(sample(f"{XGLUE}/{path}").rstrip(b"\n") for path in paths)
    spec = FileSpec("blocks", sep=" ", columns=(text_col("tokens"), label_col(*labels)))
    return Subject(name, {"en.dev": data}, {"en.dev": spec}, lambda d: reader(d / "en.dev", "dev", "en"),
                   task=name)


def generation_subject(task: str, language: str) -> Subject:
    """XGLUE QG or NTG: a sample's .src and .tgt files, line-aligned (NTG ru: Cyrillic text)."""
    folder = task.removeprefix("xglue-").upper()
    names = tuple(f"xglue.{folder.lower()}.{language}.{kind}.dev" for kind in ("src", "tgt"))
    files = {name: sample(f"{XGLUE}/{folder}/{name}") for name in names}
    specs = {names[0]: FileSpec("lines", columns=(text_col("source", strip=True),), trailing_blank="breaking"),
             names[1]: FileSpec("lines", columns=(text_col("target", strip=True),), trailing_blank="breaking")}
    reader = xglue.read_xglue_qg if task == "xglue-qg" else xglue.read_xglue_ntg
    # Validated by the generation family where this build has it (the family is not part of every build).
    validating = task if "generation" in FAMILY_MODULES else None
    return Subject(f"{task}-{language}", files, specs, lambda d: reader(d / names[0], "dev", language),
                   task=validating, refine=refine_generation)


def refine_generation(subject: Subject, mutation: Mutation, original: Pairs) -> Mutation:
    """An edit of one file of the pair: the examples the two files now make, or where they first disagree
    (the reader walks both files line by line: a missing partner line, then a blank source, then a blank
    target; after the last source line, a target file with more lines)."""
    if mutation.kind != "edit":
        return mutation
    source_name, target_name = subject.specs
    files = {**subject.files, **mutation.files}
    sources, targets = decoded(files[source_name]), decoded(files[target_name])
    language = source_name.split(".")[2]
    expected = []
    for number, source in enumerate(sources, 1):
        if number > len(targets):
            raise Breaks(target_name, number)
        if not source.strip():
            raise Breaks(source_name, number)
        reference = xglue.reference_text(targets[number - 1])
        if not reference:
            raise Breaks(target_name, number)
        expected.append({"id": f"dev-{language}-{number}", "source": source.strip(), "target": reference})
    if len(targets) > len(sources):
        raise Breaks(source_name, len(sources) + 1)
    if not sources:
        raise Breaks(source_name)
    mutation.expected = expected
    return mutation


# ------------------------------------------------------------------------------------------ intermediate


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode()


def intermediate_subjects() -> list[Subject]:
    anli = jsonl([{"uid": f"u{i}", "context": f"Premise {i} über", "hypothesis": f"Hypothesis {i}", "label": label,
                   "reason": ""} for i, label in enumerate("enc")])
    snli = jsonl([{"gold_label": label, "sentence1": f"A dog {i} runs.", "sentence2": f"An animal {i}.",
                   "pairID": f"p{i}"} for i, label in enumerate(["entailment", "-", "contradiction", "neutral"])])
    header = ("index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\t"
              "sentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n")
    mnli = (header + "".join(f"{i}\t{30 + i}\t{30 + i}n\tslate\t( b{i} )\t( c{i} )\t(ROOT b{i})\t(ROOT c{i})\t"
                             f"Premise number {i} .\tHypothesis {i} .\t{label}\t{label}\n"
                             for i, label in enumerate(NLI))).encode()
    mnli_columns = (U, U, K, U, U, U, U, U, text_col("text"), text_col("text_pair"), U, label_col(*NLI, "-"))
    qqp_data = ("id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n" + "".join(
        f"{i}\t{2 * i}\t{2 * i + 1}\tHow do I learn {i}?\tHow to learn {i}?\t{i % 2}\n" for i in range(3))).encode()
    qqp_columns = (K, U, U, text_col("text"), text_col("text_pair"), label_col("0", "1"))
    hellaswag = jsonl([{"ind": 24 + i, "activity_label": "Roofing", "ctx_a": f"A man is on a roof {i}.",
                        "ctx_b": "he" if i else "", "label": i % 4, "split": "val",
                        "endings": ["is using wrap.", "rips tiles.", "holds a cube.", "pulls up roofing."]}
                       for i in range(3)])
    csqa = jsonl([{"answerKey": "ABC"[i], "id": f"q{i}", "question": {"question_concept": "c", "stem": f"Stem {i}?",
                   "choices": [{"label": letter, "text": f"choice {letter}{i}"} for letter in "ABCDE"]}}
                  for i in range(3)])
    cosmos = (b'id,context,question,answer0,answer1,answer2,answer3,label\n'
              b'3Q9,"I saw both bands, and they both\nblew me away.",Will they go again ?,None of the above .,'
              b'"Yes , they like music , and shows .",No,Maybe,1\n'
              b'3E2,Ctx two,Q two?,a,b,c,d,3\n'
              b'3F5,"Ctx ""three""",Q three?,e,f,g,h,0\n')
    siqa_records = [{"context": f"Tracy didn't go home {i}.", "question": "What does Tracy need to do?",
                     "answerA": f"plan {i}", "answerB": "go home", "answerC": "find a place"} for i in range(3)]
    ccg = "".join(f"ID=wsj_0201.{i} PARSER=GOLD NUMPARSE=1\n{tree}\n" for i, tree in enumerate(CCG_TREES, 1)).encode()
    nli_keys = lambda *names: tuple((name, (str,)) for name in names)  # noqa: E731
    return [
        Subject("anli", {"train.jsonl": anli}, {"train.jsonl": FileSpec(
            "jsonl", required=nli_keys("uid", "context", "hypothesis"), labels=(("label", ("e", "n", "c")),))},
            lambda d: nli.read_anli(d / "train.jsonl"), task="anli-r1", positional=()),
        Subject("snli", {"snli_1.0_dev.jsonl": snli}, {"snli_1.0_dev.jsonl": FileSpec(
            "jsonl", required=nli_keys("pairID", "sentence1", "sentence2"),
            labels=(("gold_label", (*NLI, "-")),))},
            lambda d: nli.read_snli(d / "snli_1.0_dev.jsonl"), task="snli", positional=()),
        Subject("mnli-glue", {"train.tsv": mnli}, {"train.tsv": rows(mnli_columns, header=True)},
                lambda d: nli.read_mnli(d / "train.tsv"), task="mnli", positional=()),
        Subject("qqp", {"dev.tsv": qqp_data}, {"dev.tsv": rows(qqp_columns, header=True)},
                lambda d: qqp.read_qqp(d / "dev.tsv"), task="qqp", positional=()),
        Subject("hellaswag", {"hellaswag_val.jsonl": hellaswag}, {"hellaswag_val.jsonl": FileSpec(
            "jsonl", required=(("ctx_a", (str,)), ("ctx_b", (str,)), ("endings", (list,)), ("endings[*]", (str,))),
            labels=(("label", (0, 1, 2, 3, "0", "1", "2", "3")),))},
            lambda d: multiple_choice.read_hellaswag(d / "hellaswag_val.jsonl"), task="hellaswag", positional=()),
        Subject("commonsenseqa", {"dev_rand_split.jsonl": csqa}, {"dev_rand_split.jsonl": FileSpec(
            "jsonl", required=(("id", (str,)), ("question", (dict,)), ("question.stem", (str,)),
                               ("question.choices", (list,)), ("question.choices[*].label", (str,)),
                               ("question.choices[*].text", (str,))),
            labels=(("answerKey", tuple("ABCDE")),))},
            lambda d: multiple_choice.read_commonsenseqa(d / "dev_rand_split.jsonl"), task="commonsenseqa",
            positional=()),
        Subject("cosmosqa", {"valid.csv": cosmos}, {"valid.csv": FileSpec(
            "csv", header=True, sep=",", columns=(K, K, K, K, K, K, K, label_col("0", "1", "2", "3")))},
            lambda d: multiple_choice.read_cosmosqa(d / "valid.csv"), task="cosmosqa", positional=()),
        Subject("socialiqa", {"dev.jsonl": jsonl(siqa_records), "dev-labels.lst": b"1\n3\n2\n"}, {
            "dev.jsonl": FileSpec("jsonl", required=tuple((k, (str,)) for k in siqa_records[0])),
            "dev-labels.lst": FileSpec("lines", columns=(label_col("1", "2", "3"),))},
            lambda d: multiple_choice.read_socialiqa(d / "dev.jsonl", "dev"), task="socialiqa",
            refine=refine_socialiqa),
        Subject("ccgbank", {"wsj_0201.auto": ccg}, {"wsj_0201.auto": FileSpec("ccg", unique=True)},
                lambda d: ccgbank.read_ccgbank(d / "wsj_0201.auto", "train"), positional=()),
    ]


# CCGbank AUTO derivations (manual, "The AUTO format"): leaves (<L category POS POS word predarg>), inner nodes
# (<T category head daughters> ...).
CCG_TREES = (
    "(<T S[dcl] 0 2> (<T S[dcl] 1 2> (<T NP 0 1> (<L N NNP NNP Vinken N>) ) (<T S[dcl]\\NP 0 2> "
    "(<L (S[dcl]\\NP)/NP VBZ VBZ chairs (S[dcl]\\NP_1)/NP_2>) (<T NP 0 1> (<L N NNP NNP Elsevier N>) ) ) ) "
    "(<L . . . . .>) ) ",
    "(<T S[dcl] 0 2> (<L NP PRP PRP It NP>) (<L S[dcl]\\NP VBD VBD rained S[dcl]\\NP_1>) ) ",
    "(<L N NN NN Überraschung N>) ",
)


def refine_socialiqa(subject: Subject, mutation: Mutation, original: Pairs) -> Mutation:
    """The labels file is line-aligned with the jsonl records (1-based labels)."""
    if mutation.kind != "edit":
        return mutation
    files = {**subject.files, **mutation.files}
    records = [(n, json.loads(line)) for n, line in enumerate(decoded(files["dev.jsonl"]), 1) if not is_blank(line)]
    labels = [line.strip() for line in decoded(files["dev-labels.lst"]) if not is_blank(line)]
    if len(records) != len(labels) or not records:
        raise Breaks("")
    mutation.expected = [{"id": f"dev-{n}", "context": f"{r['context']} {r['question']}",
                          "choices": [r["answerA"], r["answerB"], r["answerC"]], "label": int(label) - 1}
                         for (n, r), label in zip(records, labels, strict=True)]
    return mutation


def all_subjects() -> list[Subject]:
    return [
        xnli_subject("xnli-de", "xnli/hf_xnli_all_languages/XNLI-1.0/xnli.dev.tsv", "de"),
        xnli_subject("xnli-ar", "xnli/hf_xtreme_XNLI/XNLI-1.0/xnli.dev.tsv", "ar"),
        mnli_xnli_mt(),
        pawsx_subject("en", "train.tsv"),
        pawsx_subject("de", "test_2k.tsv"),
        udpos_subject(),
        panx_subject(),
        squad_subject("xquad-th", "xquad/hf_xquad/xquad.th.json", squad.read_squad, "th", "xquad"),
        squad_subject("mlqa-de", "mlqa/hf_xtreme_MLQA/MLQA_V1/dev/dev-context-en-question-de.json",
                      squad.read_squad, "de", "mlqa"),
        squad_subject("tydiqa-fi", "tydiqa/hf_xtreme_tydiqa/tydiqa-goldp-v1.1-train.json", squad.read_tydiqa,
                      "fi", "tydiqa"),
        bucc_subject(),
        tatoeba_subject(),
        xcopa_subject(),
        lareqa_subject(),
        mewslix_subject(),
        *xglue_subjects(),
        *intermediate_subjects(),
    ]
