"""Benchmark of the whole pipeline at growing sizes (``contact-warehouse bench``): ``run.py`` runs the sizes,
``analysis.py`` computes times, ratios and targets, ``table.py`` prints them.

The package's ``run`` is the function :func:`.run.run` (it shadows the submodule's name here).
"""

from .analysis import BenchError, growth, history_independence, median_increment, result_fields
from .run import SIZES, run
from .table import format_table

__all__ = [
    "SIZES",
    "BenchError",
    "format_table",
    "growth",
    "history_independence",
    "median_increment",
    "result_fields",
    "run",
]
