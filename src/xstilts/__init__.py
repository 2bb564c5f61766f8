"""xstilts: English intermediate-task training and zero-shot cross-lingual transfer.

Heavy libraries (torch, transformers, datasets) are imported lazily, inside the functions that need them,
so that ``xstilts --help``, ``xstilts ls`` and ``xstilts validate`` stay fast.
"""

__version__ = "0.1.0"
# Part of every lineage key: a new major version never reuses artifacts of an older one.
MAJOR_VERSION = __version__.split(".")[0]
