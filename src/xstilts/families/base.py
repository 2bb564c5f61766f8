"""The contract every family fulfils.

A family decides how a task's examples become model inputs, which head sits on the encoder, how the loss is
computed, and how raw outputs become per-example predictions and scores. The training loop and the evaluator
are the same for every family: they only call the methods below.

Data at each hop:

- *example*: a dict read from a task file, in the family's schema (see each family's module docstring).
  Every example has a string ``id``.
- *feature*: a dict of plain lists/ints (so it can be cached as Arrow) made by ``featurize``. Every feature
  has ``input_ids`` (list[int], special tokens included) and ``example_index`` (position of its example in
  the list given to ``featurize``); one example may give several features (long QA contexts, long
  sentences). ``length`` (int) is the padded-batch length that feature needs; batches group similar lengths.
- *batch*: ``collate(features)``: a dict of tensors padded to the longest feature of the batch (never to
  the max length), with ``attention_mask``.
- *outputs*: what ``forward`` returns (a tensor or a dict of tensors); ``loss`` and ``predict`` read it.

The model a family runs on is the one its spec's ``model_kind`` names (``families/spec.py``): an encoder
(``forward(encoder, head, batch)``), or an encoder-decoder for a generation family (``families/generation.py``),
whose ``forward`` gets the whole seq2seq model and no head. Decoding hooks in there and nowhere else: in training
(the model in train mode) ``forward`` computes the teacher-forced outputs for ``loss``; in evaluation (eval mode)
it generates, and ``predict`` gives the decoded per-example texts. The loop and the evaluator call the same methods
either way, so a generation family needs no special case in the runner; `xstilts validate` refuses a task whose
family needs a model kind the study's model is not (``families/text_to_text.py``).

All scores are on a 0-100 scale, as the XTREME scorers report them. Every metric that is a ratio of sums over
the examples of a set also has per-example units (:meth:`Family.example_units`, see
:mod:`xstilts.scoring.units`), from which the family computes the score itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from xstilts.families.spec import FamilySpec
from xstilts.scoring.units import Units

if TYPE_CHECKING:  # heavy imports only for type checkers
    import torch
    from transformers import PreTrainedTokenizerFast

    from xstilts.tasks.base import Task


@dataclass(frozen=True)
class EvalSet:
    """One evaluated data set: its examples, their features and the raw per-feature model outputs."""

    examples: list[dict[str, Any]]
    features: list[dict[str, Any]]
    raw: list[Any]


@dataclass(frozen=True)
class Evaluation:
    """What scoring one evaluated set gives: per-example predictions (example order), every metric of the
    task (0-100, the task's order) and the units of each metric that decomposes (``scores[m] ==
    units[m].value()``)."""

    predictions: list[Any]
    scores: dict[str, float]
    units: dict[str, Units]


class Family(ABC):
    # The family's declarative part (``families/<name>_settings.py``, torch-free): its settings, metrics, model
    # kind and description. ``name``, ``description`` and ``trainable`` are read from it, never restated.
    spec: ClassVar[FamilySpec]
    name: ClassVar[str]
    description: ClassVar[str]
    trainable: ClassVar[bool]
    # Training batches may be packed (``models/packing.py``) when every batch key but ``input_ids`` and
    # ``attention_mask`` is per token and the loss is a mean over tokens that ignores the free slots: these
    # keys, each with the value of a free slot. None: never packed.
    packed_token_keys: ClassVar[dict[str, int] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spec = cls.__dict__.get("spec")
        if spec is not None:
            cls.name, cls.description, cls.trainable = spec.name, spec.description, spec.trainable

    def checked(self, task: Task) -> Any:
        """The task's settings (the family's :class:`~xstilts.families.spec.Settings`), after checking them and
        its metrics against the spec: a bad task raises one error naming every problem."""
        return self.spec.check_task(task)

    # ----- data -----
    @abstractmethod
    def validate_example(self, task: Task, example: dict[str, Any]) -> str | None:
        """None if the example fits the schema and the task's label set, else what is wrong (the caller adds
        the file and line)."""

    @abstractmethod
    def featurize(
        self, task: Task, examples: list[dict[str, Any]], tokenizer: PreTrainedTokenizerFast, max_length: int
    ) -> list[dict[str, Any]]:
        """Tokenize a list of examples (in batch: one tokenizer call, not one per example)."""

    @abstractmethod
    def collate(
        self, features: list[dict[str, Any]], pad_token_id: int, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Pad to the longest feature of the batch. ``generator`` drives any randomness (MLM masking) so that
        a resumed run draws the same masks."""

    # ----- model -----
    @abstractmethod
    def build_head(self, task: Task, encoder_config: Any) -> torch.nn.Module | None:
        """A fresh head for this task (None for retrieval)."""

    @abstractmethod
    def forward(self, encoder: torch.nn.Module, head: torch.nn.Module | None, batch: dict[str, torch.Tensor]) -> Any:
        """Run encoder and head on a batch; return the outputs ``loss`` and ``predict`` need."""

    @abstractmethod
    def loss(self, outputs: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Mean loss of the batch (a scalar tensor)."""

    @abstractmethod
    def predict(self, outputs: Any, batch: dict[str, torch.Tensor]) -> list[Any]:
        """Raw per-feature outputs as CPU values (numpy arrays or numbers), in batch order."""

    def reuse_key(self, feature: dict[str, Any]) -> Any:
        """A hashable key when this feature's raw output depends only on the model state and the key, so that
        features with equal keys are encoded once (:mod:`xstilts.evaluation.reuse`); None (the default): always
        encode it."""
        return None

    # ----- results -----
    @abstractmethod
    def postprocess(
        self, task: Task, examples: list[dict[str, Any]], features: list[dict[str, Any]], raw: list[Any]
    ) -> list[Any]:
        """Per-example predictions (JSON-able, in example order) from the raw per-feature outputs."""

    @abstractmethod
    def score(self, task: Task, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, float]:
        """Every metric of ``task.metrics`` (0-100); those with units computed from them."""

    def example_units(
        self, task: Task, examples: list[dict[str, Any]], predictions: list[Any]
    ) -> dict[str, Units]:
        """The units of every metric of ``task.metrics`` that decomposes (a metric without units is absent).
        Default: none."""
        return {}

    def scored(self, task: Task, examples: list[dict[str, Any]], predictions: list[Any]) -> Evaluation:
        """Scores and units of per-example predictions, the units computed once."""
        units = self.example_units(task, examples, predictions)
        rest = self.score(task, examples, predictions) if any(m not in units for m in task.metrics) else {}
        scores = {metric: units[metric].value() if metric in units else rest[metric] for metric in task.metrics}
        return Evaluation(predictions, scores, units)

    @abstractmethod
    def chance(self, task: Task, examples: list[dict[str, Any]]) -> dict[str, float]:
        """Expected score of a predictor that picks uniformly at random among the valid outputs, per metric
        (exact where a closed form exists, else a seeded Monte Carlo estimate)."""

    # ----- evaluation -----
    def evaluation_recipe(self, task: Task, max_length: int, encoder_config: Any) -> dict[str, Any]:
        """The settings an evaluation of ``task`` ran with that its numbers depend on beyond the model and the
        data, recorded with every result row (retrieval adds its layer, pooling and search)."""
        return {"max_length": max_length}

    def reference_splits(self, task: Task, split: str) -> tuple[str, ...]:
        """Other splits, in the same language, whose model outputs the scoring of ``split`` needs (BUCC's test
        pairs are extracted at the margin threshold chosen on dev). The evaluator runs the model on them too
        and hands their outputs to :meth:`evaluate`. Default: none."""
        return ()

    def evaluate(
        self, task: Task, split: str, evaluated: EvalSet, references: Mapping[str, EvalSet]
    ) -> Evaluation:
        """Predictions, metrics and units of one evaluated set; ``references`` holds the outputs on
        :meth:`reference_splits`. The references only shape the predictions: the scores are always those of
        :meth:`scored` on the predictions. Default: :meth:`postprocess`, then :meth:`scored`."""
        predictions = self.postprocess(task, evaluated.examples, evaluated.features, evaluated.raw)
        return self.scored(task, evaluated.examples, predictions)
