"""Benchmark of the whole pipeline at growing sizes (``contact-warehouse bench``)."""

from .run import SIZES, BenchError, Size, format_table, growth, result_fields, run

__all__ = ["SIZES", "BenchError", "Size", "format_table", "growth", "result_fields", "run"]
