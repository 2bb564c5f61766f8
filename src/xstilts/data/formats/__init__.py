"""Readers for the raw files of the benchmarks, one small module per format.

Every reader is called as ``reader(path, split, language)`` and yields ``(line_number, example)`` with the
example in its family's schema (see ``xstilts.families``); bad input raises ``DataError(path, message, line)``.
"""
