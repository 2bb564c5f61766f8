"""Typed study configs. Every model forbids unknown keys, so a typo is an error, not a silent default.

A study names a model, a set of stages, and pipelines (ordered lists of stage names) that share stages
wherever they share a prefix; the lineage key of each concrete stage makes that sharing automatic.
"""

from __future__ import annotations

import re
import string
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)
from pydantic import Strict as StrictMode
from pydantic_core import PydanticCustomError

# Token limit when evaluating a pipeline with no stages (no stage's max_length to inherit).
DEFAULT_EVAL_MAX_LENGTH = 256

# Numbers and flags of a study, strictly. YAML reads true/false/yes/no/on/off as booleans and pydantic's lax mode
# would take a boolean for 1 or 0 (`batch_size: true` trains with batches of 1): a number field refuses them.
# Floats are finite (the models' ``allow_inf_nan=False``: `lr: .inf` would pass `gt=0` and crash later), integers
# fit in 64 bits (what torch and numpy take), and a flag is true or false, not 1 or "yes".
INT_LIMIT = 2**63


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError(
            "number_not_boolean", "expected a number, not the boolean {value} (YAML reads unquoted true/false, "
            "yes/no and on/off as booleans)", {"value": str(value).lower()})
    return value


def _in_64_bits(value: int) -> int:
    if not -INT_LIMIT <= value < INT_LIMIT:
        raise PydanticCustomError("int_too_large", "{value} is out of range: integers lie between -2**63 and "
                                  "2**63", {"value": value})
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank_text", "is empty: give a name or a path, or leave the key out")
    return value


Int = Annotated[int, BeforeValidator(_not_a_boolean), AfterValidator(_in_64_bits)]
Float = Annotated[float, BeforeValidator(_not_a_boolean)]
Bool = Annotated[bool, StrictMode()]
# A name or a path: blank text would name nothing (`data_root: ""` is the working directory).
Text = Annotated[str, AfterValidator(_not_blank)]
# An Adam beta: the decay of a moving average, so in [0, 1) (torch refuses the rest when the stage starts).
Beta = Annotated[Float, Field(ge=0.0, lt=1.0)]


class Strict(BaseModel):
    """Every config block: unknown keys are errors, numbers are numbers (:data:`Int`, :data:`Float`) and finite."""

    model_config = ConfigDict(extra="forbid", frozen=False, allow_inf_nan=False)


# Architectures a study can build from a config: encoders, and encoder-decoders (``models/seq2seq.py``).
ENCODER_ARCHITECTURES = ("xlm-roberta", "bert")
SEQ2SEQ_ARCHITECTURES = ("t5", "mt5", "mbart")


class BuildConfig(Strict):
    """A randomly initialised model built from a config (tiny test and micro models): an encoder (xlm-roberta,
    bert) or an encoder-decoder (t5, mt5, mbart; ``num_layers`` deep on both sides unless
    ``num_decoder_layers`` says otherwise)."""

    architecture: Literal["xlm-roberta", "bert", "t5", "mt5", "mbart"] = "xlm-roberta"
    hidden_size: Int = Field(64, gt=0)
    num_layers: Int = Field(2, gt=0)
    num_decoder_layers: Int | None = Field(None, gt=0, description="decoder layers of an encoder-decoder "
                                           "(default: num_layers)")
    num_heads: Int = Field(2, gt=0)
    intermediate_size: Int = Field(256, gt=0)
    max_length: Int = Field(512, gt=0)
    dropout: Float = Field(0.1, ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _heads_divide_hidden(self) -> BuildConfig:
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size {self.hidden_size} is not divisible by num_heads {self.num_heads}; "
                "choose num_heads that divides hidden_size"
            )
        return self

    @model_validator(mode="after")
    def _decoder_layers_of_seq2seq(self) -> BuildConfig:
        if self.num_decoder_layers is not None and self.architecture not in SEQ2SEQ_ARCHITECTURES:
            raise ValueError(f"num_decoder_layers is for encoder-decoders ({', '.join(SEQ2SEQ_ARCHITECTURES)}); "
                             f"a {self.architecture} encoder has no decoder: leave it out")
        return self

    @property
    def kind(self) -> str:
        return "encoder-decoder" if self.architecture in SEQ2SEQ_ARCHITECTURES else "encoder"


