"""Published protocols as data: the settings a reproduction is checked against, each with its source.

``X_STILTS`` is Phang et al. (2020) as its code ran it: jiant 2's XTREME scripts
(``jiant/scripts/benchmarks/xtreme/``: ``xtreme_runconfig_writer.py`` and ``subscripts/{c,d,e}_*.sh``), jiant's
runscript and optimizer defaults, and the paper for the intermediate stages (the scripts cover only the
target tasks). The retrieval entries are also XTREME's own (``scripts/run_tatoeba.sh``). Evaluation languages
and scores are not here: they are the benchmark's (:mod:`xstilts.tasks.benchmarks`).

``DEVIATIONS`` are the places where xstilts differs on purpose, with the reason; a study's recipe card
(:mod:`xstilts.studies.recipe_card`) marks every other difference from the reference as unexplained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Ref:
    value: Any
    source: str


PAPER = "Phang et al. (2020), §3 (training details)"
RUN = "jiant 2 xtreme/subscripts/e_run_models.sh"
CONFIGS = "jiant 2 xtreme/subscripts/d_write_configs.sh"
TOKENIZE = "jiant 2 xtreme/subscripts/c_tokenize_and_cache.sh"
WRITER = "jiant 2 xtreme/xtreme_runconfig_writer.py"
RUNSCRIPT = "jiant 2 jiant/proj/main/runscript.py defaults"
OPTIMIZER = "jiant 2 jiant/shared/model_setup.py (AdamW, linear warmup and decay)"
CCG = "jiant 2 jiant/tasks/lib/ccg.py (1,363 labels) and jiant 1 scripts/ccg/ccg_proc.py (sections)"
TATOEBA_SCRIPT = "google-research/xtreme scripts/run_tatoeba.sh (--specific_layer 13 of the last 24 states)"
UTILS_RETRIEVE = "google-research/xtreme third_party/utils_retrieve.py (mine_bitext, bucc_optimize)"


@dataclass(frozen=True)
class TrainingReference:
    name: str
    title: str
    every_stage: dict[str, Ref]  # setting -> reference, for every trained stage
    intermediate: dict[str, Ref]
    # By evaluated target task: the stage that trains for it.
    targets: dict[str, dict[str, Ref]]
    # Tokens per example of each training task (jiant tokenizes every task at its own length).
    task_lengths: dict[str, Ref]
    retrieval: dict[str, Ref]  # layer, pooling, max_length of the retrieval evaluations below
    retrieval_tasks: tuple[str, ...] = ()
    labels: dict[str, Ref] = field(default_factory=dict)  # task -> number of labels of its head
    # By evaluated target task: the stages of its own recipe before the target stage (``target_recipe``).
    target_recipes: dict[str, dict[str, Ref]] = field(default_factory=dict)


def _target(epochs: int, batch: int, accumulation: int, length: int, train: str, selection: str) -> dict[str, Ref]:
    return {"epochs": Ref(epochs, CONFIGS),
            "effective batch": Ref(batch * accumulation, f"{CONFIGS} (batch {batch} x {accumulation} accumulation)"),
            "training tasks": Ref(train, f"{WRITER} TRAIN_TASK_DICT"), "max length": Ref(length, TOKENIZE),
            "selection data": Ref(selection, f"{WRITER}: early stopping on the training task's dev set")}


XCOPA_SCRIPT = "google-research/xtreme scripts/train_xcopa.sh"
XCOPA_TRAINER = "google-research/xtreme third_party/run_xcopa.py (Hugging Face Trainer defaults)"


def _xcopa(train: str, heads: str) -> dict[str, Ref]:
    """XTREME-R's XCOPA recipe (SocialIQa, then English COPA), one of its two stages."""
    return {"training tasks": Ref(train, XCOPA_SCRIPT), "epochs": Ref(5, XCOPA_SCRIPT),
            "effective batch": Ref(32, f"{XCOPA_SCRIPT} (2 x 16 for large models, 8 x 4 otherwise)"),
            "max length": Ref(128, XCOPA_SCRIPT),
            "learning rate": Ref(frozenset({2e-5, 3e-5}), f"{XCOPA_SCRIPT} (3e-5 for large models, 2e-5 otherwise)"),
            "warmup": Ref(0.0, XCOPA_TRAINER), "weight decay": Ref(0.0, XCOPA_TRAINER), "heads": Ref(heads, XCOPA_SCRIPT),
            "selection data": Ref("none (the final checkpoint)", XCOPA_TRAINER)}


