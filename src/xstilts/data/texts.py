"""The raw texts of an example, per family (to train tokenizers on a task's data)."""

from __future__ import annotations

from typing import Any


def example_texts(family: str, example: dict[str, Any]) -> list[str]:
    if family == "classification":
        return [t for t in (example.get("text"), example.get("text_pair")) if t]
    if family == "multiple_choice":
        return [example["context"], *example["choices"]]
    if family == "span_qa":
        return [example["question"], example["context"]]
    if family == "tagging":
        return [" ".join(example["tokens"])]
    if family == "retrieval":
        return [t for t in (example.get("source"), example.get("target")) if t]
    if family == "mlm":
        return [example["text"]]
    raise ValueError(f"no text extraction for family {family!r}")