class TrainTokenizerConfig(Strict):
    corpus: list[str] = Field(..., min_length=1, description="tasks whose texts (all splits) train the tokenizer")
    vocab_size: Int = Field(4000, ge=100)
    lowercase: Bool = False
    algorithm: Literal["bpe", "unigram"] = "bpe"
    sentinels: Int = Field(0, ge=0, le=1000, description="T5's <extra_id_i> tokens to add (a denoising stage's "
                           "span corruption needs them; T5 and mT5 have 100)")


class TokenizerConfig(Strict):
    path: Text | None = None
    train: TrainTokenizerConfig | None = None

    @model_validator(mode="after")
    def _one_way(self) -> TokenizerConfig:
        if (self.path is None) == (self.train is None):
            raise ValueError("give exactly one of `path` (a tokenizer folder) or `train` (train one in code)")
        return self


class ModelConfig(Strict):
    name_or_path: Text | None = Field(None, description="local folder or hub name of a pretrained encoder")
    revision: Text | None = None
    build: BuildConfig | None = None
    tokenizer: TokenizerConfig | None = None
    label: Text | None = Field(None, description="name shown in results (default: name_or_path or 'built')")
    kind: Literal["encoder", "encoder-decoder"] | None = Field(
        None, description="what the study runs: the model's encoder, or the whole encoder-decoder (generation "
        "tasks); default: what the checkpoint is (config.json's is_encoder_decoder) or the built architecture. "
        "`kind: encoder` on an mT5 checkpoint fine-tunes its encoder alone under task heads")

    @model_validator(mode="after")
    def _one_source(self) -> ModelConfig:
        if (self.name_or_path is None) == (self.build is None):
            raise ValueError("give exactly one of `name_or_path` (a pretrained encoder) or `build` (random init)")
        if self.build is not None and self.tokenizer is None:
            raise ValueError("a built encoder needs `tokenizer` (`train: {corpus: [...]}` or `path`)")
        if self.build is not None and self.kind is not None and self.kind != self.build.kind:
            raise ValueError(f"kind {self.kind!r} does not fit the built architecture {self.build.architecture!r} "
                             f"(a {self.build.kind}); leave `kind` out for a built model")
        return self

    @property
    def display_name(self) -> str:
        if self.label:
            return self.label
        if self.name_or_path:
            return self.name_or_path
        b = self.build
        return f"{b.architecture}-L{b.num_layers}-H{b.hidden_size}" if b else "model"


class CodeSwitchConfig(Strict):
    """Replace some words of each English example by dictionary translations (see ``data.code_switch`` for the
    exact rule). Results downstream are not zero-shot."""

    dictionaries: dict[str, str] = Field(
        ..., min_length=1, description="language -> MUSE dictionary file (one 'english_word translation' per "
        "line), relative to the study file, absolute, or under {data_root}/ (looked for at run time); "
        "`xstilts micro dictionary DIR` writes the micro ones")
    ratio: Float = Field(0.5, ge=0.0, le=1.0, description="chance that a dictionary word is switched")
    seed: Int = Field(0, description="with each example's id, decides which words switch (deterministic)")
    language_choice: Literal["example", "word"] = Field(
        "example", description="draw the language once per example (CoSDA-ML style) or per switched word")


class SourceConfig(Strict):
    task: Text
    split: Text = Field("train", description="train; translate-train for machine-translated training data")
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    max_examples: Int | None = Field(None, gt=0, description="cap per language (first N examples)")
    fraction: Float | None = Field(None, gt=0.0, le=1.0, description="use the first fraction of the examples")
    code_switch: CodeSwitchConfig | None = Field(
        None, description="code-switch the (English) examples with bilingual dictionaries")
    max_length: Int | None = Field(
        None, ge=16, description="tokens per example of this source, in training and in its task's dev selection "
        "(default: the stage's max_length); jiant tokenizes each task of a multi-task stage at its own length")


