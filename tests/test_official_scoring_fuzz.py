"""Fuzzing ``xstilts score`` with the official mock submission (google-research/xtreme mock_test_data).

A seeded mutator changes one prediction file, label file or folder of the submission at a time (truncation,
removed / added / swapped / replaced lines, a byte order mark, CRLF or CR line ends, the final newline, invalid
UTF-8, UTF-16, empty files, JSON nodes deleted or of the wrong type, ids dropped, added or renamed, labels
outside the label set, misnamed or missing folders and files) and runs the real command (``main()``, in
process). Each outcome is checked against an expectation computed independently (tests/official_oracle.py,
written from the official definitions, imports nothing of the scorer):

- meaning-preserving mutations (BOM, CRLF / CR, the final newline, padding that the official reader strips,
  JSON re-indented, re-ordered or wrapped in {"data": ...}) score exactly as the unmutated submission;
- mutations that the official definition scores score as it does (the oracle's per-language numbers, then
  the official averages, groups and all_task), with a warning on stderr where the oracle expects one;
- bad input exits 2 with an error naming the mutated file, no traceback and no report written;
- a missing or misnamed task folder drops the task, all_task and its group, with a warning naming the folder.

Never exit 1, never a traceback. ``-m slow`` runs a bounded slice (CI), ``-m heavy`` a larger budget;
``XSTILTS_SCORER_FUZZ=SEED:COUNT`` reruns any slice (a failure message gives the seed and the index).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import random
import shutil
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from official_oracle import LABELS, XTREME_GROUPS, judge, task_score, xtreme_report
from xstilts.cli import main

MOCK = Path("/work/shared/samples/xtreme_mock_submission")
pytestmark = pytest.mark.skipif(not MOCK.is_dir(), reason="the official mock submission is not available")

TASKS = ["pawsx", "xnli", "panx", "udpos", "bucc2018", "tatoeba", "xquad", "mlqa", "tydiqa", "mewslix"]
SAME_KINDS = {"bom", "crlf", "cr", "final-newline", "pad-line", "reindent", "shuffle-keys", "wrap-data"}
OTHER_VALUES = {
    "xnli": ["Entailment", "maybe", "0", "2", "entailment neutral", "contradiction\tx", "neutral."],
    "pawsx": ["2", "yes", "01", "1.0", "-1", "true"],
    "tatoeba": ["17", "0", "-1", "01", "abc", "3.5", "١٢", "100000"],
    "panx": ["B-MISC", "I-MISC", "NOUN", "Berlin\tB-LOC", "O O", "b-per", "E-PER", "S-LOC"],
    "udpos": ["NOUN", "B-NOUN", "VERBS", "PROPN\tx", "_", "noun", "Z"],
    "bucc2018": ["de-000000001\ten-000000001", "de-1", "a\tb\tc", "\t", "x\t", "fr-000000001 en-000000001"],
}
WRONG_TYPES: list[Any] = [42, "x", None, [], {}, True, 1.5, ["x"], {"text": "x"}]


# ---------------------------------------------------------------- running the command


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    report: dict[str, Any] | None


def run_score(workspace: Path, benchmark: list[str]) -> Outcome:
    output = workspace / "report.json"
    output.unlink(missing_ok=True)
    argv = ["xstilts", "score", *benchmark, "--predictions", str(workspace / "predictions"),
            "--labels", str(workspace / "labels"), "--output", str(output)]
    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv
    sys.argv = argv
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
                code = 0
            except SystemExit as exited:
                code = exited.code if isinstance(exited.code, int) else 1
            except Exception:  # a bug: the command must never end in a traceback
                err.write("Traceback (uncaught):\n" + traceback.format_exc())
                code = 1
    finally:
        sys.argv = saved
    report = json.loads(output.read_text()) if output.is_file() else None
    return Outcome(code, out.getvalue(), err.getvalue(), report)


def benchmark_of(task: str) -> list[str]:
    # Mewsli-X is an XTREME-R task; the mock has none of XTREME-R's XCOPA / LAReQA, hence --partial.
    return ["--benchmark", "xtreme-r", "--partial"] if task == "mewslix" else ["--benchmark", "xtreme"]


# ---------------------------------------------------------------- expectations


def close(actual: Any, expected: Any, where: str = "report") -> str | None:
    """None when equal up to float rounding (keys in the same order, as the official report orders them)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or list(actual) != list(expected):
            return f"{where}: keys {list(actual) if isinstance(actual, dict) else actual!r} != {list(expected)}"
        for key in expected:
            problem = close(actual[key], expected[key], f"{where}.{key}")
            if problem:
                return problem
        return None
    if abs(actual - expected) > 1e-9 * max(1.0, abs(expected)):
        return f"{where}: {actual!r} != {expected!r}"
    return None


