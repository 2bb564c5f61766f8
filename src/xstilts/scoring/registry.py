"""Metric names tasks may list, with what each means (implementations: ``scoring/metrics.py``).

``decomposes``: the metric is a ratio of sums over the examples (or queries) of a set, so every evaluation
writes its per-example units (``scoring/units.py``) and paired tests can resample examples. Perplexity
(the exp of a mean) and BLEU (a corpus statistic) do not.
"""

from __future__ import annotations

from dataclasses import dataclass

from xstilts.registry import Registry


@dataclass(frozen=True)
class MetricInfo:
    name: str
    description: str
    higher_is_better: bool = True
    decomposes: bool = True


METRICS: Registry[MetricInfo] = Registry("metric")

for _info in [
    MetricInfo("accuracy", "percent correct (labels, choices, tokens, retrieved targets or masked tokens)"),
    MetricInfo("f1", "chunk micro F1 (tagging, seqeval 0.0.12 rules), SQuAD token F1 (QA) or mined-pair F1 (BUCC)"),
    MetricInfo("precision", "chunk micro precision (tagging)"),
    MetricInfo("recall", "chunk micro recall (tagging)"),
    MetricInfo("exact_match", "SQuAD exact match after normalisation (QA)"),
    MetricInfo("mlqa_f1", "token F1 after the MLQA script's per-language answer normalisation (MLQA)"),
    MetricInfo("mlqa_exact_match", "exact match after the MLQA script's per-language normalisation (MLQA)"),
    MetricInfo("ndcg", "nDCG per query (group), averaged over queries with 2 or more candidates (XGLUE WPR)"),
    MetricInfo("map@20", "mean average precision over the 20 best candidates, per query (LAReQA: one pool of "
               "all languages' answer sentences)"),
    MetricInfo("mrr@20", "mean reciprocal rank of the gold within the 20 best candidates, 0 if absent (Mewsli-X; "
               "the official scorer calls it map@20)"),
    MetricInfo("bleu", "corpus BLEU-4 of generated text, lower-cased, as XGLUE scores QG and NTG (0-100); a corpus "
               "statistic: no per-example units", decomposes=False),
    MetricInfo("perplexity", "exp of the mean masked-token loss (MLM); no per-example units (not a ratio of sums)",
               higher_is_better=False, decomposes=False),
    MetricInfo("off_target", "percent of generated outputs whose identified language is not the target language "
               "(py3langid; scoring/language_id.py): zero-shot generation's answering in English", higher_is_better=False),
]:
    METRICS.register(_info.name, _info)
