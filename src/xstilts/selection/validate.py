"""Validation of estimators against the gains a finished grid measured.

For every estimator and naive baseline, on every (target, language) cell and on the target as a whole (``ALL``):
NDCG@3, regret@1, regret@3 and Spearman (``metrics``), scored two ways:

- **against single seeds**: against each seed's measured gains, then averaged over the seeds (with their
  spread). This is the footing of the seed-noise ceiling, which scores one seed's measured ranking against
  another seed's gains: an estimator and the ceiling are both predicting one noisy measurement.
- **against the seed mean**: against the gains averaged over the seeds (less noisy; reported separately).

Equally scored candidates are ordered at random and a ranking's NDCG and regret are their exact expectations
over those orders (``metrics``: "largest" with several equally large candidates, or the random baseline, where
all tie). A cell's candidates and seeds: those measured at every seed of the cell. When some candidate lacks a seed,
either the candidate or the seed is left out, whichever keeps more measured (candidate, seed) pairs, with a
note. A candidate an estimator did not score is ranked last (a note says so).

**Verdict rule** (per estimator and target, on ``ALL``, against single seeds): an estimator is *useful* for a
target only where (1) it beats every naive baseline (largest, same family, random) on both NDCG@3 (strictly
higher) and regret@3 (strictly lower), and (2) its NDCG@3 is at least the noise ceiling's NDCG@3 minus the
ceiling's spread over seed pairs. A tie with a baseline is not a win. With one seed there is no ceiling: the
verdict is "n/a".

Languages are also grouped by typological distance from English (``reports.typology.language_distances``:
the micro generator's distance for micro languages, URIEL syntax for real ones), rounded to one decimal
(micro distances are multiples of 0.1, so each keeps its own group); a language with no known distance is in
the group "unknown". A group's metric is the mean over its (target, language) cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from xstilts.selection.baselines import BASELINES, RandomRanking
from xstilts.selection.estimate import ALL, Cost, Estimate
from xstilts.selection.measured import Measured, Seed
from xstilts.selection.metrics import METRICS, RANDOM_EXPECTATIONS, Summary, noise_ceiling, tied_blocks
from xstilts.selection.problem import SelectionProblem

CEILING = "seed-noise ceiling"
UNKNOWN = "unknown"


@dataclass
class Cell:
    """What one (target, language) was validated on."""

    candidates: list[str]
    seeds: list[Seed]
    mean_gains: dict[str, float]  # candidate -> gain averaged over ``seeds``


@dataclass
class Scored:
    """One estimator (or baseline) on one cell: each metric against single seeds (summarised over the seeds)
    and against the seed mean; ``top``: the blocks of equally scored candidates that fill its first three places
    (empty for the random baseline)."""

    per_seed: dict[str, Summary]
    seed_mean: dict[str, float]
    top: list[list[str]] = field(default_factory=list)


@dataclass
class Verdict:
    estimator: str
    target: str
    useful: bool | None  # None: cannot be decided (no ceiling, or nothing measured)
    reasons: list[str]


@dataclass
class Validation:
    study: str
    model: str
    seeds: list[Seed]
    candidates: list[str]
    targets: list[str]
    estimators: list[str]  # the estimators judged, in the order given
    baselines: list[str]
    cells: dict[tuple[str, str], Cell]
    scored: dict[tuple[str, str, str], Scored]  # (estimator or baseline, target, language)
    ceiling: dict[tuple[str, str], dict[str, Summary]]  # (target, language) -> metric; absent with one seed
    verdicts: list[Verdict]
    distances: dict[str, float | None]  # language -> distance from English (None: unknown)
    by_distance: dict[tuple[str, str], dict[str, float]]  # (estimator, baseline or CEILING; group) -> metric
    costs: dict[str, Cost]
    notes: list[str] = field(default_factory=list)

    @property
    def ranked(self) -> list[str]:
        """Estimators, then baselines: every row of the validation's tables but the ceiling."""
        return self.estimators + self.baselines

    def groups(self) -> dict[str, list[str]]:
        """Distance group -> its languages, nearest first, "unknown" last."""
        out: dict[str, list[str]] = {}
        for language in sorted(self.distances, key=lambda lg: (self.distances[lg] is None,
                                                               self.distances[lg] or 0.0, lg)):
            out.setdefault(distance_group(self.distances[language]), []).append(language)
        return out


