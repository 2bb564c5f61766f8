"""The denoising family's declarative part (torch-free): T5's span-corruption settings (noise density, mean span
length) and ``vocab_size`` for chance; predicted-token accuracy and perplexity; an encoder-decoder family."""

from __future__ import annotations

from dataclasses import dataclass

from xstilts.families.spec import FamilySpec, SettingProblem, Settings, integer, number


@dataclass(frozen=True)
class DenoisingSettings(Settings):
    family = "denoising"

    noise_density: float = number(0.15, low=0.0, high=1.0, doc="the share of each text's tokens that are corrupted "
                                  "(T5: 0.15); above 0, below 1")
    mean_noise_span_length: float = number(3.0, low=1.0, doc="the mean length of a corrupted span in tokens (T5: 3)")
    vocab_size: int | None = integer(None, low=2, doc="the tokenizer's vocabulary, for the chance scores of a task "
                                     "that was never featurized (unset: read from the features)")

    def combined_problems(self) -> list[SettingProblem]:
        if not 0.0 < self.noise_density < 1.0:
            return [("noise_density", f"noise_density must be above 0 and below 1 (a text needs corrupted and kept "
                                      f"tokens), got {self.noise_density!r}")]
        return []


def noise_counts(length: int, noise_density: float, mean_noise_span_length: float) -> tuple[int, int]:
    """(noise tokens, noise spans) of a chunk of ``length`` tokens, as T5 counts them."""
    if length < 1:
        raise ValueError("a chunk to corrupt needs at least one token")
    if length == 1:
        return 1, 1
    noise = min(max(round(length * noise_density), 1), length - 1)
    spans = max(round(noise / mean_noise_span_length), 1)
    # every span needs a noise token, and a kept token before it
    return noise, min(spans, noise, length - noise)


SPEC = FamilySpec(
    name="denoising",
    description="T5-style span corruption: spans become sentinels the decoder writes out (encoder-decoder)",
    settings=DenoisingSettings,
    metrics=("accuracy", "perplexity"),
    model_kind="encoder-decoder",
    reads_plain_text=True,
    auxiliary=True,
    texts=lambda example: [example["text"]],
)
