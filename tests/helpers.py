"""Builders shared by the tests: tasks, tokenizers trained on pseudo-words, tiny encoders, a short training
loop, and the YAML of tiny studies. Plain functions (not fixtures) so each test file keeps its own settings."""

from __future__ import annotations

import random
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from transformers import XLMRobertaConfig, XLMRobertaModel

from xstilts.models.tokenizer import train_tokenizer
from xstilts.tasks.base import Task

# Pseudo-words built from syllables give the Unigram trainer enough variety to learn real subwords.
SYLLABLES = ["ka", "lo", "mi", "ren", "tu", "sa", "po", "ve", "dra", "ni"]
SYLLABLE_WORDS = [a + b for a in SYLLABLES for b in SYLLABLES]


def empty_task(family: str, name: str = "t", splits: dict[str, tuple[str, ...]] | None = None, **fields) -> Task:
    """A task with no data (its reader returns nothing): enough for a family's methods."""
    return Task(
        name=name,
        family=family,
        description="",
        splits={"train": ("en",)} if splits is None else splits,
        reader=lambda p: [],
        **fields,
    )


def syllable_tokenizer(
    words: list[str],
    lines: int = 400,
    words_per_line: int = 8,
    vocab_size: int = 300,
    algorithm: str = "unigram",
):
    """A tokenizer trained on ``lines`` lines of words drawn from ``words`` by ``random.Random(0)``: the same
    tokenizer for the same arguments, so tests may pin how it splits words."""
    rng = random.Random(0)
    corpus = [" ".join(rng.choice(words) for _ in range(words_per_line)) for _ in range(lines)]
    return train_tokenizer(corpus, vocab_size=vocab_size, algorithm=algorithm)


def tiny_encoder(tokenizer, layers: int = 1, seed: int | None = None, **config: Any) -> XLMRobertaModel:
    """An XLM-R encoder with hidden size 32 for ``tokenizer``; ``config`` overrides config fields (dropout).
    With ``seed`` the weights come from ``torch.manual_seed(seed)`` rather than the current global state."""
    if seed is not None:
        torch.manual_seed(seed)
    settings = dict(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=520,  # XLM-R positions start at pad_id + 1
        pad_token_id=tokenizer.pad_token_id,
    )
    return XLMRobertaModel(XLMRobertaConfig(**{**settings, **config}), add_pooling_layer=False)


