"""Alignment of drafts to a strategy catalog.

``query`` prepares a draft, ``scoring`` scores catalog nodes zero-shot (with calibration),
``supervised`` learns from labelled examples, ``aligner`` puts them together (and the cascade of a
fast and a slow encoder), ``results`` holds the typed results.
"""
from planalign.index.align.aligner import Aligner
from planalign.index.align.query import MAX_CHARS, prepare_text
from planalign.index.align.results import Alignment, AlignmentInputError, Evidence, Neighbour, Suggestion, warning_thai
from planalign.index.align.scoring import SCORING_VERSION, ScoringConfig

__all__ = ["MAX_CHARS", "SCORING_VERSION", "Aligner", "Alignment", "AlignmentInputError", "Evidence", "Neighbour", "ScoringConfig", "Suggestion",
           "prepare_text", "warning_thai"]