class SamplerConfig(Strict):
    kind: Literal["proportional", "temperature", "uniform", "capped"] = "proportional"
    temperature: Float = Field(1.0, ge=0.1, le=1000.0, description="p_i ∝ n_i^(1/T): 1 = proportional, larger = "
                               "flatter; below 0.1 the powers of large sources overflow (T < 1 already favours "
                               "the largest)")
    cap: Int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _cap_needed(self) -> SamplerConfig:
        if self.kind == "capped" and self.cap is None:
            raise ValueError("sampler kind 'capped' needs `cap` (the example count above which a source is capped)")
        return self


class OptimizerConfig(Strict):
    lr: Float = Field(1e-5, gt=0.0)
    weight_decay: Float = Field(0.01, ge=0.0)
    betas: tuple[Beta, Beta] = Field((0.9, 0.999), description="AdamW's coefficients, each in [0, 1)")
    eps: Float = Field(1e-8, gt=0.0)
    max_grad_norm: Float | None = Field(1.0, gt=0.0)


class ScheduleConfig(Strict):
    kind: Literal["linear", "constant"] = "linear"
    warmup: Float = Field(0.1, ge=0.0, lt=1.0, description="fraction of the steps spent warming up")


class SelectionConfig(Strict):
    """Model selection on dev data. English dev is zero-shot; any other language marks results not zero-shot."""

    enabled: Bool = True
    every: Int | None = Field(None, gt=0, description="steps between dev evaluations (default: once per epoch)")
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    split: Text = "dev"
    max_examples: Int | None = Field(500, gt=0, description="dev examples per task and language")
    patience: Int | None = Field(None, gt=0, description="stop after this many evaluations without gain")


# PEFT methods a stage may train with (through the `peft` library). Bottleneck adapters (Houlsby, Pfeiffer) are
# not among them: peft has none; they live in the separate `adapters` library.
PEFT_METHODS = ("lora",)
# A module name as peft matches it: the full dotted name or a dotted suffix of it ("query", "attention.self.query").
_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


class PeftConfig(Strict):
    """Train the stage's encoder through a parameter-efficient method (``pip install 'xstilts[peft]'``): the
    encoder's weights stay frozen, the adapter and the task heads train. See ``models/adapters.py``."""

    method: str = Field("lora", description=f"one of {', '.join(PEFT_METHODS)}")
    r: Int = Field(8, gt=0, description="LoRA rank")
    alpha: Float = Field(16.0, gt=0.0, description="LoRA scaling numerator: the update is (alpha / r) * B A")
    dropout: Float = Field(0.0, ge=0.0, lt=1.0, description="dropout on the LoRA input")
    target_modules: list[str] = Field(
        default_factory=lambda: ["query", "value"], min_length=1, description="encoder modules (Linear or "
        "Embedding) that get an adapter: a module's name or a dotted suffix of it, e.g. query, value, dense, "
        "attention.output.dense; checked against the encoder when it is known")
    merge: Bool = Field(True, description="at the stage's end, merge the adapter into the encoder's weights "
                        "(true) or keep it beside the frozen encoder in the checkpoint (false); the next stage "
                        "starts from base + adapter either way")

    @field_validator("method")
    @classmethod
    def _known_method(cls, method: str) -> str:
        if method not in PEFT_METHODS:
            why = (" (bottleneck adapters are not in the peft library; use lora)" if "adapter" in method.lower()
                   else "")
            raise ValueError(f"unknown PEFT method {method!r}{why}; allowed: {', '.join(PEFT_METHODS)}")
        return method

    @field_validator("target_modules")
    @classmethod
    def _module_names(cls, names: list[str]) -> list[str]:
        bad = [name for name in names if not _MODULE_NAME.match(name)]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))} is not a module name; give names such as query, value "
                             "or attention.output.dense")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"{', '.join(map(repr, repeated))} listed more than once; list each module once")
        return names


