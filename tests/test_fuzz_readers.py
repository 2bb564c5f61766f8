"""Fuzzing of every format reader with seeded mutations of its real-format sample (reader_subjects.py; the
mutations and their classes in reader_mutator.py and reader_mutations.py).

Each mutation is checked by its class: ``same`` must parse to exactly the original (line, example) pairs;
``edit`` to the original examples edited the same way (positional ids aside), or to a DataError naming the file
where the edit leaves nothing; ``breaking`` to a DataError naming the file (and the line the mutation knows).
A traceback, another exception type, or any other parse fails. Examples are also validated by their task's
family, as ``Task.load`` does.

Budgets: the default slice (``slow``: CI runs it) draws ``SLOW_BUDGET`` mutations per subject; ``-m heavy``
draws ``XSTILTS_FUZZ_MUTATIONS`` (default 1000) per subject (``XSTILTS_FUZZ_SUBJECTS``: a comma-separated
selection of subjects). Set ``XSTILTS_FUZZ_REPORT`` to a path to get
the counts (mutations per subject, operation and class, and how many cleared their check) as JSON; they
are printed with ``-s`` too.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import traceback
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from reader_mutations import OPERATIONS, mutate
from reader_mutator import BOM, Declined, Mutation, decoded
from reader_subjects import SAMPLES, Breaks, Subject, all_subjects
from xstilts.errors import DataError

SEED = 20240611
SLOW_BUDGET = 100
HEAVY_BUDGET = int(os.environ.get("XSTILTS_FUZZ_MUTATIONS", "1000"))
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="needs the shared real-format samples")


# ------------------------------------------------------------------------------------------ running


def parse(subject: Subject, folder: Path) -> tuple[str, Any]:
    """("ok", pairs) | ("error", DataError) | ("crash", traceback text)."""
    try:
        pairs = list(subject.read(folder))
        if subject.task:
            validate(subject, folder, pairs)
        return "ok", pairs
    except DataError as error:
        return "error", error
    except Exception:  # noqa: BLE001 - anything else is the failure this suite looks for
        return "crash", traceback.format_exc(limit=6)


def validate(subject: Subject, folder: Path, pairs: list[tuple[int, dict[str, Any]]]) -> None:
    from xstilts.families import get_family
    from xstilts.tasks import get_task

    task = get_task(subject.task)
    family = get_family(task.family)
    for line, example in pairs:
        problem = family.validate_example(task, example)
        if problem:
            raise DataError(folder / next(iter(subject.specs)), problem, line)


def write(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


# ------------------------------------------------------------------------------------------ expectations


def canon(subject: Subject, examples: list[dict[str, Any]]) -> Any:
    if subject.canon is not None:
        return subject.canon(examples)
    return [{key: value for key, value in example.items() if key not in subject.positional} for example in examples]


def expected_examples(subject: Subject, mutation: Mutation, original: list[tuple[int, dict[str, Any]]]) -> list:
    """The original examples with the mutation's edit applied to the records it names."""
    if mutation.expected is not None:
        return mutation.expected
    edit = mutation.edit
    assert edit is not None
    examples = [example for _, example in original]
    if edit.same_examples:
        return examples
    mine = [i for i, example in enumerate(examples) if subject.origin_of(example) == edit.file]
    result = list(examples)
    if edit.copies:
        return [dict(examples[i], id=f"{examples[i]['id']}~{k}") for k in range(edit.copies) for i in mine]
    if edit.swap_ids or edit.drop_ids:
        ids = [examples[i]["id"] for i in mine]
        if edit.swap_ids and set(edit.swap_ids) <= set(ids):
            a, b = (mine[ids.index(qid)] for qid in edit.swap_ids)
            result[a], result[b] = result[b], result[a]
        return [ex for i, ex in enumerate(result) if not (i in mine and ex["id"] in edit.drop_ids)]
    records = subject.context.records[edit.file]
    by_record: dict[int, list[int]] = defaultdict(list)
    for i in mine:
        line = original[i][0]
        by_record[next(r for r, rec in enumerate(records) if rec.first <= line <= rec.last)].append(i)
    changed = {i: dict(examples[i]) for i in mine}
    for record, fields in (edit.take or {}).items():
        for i in by_record.get(record, []):
            for name, (source, source_field) in fields.items():
                if not by_record.get(source):
                    raise Declined("the source record has no example")
                changed[i][name] = examples[by_record[source][0]][source_field]
    for record, fields in (edit.set or {}).items():
        for i in by_record.get(record, []):
            changed[i].update(fields)
    for record, positions in (edit.tokens or {}).items():
        for i in by_record.get(record, []):
            for name in ("tokens", "tags"):
                changed[i][name] = [examples[by_record[r][0]][name][k] for r, k in positions]
    order = edit.order if edit.order is not None else range(len(records))
    sequence = [changed[i] for record in order for i in by_record.get(record, [])]
    if mine:
        assert mine == list(range(mine[0], mine[-1] + 1)), "a file's examples are contiguous in the parse"
        result = examples[: mine[0]] + sequence + examples[mine[-1] + 1:]
    result += [{"tokens": [], "tags": []}] * edit.extra_empty
    return result


