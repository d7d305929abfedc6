"""Align drafts to a strategy catalog: ranked suggestions at every level, confidence and evidence.

The scores come from :mod:`planalign.index.align.scoring` (zero-shot, chosen on real text); with
labelled examples :mod:`planalign.index.align.supervised` fuses a kNN vote and two classifiers with
them. A draft's whole text (its first 2,000 characters) is embedded for the scores; when evidence
is wanted (a single draft) its sentences are embedded too, to tell which part of the draft matched
a node. The whole text beat the length-weighted mean of its sentences on Traffy reports (23
categories: 0.624 vs 0.607 top-1; identical on one-sentence texts), and batches need only one
encoder call per draft.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse

from planalign.corpora.catalog import Catalog
from planalign.index.align.query import REVIEW_WARNINGS, Query, RowProgress, prepare_text
from planalign.index.align.results import Alignment, AlignmentInputError, Evidence, Neighbour, Suggestion
from planalign.index.align.scoring import NODE_TEXT_KINDS, LevelScores, ScoringConfig, ZeroShotScorer
from planalign.index.align.supervised import FOLLOWS_DECISION_WARNING, FUSED_REVIEW_BELOW, SHOWN_CHARS, ExampleModel, labels_at, learning_level
from planalign.nlp.encoders.base import EMBED_CHARS, Encoder, unit_rows
from planalign.nlp.encoders.factory import CASCADE
from planalign.nlp.normalize import normalize
from planalign.nlp.tokenize import content_tokens

Progress = Callable[[int], None]


class Aligner:
    """Ranks catalog nodes for drafts; optionally learns from labelled examples."""

    def __init__(self, catalog: Catalog, encoder: Encoder, config: ScoringConfig | None = None, second: Encoder | None = None) -> None:
        self.catalog = catalog
        self.encoder = encoder
        self.scorer = ZeroShotScorer(catalog, encoder, config or ScoringConfig(), second)
        self._examples: ExampleModel | None = None
        self.fallback: Aligner | None = None
        self.fallback_below = 0.0
        self.model_version = 0  # 0: zero-shot; n: the n-th model learned from a catalog's decisions

    def with_fallback(self, fallback: Aligner, below: float) -> Aligner:
        """A cascade: drafts whose top confidence is under ``below`` are aligned again by ``fallback``.

        A fast encoder answers the clear cases and the slow, better one only the uncertain ones.
        """
        self.fallback, self.fallback_below = fallback, below
        return self

    @property
    def encoder_label(self) -> str:
        """The encoder as responses and the learned models' keys name it: ``cascade`` for a cascade."""
        return CASCADE if self.fallback is not None else self.encoder.name

    @property
    def examples(self) -> int:
        """How many labelled examples this aligner learned from."""
        return len(self._examples.texts) if self._examples is not None else 0

    # ------------------------------------------------------------------------- supervised
    def fit_examples(self, texts: Sequence[str], labels: Sequence[Sequence[str]], progress: Progress | None = None, guarded: bool = False,
                     level: str | None = None) -> None:
        """Learn from labelled drafts; ``labels`` are node ids, lifted to the level nine drafts in ten have a label at
        (:func:`~planalign.index.align.supervised.learning_level`; drafts labelled only above it are left out).

        From 40 examples, corrections of the zero-shot suggestion pull look-alike drafts toward their
        labels. ``guarded``: as for people's decisions, the learners' share is chosen on held-out
        examples: under ``PRIOR_FROM`` (100) only a significant gain over the (pulled) zero-shot lets
        them in, from there they get 3/4 unless significantly worse
        (:class:`~planalign.index.align.supervised.ExampleModel`). ``level``: the level to learn at (the cascade's
        fallback learns at its first model's: chosen again on the drafts left, it could be deeper)."""
        level = level or learning_level(self.catalog, labels)
        kept = [(text, labels_at(self.catalog, ls, level)) for text, ls in zip(texts, labels)]
        texts, labels = [t for t, ls in kept if ls], [ls for _, ls in kept if ls]
        # A text with nothing to read is embedded as is: it just adds little.
        queries = [_readable(text) or Query(text, [text], []) for text in texts]
        vectors = self.draft_vectors(queries, progress)
        self._examples = ExampleModel(self.catalog, self.scorer.node_ids, self._zero_shot_level, list(texts), vectors, [list(ls) for ls in labels],
                                      level, guarded=guarded)
        if self.fallback is not None:
            self.fallback.fit_examples(texts, labels, guarded=guarded, level=level)

    def learned(self, texts: Sequence[str], labels: Sequence[Sequence[str]], version: int, progress: Progress | None = None) -> Aligner:
        """A new aligner sharing this one's catalog vectors, with a guarded model of these decisions."""
        twin = self._twin(version)
        twin.fit_examples(texts, labels, progress, guarded=True)
        return twin

    def _twin(self, version: int) -> Aligner:
        twin = copy.copy(self)
        twin.model_version = version
        if self.fallback is not None:
            twin.fallback = self.fallback._twin(version)
        return twin

    @property
    def example_models(self) -> list[ExampleModel | None]:
        """This aligner's example model and its fallback's (to keep them on disk)."""
        return [self._examples] + (self.fallback.example_models if self.fallback is not None else [])

    def review_threshold(self, level: str) -> tuple[float, int]:
        """The confidence under which a suggestion at ``level`` needs review, as :func:`_needs_review`
        applies it to most drafts, and how many decisions set it (0: a default). What the review page
        tells a reviewer, so that a file flagged whole reads as what it is: no confidence at which the
        catalog's decided suggestions were right 90% of the time (1.0). The cascade's uncertain drafts
        are aligned again, and flagged, by its fallback; once the learners take part they re-score
        every draft, flagged under the fused threshold; else the zero-shot one."""
        if self.fallback is not None:
            return self.fallback.review_threshold(level)
        model = self._examples
        if model is not None and model.share > 0:
            set_by = model.fused_review_below if model.level == level else None
            return (FUSED_REVIEW_BELOW, 0) if set_by is None else (set_by, len(model.texts))
        if model is not None and model.level == level and model.review_below is not None:
            return model.review_below, len(model.texts)
        return self.scorer.calibration.review_below, 0

    def with_example_models(self, models: Sequence[ExampleModel | None], version: int) -> Aligner:
        """A new aligner sharing this one's catalog vectors, with example models kept from an earlier fit."""
        twin = self._twin(version)
        aligner: Aligner | None = twin
        for model in models:
            assert aligner is not None, "one example model per aligner of the cascade"
            if model is not None:
                model.catalog, model.zero_shot = aligner.catalog, aligner._zero_shot_level
            aligner._examples = model
            aligner = aligner.fallback
        return twin

    def _zero_shot_level(self, texts: list[str], vectors: np.ndarray, level: str) -> tuple[np.ndarray, np.ndarray]:
        """Zero-shot probabilities over a level's nodes for whole-text vectors (held-out tuning), and each
        text's calibrated top confidence (where a catalog's decisions put its review threshold)."""
        queries = [_readable(t) for t in texts]
        lexical = self.scorer.lexical_scores([q.words if q else [] for q in queries], [q.units[0] if q else "" for q in queries])
        dense, _ = self.scorer.similarities(vectors)
        second = self.scorer.second_similarities(self._second_vectors([q.units[0] if q else t for q, t in zip(queries, texts)]))
        final = self.scorer.tree_scores(self.scorer.own_scores(dense, lexical, second))
        absolute = self.scorer.text_cosines(vectors).max(axis=(0, 2))
        scored = [self.scorer.levels(row, float(a))[level] for row, a in zip(final, absolute)]
        return np.vstack([s.probabilities for s in scored]), np.array([s.confidence for s in scored])

    # ---------------------------------------------------------------------------- scoring
    def _second_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The second encoder's vectors of whole texts (empty when the scorer has no second encoder)."""
        if self.scorer.second is None or self.scorer.second_vectors is None:
            return np.zeros((len(texts), 0), dtype=np.float32)
        return self.scorer.second.encode_queries([normalize(t)[:EMBED_CHARS] for t in texts])

    def draft_vectors(self, queries: list[Query], progress: Progress | None = None) -> np.ndarray:
        """(drafts, dim) unit vectors of the whole texts: the only text of a draft the model embeds.

        Sentences are not embedded: they served the evidence only, and with them a draft of four
        sentences cost e5 twice its tokens (single-draft align p95 153 ms against the 100 ms target,
        ``make bench``); the evidence sentence is now the one sharing most character n-grams with
        the matched node text (:meth:`_evidence`)."""
        texts = [query.units[0] for query in queries]
        return unit_rows(self.encoder.encode_queries(texts, progress)) if texts else np.zeros((0, self.encoder.dim), dtype=np.float32)

    # ----------------------------------------------------------------------------- public
    def align(self, text: str, top_k: int = 3, level: str | None = None) -> Alignment:
        """Suggestions for one draft, with evidence, at every level (or only ``level``)."""
        result = self.align_many([text], top_k=top_k, level=level, with_evidence=True)[0]
        if isinstance(result, AlignmentInputError):
            raise result
        return result

    def align_many(
        self,
        texts: Sequence[str],
        top_k: int = 3,
        level: str | None = None,
        with_evidence: bool = False,
        progress: Progress | None = None,
    ) -> list[Alignment | AlignmentInputError]:
        """Align many drafts; a draft that cannot be aligned yields its error in its place."""
        prepared: list[Query | AlignmentInputError] = []
        for text in texts:
            try:
                prepared.append(prepare_text(text))
            except AlignmentInputError as exc:
                prepared.append(exc)
        queries = [q for q in prepared if isinstance(q, Query)]
        vectors = iter(self.draft_vectors(queries, RowProgress(prepared, progress) if progress else None))
        lexical = iter(self.scorer.lexical_scores([q.words for q in queries], [q.units[0] for q in queries]) if queries else [])  # one sparse product per batch
        second = self.scorer.second_similarities(self._second_vectors([q.units[0] for q in queries]))
        seconds = iter(second if second is not None else [None] * len(queries))
        results: list[Alignment | AlignmentInputError] = [
            query if isinstance(query, AlignmentInputError)
            else self._align_one(query, next(vectors), next(lexical), next(seconds), top_k, level, with_evidence)
            for query in prepared
        ]
        if self.fallback is not None:
            decisive = self.catalog.resolve_level(level)
            unsure = [i for i, r in enumerate(results) if isinstance(r, Alignment) and r.levels[decisive][0].confidence < self.fallback_below]
            if unsure:
                again = self.fallback.align_many([texts[i] for i in unsure], top_k, level, with_evidence)
                for i, result in zip(unsure, again):
                    results[i] = result
        return results

    def _align_one(self, query: Query, vector: np.ndarray, lexical: np.ndarray, second: np.ndarray | None, top_k: int, level: str | None,
                   with_evidence: bool) -> Alignment:
        dense, best_text = self.scorer.similarities(vector[None, :])  # (1, nodes)
        own = self.scorer.own_scores(dense, lexical[None, :], second[None, :] if second is not None else None)
        final = self.scorer.tree_scores(own)[0]
        as_written = self.scorer.text_cosines(vector[None, :])[:, 0]  # (kinds, nodes): the floor's and the evidence's cosines
        scored = self.scorer.levels(final, float(as_written.max()))
        probabilities = {lv: dict(zip(s.nodes.tolist(), s.probabilities.tolist())) for lv, s in scored.items()}
        # Ranked by the scores themselves; shown clipped to 0..1. Ranking by the clipped score tied every
        # node over 1.0 (common: e5 cosine ~0.9 plus the lexical and second-encoder terms) and the catalog's
        # order broke the tie, so the top suggestion could be a node of 19% confidence beside one of
        # 73%, and the review flag judged the other one.
        ranking = {lv: {int(i): float(final[i]) for i in s.nodes} for lv, s in scored.items()}
        neighbours: list[Neighbour] = []
        fused = None
        if self._examples is not None:  # the ragged catalog's path ends, for the model only (a zero-shot draft needs none)
            stops = {lv: dict(zip(self.scorer.level_stops[lv].tolist(), s.stop_probabilities.tolist())) for lv, s in scored.items()}
            fused = self._examples.fuse(query.text, vector, probabilities, stops)
        if fused is not None:
            probabilities = fused
            ranking = {lv: dict(probs) for lv, probs in probabilities.items()}
        # Equal scores (nodes a followed decision left at 0) in the zero-shot's order, not the catalog's:
        # after "ใช้ข้อเสนอนี้" on a draft its alternatives were the catalog's first nodes (a walkthrough).
        zero_shot_rank = {int(i): float(final[i]) for s in scored.values() for i in s.nodes}
        sims = self._examples.similarities(vector) if self._examples is not None else None  # once: neighbours and the unlike test
        if self._examples is not None:
            neighbours = self._examples.neighbours(vector, 3, sims)
        levels = [self.catalog.resolve_level(level)] if level else self.catalog.levels
        # Every suggestion's evidence compares the same sentences: their character n-grams, once.
        sentences = self.scorer.chars.transform(query.units[1:]) if with_evidence and len(query.units) > 1 else None
        repeated = self._examples.repeats(query.text) if fused is not None and self._examples is not None else None
        near = self._examples.near(neighbours, repeated) if self._examples is not None else []
        result = Alignment(levels={}, neighbours=near, warnings=list(query.warnings), learned=fused is not None)
        unlike = fused is not None and self._examples is not None and self._examples.unlike_decisions(query.text, vector, sims)
        ends_above = self._ends_above({lv: min(ranking[lv], key=lambda i: (-ranking[lv][i], -zero_shot_rank[i])) for lv in self.catalog.levels})
        for lv in levels:
            order = sorted(ranking[lv], key=lambda i: (-ranking[lv][i], -zero_shot_rank[i]))[:top_k]
            model = self._examples if self._examples is not None and self._examples.level == lv else None
            result.needs_review[lv] = bool(set(REVIEW_WARNINGS) & set(query.warnings)) or lv in ends_above or _needs_review(
                scored[lv], probabilities[lv], order[0], fused is not None, model.fused_review_below if model is not None else None,
                model.review_below if model is not None else None, unlike)
            if lv in ends_above:
                result.ends_above[lv] = ends_above[lv]
            result.levels[lv] = [
                Suggestion(
                    node_id=self.scorer.node_ids[i],
                    name=self.catalog.nodes[self.scorer.node_ids[i]].name,
                    level=lv,
                    score=round(float(np.clip(ranking[lv][i], 0.0, 1.0)), 4),
                    confidence=round(float(probabilities[lv][i]), 4),
                    path=[n.id for n in self.catalog.ancestors(self.scorer.node_ids[i])],
                    evidence=(self._decided_evidence(query, self.scorer.node_ids[i], neighbours, repeated) if fused is not None and i == order[0] else [])
                    + self._evidence(query, i, dense, best_text, as_written, sentences) if with_evidence else [],
                )
                for i in order
            ]
        # an answer that follows a decision on a nearly identical text says so (its 100% said nothing of where
        # it came from: a walkthrough), when it does follow it (it was said beside another answer: a blind review)
        if repeated is not None and any(result.levels[lv][0].node_id in repeated[1] for lv in result.levels):
            result.warnings.append(f"{FOLLOWS_DECISION_WARNING}: {repeated[0][:200]}")
        return result

    def _ends_above(self, tops: dict[str, int]) -> dict[str, str]:
        """Per level under the first top node without children: that node's id (the draft's path ends
        there, so the level's suggestions lie on other branches). As the answer shows the levels, top down."""
        ended: dict[str, str] = {}
        end: str | None = None
        for lv in self.catalog.levels:
            if end is not None:
                ended[lv] = end
            elif not self.catalog.children(node_id := self.scorer.node_ids[tops[lv]]):
                end = node_id
        return ended

    def _evidence(self, query: Query, node: int, dense: np.ndarray, best_text: np.ndarray, as_written: np.ndarray,
                  sentences: sparse.spmatrix | None) -> list[Evidence]:
        """The node text of this node or of its best-scoring descendant that the draft matched, the draft's
        sentence sharing most character n-grams with it (the whole text when it has one sentence or
        none shares any), the words shared, and the whole draft's cosine to that node text (``as_written``:
        (kinds, nodes) cosines to the texts as written).

        A keyword-less node scores its name read in the context of its text (:func:`name_in_context`), a
        vector of no text: its evidence is whichever of its two texts is nearer the draft (the bare name
        with the mixed vector's cosine hid the description's shared words and overstated the match; a
        "name description" always shown understated a draft that is the name: 0.54 for "แมว"; two blind reviews)."""
        candidates = [node] + [self.scorer.position[c.id] for c in self._descendants(self.scorer.node_ids[node])]
        target = candidates[int(np.argmax(dense[0, candidates]))]
        kind = int(np.argmax(as_written[:, target])) if self.scorer.in_context[target] else int(best_text[0, target])
        unit = 0
        if sentences is not None:  # character n-grams of query.units[1:]
            overlap = np.asarray((sentences @ self.scorer.node_chars[target].T).toarray())[:, 0]
            unit = 1 + int(np.argmax(overlap)) if overlap.max() > 0 else 0
        # the words both texts shown have: the node's other text and the draft's other sentences showed
        # words these did not ("ริม" beside a sentence of households, a walkthrough); a number is no
        # shared word to show: "2" of a catalog text's numbered list "2. การปรับปรุง..." (a docs walkthrough)
        words = query.words if unit == 0 else content_tokens(query.units[unit], normalized=True)
        shared = [w for w in dict.fromkeys(words) if w in self.scorer.text_words[target][kind] and not w.isdigit()][:10]
        # a node without keywords has its name as its second text: "matched the plan's keywords" was untrue there
        # (the official catalog has none; a walkthrough)
        matched = "name" if NODE_TEXT_KINDS[kind] == "keywords" and not self.catalog.nodes[self.scorer.node_ids[target]].keywords else NODE_TEXT_KINDS[kind]
        return [Evidence(draft_text=query.shown(unit), matched_text=self.scorer.texts[target][kind], matched_kind=matched,
                         similarity=round(float(as_written[kind, target]), 4), shared_words=shared)]

    def _decided_evidence(self, query: Query, node_id: str, neighbours: list[Neighbour], repeated: tuple[str, list[str]] | None) -> list[Evidence]:
        """First among a learned top suggestion's evidence: the decided text the draft nearly repeats, else the
        nearest decided text (of the draft's nearest three, as near as decided texts are to each other:
        ``near_from``), decided on a node of its path. After one correction a draft got the corrected node at 100%
        with the node's keyword list as its evidence, sharing only "กรุงเทพมหานคร" (an integrator's walkthrough)."""
        path = {n.id for n in self.catalog.ancestors(node_id)}

        def on_path(label: str) -> bool:
            return label in self.catalog.nodes and (label in path or node_id in {n.id for n in self.catalog.ancestors(label)})

        candidates = self._examples.near(neighbours, repeated) if self._examples is not None else []
        if repeated is not None and not (candidates and candidates[0].text == repeated[0][:SHOWN_CHARS]):  # repeated, not among the nearest
            candidates.insert(0, Neighbour(repeated[0][:SHOWN_CHARS], repeated[1], 1.0))
        for neighbour in candidates:
            if any(on_path(label) for label in neighbour.labels):
                words = set(content_tokens(neighbour.text))
                shared = [w for w in dict.fromkeys(query.words) if w in words and not w.isdigit()][:10]
                return [Evidence(draft_text=query.shown(0), matched_text=neighbour.text, matched_kind="example",
                                 similarity=neighbour.similarity, shared_words=shared)]
        return []

    def _descendants(self, node_id: str) -> list:
        found = []
        for child in self.catalog.children(node_id):
            found.append(child)
            found.extend(self._descendants(child.id))
        return found


