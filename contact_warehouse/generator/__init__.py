"""Synthetic contact-center exports with planted truths (docs/domain.md section 1 formats)."""

from .core import GenerationSummary, generate

__all__ = ["GenerationSummary", "generate"]