# ------------------------------------------------------------------------------------------ checking


def check(subject: Subject, mutation: Mutation, folder: Path, original: list) -> str | None:
    """None when the reader did what the mutation's class demands, else what went wrong."""
    write(folder, mutation.files)
    try:
        status, result = parse(subject, folder)
    finally:
        write(folder, {name: subject.files[name] for name in mutation.files})
    if status == "crash":
        return f"traceback:\n{result}"
    if mutation.kind == "same":
        if status != "ok":
            return f"a meaning-preserving variant was rejected: {result}"
        return None if result == original else "a meaning-preserving variant parsed differently"
    if mutation.kind == "edit":
        expected = expected_examples(subject, mutation, original)
        if not expected:
            return names_file(subject, folder, "", result, status, None)
        if status != "ok":
            return f"a valid edit was rejected: {result}"
        got = [example for _, example in result]
        if canon(subject, got) != canon(subject, expected):
            return f"an edit parsed to other examples than the edited original ({len(got)} vs {len(expected)})"
        return None
    return names_file(subject, folder, mutation.file, result, status, mutation.lines)


def names_file(subject: Subject, folder: Path, file: str, result: Any, status: str,
               lines: tuple[int | None, ...] | None) -> str | None:
    if status != "error":
        return f"accepted ({len(result)} examples) where a DataError was due"
    allowed = [folder / file] if file else [folder / name for name in subject.files]
    if Path(result.path) not in allowed:
        return f"the DataError names {result.path}, expected {' or '.join(str(p) for p in allowed)}: {result}"
    if lines is not None and result.line not in lines:
        return f"the DataError names line {result.line}, expected {' or '.join(map(str, lines))}: {result}"
    return None


# ------------------------------------------------------------------------------------------ the run


def draw(subject: Subject, index: int, counts: Counter) -> Mutation | None:
    """Mutation ``index`` of a subject (seeded); operations in turn, a declined draw replaced by another."""
    for attempt in range(12):
        rng = random.Random(f"{SEED}:{subject.name}:{index}:{attempt}")
        name = rng.choice(sorted(subject.specs))
        operations = [op for op, (_, kinds) in OPERATIONS.items() if subject.specs[name].kind in kinds]
        op = operations[(index + attempt * 7) % len(operations)]
        try:
            mutation = mutate(subject.context, name, op, rng)
            if subject.refine is not None:
                try:
                    mutation = subject.refine(subject, mutation, [])
                except Breaks as broken:
                    mutation.kind, mutation.file = "breaking", broken.file
                    mutation.lines = None if broken.line is None else (broken.line,)
            return mutation
        except Declined:
            counts[op] += 1
    return None


def run(subjects: list[Subject], budget: int, tmp_path: Path) -> dict[str, Any]:
    report: dict[str, Any] = {"seed": SEED, "budget": budget, "subjects": {}}
    failures: list[str] = []
    for subject in subjects:
        folder = tmp_path / subject.name
        write(folder, subject.files)
        status, original = parse(subject, folder)
        assert status == "ok", f"{subject.name}: the unmutated sample does not read: {original}"
        stats: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        declined: Counter = Counter()
        for index in range(budget):
            try:
                mutation = draw(subject, index, declined)
                if mutation is None:
                    continue
                problem = check(subject, mutation, folder, original)
            except Declined as why:
                declined["apply:" + str(why)] += 1
                continue
            cell = stats[mutation.op][mutation.kind]
            cell[0] += 1
            cell[1] += problem is None
            if problem is not None:
                failures.append(f"{subject.name} #{index} {mutation.op} ({mutation.kind}, "
                                f"{', '.join(mutation.files)}{' ' + mutation.note if mutation.note else ''}): "
                                f"{problem}")
        report["subjects"][subject.name] = {"operations": {op: dict(kinds) for op, kinds in stats.items()},
                                            "declined": sum(declined.values())}
        shutil.rmtree(folder)
    report["failures"] = failures
    return report