def distance_group(distance: float | None) -> str:
    return UNKNOWN if distance is None else f"{round(distance, 1):.1f}"


def _complete(by_candidate: dict[str, dict[Seed, float]], seeds: list[Seed]) -> tuple[list[str], list[Seed]]:
    """The largest block of candidates x seeds with every gain measured: all measured seeds with the candidates
    measured at each, or all candidates with the seeds at which each was measured."""
    measured = [c for c, by_seed in by_candidate.items() if by_seed]
    seen = [s for s in seeds if any(s in by_candidate[c] for c in measured)]
    drop_candidates = ([c for c in measured if all(s in by_candidate[c] for s in seen)], seen)
    drop_seeds = (measured, [s for s in seen if all(s in by_candidate[c] for c in measured)])
    return max(drop_candidates, drop_seeds, key=lambda block: len(block[0]) * len(block[1]))


def _estimate_scores(estimate: Estimate, target: str, language: str) -> dict[str, float] | None:
    return estimate.scores.get((target, language)) or estimate.scores.get((target, ALL))


def _score(estimate: Estimate, target: str, language: str, cell: Cell, per_seed: dict[Seed, dict[str, float]],
           notes: list[str]) -> Scored | None:
    if isinstance(estimate, RandomRanking):
        return Scored({m: Summary.of([expect(per_seed[s]) for s in cell.seeds])
                       for m, expect in RANDOM_EXPECTATIONS.items()},
                      {m: expect(cell.mean_gains) for m, expect in RANDOM_EXPECTATIONS.items()})
    given = _estimate_scores(estimate, target, language)
    if given is None:
        if language == ALL or any(t == target for t, _ in estimate.scores):  # once per target, unless partial
            notes.append(f"{estimate.estimator}: no scores for {target} ({language}): left out of that cell")
        return None
    unscored = [c for c in cell.candidates if c not in given]
    if unscored and language == ALL:
        notes.append(f"{estimate.estimator}: {target}: no score for {', '.join(unscored)}: ranked last")
    lowest = min((given[c] for c in cell.candidates if c in given), default=0.0)
    scores = {c: float(given[c]) if c in given else lowest - 1.0 for c in cell.candidates}
    return Scored({m: Summary.of([metric(scores, per_seed[s]) for s in cell.seeds]) for m, metric in METRICS.items()},
                  {m: metric(scores, cell.mean_gains) for m, metric in METRICS.items()}, _top(scores, 3))


def _top(scores: dict[str, float], k: int) -> list[list[str]]:
    """The tied blocks that fill the first k places."""
    out, position = [], 0
    for block in tied_blocks(scores):
        if position >= k:
            break
        out.append(block)
        position += len(block)
    return out


def _beats(value: float, other: float, higher_better: bool) -> bool:
    if math.isnan(value) or math.isnan(other):
        return False
    return value > other if higher_better else value < other


def _verdict(name: str, target: str, validation: Validation) -> Verdict:
    mine = validation.scored.get((name, target, ALL))
    ceiling = validation.ceiling.get((target, ALL))
    if (target, ALL) not in validation.cells:
        return Verdict(name, target, None, ["the target as a whole was not measured"])
    if mine is None:
        return Verdict(name, target, None, ["the estimator gives no ranking for this target"])
    if ceiling is None:
        return Verdict(name, target, None, ["one seed, so no seed-noise ceiling"])
    reasons = []
    ndcg, regret = mine.per_seed["ndcg@3"].mean, mine.per_seed["regret@3"].mean
    for baseline in validation.baselines:
        theirs = validation.scored.get((baseline, target, ALL))
        if theirs is None:
            continue
        their_ndcg, their_regret = theirs.per_seed["ndcg@3"].mean, theirs.per_seed["regret@3"].mean
        lost = ([f"NDCG@3 {ndcg:.3f} vs {their_ndcg:.3f}"] if not _beats(ndcg, their_ndcg, True) else []) + \
               ([f"regret@3 {regret:.2f} vs {their_regret:.2f}"] if not _beats(regret, their_regret, False) else [])
        if lost:
            reasons.append(f"does not beat {baseline} ({', '.join(lost)})")
    floor = ceiling["ndcg@3"].mean - ceiling["ndcg@3"].spread
    if not ndcg >= floor - 1e-12:
        reasons.append(f"NDCG@3 {ndcg:.3f} is below the noise ceiling minus its spread ({ceiling['ndcg@3'].mean:.3f} - "
                       f"{ceiling['ndcg@3'].spread:.3f})")
    return Verdict(name, target, not reasons, reasons or ["beats every baseline and reaches the noise ceiling"])


