"""What the estimators of `xstilts select` cost on a study, against the grid they replace.

Usage: ``python benchmarks/selection_costs.py STUDY [--size tiny] [--plan-only] [--estimators similarity logme
probe]``.

``--plan-only`` trains nothing: the FLOPs of the grid (one seed, every intermediate and target stage of the
selection problem and their evaluations, the prefix stages left out) and of each estimator's training and
evaluation by the plan's arithmetic (``studies/estimate.py``), and the seconds that arithmetic gives at its default
throughput. Without it, each estimator runs (prefix stages trained first if they are not done, in the study's
store, so use a fresh ``XSTILTS_HOME`` to leave a real store alone) and prints its measured seconds, FLOPs, the
grid's, its notes and its top three candidates per target.
"""

from __future__ import annotations

import argparse
import sys
import time


def plan_only(context, problem, settings) -> None:
    from xstilts.selection.estimators.costs import evaluation_cost, grid_cost, stage_cost, summary
    from xstilts.selection.estimators.nodes import (
        derived_context,
        lineage_keys,
        prefix_node,
        probe_studies,
        probe_study,
    )
    from xstilts.studies.estimate import DEFAULT_FLOPS_PER_SECOND as RATE

    grid_flops, grid_seconds = grid_cost(context, problem)
    print(f"grid, one seed, prefix excluded: {grid_flops:.3g} FLOPs, {grid_seconds:.0f} s at {RATE / 1e9:.0f} GFLOP/s")
    whole = summary(context)["compute"]
    print(f"whole study ({len(context.study.seeds)} seeds, prefix included): {whole['flops']:.3g} FLOPs, "
          f"{whole['seconds']:.0f} s")
    prefix = prefix_node(context, problem)
    shared = lineage_keys([prefix]) if prefix else set()
    probes = derived_context(context, probe_study(context, problem, settings, targets=[]).study)
    flops = stage_cost(summary(probes), {n.key for n in probes.plan.stages} - shared)[0]
    print(f"logme: shortened intermediate stages {flops:.3g} FLOPs = {flops / grid_flops:.1%} of the grid "
          "(+ forward passes for the features)")
    total, counted = 0.0, set()
    for probe in probe_studies(context, problem, settings):
        derived = derived_context(context, probe.study)
        plan = summary(derived)
        keys = {n.key for n in derived.plan.stages} - shared - counted
        counted |= keys
        total += stage_cost(plan, keys)[0] + evaluation_cost(plan, {e.stage.key for e in derived.plan.evaluations})[0]
    print(f"probe: {total:.3g} FLOPs = {total / grid_flops:.1%} of the grid, {total / RATE:.0f} s at the plan's rate")


def run(context, problem, settings, names: list[str]) -> None:
    from xstilts.selection.estimate import ALL
    from xstilts.selection.estimators import ESTIMATORS

    for name in names:
        start = time.perf_counter()
        estimate = ESTIMATORS[name](problem, context, settings, lambda line: print(f"  {line}", file=sys.stderr))
        cost = estimate.cost
        print(f"{name}: {cost.seconds:.1f} s measured ({time.perf_counter() - start:.1f} s this call), "
              f"{cost.flops:.3g} FLOPs; grid {cost.grid_flops:.3g} FLOPs, {cost.grid_seconds:.0f} s estimated")
        for target in problem.targets:
            if (target, ALL) in estimate.scores:
                print(f"  {target}: {', '.join(estimate.ranking(target, ALL)[:3])}")
        for note in estimate.notes:
            print(f"  note: {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study")
    parser.add_argument("--size", default=None)
    parser.add_argument("--plan-only", action="store_true")
    parser.add_argument("--estimators", nargs="+", default=["similarity", "logme", "probe"])
    args = parser.parse_args()
    from xstilts.config.load import load_study
    from xstilts.selection.estimators import EstimatorSettings
    from xstilts.selection.problem import selection_problems
    from xstilts.studies.context import make_context

    context = make_context(load_study(args.study, size=args.size))
    settings = EstimatorSettings()
    for problem in selection_problems(context.plan):
        print(f"{context.study.name} ({args.size or 'default size'}), model {problem.model}: "
              f"{len(problem.candidates)} candidates, {len(problem.targets)} targets")
        if args.plan_only:
            plan_only(context, problem, settings)
        else:
            run(context, problem, settings, args.estimators)


if __name__ == "__main__":
    main()