def summary(report: dict[str, Any]) -> str:
    """Mutations per subject and class, and how many cleared their check."""
    lines = [f"seed {report['seed']}, {report['budget']} draws per subject"]
    totals: Counter = Counter()
    for name, data in report["subjects"].items():
        per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for kinds in data["operations"].values():
            for kind, (count, cleared) in kinds.items():
                per_kind[kind][0] += count
                per_kind[kind][1] += cleared
                totals[kind, "n"] += count
                totals[kind, "ok"] += cleared
        cells = "  ".join(f"{kind} {per_kind[kind][1]}/{per_kind[kind][0]}" for kind in ("same", "edit", "breaking"))
        lines.append(f"{name:16} {cells}  (declined draws {data['declined']})")
    lines.append("total            " + "  ".join(f"{k} {totals[k, 'ok']}/{totals[k, 'n']}"
                                                 for k in ("same", "edit", "breaking")))
    return "\n".join(lines)


def fuzz(budget: int, tmp_path: Path) -> None:
    only = os.environ.get("XSTILTS_FUZZ_SUBJECTS")  # e.g. "lareqa-en,panx-en": a re-run of some subjects
    subjects = [s for s in all_subjects() if not only or s.name in only.split(",")]
    report = run(subjects, budget, tmp_path)
    text = summary(report)
    print(text)  # noqa: T201 - the counts are the suite's report (shown with -s)
    if os.environ.get("XSTILTS_FUZZ_REPORT"):
        Path(os.environ["XSTILTS_FUZZ_REPORT"]).write_text(json.dumps(report, indent=1))
    assert not report["failures"], text + "\n" + "\n".join(report["failures"][:25])


@needs_samples
@pytest.mark.slow
def test_readers_survive_seeded_mutations(tmp_path):
    fuzz(SLOW_BUDGET, tmp_path)


@needs_samples
@pytest.mark.heavy
def test_readers_survive_many_seeded_mutations(tmp_path):
    fuzz(HEAVY_BUDGET, tmp_path)


# ------------------------------------------------------------------------------------------ the mutator itself


@needs_samples
def test_every_sample_reads_and_every_operation_applies_somewhere(tmp_path):
    """The unmutated samples parse, and each operation yields a mutation for some subject (the fast suite's
    check that the fuzz slices test what they claim)."""
    applied: Counter = Counter()
    for subject in all_subjects():
        write(tmp_path / subject.name, subject.files)
        status, result = parse(subject, tmp_path / subject.name)
        assert status == "ok", f"{subject.name}: {result}"
        for op in OPERATIONS:
            for name in subject.specs:
                try:
                    mutate(subject.context, name, op, random.Random(1))
                    applied[op] += 1
                except Declined:
                    pass
    assert set(applied) == set(OPERATIONS), f"never applied: {set(OPERATIONS) - set(applied)}"


def test_cuts_are_classified_by_what_they_leave():
    from reader_mutations import Mutator
    from reader_mutator import LABEL, TEXT, Col, Context, FileSpec

    spec = FileSpec("rows", header=True, columns=(Col(TEXT, field="text"), Col(LABEL, allowed=("0", "1"))))
    data = b"h1\th2\nab\t0\ncd\t1\n"
    mutator = Mutator(Context({"f": data}, {"f": spec}), "f", random.Random(0))
    assert mutator.cut(data.index(b"cd"), "t").kind == "edit"  # at a record boundary: the first row is left
    assert mutator.cut(data.index(b"cd"), "t").edit.order == [0]
    assert mutator.cut(data.index(b"cd") + 1, "t").kind == "breaking"  # inside a row: one column
    assert mutator.cut(len(data) - 1, "t").kind == "same"  # only the final line break
    assert mutator.cut(3, "t").kind == "breaking"  # inside the header
    conllu = FileSpec("conllu", columns=(Col(TEXT, field="tokens"),) * 10)
    sentence = b"# c\n1\ta\t_\tX\t_\t_\t0\troot\t_\t_\n\n"
    two = Mutator(Context({"f": sentence * 2}, {"f": conllu}), "f", random.Random(0))
    assert two.cut(len(sentence), "t").edit.order == [0]  # after the blank line: the first sentence is left
    assert two.cut(len(sentence) - 1, "t").kind == "breaking"  # before it: a sentence without its end
    assert two.cut(len(sentence) - 1, "t").lines == (2,)
    multibyte = Mutator(Context({"f": "h1\th2\näb\t0\n".encode()}, {"f": spec}), "f", random.Random(0))
    assert multibyte.cut(7, "t").kind == "breaking" and multibyte.cut(7, "t").lines == (2,)
    assert decoded(BOM + b"a\r\nb") == ["a", "b"]