_QA = ("squad", "squad2", "xquad", "mlqa", "tydiqa")

X_STILTS = TrainingReference(
    name="x-stilts",
    title="X-STILTs (Phang et al., 2020), as jiant 2 ran it",
    every_stage={
        "learning rate": Ref(1e-5, f"{RUN} (--learning_rate 1e-5)"),
        "warmup": Ref(0.1, f"{WRITER} (warmup_steps_proportion 0.1)"),
        "schedule": Ref("linear", OPTIMIZER),
        "weight decay": Ref(0.01, OPTIMIZER),
        "Adam betas": Ref((0.9, 0.999), OPTIMIZER),
        "Adam epsilon": Ref(1e-8, f"{RUNSCRIPT} (adam_epsilon)"),
        "gradient clipping": Ref(1.0, f"{RUNSCRIPT} (max_grad_norm)"),
        "selection every": Ref(1000, f"{RUN} (--eval_every_steps 1000)"),
        "selection examples": Ref(500, f"{WRITER} (eval_subset_num 500)"),
        "selection patience": Ref(30, f"{RUN} (--no_improvements_for_n_evals 30)"),
        "heads": Ref("new", "jiant 2 xstilts guide (--model_load_mode partial: the encoder only)"),
    },
    intermediate={
        "epochs": Ref(3, PAPER),
        "effective batch": Ref(32, PAPER),
        "effective batch (QA)": Ref(16, PAPER),
        "sampler": Ref("proportional", "jiant 2 jiant/proj/main/scripts/configurator.py (ProportionalMultiTaskSampler "
                       "unless train_examples_cap)"),
        "selection data": Ref("own dev", PAPER),
    },
    targets={
        "xnli": _target(2, 4, 8, 256, "mnli", "mnli dev"),
        "pawsx": _target(5, 4, 8, 256, "pawsx", "pawsx dev"),
        "udpos": _target(10, 4, 8, 256, "udpos", "udpos dev"),
        "panx": _target(10, 4, 8, 256, "panx", "panx dev"),
        "xquad": _target(2, 4, 4, 384, "squad", "squad dev"),
        "mlqa": _target(2, 4, 4, 384, "squad", "squad dev"),
        "tydiqa": _target(2, 4, 4, 384, "tydiqa", "tydiqa dev"),
        # X-STILTs did not evaluate XCOPA: its recipe is XTREME-R's own
        "xcopa": _xcopa("copa", "kept"),
    },
    target_recipes={"xcopa": _xcopa("socialiqa", "new")},
    task_lengths={task: Ref(384 if task in _QA else 256, TOKENIZE) for task in (
        "anli-r1", "anli-r2", "anli-r3", "mnli", "snli", "qqp", "squad", "squad2", "hellaswag", "commonsenseqa",
        "cosmosqa", "ccg", "ccg-jiant", "xnli", "pawsx", "udpos", "panx", "tydiqa")},
    retrieval={
        "layer": Ref("14/24", f"{WRITER} (retrieval_layer 14, pooler mean); {TATOEBA_SCRIPT}"),
        "pooling": Ref("mean", f"{WRITER} (pooler_type mean)"),
        "max length": Ref(512, f"{TOKENIZE} (bucc2018, tatoeba at 512); google-research/xtreme scripts/"
                               "run_tatoeba.sh (MAXL=512)"),
    },
    retrieval_tasks=("bucc2018", "tatoeba"),
    labels={"ccg-jiant": Ref(1363, CCG), "ccg": Ref(1363, CCG)},
)

REFERENCES: dict[str, TrainingReference] = {X_STILTS.name: X_STILTS}