def replaced(baseline: dict[str, Any], task: str, language: str, metrics: dict[str, float],
             partial: bool) -> dict[str, Any]:
    """The report with one language of one task scored anew: the official averages, groups and all_task."""
    detailed = {t: v for t, v in baseline.items() if isinstance(v, dict)}
    names = [m for m, v in detailed[task].items() if isinstance(v, dict)]
    per_language = {lg: {m: detailed[task][m][lg] for m in names} for lg in detailed[task][names[0]]}
    per_language[language] = metrics
    detailed[task] = task_score(per_language, task)
    return detailed if partial else xtreme_report(detailed)


def without(baseline: dict[str, Any], task: str, partial: bool) -> dict[str, Any]:
    detailed = {t: v for t, v in baseline.items() if isinstance(v, dict) and t != task}
    return detailed if partial else xtreme_report(detailed)


# ---------------------------------------------------------------- mutations


@dataclass
class Mutation:
    kind: str
    task: str
    target: Path            # the mutated file or folder
    data: bytes | None = None   # the new content of a file mutation
    folder: Callable[[], Callable[[], None]] | None = None  # a folder mutation: applies, returns its undo
    expect: str = ""        # folder mutations: "drop-task", "same-warned", "error"
    named: Path | None = None   # the path an error or warning must name (default: target)


def _lines(data: bytes) -> tuple[list[bytes], bool]:
    return data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n"), data.endswith(b"\n")


def _join(lines: list[bytes], final: bool) -> bytes:
    return b"\n".join(lines) + (b"\n" if final and lines else b"")


