"""A name -> entry registry with "did you mean" suggestions, shared by tasks, families, metrics, presets."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from xstilts.errors import XstiltsError

T = TypeVar("T")


def did_you_mean(name: str, choices: list[str] | tuple[str, ...] | set[str], n: int = 3) -> str:
    """A short hint naming the closest valid choices, or listing a few if none is close."""
    close = difflib.get_close_matches(name, sorted(choices), n=n, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    shown = sorted(choices)
    more = f", ... ({len(shown)} in all)" if len(shown) > 8 else ""
    return "choose one of " + ", ".join(shown[:8]) + more


class Registry(Generic[T]):
    """Entries by name. ``get`` of an unknown name raises an error with a suggestion."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._lazy: dict[str, Callable[[], T]] = {}
        # Names that are known but cannot be used yet, with the reason (XGLUE's generation tasks).
        self._unsupported: dict[str, str] = {}

    def register(self, name: str, entry: T) -> T:
        if name in self._entries or name in self._lazy:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def register_lazy(self, name: str, loader: Callable[[], T]) -> None:
        """Register an entry whose import is deferred until first use (keeps torch out of ``ls``)."""
        if name in self._entries or name in self._lazy:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._lazy[name] = loader

    def declare_unsupported(self, name: str, reason: str) -> None:
        """Make ``get``/``check`` of ``name`` say why it cannot be used, instead of "unknown"."""
        self._unsupported[name] = reason

    def _unknown(self, name: str) -> str:
        if name in self._unsupported:
            return f"{self.kind} {name!r} is not supported: {self._unsupported[name]}"
        return f"unknown {self.kind} {name!r}: {did_you_mean(name, self.names())}"

    def replace(self, name: str, entry: T) -> T:
        """Swap an existing entry (a study's own task declared again when the study is loaded again)."""
        if name not in self:
            raise ValueError(f"{self.kind} {name!r} is not registered")
        self._lazy.pop(name, None)
        self._entries[name] = entry
        return entry

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._lazy

    def names(self) -> list[str]:
        return sorted(set(self._entries) | set(self._lazy))

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str) -> T:
        if name in self._entries:
            return self._entries[name]
        if name in self._lazy:
            self._entries[name] = self._lazy.pop(name)()
            return self._entries[name]
        raise XstiltsError(self._unknown(name))

    def check(self, name: str) -> str | None:
        """None if the name is registered, else the error text (for collecting config problems)."""
        if name in self:
            return None
        return self._unknown(name)