# (setting, task or "*") -> why xstilts does otherwise. The recipe card shows these as deliberate deviations.
DEVIATIONS: dict[tuple[str, str], str] = {
    ("selection data", "tydiqa"):
        "jiant early-stops TyDiQA on the English GoldP dev set, which is also XTREME's English test set; xstilts "
        "trains without selection (the final checkpoint), so no test data chooses the model",
    ("selection", "tydiqa"):
        "see selection data: no model selection for TyDiQA (jiant's dev set is XTREME's English test set)",
    ("labels", "ccg"):
        "the standard CCG supertag set (425 categories seen 10+ times in sections 02-21, plus <unk>); use task "
        "ccg-jiant for jiant's 1,363 tags and sections",
    ("sampler", "*"):
        "jiant samples tasks in proportion to their sizes (or to capped sizes with train_examples_cap); the cap "
        "of a multi-task stage is the study's choice: the paper's value was not verified",
    ("stages", "xquad"):
        "jiant trains SQuAD twice with the same settings, once for XQuAD and once for MLQA; xstilts trains it "
        "once and evaluates both on it",
}

# What a benchmark's own baselines do at evaluation that a study may not: (benchmark, task) -> setting -> reference.
DUAL_ENCODER = "google-research/xtreme third_party/bert.py (BertForRetrieval: normalised pooled [CLS])"
EVALUATION_REFERENCES: dict[tuple[str, str], dict[str, Ref]] = {
    ("xtreme-r", "lareqa"): {
        "retrieval model": Ref("dual encoder fine-tuned on SQuAD v1.1",
                               f"google-research/xtreme scripts/train_lareqa.sh; {DUAL_ENCODER}"),
        "pooling": Ref("pooled [CLS], normalised", DUAL_ENCODER),
        "max length": Ref(256, "google-research/xtreme scripts/run_eval_lareqa.sh (answers 256, questions 96)")},
    ("xtreme-r", "mewslix"): {
        "retrieval model": Ref("dual encoder fine-tuned on Wikipedia mention-entity pairs",
                               f"google-research/xtreme scripts/train_mewslix.sh; {DUAL_ENCODER}"),
        "pooling": Ref("pooled [CLS], normalised", DUAL_ENCODER),
        "max length": Ref(64, "google-research/xtreme scripts/train_mewslix.sh (MAX_SEQ_LEN=64)")},
    # XTREME's BUCC script as released pools differently from its Tatoeba script and from jiant
    ("xtreme", "bucc2018"): {"XTREME's run_bucc2018.sh": Ref(
        "[CLS] of hidden state 8 (--pool_type cls --specific_layer 7)", "google-research/xtreme scripts/run_bucc2018.sh")},
}
DEVIATIONS[("XTREME's run_bucc2018.sh", "*")] = (
    "the paper's code (jiant) embeds BUCC as Tatoeba, the mean of layer 14 of 24 (as XTREME's run_tatoeba.sh "
    "does); XTREME's BUCC script as released pools [CLS] of another layer, an inconsistency of the scripts")
DEVIATIONS[("pooling", "lareqa")] = DEVIATIONS[("pooling", "mewslix")] = (
    "the study's pooling, as for every retrieval task: the pooled [CLS] of XTREME-R's baselines is trained with "
    "their dual encoder, which this study does not train (see retrieval model)")
DEVIATIONS[("retrieval model", "*")] = (
    "the X-STILTs question is what intermediate training does to the encoder, so every retrieval task embeds with "
    "the encoder as the stages leave it (as BUCC and Tatoeba do in XTREME), without XTREME-R's task-specific "
    "dual-encoder training; these numbers are not comparable with XTREME-R's LAReQA and Mewsli-X baselines")

# Differences of the engine itself from the reference code, whatever the study: listed on every recipe card.
ENGINE_DIFFERENCES: tuple[str, ...] = (
    "Warmup: the learning rate ramps from lr / (warmup steps + 1), not from 0 as Hugging Face's "
    "get_linear_schedule_with_warmup (jiant) does; the first steps differ by at most lr / (warmup steps + 1).",
    "BUCC threshold (scoring/mining.py): as the released driver (utils_retrieve.bucc_optimize), except where "
    "it crashes (the best F1 at the last candidate): there the threshold is that candidate's score, so every "
    "candidate is extracted. The retrieval setting threshold_rule: change-points is a stricter, named option.",
    "CCG (ccg-jiant): jiant numbered its 1,363 tags in os.listdir order, which cannot be reproduced; the tag set "
    "is the same, the head's label order is first-seen in sorted file order.",
)
