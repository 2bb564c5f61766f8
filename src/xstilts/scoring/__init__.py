"""Metrics, per-example score units, retrieval search and mining, and the official scorers: pure scoring, no
model. The engine (families) and `xstilts score` share every definition here."""
