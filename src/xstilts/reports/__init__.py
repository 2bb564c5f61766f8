

# Resamples of the paired bootstrap over test examples; here, not in stats.py, so that the CLI can name the
# default without importing numpy.
DEFAULT_RESAMPLES = 1000
