"""Scores of generated text, as XGLUE's own evaluation computes them for QG and NTG.

XGLUE's ``xglue_evaluate.py`` scores a language with sacreBLEU's corpus BLEU (4-gram, exponential smoothing,
the 13a tokenizer: sacreBLEU's defaults) on lower-cased, stripped lines, one reference per hypothesis; the task
score is the plain mean over languages. The official script divides by 100; we keep BLEU's usual 0-100 scale
like every other score here (the ordering and the ratios are the same). It hands sacreBLEU numpy arrays, which
sacreBLEU 2.x refuses with a TypeError; lists of the same strings give the numbers the script gave with 1.x.
"""

from __future__ import annotations

from collections.abc import Sequence


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """XGLUE's BLEU (0-100) of one language: ``hypotheses[i]`` generated for the example whose reference is
    ``references[i]``. Both are stripped; case is ignored."""
    import sacrebleu  # a light import, but only generation tasks need it

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    if not references:
        raise ValueError("BLEU of an empty set is undefined")
    result = sacrebleu.corpus_bleu([h.strip() for h in hypotheses], [[r.strip() for r in references]],
                                   lowercase=True)
    return float(result.score)
