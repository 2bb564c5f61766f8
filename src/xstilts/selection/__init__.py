"""Choosing the intermediate task before paying for it (`xstilts select`).

``problem.py`` reads what is being chosen from a study (candidate intermediate stages, target tasks, the
pipelines that measure each pair); ``estimate.py`` holds what every estimator returns (scores per target and
language, and what computing them cost). The estimators rank candidates without training the grid; validation
compares their rankings with the gains a finished grid measured, against naive baselines and the seed-noise
ceiling.
"""