def _json_paths(value: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _json_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _json_paths(item, (*path, index))
    return found


def _parent(value: Any, path: tuple) -> Any:
    for key in path[:-1]:
        value = value[key]
    return value


def _id_map(value: Any) -> dict[str, Any]:
    return value["data"] if isinstance(value, dict) and isinstance(value.get("data"), dict) else value


class Mutator:
    def __init__(self, workspace: Path, rng: random.Random):
        self.root, self.rng = workspace, rng
        self.files = {task: sorted(p.name for p in (workspace / "labels" / task).iterdir()) for task in TASKS}

    def __call__(self) -> Mutation:
        rng = self.rng
        task = rng.choice(TASKS)
        if rng.random() < 0.08:
            return self.folder_mutation(task)
        side = rng.choice(["predictions", "labels"])
        target = self.root / side / task / rng.choice(self.files[task])
        data = target.read_bytes()
        kinds = ["bom", "crlf", "cr", "final-newline", "invalid-utf8", "utf16", "empty", "truncate", "blank-only",
                 "remove-line", "duplicate-line", "insert-line", "swap-lines", "replace-line", "pad-line",
                 "append-blank-line"]
        if target.suffix == ".json":
            kinds += ["reindent", "shuffle-keys", "wrap-data", "delete-node", "retype-node", "retype-node"]
            if side == "predictions":
                kinds += ["drop-id", "extra-id", "rename-ids", "set-answer", "set-answer"]
        else:
            kinds += ["replace-line", "replace-line", "replace-all"]
        kind = rng.choice(kinds)
        return Mutation(kind, task, target, getattr(self, "m_" + kind.replace("-", "_"))(data, task, target))

    # -------------------------------- bytes and lines

    def m_bom(self, data: bytes, task: str, target: Path) -> bytes:
        return b"\xef\xbb\xbf" + data

    def m_crlf(self, data: bytes, task: str, target: Path) -> bytes:
        return data.replace(b"\n", b"\r\n")

    def m_cr(self, data: bytes, task: str, target: Path) -> bytes:
        return data.replace(b"\n", b"\r")

    def m_final_newline(self, data: bytes, task: str, target: Path) -> bytes:
        return data[:-1] if data.endswith(b"\n") else data + b"\n"

    def m_invalid_utf8(self, data: bytes, task: str, target: Path) -> bytes:
        at = self.rng.randrange(len(data) + 1)
        return data[:at] + self.rng.choice([b"\xff", b"\xc3(", b"\xe2\x82", b"\xed\xa0\x80", b"\x80"]) + data[at:]

    def m_utf16(self, data: bytes, task: str, target: Path) -> bytes:
        return data.decode("utf-8").encode("utf-16")

    def m_empty(self, data: bytes, task: str, target: Path) -> bytes:
        return b""

    def m_blank_only(self, data: bytes, task: str, target: Path) -> bytes:
        return self.rng.choice([b"\n", b"\n\n", b"  \n", b" "])

    def m_truncate(self, data: bytes, task: str, target: Path) -> bytes:
        content = len(data.rstrip())
        cut = self.rng.randrange(1, content) if content > 1 else 0
        while cut and (data[cut] & 0xC0) == 0x80:  # not inside a UTF-8 character (that is invalid-utf8's job)
            cut -= 1
        return data[:cut]

    def m_remove_line(self, data: bytes, task: str, target: Path) -> bytes:
        lines, final = _lines(data)
        del lines[self.rng.randrange(len(lines))]
        return _join(lines, final)

    def m_duplicate_line(self, data: bytes, task: str, target: Path) -> bytes:
        lines, final = _lines(data)
        at = self.rng.randrange(len(lines))
        lines.insert(at, lines[at])
        return _join(lines, final)

    def _value(self, task: str, lines: list[bytes]) -> bytes:
        choices = [*LABELS.get(task, []), *OTHER_VALUES.get(task, []), "", "{", "}", "],"]
        choices += [line.decode() for line in self.rng.sample(lines, min(3, len(lines)))]
        return self.rng.choice(choices).encode()

    def m_insert_line(self, data: bytes, task: str, target: Path) -> bytes:
        lines, final = _lines(data)
        lines.insert(self.rng.randrange(len(lines) + 1), self._value(task, lines))
        return _join(lines, final)

    def m_replace_line(self, data: bytes, task: str, target: Path) -> bytes:
        lines, final = _lines(data)
        lines[self.rng.randrange(len(lines))] = self._value(task, lines)
        return _join(lines, final)

    def m_replace_all(self, data: bytes, task: str, target: Path) -> bytes:
        lines, final = _lines(data)
        value = self._value(task, lines)
        return _join([value if line.strip() or task not in ("panx", "udpos") else line for line in lines], final)

    def m_swap_lines(self, data: bytes, task: str, target: Path) -> bytes:
        lines, final = _lines(data)
        i, j = self.rng.randrange(len(lines)), self.rng.randrange(len(lines))
        if self.rng.random() < 0.5 and len(lines) > 1:  # neighbours: mostly within one tagging sentence
            i = self.rng.randrange(len(lines) - 1)
            j = i + 1
        lines[i], lines[j] = lines[j], lines[i]
        return _join(lines, final)

    def m_pad_line(self, data: bytes, task: str, target: Path) -> bytes:
        lines, final = _lines(data)
        at = self.rng.randrange(len(lines))
        if lines[at].strip():  # white space around a value (a blank tagging line must stay blank)
            lines[at] = self.rng.choice([b" ", b"\t", b"  "]) + lines[at] + self.rng.choice([b" ", b"\t", b""])
        return _join(lines, final)

    def m_append_blank_line(self, data: bytes, task: str, target: Path) -> bytes:
        return data + (b"\n" if data.endswith(b"\n") else b"\n\n")

    # -------------------------------- JSON

    def _load(self, data: bytes) -> Any:
        return json.loads(data)

    def _dump(self, value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=self.rng.random() < 0.5).encode()

    def m_reindent(self, data: bytes, task: str, target: Path) -> bytes:
        return json.dumps(self._load(data), indent=self.rng.choice([None, 1, 4, "\t"])).encode()

    def m_shuffle_keys(self, data: bytes, task: str, target: Path) -> bytes:
        def shuffled(value: Any) -> Any:
            if isinstance(value, dict):
                items = list(value.items())
                self.rng.shuffle(items)
                return {k: shuffled(v) for k, v in items}
            return [shuffled(v) for v in value] if isinstance(value, list) else value
        return self._dump(shuffled(self._load(data)))

    def m_wrap_data(self, data: bytes, task: str, target: Path) -> bytes:
        """``{"data": X}`` reads as X (evaluate.py's read_squad): unwrap a wrapped file, wrap a bare one."""
        value = self._load(data)
        return self._dump(value["data"] if isinstance(value, dict) and "data" in value else {"data": value})

    def m_delete_node(self, data: bytes, task: str, target: Path) -> bytes:
        value = self._load(data)
        paths = [p for p in _json_paths(value) if p]
        if paths:
            path = self.rng.choice(paths)
            del _parent(value, path)[path[-1]]
        return self._dump(value)

    def m_retype_node(self, data: bytes, task: str, target: Path) -> bytes:
        value = self._load(data)
        path = self.rng.choice(_json_paths(value))
        new = copy.deepcopy(self.rng.choice(WRONG_TYPES))
        if not path:
            return self._dump(new)
        _parent(value, path)[path[-1]] = new
        return self._dump(value)

    def m_drop_id(self, data: bytes, task: str, target: Path) -> bytes:
        value = self._load(data)
        ids = _id_map(value)
        if ids:
            del ids[self.rng.choice(list(ids))]
        return self._dump(value)

    def m_extra_id(self, data: bytes, task: str, target: Path) -> bytes:
        value = self._load(data)
        _id_map(value)["zz-not-a-label-id"] = ["Q1"] if task == "mewslix" else "an answer"
        return self._dump(value)

    def m_rename_ids(self, data: bytes, task: str, target: Path) -> bytes:
        value = self._load(data)
        return self._dump({f"{key}-x": item for key, item in _id_map(value).items()})

    def m_set_answer(self, data: bytes, task: str, target: Path) -> bytes:
        """A prediction set to a gold answer (QA) or the gold entity ranked at a random place (Mewsli-X)."""
        value = self._load(data)
        label = json.loads((self.root / "labels" / task / target.name).read_bytes())
        if task == "mewslix":
            key, (gold,) = self.rng.choice(list(label.items()))
            ranking = [f"Q{n}" for n in range(self.rng.randrange(25))]
            ranking.insert(self.rng.randrange(len(ranking) + 1), gold)
            _id_map(value)[key] = ranking
        else:
            qas = [qa for article in label["data"] for paragraph in article["paragraphs"] for qa in paragraph["qas"]]
            qa = self.rng.choice(qas)
            _id_map(value)[qa["id"]] = self.rng.choice([a["text"] for a in qa["answers"]] + ["", "the", "x y z"])
        return self._dump(value)

    # -------------------------------- folders

    def folder_mutation(self, task: str) -> Mutation:
        rng, root = self.rng, self.root
        side = root / rng.choice(["predictions", "labels"])
        kind = rng.choice(["rename-task-folder", "remove-task-folder", "rename-language-file", "stray-file",
                           "stray-folder"])
        if kind == "rename-language-file" and task == "mewslix":
            kind = "stray-file"  # --partial scores the languages present: a missing file is no error there
        folder = side / task
        if kind in ("rename-task-folder", "remove-task-folder"):
            new = side / rng.choice([task.upper(), f"{task}_", f"{task}-old", f" {task}", task.capitalize()])
            hidden = side.parent / f"hidden-{side.name}-{task}"

            def apply() -> Callable[[], None]:
                moved = new if kind == "rename-task-folder" else hidden
                folder.rename(moved)
                return lambda: moved.rename(folder)
            return Mutation(kind, task, folder, folder=apply, expect="drop-task")
        if kind == "rename-language-file":
            name = rng.choice(self.files[task])
            stem, ext = name.rsplit(".", 1)
            file = folder / name
            new = folder / rng.choice([f"{stem}.txt", f"{stem.upper()}.{ext}", f"{name}.bak", f"{stem}.{ext}l"])

            def apply() -> Callable[[], None]:
                file.rename(new)
                return lambda: new.rename(file)
            return Mutation(kind, task, new, folder=apply, expect="error", named=file)
        extra = (folder / rng.choice(["test-xx.tsv", "notes.txt", "test-de.tsv.bak", "README"]) if kind == "stray-file"
                 else side / rng.choice(["notes", "old", "Xnli"]))

        def apply() -> Callable[[], None]:
            if kind == "stray-file":
                extra.write_text("1\n")
                return extra.unlink
            extra.mkdir()
            return extra.rmdir
        # A stray file is named in a note on its folder; a stray folder in a note of its own.
        return Mutation(kind, task, extra, folder=apply, expect="same-warned",
                        named=extra.parent if kind == "stray-file" else extra)


# ---------------------------------------------------------------- the check of one mutation


def check(mutation: Mutation, root: Path, baselines: dict[str, dict[str, Any]]) -> tuple[str, str | None]:
    """(outcome class, problem or None) of one applied mutation."""
    task = mutation.task
    benchmark = benchmark_of(task)
    partial = "--partial" in benchmark
    baseline = baselines[task == "mewslix" and "xtreme-r" or "xtreme"]
    outcome = run_score(root, benchmark)
    if outcome.code not in (0, 2) or "Traceback" in outcome.err:
        return "crash", f"exit {outcome.code}\n{outcome.err[-3000:]}"
    named = str(mutation.named or mutation.target)
    if mutation.folder is not None:
        expect = mutation.expect
        if expect == "error":
            if outcome.code != 2 or named not in outcome.err or outcome.report is not None:
                return "error", f"expected exit 2 naming {named}, got {outcome.code}: {outcome.err[-600:]}"
            return "error", None
        if outcome.code != 0:
            return expect, f"expected exit 0, got {outcome.code}: {outcome.err[-600:]}"
        if named not in outcome.err or mutation.target.name not in outcome.err:
            return expect, f"no warning naming {named}: {outcome.err[-600:]}"
        expected = without(baseline, task, partial) if expect == "drop-task" else baseline
        if expect == "drop-task" and not partial and "all_task" not in outcome.err:
            return expect, f"the warning does not say that all_task is absent: {outcome.err[-600:]}"
        return expect, close(outcome.report, expected)
    language = mutation.target.stem.removeprefix("test-")
    prediction = root / "predictions" / task / mutation.target.name
    label = root / "labels" / task / mutation.target.name
    verdict = judge(task, language, prediction.read_bytes(), label.read_bytes())
    if verdict.error:
        if outcome.code != 2 or named not in outcome.err or outcome.report is not None:
            return "error", (f"the oracle finds the {verdict.error} bad ({verdict.why}): expected exit 2 naming "
                             f"{named} and no report; got exit {outcome.code}: {outcome.err[-600:]}")
        return "error", None
    if outcome.code != 0:
        return "official", f"the oracle scores it {verdict.metrics}; the command exits {outcome.code}: {outcome.err[-600:]}"
    if mutation.kind in SAME_KINDS:
        outcome_class = "same"
        problem = close(outcome.report, baseline) or close(verdict.metrics, {
            m: v[language] for m, v in baseline[task].items() if isinstance(v, dict)}, "oracle")
    else:
        outcome_class = "warned" if verdict.warn else "official"
        problem = close(outcome.report, replaced(baseline, task, language, verdict.metrics, partial))
    if problem is None and verdict.warn and (named not in outcome.err or "warning:" not in outcome.err):
        problem = f"the oracle expects a warning ({verdict.warn}) naming {named}: {outcome.err[-600:]}"
    return outcome_class, problem


def fuzz(tmp_path: Path, seed: int, count: int, seconds: float | None = None) -> Counter:
    root = tmp_path / "submission"
    shutil.copytree(MOCK / "predictions", root / "predictions")
    shutil.copytree(MOCK / "labels", root / "labels")
    baselines = {}
    for name, task in (("xtreme", "xnli"), ("xtreme-r", "mewslix")):
        outcome = run_score(root, benchmark_of(task))
        assert outcome.code == 0, outcome.err
        baselines[name] = outcome.report
    mutator, counts, failures = Mutator(root, random.Random(seed)), Counter(), []
    started = time.monotonic()
    for index in range(count):
        if seconds is not None and time.monotonic() - started > seconds:
            break
        mutation = mutator()
        undo: Callable[[], None] | None = None
        original = None
        try:
            if mutation.folder is not None:
                undo = mutation.folder()
            else:
                original = mutation.target.read_bytes()
                mutation.target.write_bytes(mutation.data)
            outcome_class, problem = check(mutation, root, baselines)
        finally:
            if undo is not None:
                undo()
            if original is not None:
                mutation.target.write_bytes(original)
        counts[outcome_class] += 1
        counts["mutations"] += 1
        if problem:
            failures.append(f"seed {seed} #{index} {mutation.kind} {mutation.target.relative_to(root)}: {problem}")
    print(f"\nscorer fuzz seed {seed}: {dict(counts)} in {time.monotonic() - started:.1f}s")  # noqa: T201 - the report of -s
    assert not failures, f"{len(failures)} of {counts['mutations']} mutations failed:\n" + "\n".join(failures[:15])
    return counts


def _override() -> tuple[int, int] | None:
    value = os.environ.get("XSTILTS_SCORER_FUZZ")
    if not value:
        return None
    seed, count = value.split(":")
    return int(seed), int(count)


def test_oracle_agrees_with_the_scorer_on_the_unmutated_submission(tmp_path):
    """The oracle scores the mock submission as the scorer does, every task and language, and the report has
    the official shape; the fuzzing below then compares against the scorer's report of the unmutated files."""
    shutil.copytree(MOCK, tmp_path / "submission")
    root = tmp_path / "submission"
    for task, name in (("xnli", "xtreme"), ("mewslix", "xtreme-r")):
        outcome = run_score(root, benchmark_of(task))
        assert outcome.code == 0 and "Traceback" not in outcome.err, outcome.err
        tasks = [t for t in TASKS if t != "mewslix"] if name == "xtreme" else ["mewslix"]
        detailed = {}
        for t in tasks:
            per_language = {}
            for lg in outcome.report[t]["avg_metric"] and next(v for v in outcome.report[t].values()
                                                                 if isinstance(v, dict)):
                file = f"test-{lg}.{'json' if t in ('xquad', 'mlqa', 'tydiqa', 'mewslix') else 'tsv'}"
                verdict = judge(t, lg, (root / "predictions" / t / file).read_bytes(),
                                (root / "labels" / t / file).read_bytes())
                assert verdict.error is None and not verdict.warn, (t, lg, verdict)
                per_language[lg] = verdict.metrics
            detailed[t] = task_score(per_language, t)
        expected = xtreme_report(detailed) if name == "xtreme" else detailed
        if name == "xtreme-r":
            assert close(outcome.report["mewslix"], expected["mewslix"]) is None
        else:
            assert close(outcome.report, expected) is None
            assert list(outcome.report)[:5] == ["all_task", *XTREME_GROUPS]
        # The only notes: the mock's folders of the other benchmark's tasks, which the scorer ignores.
        assert all("ignored folder" in line or "--partial:" in line
                   for line in outcome.err.splitlines() if line.startswith("warning:")), outcome.err


@pytest.mark.slow
def test_scorer_fuzz_slice(tmp_path):
    seed, count = _override() or (12, 600)
    counts = fuzz(tmp_path, seed, count, seconds=45)  # a slow machine runs fewer mutations, never longer
    assert counts["mutations"] >= 100
    if counts["mutations"] == count:
        assert all(counts[c] for c in ("same", "official", "warned", "error", "drop-task", "same-warned"))


@pytest.mark.heavy
def test_scorer_fuzz_heavy(tmp_path):
    seed, count = _override() or (2024, 10000)
    fuzz(tmp_path, seed, count)
