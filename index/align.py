"""Align a draft project to a strategy catalog: ranked suggestions at every level.

How a score is made, and why:

* **Zero-shot.** Each catalog node is embedded as several passages (its name; name + description;
  name + keywords). A draft is embedded sentence by sentence, and its whole-text vector is the
  length-weighted mean of its sentence vectors (e5 mean-pools its tokens, so this is close to
  embedding the whole text, at half the encoder time: measured in eval/README.md). Both sides are centered
  (the mean embedding subtracted) because raw e5 cosines all sit in a narrow band near 0.8; centering
  spreads them so that the best node stands out. A node's similarity mixes the whole-draft cosine with
  the best single sentence (drafts often carry their topic in one sentence) and a TF-IDF overlap with
  the node's own words and keywords (exact vocabulary such as "ขุดลอก" is strong evidence).
* **Consistent down the tree.** A child's score mixes in its parent's (so an issue under a fitting
  dimension wins), and a parent's final score is its best child's, so the top dimension is always the
  parent of the top issue.
* **Confidence** is a softmax over the nodes of a level with a temperature fitted on our dev set, so a
  confidence of 0.7 means about 70% of such suggestions are right.
* **Supervised.** With labelled examples, a kNN vote and a logistic regression on the same
  embeddings are fused with the zero-shot probability.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from planalign.corpora.catalog import Catalog, Node
from planalign.errors import InputError
from planalign.nlp.encoders.base import Encoder, unit_rows
from planalign.nlp.normalize import normalize, thai_ratio
from planalign.nlp.tokenize import content_tokens, split_sentences

MAX_CHARS = 20_000
MAX_SENTENCES = 24
PASSAGE_KINDS = ("name", "description", "keywords")


class AlignmentInputError(InputError):
    """The text cannot be aligned (empty, or nothing readable in it)."""


@dataclass(frozen=True)
class AlignerConfig:
    """Weights of the score; the defaults were chosen on eval/data/devset_drafts.csv (eval/README.md)."""

    whole_weight: float = 0.8  # whole draft vs its best sentence
    lexical_weight: float = 0.5  # TF-IDF overlap added to the dense similarity
    parent_weight: float = 0.2  # share of the parent's score in a child's
    temperature: float = 0.04  # softmax temperature for confidence (fitted on the dev set)
    knn_k: int = 15
    knn_temperature: float = 0.05


@dataclass
class Evidence:
    """Why a node was suggested: which part of the draft matched which catalog (or example) text."""

    draft_text: str
    matched_text: str
    matched_kind: str  # name | description | keywords | example
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


@dataclass
class _Query:
    text: str
    units: list[str]  # [whole text] + sentences when there are several
    warnings: list[str]

    @cached_property
    def words(self) -> list[str]:
        """Content words, split once: the lexical score and every suggestion's evidence read them."""
        return content_tokens(self.text, normalized=True)

    @property
    def encoded(self) -> list[str]:
        """What the encoder embeds: the sentences, or the whole text when it is one sentence."""
        return self.units[1:] or self.units


def prepare_text(text: str) -> _Query:
    """Normalize and check a draft; raises AlignmentInputError when nothing can be aligned."""
    text = normalize(text or "")
    warnings: list[str] = []
    if not text:
        raise AlignmentInputError("empty text")
    if not any(ch.isalpha() for ch in text):
        raise AlignmentInputError("no readable words in the text")
    if len(text) > MAX_CHARS:
        warnings.append(f"text is {len(text):,} characters; only the first {MAX_CHARS:,} were used")
        text = text[:MAX_CHARS]
    if thai_ratio(text) < 0.3:
        warnings.append("text is mostly not Thai; the catalog is Thai, so suggestions may be weak")
    sentences = split_sentences(text)[:MAX_SENTENCES]
    units = [text[:2000]] + (sentences if len(sentences) > 1 else [])
    return _Query(text, units, warnings)


