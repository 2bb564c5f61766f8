"""The benchmark versions a study can target, as data: their tasks, the languages each task's score averages
over, how a task's score is formed and how tasks are grouped.

A study that names ``benchmark:`` is evaluated in exactly that version's languages (the official tables:
google-research/xtreme evaluate.py at 838c13b for XTREME and XTREME-R, microsoft/XGLUE's evaluation script
for XGLUE; kept once, with the official scorers, in ``scoring.official``), and its report averages as
that benchmark does:

- XTREME and XTREME-R: per task the plain mean over its languages of the task's score, which for the QA
  tasks (XQuAD, MLQA, TyDiQA-GoldP) is (EM + F1) / 2 and otherwise the main metric; then the plain mean over
  tasks. LAReQA, which the official evaluate.py cannot score, is the mean over all questions of all languages
  (XTREME-R's own LAReQA evaluation pools them: utils_lareqa.mean_avg_prec_at_k).
- XGLUE: per task the plain mean over its languages of its one metric (MLQA: F1 only), then the mean over
  tasks.

Task names are ours: the XTREME declarations are named like the official folders (``xnli``, ``bucc2018``),
the XGLUE ones ``xglue-<folder in lower case>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from xstilts.errors import XstiltsError
from xstilts.registry import did_you_mean
from xstilts.scoring.official import layout
from xstilts.scoring.official.xglue import XGLUE_LANGUAGES


@dataclass(frozen=True, eq=False)  # one object per benchmark: compared and hashed by identity
class Benchmark:
    name: str
    title: str
    languages: Mapping[str, tuple[str, ...]]  # task -> the languages its score averages over, official order
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # QA tasks whose score is (EM + F1) / 2; for the others the task's main metric is its score.
    em_f1_tasks: tuple[str, ...] = ()
    # Tasks scored over all examples of all languages at once (one pooled mean, not a mean of languages).
    pooled_tasks: tuple[str, ...] = ()
    source: str = ""

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(self.languages)

    def task_languages(self, task: str) -> tuple[str, ...]:
        if task not in self.languages:
            raise XstiltsError(f"{self.title} has no task {task!r}: {did_you_mean(task, list(self.languages))}")
        return self.languages[task]

    def score_rule(self, task: str) -> str:
        """How the task enters the benchmark score, in words (tables, recipe cards)."""
        if task in self.pooled_tasks:
            return "mean over all queries of all languages"
        if task in self.em_f1_tasks:
            return "(EM + F1) / 2, mean over languages"
        return "main metric, mean over languages"


XTREME = Benchmark(
    "xtreme", "XTREME", layout.TASK_LANGUAGES["xtreme"], layout.TASK_GROUPS["xtreme"], em_f1_tasks=layout.QA_TASKS,
    source="google-research/xtreme evaluate.py (838c13b): XTREME_TASK2LANGS, XTREME_GROUP2TASK",
)
XTREME_R = Benchmark(
    "xtreme-r", "XTREME-R", layout.TASK_LANGUAGES["xtreme-r"], layout.TASK_GROUPS["xtreme-r"],
    em_f1_tasks=layout.QA_TASKS, pooled_tasks=("lareqa",),
    source="google-research/xtreme evaluate.py (838c13b): XTREME_R_TASK2LANGS, XTREME_R_GROUP2TASK; LAReQA's "
    "languages (empty there) are XQuAD-R's 11",
)
XGLUE = Benchmark(
    "xglue", "XGLUE", {f"xglue-{folder.lower()}": languages for folder, languages in XGLUE_LANGUAGES.items()},
    {"understanding": tuple(f"xglue-{f.lower()}" for f in XGLUE_LANGUAGES if f not in ("QG", "NTG")),
     "generation": ("xglue-qg", "xglue-ntg")},
    source="microsoft/XGLUE evaluation script (task2lg); QG and NTG are scored by BLEU",
)

BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in (XTREME, XTREME_R, XGLUE)}
BENCHMARK_NAMES = tuple(BENCHMARKS)


def get_benchmark(name: str) -> Benchmark:
    if name not in BENCHMARKS:
        raise XstiltsError(f"unknown benchmark {name!r}: {did_you_mean(name, list(BENCHMARKS))}")
    return BENCHMARKS[name]