def _by_distance(validation: Validation) -> dict[tuple[str, str], dict[str, float]]:
    out: dict[tuple[str, str], dict[str, float]] = {}
    groups = validation.groups()
    for row in [*validation.ranked, CEILING]:
        for group, languages in groups.items():
            values: dict[str, list[float]] = {m: [] for m in METRICS}
            for target in validation.targets:
                for language in languages:
                    summary = (validation.ceiling.get((target, language)) if row == CEILING else
                               getattr(validation.scored.get((row, target, language)), "per_seed", None))
                    for metric, value in (summary or {}).items():
                        if not math.isnan(value.mean):
                            values[metric].append(value.mean)
            if any(values.values()):
                out[(row, group)] = {m: sum(v) / len(v) if v else math.nan for m, v in values.items()}
    return out


def validate(problem: SelectionProblem, measured: Measured, estimates: list[Estimate],
             baselines: list[Estimate]) -> Validation:
    """Score ``estimates`` and ``baselines`` (``baselines.naive_baselines``) against ``measured``."""
    from xstilts.reports.typology import language_distances

    names = [e.estimator for e in [*estimates, *baselines]]
    clash = sorted({n for n in names if names.count(n) > 1} | {e.estimator for e in estimates} & set(BASELINES))
    if clash:
        raise ValueError(f"estimator names must be unique and differ from the baselines': {clash}")
    notes = list(measured.notes)
    cells: dict[tuple[str, str], Cell] = {}
    scored: dict[tuple[str, str, str], Scored] = {}
    ceiling: dict[tuple[str, str], dict[str, Summary]] = {}
    for (target, language), by_candidate in measured.gains.items():
        candidates, seeds = _complete(by_candidate, measured.seeds)
        left_out = sorted(c for c, by_seed in by_candidate.items() if by_seed and c not in candidates)
        if left_out:
            notes.append(f"{target} ({language}): {', '.join(left_out)} left out (not measured at every seed)")
        if len(candidates) < 2 or not seeds:
            if any(by_candidate.values()):
                notes.append(f"{target} ({language}): fewer than two candidates measured at a common seed: "
                             "not validated")
            continue
        per_seed = {s: {c: by_candidate[c][s] for c in candidates} for s in seeds}
        cell = Cell(candidates, seeds, {c: sum(per_seed[s][c] for s in seeds) / len(seeds) for c in candidates})
        cells[(target, language)] = cell
        if len(seeds) >= 2:
            ceiling[(target, language)] = {m: noise_ceiling(per_seed, metric) for m, metric in METRICS.items()}
        for estimate in [*estimates, *baselines]:
            result = _score(estimate, target, language, cell, per_seed, notes)
            if result is not None:
                scored[(estimate.estimator, target, language)] = result
    if cells and not ceiling:
        notes.append("one seed measured: the seed-noise ceiling is n/a (it needs two seeds or more), and no "
                     "estimator can be called useful")
    languages = sorted({language for _, language in cells if language != ALL})
    known, distance_notes = language_distances(languages)
    notes += distance_notes
    notes += [f"{e.estimator}: {note}" for e in [*estimates, *baselines] for note in e.notes]
    validation = Validation(
        measured.study, measured.model, measured.seeds, list(problem.candidates), list(problem.targets),
        [e.estimator for e in estimates], [b.estimator for b in baselines], cells, scored, ceiling, [],
        {lg: known[lg][0] if lg in known else None for lg in languages}, {},
        {e.estimator: e.cost for e in [*estimates, *baselines]}, notes)
    for estimate in estimates:
        validation.verdicts.extend(_verdict(estimate.estimator, t, validation) for t in problem.targets)
    validation.by_distance = _by_distance(validation)
    return validation
