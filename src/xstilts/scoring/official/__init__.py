"""Scoring in the official benchmark layouts, with the official scorers' numbers and output shape.

``layout`` holds the benchmark tables and the file readers, ``qa`` the SQuAD v1.1 and MLQA answer scoring,
``scorers`` one scorer per task, ``aggregate`` the XTREME / XTREME-R report, ``xglue`` the XGLUE report and
``export`` writes a study's predictions in the XTREME layout. Pure Python: no torch, no numpy.
"""