class StageConfig(Strict):
    sources: list[SourceConfig] = Field(..., min_length=1)
    sampler: SamplerConfig = Field(default_factory=SamplerConfig)
    steps: Int | None = Field(None, gt=0)
    epochs: Float | None = Field(None, gt=0.0, le=1e6, description="passes over the sources (one pass: every "
                                 "batch of every source once)")
    batch_size: Int = Field(32, gt=0)
    grad_accumulation: Int = Field(1, gt=0)
    max_length: Int = Field(256, ge=16, description="tokens per example of every source without its own "
                            "max_length, and at evaluation after the stage")
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    selection: SelectionConfig = Field(default_factory=SelectionConfig)
    keep_heads: Bool = Field(False, description="continue the previous stage's heads instead of new ones")
    target_recipe: Bool = Field(
        False, description="the stage belongs to the target task's own recipe (XTREME-R trains SocialIQa before "
        "English COPA for XCOPA): its tasks are not labelled as intermediate training in the results, so the "
        "pipeline without an intermediate stage stays the baseline (`none`)")
    checkpoint_every: Int = Field(200, gt=0, description="steps between resumable training-state saves")
    seed: Int | None = Field(
        None, ge=0, description="train this stage with this seed whatever the study's `seeds` (default: the "
        "study's seed): a first stage that stands in for a pretrained model (the micro twins' MLM) is then trained "
        "once and shared, and only the stages after it vary with the seed, as with a real pretrained encoder")
    peft: PeftConfig | None = Field(
        None, description="train a parameter-efficient adapter instead of the whole encoder, e.g. {method: lora, "
        "r: 8, alpha: 16, target_modules: [query, value], merge: true} (default: full fine-tuning)")

    @model_validator(mode="after")
    def _length(self) -> StageConfig:
        if (self.steps is None) == (self.epochs is None):
            raise ValueError("give exactly one of `steps` or `epochs`")
        return self

    def source_max_length(self, source: SourceConfig) -> int:
        """Tokens per example of one of the stage's sources: its own ``max_length``, else the stage's."""
        return self.max_length if source.max_length is None else source.max_length

    def task_max_length(self, task: str) -> int:
        """Tokens per example of a task's dev set in model selection: the length of the task's first source, so
        that a task is selected on data cut as its training data is."""
        return next((self.source_max_length(s) for s in self.sources if s.task == task), self.max_length)


# A grid axis value: a stage name, a number (a data fraction, a learning rate), a flag, or null.
AxisValue = str | bool | int | float | None


class PipelineConfig(Strict):
    """Stages in order, then evaluation. No stages (``[]``) evaluates the model as loaded, e.g. a pretrained
    encoder's retrieval; such a pipeline must list its tasks under ``evaluate``."""

    stages: list[str] = Field(default_factory=list)
    evaluate: list[str] | None = Field(
        None, description="tasks to evaluate after the last stage (default: the last stage's tasks)"
    )
    model: Text | None = Field(None, description="the key of `models` this pipeline runs with (default: every "
                              "model of the study, once each)")
    axes: dict[str, AxisValue] = Field(default_factory=dict, description="where the pipeline sits in a study's "
                                       "grid (set by grids; reported in the results' `axes` column)")


class GridConfig(Strict):
    """Pipelines as a grid: every combination of the axes' values, substituted into the templates.

    An axis value of null drops the stage that names it (the baseline without intermediate stage):
    ``{name: "{inter}/{target}", stages: [mlm, "{inter}", "{target}"], axes: {inter: [null, squad], target: [xnli]}}``
    gives ``none/xnli: [mlm, xnli]`` and ``squad/xnli: [mlm, squad, xnli]``. An axis called ``model`` picks the
    pipeline's model (keys of ``models``). ``set`` derives stages with fields replaced, e.g.
    ``{"{inter}.sources[0].fraction": "{fraction}"}`` (see :mod:`xstilts.config.grids`).
    """

    name: Text
    stages: list[str] = Field(..., min_length=1)
    evaluate: list[str] | None = None
    axes: dict[str, list[AxisValue]] = Field(..., min_length=1)
    set: dict[str, Any] = Field(default_factory=dict, description='"<stage or template>.<dotted.path>": value or '
                                "template; a template that is exactly \"{axis}\" keeps the value's type")


# A retrieval layer as a depth-relative spec: "14/24" is layer 14 of a 24-layer encoder, scaled to the model.
LAYER_SPEC = re.compile(r"^(\d+)/([1-9]\d*)$")