class Aligner:
    """Ranks catalog nodes for drafts; optionally learns from labelled examples."""

    def __init__(self, catalog: Catalog, encoder: Encoder, config: AlignerConfig | None = None) -> None:
        self.catalog = catalog
        self.encoder = encoder
        self.config = config or AlignerConfig()
        self._node_ids = list(catalog.nodes)
        self._node_index = {node_id: i for i, node_id in enumerate(self._node_ids)}
        passages: list[str] = []
        owners: list[int] = []
        kinds: list[str] = []
        for i, node in enumerate(catalog):
            for kind, text in _node_passages(node):
                passages.append(text)
                owners.append(i)
                kinds.append(kind)
        self._passages = passages
        # Each node's passages as one row (short rows padded with the node's first passage, which
        # changes no maximum), so the best passage per node is one vectorized argmax per draft.
        per_node = [[p for p, owner in enumerate(owners) if owner == i] for i in range(len(self._node_ids))]
        width = max(len(group) for group in per_node)
        self._passage_grid = np.array([group + [group[0]] * (width - len(group)) for group in per_node])
        self._passage_kind = kinds
        passage_vectors = encoder.encode_passages([normalize(p) for p in passages])
        # Queries and passages carry different prefixes in e5, so each side gets its own mean: the
        # catalog texts embedded as queries stand in for the (unknown) distribution of drafts.
        self._passage_mean = passage_vectors.mean(axis=0)
        self._query_mean = encoder.encode_queries([normalize(p) for p in passages]).mean(axis=0)
        self._passage_vectors = unit_rows(passage_vectors - self._passage_mean)
        node_words = [content_tokens(_lexical_document(n)) for n in catalog]
        self._node_words = [set(words) for words in node_words]
        self._lexical = TfidfVectorizer(analyzer=_already_split, sublinear_tf=True)
        self._node_lexical = self._lexical.fit_transform(node_words)
        self._parent_index = np.array(
            [self._node_index[n.parent_id] if n.parent_id else -1 for n in catalog], dtype=int
        )
        self._level_nodes = {level: np.array([self._node_index[n.id] for n in catalog.at_level(level)]) for level in catalog.levels}
        self._depth_order = sorted(range(len(self._node_ids)), key=lambda i: len(catalog.ancestors(self._node_ids[i])))
        self._examples: _ExampleModel | None = None
        self.fallback: Aligner | None = None
        self.fallback_below = 0.0

    def with_fallback(self, fallback: Aligner, below: float) -> Aligner:
        """A cascade: drafts whose top confidence is under ``below`` are aligned again by ``fallback``.

        A fast encoder answers the clear cases and the slow, better one only the uncertain ones.
        """
        self.fallback, self.fallback_below = fallback, below
        return self

    # ------------------------------------------------------------------ supervised
    def fit_examples(self, texts: Sequence[str], labels: Sequence[Sequence[str]], progress: Callable[[int], None] | None = None) -> None:
        """Learn from labelled drafts; ``labels`` are node ids, all on one catalog level."""
        queries = []
        for text in texts:
            try:
                queries.append(prepare_text(text))
            except AlignmentInputError:  # nothing to read: embedded as is, it just adds little
                queries.append(_Query(text, [text], []))
        vectors = np.vstack([units[0] for units in self._draft_vectors(queries, progress)])
        self._examples = _ExampleModel(self, list(texts), vectors, [list(ls) for ls in labels])
        if self.fallback is not None:
            self.fallback.fit_examples(texts, labels)

    # ------------------------------------------------------------------ scoring
    def _draft_vectors(self, queries: list[_Query], progress: Callable[[int], None] | None = None) -> list[np.ndarray]:
        """Per draft, centered unit vectors of its units: the whole text, then each sentence."""
        texts = [text for query in queries for text in query.encoded]
        raw = self.encoder.encode_queries(texts, progress) if texts else np.zeros((0, self.encoder.dim))
        result, offset = [], 0
        for query in queries:
            part = raw[offset : offset + len(query.encoded)]
            offset += len(query.encoded)
            if len(query.units) > 1:
                lengths = np.array([len(s) for s in query.encoded], dtype=np.float32)
                part = np.vstack([(lengths / lengths.sum()) @ part, part])
            result.append(unit_rows(part - self._query_mean))
        return result

    def _unit_similarity(self, unit_vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per unit and node: the best passage similarity and which passage gave it."""
        passage_sims = unit_vectors @ self._passage_vectors.T  # (units, passages)
        grid_sims = passage_sims[:, self._passage_grid]  # (units, nodes, passages per node)
        column = grid_sims.argmax(axis=2)
        best_passage = np.take_along_axis(np.broadcast_to(self._passage_grid, grid_sims.shape), column[..., None], axis=2)[..., 0]
        return np.take_along_axis(grid_sims, column[..., None], axis=2)[..., 0], best_passage

    def _lexical_scores(self, queries: list[_Query]) -> np.ndarray:
        return (self._lexical.transform([q.words for q in queries]) @ self._node_lexical.T).toarray()

    def _own_scores(self, unit_vectors: np.ndarray, lexical: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per node: dense similarity (whole draft and best sentence) plus the TF-IDF overlap ``lexical``."""
        sims, best_passage = self._unit_similarity(unit_vectors)
        whole = sims[0]
        best_sentence = sims[1:].max(axis=0) if len(sims) > 1 else whole
        w = self.config.whole_weight
        dense = w * whole + (1 - w) * best_sentence
        return dense + self.config.lexical_weight * lexical, sims, best_passage

    def _tree_scores(self, own: np.ndarray) -> np.ndarray:
        """Mix parents into children top-down, then lift each parent to its best child."""
        mixed = own.copy()
        for i in self._depth_order:
            parent = self._parent_index[i]
            if parent >= 0:
                mixed[i] = (1 - self.config.parent_weight) * own[i] + self.config.parent_weight * mixed[parent]
        final = mixed.copy()
        lifted: set[int] = set()  # parents whose own score has been replaced by a child's
        for i in reversed(self._depth_order):
            parent = self._parent_index[i]
            if parent < 0:
                continue
            if parent not in lifted or final[i] > final[parent]:
                final[parent] = final[i]
                lifted.add(parent)
        return final

    def _level_probabilities(self, final: np.ndarray) -> dict[str, dict[int, float]]:
        probabilities: dict[str, dict[int, float]] = {}
        for level, idx in self._level_nodes.items():
            logits = final[idx] / self.config.temperature
            logits = np.exp(logits - logits.max())
            probabilities[level] = dict(zip(idx.tolist(), (logits / logits.sum()).tolist()))
        return probabilities

    # ------------------------------------------------------------------ public
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
        progress: Callable[[int], None] | None = None,
    ) -> list[Alignment | AlignmentInputError]:
        """Align many drafts; a draft that cannot be aligned yields its error in its place."""
        prepared: list[_Query | AlignmentInputError] = []
        for text in texts:
            try:
                prepared.append(prepare_text(text))
            except AlignmentInputError as exc:
                prepared.append(exc)
        queries = [q for q in prepared if isinstance(q, _Query)]
        vectors = iter(self._draft_vectors(queries, _UnitsToRows(prepared, progress) if progress else None))
        # One sparse product for the batch, not one per draft.
        lexical = iter(self._lexical_scores(queries) if queries else [])
        results: list[Alignment | AlignmentInputError] = [
            query if isinstance(query, AlignmentInputError) else self._align_one(query, next(vectors), next(lexical), top_k, level, with_evidence)
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

    def _zero_shot_level(self, text: str, vector: np.ndarray, level: str) -> np.ndarray:
        """Zero-shot probabilities over a level's nodes from a whole-text vector (for held-out tuning)."""
        own, _, _ = self._own_scores(vector[None, :], self._lexical_scores([_Query(text, [text], [])])[0])
        probabilities = self._level_probabilities(self._tree_scores(own))[level]
        return np.array([probabilities[self._node_index[n.id]] for n in self.catalog.at_level(level)])

    def _align_one(self, query: _Query, unit_vectors: np.ndarray, lexical: np.ndarray, top_k: int, level: str | None, with_evidence: bool) -> Alignment:
        own, sims, best_passage = self._own_scores(unit_vectors, lexical)
        final = self._tree_scores(own)
        probabilities = self._level_probabilities(final)
        ranking = {lv: {i: float(np.clip(final[i], 0.0, 1.0)) for i in probs} for lv, probs in probabilities.items()}
        neighbours: list[Neighbour] = []
        if self._examples is not None:
            fused = self._examples.fuse(query.text, unit_vectors[0], probabilities)
            probabilities = fused
            ranking = {lv: dict(probs) for lv, probs in fused.items()}
            neighbours = self._examples.neighbours(unit_vectors[0], 3)
        levels = [self.catalog.resolve_level(level)] if level else self.catalog.levels
        result = Alignment(levels={}, neighbours=neighbours, warnings=list(query.warnings))
        for lv in levels:
            order = sorted(ranking[lv], key=lambda i: -ranking[lv][i])[:top_k]
            result.levels[lv] = [
                Suggestion(
                    node_id=self._node_ids[i],
                    name=self.catalog.nodes[self._node_ids[i]].name,
                    level=lv,
                    score=round(ranking[lv][i], 4),
                    confidence=round(float(probabilities[lv][i]), 4),
                    path=[n.id for n in self.catalog.ancestors(self._node_ids[i])],
                    evidence=self._evidence(query, i, sims, best_passage) if with_evidence else [],
                )
                for i in order
            ]
        return result

    def _evidence(self, query: _Query, node: int, sims: np.ndarray, best_passage: np.ndarray) -> list[Evidence]:
        """The draft unit that matched this node (or its best descendant) best, and the words shared."""
        candidates = [node] + [self._node_index[c.id] for c in self._descendants(self._node_ids[node])]
        unit, column = np.unravel_index(np.argmax(sims[:, candidates]), (len(sims), len(candidates)))
        target = candidates[int(column)]
        passage = int(best_passage[unit, target])
        shared = [w for w in dict.fromkeys(query.words) if w in self._node_words[target]][:10]
        return [
            Evidence(
                draft_text=query.units[int(unit)],
                matched_text=self._passages[passage],
                matched_kind=self._passage_kind[passage],
                similarity=round(float(sims[unit, target]), 4),
                shared_words=shared,
            )
        ]

    def _descendants(self, node_id: str) -> list[Node]:
        found: list[Node] = []
        for child in self.catalog.children(node_id):
            found.append(child)
            found.extend(self._descendants(child.id))
        return found


class _UnitsToRows:
    """Turns per-unit encoder progress into per-row progress for a progress bar."""

    def __init__(self, prepared: list, progress: Callable[[int], None]) -> None:
        self._sizes = [len(q.encoded) if isinstance(q, _Query) else 0 for q in prepared]
        self._progress = progress
        self._row = 0
        self._pending = 0
        skipped = 0
        while self._row < len(self._sizes) and self._sizes[self._row] == 0:
            self._row += 1
            skipped += 1
        if skipped:
            progress(skipped)

    def __call__(self, units_done: int) -> None:
        self._pending += units_done
        rows = 0
        while self._row < len(self._sizes) and self._pending >= self._sizes[self._row]:
            self._pending -= self._sizes[self._row]
            self._row += 1
            rows += 1
            while self._row < len(self._sizes) and self._sizes[self._row] == 0:
                self._row += 1
                rows += 1
        if rows:
            self._progress(rows)


def _node_passages(node: Node) -> list[tuple[str, str]]:
    passages = [("name", node.name)]
    if node.description:
        passages.append(("description", f"{node.name} {node.description}"[:1000]))
    if node.keywords:
        passages.append(("keywords", f"{node.name}: {' '.join(node.keywords)}"[:1000]))
    return passages


def _word_ngrams(text: str) -> list[str]:
    """Thai words (newmm with our dictionary) and word bigrams of an already normalized text."""
    words = content_tokens(text, normalized=True)
    return words + [f"{a}_{b}" for a, b in itertools.pairwise(words)]


def _already_split(words: list[str]) -> list[str]:
    return words


def _lexical_document(node: Node) -> str:
    keywords = " ".join(node.keywords)
    return f"{node.name} {node.description} {keywords} {keywords}"


def _ancestor_id(catalog: Catalog, node_id: str, level: str) -> str:
    ancestor = catalog.ancestor_at(node_id, level)
    assert ancestor is not None, "labels sit at or below the examples' shallowest level"
    return ancestor.id


class _ExampleModel:
    """What labelled drafts teach, at the level of their labels.

    Three learners beside the zero-shot score: a kNN vote over the embeddings (good with few
    examples, and it explains itself through the neighbours), a logistic regression on the
    embeddings, and one on TF-IDF of character n-grams and Thai word uni/bigrams (exact vocabulary
    matters for short, noisy texts such as citizen reports). How much to trust each depends on the data, so with enough examples
    the mixing weights and a calibration exponent are chosen on out-of-fold predictions before the
    final fit on all of them. Late fusion (mixing probabilities) beat joining the features on Traffy.
    """

    HOLDOUT_MIN = 40
    CROSS_FIT_MAX = 6000
    DEFAULT_WEIGHTS = (0.35, 0.25, 0.2, 0.2)  # zero-shot, kNN, embedding LR, n-gram LR

    def __init__(self, aligner: Aligner, texts: list[str], vectors: np.ndarray, labels: list[list[str]]) -> None:
        catalog = aligner.catalog
        levels = [catalog.nodes[label].level for ls in labels for label in ls]
        if not levels:
            raise InputError("no labelled examples")
        # The shallowest level present, so every label can be lifted to it.
        self.level = min(set(levels), key=catalog.levels.index)
        self.aligner = aligner
        self.texts = texts
        self.normalized = [normalize(t)[:MAX_CHARS] for t in texts]
        self.vectors = vectors
        self.labels = [sorted({catalog.nodes[label].id if catalog.nodes[label].level == self.level else _ancestor_id(catalog, label, self.level) for label in ls})
                       for ls in labels]
        self.level_nodes = [aligner._node_index[n.id] for n in catalog.at_level(self.level)]
        self.column = {aligner._node_ids[i]: j for j, i in enumerate(self.level_nodes)}
        self.weights = np.array(self.DEFAULT_WEIGHTS)
        self.sharpness = 1.0
        if len(texts) >= self.HOLDOUT_MIN:
            self._choose_weights()
        self._fit(np.arange(len(texts)))

    def _fit(self, rows: np.ndarray) -> None:
        self.fit_rows = rows
        expanded = [i for i in rows for _ in self.labels[i]]
        targets = [label for i in rows for label in self.labels[i]]
        texts = [self.normalized[i] for i in rows]
        min_df = 2 if len(rows) >= 200 else 1
        self.ngrams = FeatureUnion([
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, max_features=100_000, min_df=min_df)),
            ("words", TfidfVectorizer(analyzer=_word_ngrams, sublinear_tf=True, min_df=min_df)),
        ]).fit(texts)
        self.embedding_model = self.ngram_model = None
        if len(set(targets)) > 1:
            self.embedding_model = LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced")
            self.embedding_model.fit(self.vectors[expanded], targets)
            self.ngram_model = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced")
            self.ngram_model.fit(self.ngrams.transform([self.normalized[i] for i in expanded]), targets)

    def _components(self, texts: list[str], vectors: np.ndarray, zero: np.ndarray) -> np.ndarray:
        """(4, n, nodes): zero-shot, kNN, embedding-LR and n-gram-LR probabilities over the level."""
        knn = np.zeros((len(texts), len(self.level_nodes)))
        sims = vectors @ self.vectors[self.fit_rows].T
        k = min(self.aligner.config.knn_k, sims.shape[1])
        for row, sim in enumerate(sims):
            top = np.argpartition(-sim, k - 1)[:k]
            weights = np.exp((sim[top] - sim[top].max()) / self.aligner.config.knn_temperature)
            for neighbour, weight in zip(self.fit_rows[top], weights):
                for label in self.labels[neighbour]:
                    knn[row, self.column[label]] += weight / len(self.labels[neighbour])
        knn /= knn.sum(axis=1, keepdims=True)
        embedding, ngram = knn.copy(), knn.copy()
        if self.embedding_model is not None:
            columns = [self.column[c] for c in self.embedding_model.classes_]
            embedding = np.zeros_like(knn)
            embedding[:, columns] = self.embedding_model.predict_proba(vectors)
            ngram = np.zeros_like(knn)
            ngram[:, columns] = self.ngram_model.predict_proba(self.ngrams.transform(texts))  # type: ignore[union-attr]
        return np.stack([zero, knn, embedding, ngram])

    def _mix(self, components: np.ndarray, weights: np.ndarray, sharpness: float) -> np.ndarray:
        mixed = np.tensordot(weights, components, axes=1) ** sharpness
        return mixed / mixed.sum(axis=-1, keepdims=True)

    def _choose_weights(self) -> None:
        """Mixing weights (a 0.1 grid) by out-of-fold accuracy, then a calibration exponent by log loss.

        Three folds over at most ``CROSS_FIT_MAX`` examples: every example is predicted once by
        learners that did not see it, which is far steadier than a single held-out split.
        """
        order = np.random.default_rng(0).permutation(len(self.texts))[: self.CROSS_FIT_MAX]
        folds = np.array_split(order, 3)
        parts, golds = [], []
        for f, held in enumerate(folds):
            self._fit(np.concatenate([g for j, g in enumerate(folds) if j != f]))
            texts = [self.normalized[i] for i in held]
            zero = np.vstack([self.aligner._zero_shot_level(t, self.vectors[i], self.level) for t, i in zip(texts, held)])
            parts.append(self._components(texts, self.vectors[held], zero))
            gold = np.zeros(parts[-1].shape[1:], dtype=bool)
            for row, i in enumerate(held):
                gold[row, [self.column[label] for label in self.labels[i]]] = True
            golds.append(gold)
        components = np.concatenate(parts, axis=1)
        gold = np.concatenate(golds)
        grid = [np.array(w) / 10 for w in itertools.product(range(11), repeat=4) if sum(w) == 10]

        def accuracy(weights: np.ndarray) -> float:
            best = np.tensordot(weights, components, axes=1).argmax(axis=1)
            return float(gold[np.arange(len(best)), best].mean())

        self.weights = max(grid, key=lambda w: (accuracy(w), -abs(w - np.array(self.DEFAULT_WEIGHTS)).sum()))

        def log_loss(sharpness: float) -> float:
            mixed = self._mix(components, self.weights, sharpness)
            return float(-np.log((mixed * gold).sum(axis=1) + 1e-9).mean())

        self.sharpness = min((0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0), key=log_loss)

    def neighbours(self, vector: np.ndarray, k: int) -> list[Neighbour]:
        sims = self.vectors @ vector
        top = np.argsort(-sims)[:k]
        return [Neighbour(self.texts[i][:300], self.labels[i], round(float(sims[i]), 4)) for i in top]

    def fuse(self, text: str, vector: np.ndarray, zero_shot: dict[str, dict[int, float]]) -> dict[str, dict[int, float]]:
        """Fused probabilities per level: label level mixed, ancestors summed, descendants split."""
        index = self.aligner._node_index
        zero = np.array([[zero_shot[self.level][i] for i in self.level_nodes]])
        mixed = self._mix(self._components([text], vector[None, :], zero), self.weights, self.sharpness)[0]
        fused_level = dict(zip(self.level_nodes, mixed.tolist()))
        catalog = self.aligner.catalog
        result: dict[str, dict[int, float]] = {self.level: fused_level}
        label_rank = catalog.levels.index(self.level)
        for level in catalog.levels:
            rank = catalog.levels.index(level)
            if rank < label_rank:
                sums: dict[int, float] = {index[n.id]: 0.0 for n in catalog.at_level(level)}
                for i, p in fused_level.items():
                    ancestor = catalog.ancestor_at(self.aligner._node_ids[i], level)
                    if ancestor is not None:
                        sums[index[ancestor.id]] += p
                result[level] = sums
            elif rank > label_rank:
                split: dict[int, float] = {}
                for i, p in zero_shot[level].items():
                    anchor = catalog.ancestor_at(self.aligner._node_ids[i], self.level)
                    split[i] = p * (fused_level.get(index[anchor.id], 0.0) if anchor else 0.0)
                total = sum(split.values()) or 1.0
                result[level] = {i: v / total for i, v in split.items()}
        return result