def _readable(text: str) -> Query | None:
    """A decided text prepared as a draft, or None when nothing in it can be read (scored as empty):
    a labelled file may hold a row of only digits, which the learners still take as it is."""
    try:
        return prepare_text(text)
    except AlignmentInputError:
        return None


def _needs_review(scored: LevelScores, fused: dict[int, float], top: int, learned: bool, fused_below: float | None, zero_below: float | None,
                  unlike_decisions: bool) -> bool:
    """Zero-shot: the calibrated rule of the scorer, under the threshold the catalog's decisions set
    where they set one (from 50 decisions, :func:`~planalign.index.align.supervised.review_threshold`;
    ``zero_below``). With examples the fused probability (chosen on out-of-fold predictions of those
    examples) is the confidence: under ``fused_below`` (else FUSED_REVIEW_BELOW, one half), a person
    checks; and the zero-shot's own flags stand where the fused threshold was never checked: a draft
    the catalog barely matches, or one unlike every decided text that the zero-shot would flag
    (:meth:`~planalign.index.align.supervised.ExampleModel.unlike_decisions`)."""
    zero_shot_flag = scored.review_at(zero_below) if zero_below is not None else scored.needs_review
    if learned:
        return bool(fused[top] < (fused_below if fused_below is not None else FUSED_REVIEW_BELOW) or scored.barely_matches
                    or (unlike_decisions and zero_shot_flag))
    return zero_shot_flag