class RetrievalRecipe(Strict):
    """How a retrieval evaluation embeds sentences. Unset fields fall back to the task's declaration (last
    layer, mean pooling) and, for ``max_length``, to the evaluation's token limit."""

    layer: Int | str | None = Field(
        None, description='hidden state to pool: an index (0 = embeddings, 1 = first layer, -1 = last), or "N/M", '
        'layer N of an M-layer encoder scaled to the model\'s depth: round(N * layers / M), halves up ("14/24": '
        "layer 14 of XLM-R large's 24, 7 of a 12-layer model)")
    pooling: Literal["mean", "cls"] | None = Field(
        None, description="mean over the tokens (special tokens included, as XTREME and jiant do) or the first token")
    max_length: Int | None = Field(None, ge=16, description="tokens per sentence")

    @field_validator("layer")
    @classmethod
    def _layer_spec(cls, layer: int | str | None) -> int | str | None:
        if isinstance(layer, bool):
            raise ValueError("layer must be an integer index or \"N/M\", not a boolean")
        if isinstance(layer, str):
            match = LAYER_SPEC.match(layer.strip())
            if not match or int(match[1]) > int(match[2]):
                raise ValueError(f'layer {layer!r} is not an index or "N/M" with N <= M (e.g. "14/24")')
            return f"{int(match[1])}/{int(match[2])}"
        return layer

    def is_set(self) -> bool:
        return any(value is not None for value in (self.layer, self.pooling, self.max_length))


class DecodingConfig(Strict):
    """How a generation evaluation decodes (``families/generation.py``). Unset fields keep the task's settings
    (greedy, 64 new tokens, length penalty 1). They enter the evaluation's key, never a stage's: changing the
    beam size evaluates again without training again."""

    num_beams: Int | None = Field(None, ge=1, le=64, description="1: greedy search; more: beam search")
    max_new_tokens: Int | None = Field(None, ge=1, le=4096, description="longest generated output, in tokens")
    length_penalty: Float | None = Field(None, ge=-10.0, le=10.0, description="beam search: scores are divided by "
                                         "length ** length_penalty (above 0 favours longer outputs)")

    def chosen(self) -> dict[str, Any]:
        return {key: value for key, value in self.model_dump().items() if value is not None}


class EvaluateConfig(Strict):
    split: Text = "test"
    languages: Literal["all"] | list[str] = "all"
    max_examples: Int | None = Field(None, gt=0)
    batch_size: Int | None = Field(
        None, gt=0, description="at most this many examples per evaluation batch (default: no cap; batch_tokens "
        "decides)")
    batch_tokens: Int | None = Field(
        None, ge=16, description="padded tokens per evaluation batch, examples sorted longest first (default: "
        "sized from the free memory on CUDA, 8192 on a CPU); never part of a key: results are the same")
    max_length: Int | None = Field(
        None, ge=16, description="tokens per example at evaluation (default: the last stage's max_length; "
        f"{DEFAULT_EVAL_MAX_LENGTH} for a pipeline with no stages)")
    retrieval: RetrievalRecipe = Field(
        default_factory=RetrievalRecipe, description="layer, pooling and token limit of every retrieval "
        "evaluation (BUCC, Tatoeba, LAReQA, Mewsli-X), e.g. {layer: 14/24, pooling: mean, max_length: 512}, the "
        "recipe of jiant and XTREME's scripts for XLM-R large")
    retrieval_by_task: dict[str, RetrievalRecipe] = Field(
        default_factory=dict, description="per retrieval task, settings that replace those of `retrieval`, "
        "e.g. {mewslix: {max_length: 64}}")
    decoding: DecodingConfig = Field(
        default_factory=DecodingConfig, description="decoding of every generation evaluation, e.g. {num_beams: 4, "
        "max_new_tokens: 32, length_penalty: 1.0}; in evaluation keys only, so a change re-evaluates, never retrains")
    decoding_by_task: dict[str, DecodingConfig] = Field(
        default_factory=dict, description="per generation task, settings that replace those of `decoding`")


