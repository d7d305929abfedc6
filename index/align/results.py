"""What an alignment returns: ranked suggestions per level, with confidence and evidence."""
from __future__ import annotations

from dataclasses import dataclass, field

from planalign.errors import InputError


class AlignmentInputError(InputError):
    """The text cannot be aligned (empty, or nothing readable in it)."""


@dataclass
class Evidence:
    """Why a node was suggested: which part of the draft matched which catalog (or example) text."""

    draft_text: str
    matched_text: str
    matched_kind: str  # description | keywords | example
    similarity: float
    shared_words: list[str] = field(default_factory=list)


@dataclass
class Suggestion:
    node_id: str
    name: str
    level: str
    score: float
    confidence: float
    path: list[str]
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class Neighbour:
    """A labelled example close to the draft."""

    text: str
    labels: list[str]
    similarity: float


@dataclass
class Alignment:
    levels: dict[str, list[Suggestion]]
    neighbours: list[Neighbour] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    needs_review: dict[str, bool] = field(default_factory=dict)  # per level: a person should check the top suggestion
    # per level: the shallower node without children where the draft's best path ends (an issue without goals);
    # the level's suggestions then lie on other branches, and are flagged for review
    ends_above: dict[str, str] = field(default_factory=dict)