def train_briefly(
    family: Any,
    task: Task,
    encoder: torch.nn.Module,
    features: list[dict[str, Any]],
    pad_token_id: int,
    batches: Iterable[list[int]],
) -> tuple[torch.nn.Module, torch.Tensor]:
    """Train ``encoder`` and a fresh head of ``family`` (AdamW, lr 3e-3) on the given batches of feature
    indices; return the head and the last loss."""
    head = family.build_head(task, encoder.config)
    optimizer = torch.optim.AdamW([*encoder.parameters(), *head.parameters()], lr=3e-3)
    loss = torch.tensor(float("nan"))
    for chosen in batches:
        batch = family.collate([features[i] for i in chosen], pad_token_id)
        loss = family.loss(family.forward(encoder, head, batch), batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return head, loss


def predict_all(
    family: Any,
    task: Task,
    encoder: torch.nn.Module,
    head: torch.nn.Module,
    examples: list[dict[str, Any]],
    features: list[dict[str, Any]],
    pad_token_id: int,
) -> list[Any]:
    """Per-example predictions from one eval-mode batch of all ``features``."""
    encoder.eval()
    head.eval()
    with torch.no_grad():
        batch = family.collate(features, pad_token_id)
        raw = family.predict(family.forward(encoder, head, batch), batch)
    return family.postprocess(task, examples, features, raw)


def fit_and_score(
    family: Any,
    task: Task,
    tokenizer,
    examples: list[dict[str, Any]],
    steps: int,
    batch_size: int,
    max_length: int = 32,
) -> tuple[dict[str, float], float]:
    """Featurize ``examples``, train a tiny encoder and a fresh head on ``steps`` batches drawn from them at
    random, then score the predictions on the same examples: the scores and the last training loss."""
    features = family.featurize(task, examples, tokenizer, max_length=max_length)
    encoder = tiny_encoder(tokenizer)
    # A private generator for the batch order: the global torch seed, which dropout draws from, is untouched.
    order = torch.Generator().manual_seed(0)
    batches = (torch.randint(len(features), (batch_size,), generator=order).tolist() for _ in range(steps))
    head, loss = train_briefly(family, task, encoder, features, tokenizer.pad_token_id, batches)
    predictions = predict_all(family, task, encoder, head, examples, features, tokenizer.pad_token_id)
    return family.score(task, examples, predictions), loss.item()


def tiny_model_yaml(
    hidden_size: int = 32, num_layers: int = 1, intermediate_size: int = 64, vocab_size: int = 400
) -> str:
    """The ``model:`` block of a study: a small encoder built from scratch and a tokenizer trained on
    mock-mlm."""
    return (
        "model:\n"
        f"  build: {{hidden_size: {hidden_size}, num_layers: {num_layers}, num_heads: 2, "
        f"intermediate_size: {intermediate_size}, max_length: 128}}\n"
        f"  tokenizer: {{train: {{corpus: [mock-mlm], vocab_size: {vocab_size}}}}}\n"
    )


def target_study_yaml(name: str, evaluate: int, runtime: str = "{progress: false}", **target: Any) -> str:
    """The YAML of a study with the tiny model and one stage, ``target``, alone in its pipeline. ``target``
    gives the stage's fields in order, each value written as YAML (``optimizer="{lr: 1.0e-3}"``)."""
    stage = "".join(f"    {key}: {value}\n" for key, value in target.items())
    return (
        f"name: {name}\n{tiny_model_yaml()}stages:\n  target:\n{stage}"
        f"pipelines:\n  only: [target]\nevaluate: {{max_examples: {evaluate}}}\nruntime: {runtime}\n"
    )


def read_events(run_dir: Path, honour_restarts: bool = True) -> list[tuple[str, int, float]]:
    """(tag, step, value) of every scalar in a TensorBoard run folder, read from the TFRecord files with the
    event protos of tensorboardX, honouring restarts as TensorBoard does: a SessionLog START at step s hides
    the events logged before it at steps >= s."""
    from tensorboardX.proto import event_pb2

    scalars: list[tuple[str, int, float]] = []
    for path in sorted(run_dir.glob("events.out.tfevents.*")):  # names start with the creation time
        data, position = path.read_bytes(), 0
        while position < len(data):
            # A record: length (uint64), its CRC (uint32), the Event, the Event's CRC (uint32).
            (length,) = struct.unpack("<Q", data[position:position + 8])
            event = event_pb2.Event.FromString(data[position + 12:position + 12 + length])
            position += 12 + length + 4
            restart = event.HasField("session_log") and event.session_log.status == event_pb2.SessionLog.START
            if restart and honour_restarts:
                scalars = [s for s in scalars if s[1] < event.step]
            scalars += [(value.tag, event.step, value.simple_value) for value in event.summary.value]
    return scalars


def by_tag(scalars: list[tuple[str, int, float]], tag: str) -> list[tuple[int, float]]:
    return [(step, value) for name, step, value in scalars if name == tag]


def network_attempts(monkeypatch) -> list[Any]:
    """Forbid the network for the rest of the test: every name lookup of a host other than this machine, and
    every connection to an internet address, fails at once (as with no network: socket.gaierror, OSError, so
    the code under test takes its usual error path) and is recorded in the returned list. "Fails fast
    offline" then means: it failed, and the list is empty (nothing was tried, so nothing retried or timed out)."""
    import socket

    attempts: list[Any] = []
    local = {None, "localhost", "127.0.0.1", "::1", b"localhost", b"127.0.0.1"}
    real_getaddrinfo = socket.getaddrinfo
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def getaddrinfo(host, *args, **kwargs):
        if host not in local:
            attempts.append(host)
            raise socket.gaierror(socket.EAI_NONAME, f"name lookup of {host!r} attempted in a test")
        return real_getaddrinfo(host, *args, **kwargs)

    def guarded(real):
        def connect(self, address):
            if self.family in (socket.AF_INET, socket.AF_INET6):
                attempts.append(address)
                raise OSError(f"network access attempted in a test: {address}")
            return real(self, address)
        return connect

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", guarded(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(real_connect_ex))
    return attempts