class TrackingConfig(Strict):
    """Settings of the experiment trackers. Like the rest of `runtime`, they never change what a stage produces,
    so they stay out of lineage keys: a stage trained once is not retrained to be tracked elsewhere."""

    project: Text | None = Field(None, description="MLflow experiment / W&B project (default: the study's name)")
    mlflow_uri: Text | None = Field(None, description="MLflow tracking URI (default: $MLFLOW_TRACKING_URI if set, "
                                   "else a SQLite database mlflow.db in the run store)")
    wandb_mode: Literal["online", "offline", "disabled"] | None = Field(
        None, description="W&B mode (default: $WANDB_MODE if set, else W&B's own default, online)")


class RayConfig(Strict):
    """``--executor ray``: each stage (and each stage's evaluations) is a Ray task with these resources."""

    address: Text | None = Field(None, description='Ray cluster to join: null starts a local one, "auto" joins the '
                                "running one, ray://host:10001 a remote one")
    num_cpus: Float = Field(1.0, gt=0.0, description="CPUs per task (also its torch threads, unless "
                            "runtime.threads says otherwise)")
    num_gpus: Float = Field(0.0, ge=0.0, description="GPUs per task")


class SlurmConfig(Strict):
    """``--executor slurm``: each stage (and each stage's evaluations) is a job submitted through submitit,
    ordered by SLURM job dependencies."""

    cluster: Literal["slurm", "local"] = Field(
        "slurm", description="local: run the jobs as local processes through submitit (tests, a single machine)")
    folder: Text = Field("xstilts-jobs", description="job scripts and logs (relative: to the working directory)")
    partition: Text | None = None
    time_min: Int = Field(24 * 60, gt=0, description="time limit of each job, minutes")
    cpus_per_task: Int = Field(4, gt=0)
    gpus_per_node: Int = Field(0, ge=0)
    mem_gb: Float | None = Field(None, gt=0.0)
    additional: dict[str, Any] = Field(default_factory=dict, description="more sbatch options, e.g. "
                                       "{account: my-lab, qos: high, constraint: a100}")
    poll_s: Float = Field(5.0, gt=0.0, description="seconds between checks of the jobs while waiting")


class RuntimeConfig(Strict):
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto", description="auto: bf16 autocast where the device computes bf16 natively (CUDA compute capability "
        ">= 8; CPUs with AMX or AVX512-BF16, detected at run time), fp32 elsewhere; bf16 on a CPU without it runs "
        "emulated (slow, warned). Not in lineage keys: results record the precision used (column `precision`)")
    attention: Literal["auto", "sdpa", "eager"] = Field(
        "auto", description="attention kernel: sdpa (torch's scaled_dot_product_attention: flash or "
        "memory-efficient kernels on a GPU) where the encoder supports it, else its default (auto); eager: the "
        "plain matmul-softmax path")
    compile: Bool = Field(False, description="torch.compile the encoder (a C++ compiler on CPUs, Triton on GPUs); "
                          "the first steps are slow while it compiles")
    gradient_checkpointing: Bool = Field(
        False, description="recompute each layer's activations in the backward pass instead of keeping them: "
        "much less memory for about a third more compute (large encoders on one GPU); same numbers")
    fused_optimizer: Bool = Field(True, description="fused AdamW (one kernel for all parameters) where torch "
                                  "has it (CUDA; CPUs with torch >= 2.4), else torch's default AdamW")
    first_token_only: Bool = Field(
        True, description="classification and multiple-choice heads read the first token only: the last layer "
        "computes its output for that token alone (keys and values of all); the same vectors within rounding, "
        "7% fewer layer FLOPs on a 12-layer encoder; off under compile and gradient_checkpointing")
    packing: Literal["auto"] | Bool = Field(
        "auto", description="padding-free packing of training batches (MLM, tagging): true packs every batch, false none, "
        "auto the batches where it saves enough padding to win; an encoder that cannot pack trains padded and "
        "says so. Results equal the padded ones within fp32 rounding, so it is no part of a lineage key")
    threads: Int | None = Field(None, gt=0, description="torch threads of the run (default: torch's own choice); "
                                 "with parallel workers, the budget they share (default: every core)")
    workers: Int = Field(1, gt=0, description="local worker processes that run independent stages and "
                         "evaluations at once, sharing the threads (small CPU encoders: 2 workers beat 2 threads)")
    progress: Bool = True
    executor: Literal["local", "ray", "slurm"] = Field(
        "local", description="what runs the stages: this machine (with `workers`), Ray tasks or SLURM jobs "
        "(`xstilts run --executor` overrides it)")
    ray: RayConfig = Field(default_factory=RayConfig)
    slurm: SlurmConfig = Field(default_factory=SlurmConfig)
    trackers: list[Literal["tensorboard", "mlflow", "wandb"]] = Field(
        default_factory=lambda: ["tensorboard"], description="experiment trackers every training stage logs to "
        "(loss, learning rate, examples/s, dev scores): TensorBoard event files in each stage's folder by default; "
        "mlflow and wandb need `pip install 'xstilts[mlflow]'` / `'xstilts[wandb]'`; [] turns tracking off")
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)

    @field_validator("trackers")
    @classmethod
    def _each_tracker_once(cls, trackers: list[str]) -> list[str]:
        repeated = sorted({name for name in trackers if trackers.count(name) > 1})
        if repeated:
            raise ValueError(f"{', '.join(map(repr, repeated))} listed more than once; list each tracker once")
        return trackers


