"""Align a draft project to a strategy catalog: ranked suggestions at every level.

How a score is made, and why:

* **Zero-shot.** Each catalog node is embedded as several passages (its name; name + description;
  name + keywords). A draft is embedded whole and sentence by sentence. Both sides are centered
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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from planalign.corpora.catalog import Catalog, Node
from planalign.nlp.encoders.base import Encoder, unit_rows
from planalign.nlp.normalize import normalize, thai_ratio
from planalign.nlp.tokenize import content_tokens, split_sentences

MAX_CHARS = 20_000
MAX_SENTENCES = 24
PASSAGE_KINDS = ("name", "description", "keywords")


class AlignmentInputError(ValueError):
    """The text cannot be aligned (empty, or nothing readable in it)."""


@dataclass(frozen=True)
class AlignerConfig:
    """Weights of the score; the defaults were chosen on eval/data/devset_drafts.csv (eval/README.md)."""

    whole_weight: float = 0.6  # whole draft vs its best sentence
    lexical_weight: float = 0.3  # TF-IDF overlap added to the dense similarity
    parent_weight: float = 0.35  # share of the parent's score in a child's
    temperature: float = 0.05  # softmax temperature for confidence (fitted on the dev set)
    knn_k: int = 15
    knn_temperature: float = 0.05
    zero_shot_share: float = 0.2  # with examples: zero-shot share of the fused probability
    knn_share: float = 0.3  # with examples: kNN share; the classifier gets the rest


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
        self._passage_owner = np.array(owners)
        self._passage_kind = kinds
        passage_vectors = encoder.encode_passages([normalize(p) for p in passages])
        # Queries and passages carry different prefixes in e5, so each side gets its own mean: the
        # catalog texts embedded as queries stand in for the (unknown) distribution of drafts.
        self._passage_mean = passage_vectors.mean(axis=0)
        self._query_mean = encoder.encode_queries([normalize(p) for p in passages]).mean(axis=0)
        self._passage_vectors = unit_rows(passage_vectors - self._passage_mean)
        self._lexical = TfidfVectorizer(analyzer=content_tokens, sublinear_tf=True)
        self._node_lexical = self._lexical.fit_transform([_lexical_document(n) for n in catalog])
        self._parent_index = np.array(
            [self._node_index[n.parent_id] if n.parent_id else -1 for n in catalog], dtype=int
        )
        self._depth_order = sorted(range(len(self._node_ids)), key=lambda i: len(catalog.ancestors(self._node_ids[i])))
        self._examples: _ExampleModel | None = None

    # ------------------------------------------------------------------ supervised
    def fit_examples(self, texts: Sequence[str], labels: Sequence[Sequence[str]], progress: Callable[[int], None] | None = None) -> None:
        """Learn from labelled drafts; ``labels`` are node ids, all on one catalog level."""
        vectors = self._embed_queries([normalize(t)[:2000] for t in texts], progress)
        self._examples = _ExampleModel(self, list(texts), vectors, [list(ls) for ls in labels])

    @property
    def label_level(self) -> str | None:
        return self._examples.level if self._examples else None

    # ------------------------------------------------------------------ scoring
    def _embed_queries(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        vectors = self.encoder.encode_queries(texts, progress)
        return unit_rows(vectors - self._query_mean)

    def _unit_similarity(self, unit_vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per unit and node: the best passage similarity and which passage gave it."""
        passage_sims = unit_vectors @ self._passage_vectors.T  # (units, passages)
        best = np.full((len(unit_vectors), len(self._node_ids)), -1.0, dtype=np.float32)
        best_passage = np.zeros_like(best, dtype=int)
        for p, owner in enumerate(self._passage_owner):
            better = passage_sims[:, p] > best[:, owner]
            best[better, owner] = passage_sims[better, p]
            best_passage[better, owner] = p
        return best, best_passage

    def _own_scores(self, query: _Query, unit_vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sims, best_passage = self._unit_similarity(unit_vectors)
        whole = sims[0]
        best_sentence = sims[1:].max(axis=0) if len(sims) > 1 else whole
        w = self.config.whole_weight
        dense = w * whole + (1 - w) * best_sentence
        lexical = (self._lexical.transform([query.text]) @ self._node_lexical.T).toarray()[0]
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

    def _level_probabilities(self, final: np.ndarray) -> dict[str, np.ndarray]:
        probabilities: dict[str, np.ndarray] = {}
        for level in self.catalog.levels:
            idx = np.array([self._node_index[n.id] for n in self.catalog.at_level(level)])
            logits = final[idx] / self.config.temperature
            logits = np.exp(logits - logits.max())
            probabilities[level] = dict(zip(idx.tolist(), (logits / logits.sum()).tolist()))
        return probabilities

    # ------------------------------------------------------------------ public
    def align(self, text: str, top_k: int = 3, level: str | None = None) -> Alignment:
        """Suggestions for one draft, with evidence, at every level (or only ``level``)."""
        return self.align_many([text], top_k=top_k, level=level, with_evidence=True)[0]

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
        units = [u for q in prepared if isinstance(q, _Query) for u in q.units]
        unit_progress = None
        if progress:
            unit_progress = _UnitsToRows(prepared, progress)
        vectors = self._embed_queries(units, unit_progress) if units else np.zeros((0, 1))
        results: list[Alignment | AlignmentInputError] = []
        offset = 0
        for query in prepared:
            if isinstance(query, AlignmentInputError):
                results.append(query)
                continue
            unit_vectors = vectors[offset : offset + len(query.units)]
            offset += len(query.units)
            results.append(self._align_one(query, unit_vectors, top_k, level, with_evidence))
        return results

    def _align_one(self, query: _Query, unit_vectors: np.ndarray, top_k: int, level: str | None, with_evidence: bool) -> Alignment:
        own, sims, best_passage = self._own_scores(query, unit_vectors)
        final = self._tree_scores(own)
        probabilities = self._level_probabilities(final)
        ranking = {lv: {i: float(np.clip(final[i], 0.0, 1.0)) for i in probs} for lv, probs in probabilities.items()}
        neighbours: list[Neighbour] = []
        if self._examples is not None:
            fused = self._examples.fuse(unit_vectors[0], probabilities)
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
        unit, target = np.unravel_index(np.argmax(sims[:, candidates]), (len(sims), len(candidates)))
        target = candidates[int(target)]
        passage = int(best_passage[unit, target])
        node_words = set(content_tokens(_lexical_document(self.catalog.nodes[self._node_ids[target]])))
        shared = [w for w in dict.fromkeys(content_tokens(query.text)) if w in node_words][:10]
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
        self._sizes = [len(q.units) if isinstance(q, _Query) else 0 for q in prepared]
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


def _lexical_document(node: Node) -> str:
    keywords = " ".join(node.keywords)
    return f"{node.name} {node.description} {keywords} {keywords}"


class _ExampleModel:
    """kNN vote and logistic regression over labelled drafts, at the level of their labels."""

    def __init__(self, aligner: Aligner, texts: list[str], vectors: np.ndarray, labels: list[list[str]]) -> None:
        catalog = aligner.catalog
        levels = [catalog.nodes[label].level for ls in labels for label in ls]
        if not levels:
            raise ValueError("no labelled examples")
        # The shallowest level present, so every label can be lifted to it.
        self.level = min(set(levels), key=catalog.levels.index)
        self.aligner = aligner
        self.texts = texts
        self.vectors = vectors
        self.labels = [sorted({catalog.ancestor_at(label, self.level).id for label in ls}) for ls in labels]
        self.classes = sorted({label for ls in self.labels for label in ls})
        rows = [i for i, ls in enumerate(self.labels) for _ in ls]
        targets = [label for ls in self.labels for label in ls]
        self.classifier: LogisticRegression | None = None
        if len(self.classes) > 1:
            self.classifier = LogisticRegression(C=2.0, max_iter=2000, class_weight="balanced")
            self.classifier.fit(vectors[rows], targets)

    def knn(self, vector: np.ndarray) -> dict[str, float]:
        sims = self.vectors @ vector
        k = min(self.aligner.config.knn_k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        weights = np.exp((sims[top] - sims[top].max()) / self.aligner.config.knn_temperature)
        votes: dict[str, float] = {}
        for i, weight in zip(top, weights):
            for label in self.labels[i]:
                votes[label] = votes.get(label, 0.0) + weight / len(self.labels[i])
        total = sum(votes.values())
        return {label: v / total for label, v in votes.items()}

    def neighbours(self, vector: np.ndarray, k: int) -> list[Neighbour]:
        sims = self.vectors @ vector
        top = np.argsort(-sims)[:k]
        return [Neighbour(self.texts[i][:300], self.labels[i], round(float(sims[i]), 4)) for i in top]

    def fuse(self, vector: np.ndarray, zero_shot: dict[str, dict[int, float]]) -> dict[str, dict[int, float]]:
        """Fused probabilities per level: label level mixed, ancestors summed, descendants split."""
        config = self.aligner.config
        index = self.aligner._node_index
        knn = self.knn(vector)
        learned = dict(knn)
        if self.classifier is not None:
            proba = self.classifier.predict_proba(vector[None, :])[0]
            learned = {
                c: (config.knn_share * knn.get(c, 0.0) + (1 - config.zero_shot_share - config.knn_share) * p)
                / (1 - config.zero_shot_share)
                for c, p in zip(self.classifier.classes_, proba)
            }
        base = zero_shot[self.level]
        fused_level = {
            i: config.zero_shot_share * p + (1 - config.zero_shot_share) * learned.get(self.aligner._node_ids[i], 0.0)
            for i, p in base.items()
        }
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