# The fields of a declared task's `files` template.
TEMPLATE_FIELDS = ("split", "language", "data_root")


class TaskConfig(Strict):
    """A task declared in the study itself: a family, a label set and JSON-lines files in the family's schema
    (see ``xstilts ls families``); no code needed for a new task of an existing family. An ``mlm`` task may
    also read plain text files (``.txt``: one text per line, empty lines skipped)."""

    family: Text
    files: str = Field(..., description="path template with {split} and {language}, e.g. data/{split}-{language}.jsonl "
                       "(relative to the study file), or {data_root}/my-task/{split}-{language}.jsonl; {split} may "
                       "be left out with one split, {language} with one language per split; an mlm task may "
                       "read .txt files (corpus/{language}.txt)")
    splits: dict[str, list[str]] = Field(..., min_length=1, description="split -> languages")
    labels: list[str] = Field(default_factory=list)
    metrics: list[str] | None = Field(None, min_length=1, description="metrics to report, the main one first "
                                      "(default: the family's main metric; `xstilts ls metrics`)")
    head: Text | None = None
    settings: dict[str, Any] = Field(default_factory=dict, description="the family's settings (e.g. span_qa "
                                     "max_answer_length); every key, type and range is checked against the family")
    description: str = ""
    version: Text = "1"

    @field_validator("files")
    @classmethod
    def _template_fields(cls, files: str) -> str:
        """The template holds only plain {split}, {language} and {data_root} (which starts the path)."""
        allowed = "{split}, {language} and {data_root}"
        if not files.strip():
            raise ValueError("`files` is empty: give a path template, e.g. data/{split}-{language}.jsonl")
        try:
            parts = list(string.Formatter().parse(files))
        except ValueError as error:  # a lone { or }
            raise ValueError(f"`files` {files!r} is not a path template ({error}): fields are {allowed}; write a "
                             "literal brace twice ({{ or }})") from None
        for _, field, spec, conversion in parts:
            if field is None:
                continue
            if field not in TEMPLATE_FIELDS or spec or conversion:
                written = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
                raise ValueError(f"`files` {files!r} has the field {written}; a template may hold only {allowed}, "
                                 "as they are (no attributes, indexes, conversions or formats)")
        if "{data_root}" in files and not files.startswith("{data_root}"):
            raise ValueError(f"`files` {files!r}: {{data_root}} may only start the path ({{data_root}}/my-task/...)")
        return files

    @model_validator(mode="after")
    def _template(self) -> TaskConfig:
        # Each file must be told apart: {split} when there are several splits, {language} when a split has
        # several languages.
        needed = [field for field, why in (("{split}", len(self.splits) > 1),
                                           ("{language}", any(len(ls) > 1 for ls in self.splits.values())))
                  if why and field not in self.files]
        if needed:
            raise ValueError(f"`files` must contain {' and '.join(needed)} to tell the files apart ({{split}} with "
                             "several splits, {language} with several languages in a split), e.g. "
                             "data/my-task/{split}-{language}.jsonl or corpus/{language}.txt")
        return self


class StudyConfig(Strict):
    name: str = Field(..., pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    model: ModelConfig | None = Field(None, description="the study's encoder (or `models` for several)")
    models: dict[str, ModelConfig] | None = Field(
        None, description="several encoders by name; a pipeline or a grid axis `model` picks one, else every "
        "pipeline runs once per model")
    tasks: dict[str, TaskConfig] = Field(default_factory=dict, description="tasks declared in this study")
    seeds: list[Int] = Field(default_factory=lambda: [0], min_length=1)
    stages: dict[str, StageConfig] = Field(..., min_length=1)
    pipelines: dict[str, PipelineConfig | list[str]] = Field(default_factory=dict)
    grids: list[GridConfig] = Field(default_factory=list, description="pipelines as grids of stage choices")
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)
    variants: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="named partial configs merged in by `xstilts run --size NAME`")
    variant: str | None = Field(None, description="the variant applied (set by --size)")
    smoke_test: Bool = Field(False, description="a study at toy size whose numbers only show that every step "
                             "runs: the run and its summary say so (always true with --size tiny)")
    benchmark: Literal["xtreme", "xtreme-r", "xglue"] | None = Field(
        None, description="the benchmark version the study is evaluated on: every evaluation uses exactly its "
        "official languages, and averages follow its aggregation and say so (default: none; each task's "
        "declared languages, averaged as evaluated)")
    reference: Literal["x-stilts"] | None = Field(
        None, description="the published setup the study is compared with: its recipe card checks every setting "
        "against it and its report shows the published numbers (x-stilts: Phang et al. 2020 as jiant 2 ran it)")
    data_root: Text | None = Field(None, description="folder with the task data (default: $XSTILTS_HOME/data)")
    store: Text | None = Field(None, description="folder of run artifacts (default: $XSTILTS_HOME/runs)")
    # Stages made by grids' `set`: name -> (key path of the grid, its name in messages, [(set key, field path)]),
    # so that a problem of a derived stage points at the `set` entry that caused it.
    _derived: dict[str, tuple[tuple, str, list]] = PrivateAttr(default_factory=dict)
    # What validation noticed but does not refuse (a study that evaluates nothing): `xstilts validate` shows it.
    _warnings: list[str] = PrivateAttr(default_factory=list)

    @field_validator("seeds")
    @classmethod
    def _each_seed_once(cls, seeds: list[int]) -> list[int]:
        repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
        if repeated:
            raise ValueError(f"seed {', '.join(map(str, repeated))} listed more than once; list each seed once")
        return seeds

    @model_validator(mode="after")
    def _one_model_field(self) -> StudyConfig:
        if (self.model is None) == (self.models is None):
            raise ValueError("give exactly one of `model` (the study's encoder) or `models` (several, by name: "
                             "{base: {...}, large: {...}})")
        if self.models is not None and not self.models:
            raise ValueError("`models` is empty: name at least one model, or use `model`")
        return self

    @model_validator(mode="after")
    def _expand_grids(self) -> StudyConfig:
        from xstilts.config.grids import expand_grids

        expand_grids(self)  # raises GridError (every problem of every grid) for the loader to place
        self.grids = []  # expanded once: dumping and re-validating the config must not expand again
        if not self.pipelines:
            raise ValueError("a study needs `pipelines` (or `grids` that make them)")
        return self

    def pipeline(self, name: str) -> PipelineConfig:
        value = self.pipelines[name]
        return value if isinstance(value, PipelineConfig) else PipelineConfig(stages=value)

    def model_configs(self) -> dict[str, ModelConfig]:
        """Every model by name; a single ``model`` is named by its display name."""
        if self.models is not None:
            return dict(self.models)
        assert self.model is not None  # the validator guarantees one of the two
        return {self.model.display_name: self.model}

    def is_smoke_test(self) -> bool:
        return self.smoke_test or self.variant == "tiny"

    def model_label(self, name: str) -> str:
        """The name of a model in results: its ``label``, else its key in ``models`` (or, for a single
        ``model``, its display name)."""
        if self.models is None:
            return name
        return self.models[name].label or name

    def pipeline_models(self, name: str) -> list[str]:
        """The models a pipeline runs with: the one it names, else every model of the study."""
        chosen = self.pipeline(name).model
        return [chosen] if chosen is not None else list(self.model_configs())
