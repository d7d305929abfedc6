"""Learning from labelled examples: a kNN vote and two classifiers fused with the zero-shot score."""
from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from planalign.corpora.catalog import Catalog
from planalign.errors import InputError
from planalign.index.align.query import MAX_CHARS
from planalign.index.align.results import Neighbour
from planalign.nlp.fields import topical
from planalign.nlp.normalize import normalize
from planalign.nlp.tokenize import content_tokens

ZeroShot = Callable[[list[str], np.ndarray, str], tuple[np.ndarray, np.ndarray]]  # probabilities, top confidence
# Shares of the learners' fused probabilities against the zero-shot alone. Never all: decisions come
# before the drafts they are used on, so held-out decisions judge the learners on the past. Traffy
# (decisions from 2022, drafts of 2023-01; learning curve, 5 orders): a share of 1 passed the sign
# test and fell to 0.599 / 0.606 at 100 / 200 decisions in one order (zero-shot 0.653; 3/4 there:
# 0.653 / 0.653); without it the means went 0.658 -> 0.672 and 0.673 -> 0.682, 0.786 -> 0.780 with
# all 3,000; the routine items did not change (1 was never chosen).
GATE_SHARES = (0.0, 0.25, 0.5, 0.75)
SIGNIFICANCE = 1.645  # a share must beat zero-shot on held-out decisions by this many standard deviations (sign test)
PRIOR_SHARE = 0.75  # from PRIOR_FROM decisions: the share when none beats zero-shot significantly and this one is not significantly worse
PRIOR_FROM = 100  # decisions from which PRIOR_SHARE is offered (see _chosen_share)
# A correction (a decision that differs from today's zero-shot suggestion for its text) pulls drafts
# that look like it toward its label: the zero-shot probabilities times exp(WEIGHT x (similarity to
# the label's nearest correction - the best such similarity)), similarities under FLOOR counting as
# FLOOR (far texts pull nothing). Accepted suggestions teach the zero-shot nothing new: pulls toward
# every decision put the routine items at 0.84-0.85 with 10-50 decisions (zero-shot 0.867), and
# corrections from the first decision at 0.865 with 10, hence from HOLDOUT_MIN decisions. Read off
# the two learning curves of `make eval` (the only real data with decisions; the same folds and
# orders as eval/README.md): routine items at 100 decisions 0.873 -> 0.880 (0.886 / 0.879 at weight
# 3 / 5, 0.884 with floor 0.3), all 126 0.881 -> 0.892; Traffy at 200 0.682 -> 0.685, other points
# within 0.1 point of before. 4 and 0.2 are the middle of the settings that gained on both curves,
# not the best single point of one (weight 3 at 100 routine decisions), which these few items
# cannot tell from noise. The pull is judged on the held-out rows before the learners are (kept
# unless significantly worse than the plain zero-shot there); it was kept in every fold of both
# curves and in Traffy supervised, so the figures above are the same with and without that check.
CORRECTION_WEIGHT = 4.0
CORRECTION_FLOOR = 0.2  # character n-gram TF-IDF cosine; about the 98th percentile between two routine items
MEMORY_FROM = 0.5  # character-trigram Jaccard from which a decided text's label is followed (fully at 1.0)
SHOWN_CHARS = 300  # a decided text as a neighbour shows it (and as the text a draft repeats is found among them)
# Said beside an answer that follows a decision on a nearly identical text (results.warning_thai says it in Thai).
FOLLOWS_DECISION_WARNING = "the suggestion follows a decision recorded for a nearly identical text"
REVIEW_FROM = 50  # decisions from which they set the catalog's review threshold (review_threshold)
REVIEW_RIGHT = 0.9  # what the rows not flagged for review must be right on
LEARNED_SHARE = 0.9  # the deepest level at which at least this share of the examples has a label is the one learned (learning_level)
FUSED_REVIEW_BELOW = 0.5  # a fused probability under which a person checks, until the decisions set their own (fused_review_below)
REVIEW_GRID = np.round(np.arange(0.30, 1.0, 0.01), 2)
# A draft whose best cosine to any decided text is under this percentile of the decided texts' own
# nearest-other cosines is unlike the decisions: the fused review threshold was chosen on held-out
# decided texts, so it says nothing there, and the zero-shot's flag stands (see Aligner._align_one).
UNLIKE_PERCENTILE = 5.0
# Few decisions over many nodes is how learning starts, not a mistake to log at every refit (a service log had it 6 times
# in 22 minutes). Set once here: warnings.catch_warnings() around each fit is not thread-safe (refits and jobs fit at once).
warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%", category=UserWarning)
_SHINGLES = HashingVectorizer(analyzer="char", ngram_range=(3, 3), binary=True, norm=None, alternate_sign=False, n_features=2**20)


def _word_ngrams(text: str) -> list[str]:
    """Thai words (newmm with our dictionary) and word bigrams of an already normalized text."""
    words = content_tokens(text, normalized=True)
    return words + [f"{a}_{b}" for a, b in itertools.pairwise(words)]


def _ancestor_id(catalog: Catalog, node_id: str, level: str) -> str:
    ancestor = catalog.ancestor_at(node_id, level)
    assert ancestor is not None, "labels sit at or below the examples' shallowest level"
    return ancestor.id


class ExampleModel:
    """What labelled drafts teach, at the level of their labels.

    The zero-shot score, pulled toward the labels of the corrections a draft looks like (decisions
    that differ from today's suggestion for their text; ``CORRECTION_WEIGHT``), and three learners
    beside it: a kNN vote over the embeddings (good with few
    examples, and it explains itself through the neighbours), a logistic regression on the
    embeddings, and one on TF-IDF of character n-grams and Thai word uni/bigrams (exact vocabulary
    matters for short, noisy texts such as citizen reports). How much to trust each depends on the data, so with enough examples
    the mixing weights and a calibration exponent are chosen on out-of-fold predictions before the
    final fit on all of them. Late fusion (mixing probabilities) beat joining the features on Traffy.
    """

    HOLDOUT_MIN = 40
    SMALL_GATE_MIN = 6  # under this, guarded learning stays zero-shot: three folds need two decisions each
    CROSS_FIT_MAX = 6000
    DEFAULT_WEIGHTS = (0.35, 0.25, 0.2, 0.2)  # zero-shot, kNN, embedding LR, n-gram LR
    KNN_K = 15
    KNN_TEMPERATURE = 0.05

    def __init__(self, catalog: Catalog, node_ids: list[str], zero_shot: ZeroShot, texts: list[str], vectors: np.ndarray,
                 labels: list[list[str]], level: str, guarded: bool = False) -> None:
        """``zero_shot(texts, vectors, level)``: zero-shot probabilities over the level's nodes (catalog order).
        ``level``: the level learned at (:func:`learning_level`); every label reads at it (:func:`labels_at`).

        ``guarded`` (learning from people's decisions, which start few): the learners' share of the
        fused probabilities is chosen on held-out examples among 0, 1/4, 1/2, 3/4 (``GATE_SHARES``): the best share that
        beats zero-shot significantly there (sign test), else (from ``PRIOR_FROM`` examples) 3/4
        unless that does significantly worse than zero-shot there, else none; and a draft that nearly repeats a decided text (character-trigram Jaccard >= 0.5)
        follows that decision, fully for the same text, from the first decision on.
        """
        if not any(labels):
            raise InputError("no labelled examples", thai="ไม่มีตัวอย่างที่ระบุหมวดไว้")
        # given, not the shallowest level among the labels: in a catalog whose nodes skip a level, that one can be
        # deeper than the level chosen and missing from some labels' paths (a blind review)
        self.level = level
        self.catalog = catalog
        self.node_ids = node_ids
        self.zero_shot = zero_shot
        position = {node_id: i for i, node_id in enumerate(node_ids)}
        self.position = position
        self.texts = texts
        self.normalized = [normalize(t)[:MAX_CHARS] for t in texts]
        self.topical = [topical(t) for t in self.normalized]  # what corrections are compared on, once for every fit
        self.vectors = vectors
        self.labels = [sorted({catalog.nodes[label].id if catalog.nodes[label].level == self.level else _ancestor_id(catalog, label, self.level) for label in ls})
                       for ls in labels]
        self.given = [sorted({catalog.nodes[label].id for label in ls}) for ls in labels]  # as decided, deeper levels kept (the memory follows them)
        self.level_nodes = [position[n.id] for n in catalog.at_level(self.level)]
        self.column = {node_ids[i]: j for j, i in enumerate(self.level_nodes)}
        self.weights = np.array(self.DEFAULT_WEIGHTS)
        self.sharpness = 1.0
        self.guarded = guarded
        self.share = 1.0
        self.pulls = True  # whether corrections pull (see _choose_weights)
        tuned = len(texts) >= self.HOLDOUT_MIN
        # Today's zero-shot probabilities of the decided texts: every fold's held-out rows read them, and
        # they say which decisions are corrections (counted, like the tuning, from HOLDOUT_MIN on).
        zero, confidence = zero_shot(self.normalized, vectors, self.level) if tuned or (guarded and len(texts) >= self.SMALL_GATE_MIN) else (None, None)
        self.corrected = np.zeros(len(texts), dtype=bool)
        self.review_below: float | None = None  # the zero-shot review threshold these decisions set (None: the shipped one)
        self.fused_review_below: float | None = None  # the same for fused probabilities, from out-of-fold ones (None: FUSED_REVIEW_BELOW)
        if tuned and zero is not None:
            self.corrected = np.array([int(best) not in {self.column[label] for label in ls} for best, ls in zip(zero.argmax(axis=1), self.labels)], dtype=bool)
            if guarded and confidence is not None and len(texts) >= REVIEW_FROM:
                self.review_below = review_threshold(confidence, ~self.corrected)
            self._choose_weights(zero)
        elif guarded:
            self.share = self._small_gate(zero)
        if guarded and len({label for ls in self.labels for label in ls}) < 2:
            # decisions that all name one node: every held-out decision agrees with learners that know
            # nothing else, so they looked perfect (70 decisions of D4 put every draft in D4 unflagged)
            self.share, self.review_below, self.fused_review_below = 0.0, None, None
        self._fit(np.arange(len(texts)))
        self.shingles = _SHINGLES.transform([_shingle_text(t) for t in self.normalized]).tocsc() if guarded else None
        self.near_from = _near_from(vectors)
        self.shingle_counts = np.asarray(self.shingles.sum(axis=1)).ravel() if self.shingles is not None else None

    def __getstate__(self) -> dict:
        """Kept on disk without the catalog and the zero-shot scorer: the aligner that loads it supplies them."""
        return {**self.__dict__, "catalog": None, "zero_shot": None, "_last_remembered": None}

    def _fit(self, rows: np.ndarray) -> None:
        self.fit_rows = rows
        self.fit_vectors = self.vectors if len(rows) == len(self.vectors) else self.vectors[rows]
        self.fit_labels = np.zeros((len(rows), len(self.level_nodes)))
        for row, i in enumerate(rows):
            self.fit_labels[row, [self.column[label] for label in self.labels[i]]] = 1.0 / len(self.labels[i])
        expanded = [i for i in rows for _ in self.labels[i]]
        targets = [label for i in rows for label in self.labels[i]]
        texts = [self.normalized[i] for i in rows]
        min_df = 2 if len(rows) >= 200 else 1
        chars = ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, max_features=100_000, min_df=min_df))
        try:
            self.ngrams = FeatureUnion([chars, ("words", TfidfVectorizer(analyzer=_word_ngrams, sublinear_tf=True, min_df=min_df))]).fit(texts)
        except ValueError:  # no word n-gram reaches min_df: decided texts of filler words alone ("อื่นๆ") failed the refit
            self.ngrams = FeatureUnion([chars]).fit(texts)
        self._fit_corrections(rows)
        self.embedding_model = self.ngram_model = None
        if len(set(targets)) > 1:
            self.embedding_model = LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced")
            self.embedding_model.fit(self.vectors[expanded], targets)
            self.ngram_model = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced")
            self.ngram_model.fit(self.ngrams.transform([self.normalized[i] for i in expanded]), targets)

    def _fit_corrections(self, rows: np.ndarray) -> None:
        """The corrections among ``rows``: their topical texts' character n-grams, grouped by label.

        Topical text (without the budget form's words, as the zero-shot reads it): a pull from every
        decision (weight 5, floor 0.2, no learners) scored 0.901 on it at 100 routine decisions
        against 0.884 on the whole text."""
        corrected = rows[self.corrected[rows]]
        self.correction_vectorizer = self.correction_matrix = None
        self.correction_rows: dict[int, np.ndarray] = {}
        if not len(corrected):
            return
        self.correction_vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, max_features=100_000).fit(
            [self.topical[i] for i in rows])
        # Kept transposed (features x corrections, CSR): a draft's row times it is a sparse-sparse
        # product (3.2 -> 1.1 ms a draft, 1,630 corrections among 3,000 Traffy decisions).
        self.correction_matrix = self.correction_vectorizer.transform([self.topical[i] for i in corrected]).T.tocsr()
        by_column: dict[int, list[int]] = {}
        for row, i in enumerate(corrected):
            for label in self.labels[i]:
                by_column.setdefault(self.column[label], []).append(row)
        self.correction_rows = {column: np.array(found) for column, found in by_column.items()}

    def _corrected_zero(self, texts: list[str], zero: np.ndarray) -> np.ndarray:
        """The zero-shot probabilities pulled toward the labels of the corrections these texts look like."""
        if not self.pulls or self.correction_vectorizer is None or self.correction_matrix is None:
            return zero
        sims = np.maximum((self.correction_vectorizer.transform([topical(t) for t in texts]) @ self.correction_matrix).toarray(), CORRECTION_FLOOR)
        nearest = np.full(zero.shape, CORRECTION_FLOOR)
        for column, rows in self.correction_rows.items():
            nearest[:, column] = sims[:, rows].max(axis=1)
        pulled = zero * np.exp(CORRECTION_WEIGHT * (nearest - nearest.max(axis=1, keepdims=True)))
        return pulled / pulled.sum(axis=1, keepdims=True)

    def _ngram_features(self, texts: list[str]) -> sparse.csr_matrix:
        """``self.ngrams.transform(texts)`` without the FeatureUnion's per-call overhead (a draft at a time)."""
        return sparse.hstack([transformer.transform(texts) for _, transformer in self.ngrams.transformer_list], format="csr")

    def _components(self, texts: list[str], vectors: np.ndarray, zero: np.ndarray) -> np.ndarray:
        """(4, n, nodes): zero-shot (pulled by the corrections), kNN, embedding-LR and n-gram-LR probabilities over the level."""
        knn = np.zeros((len(texts), len(self.level_nodes)))
        sims = vectors @ self.fit_vectors.T
        k = min(self.KNN_K, sims.shape[1])
        for row, sim in enumerate(sims):
            top = np.argpartition(-sim, k - 1)[:k]
            weights = np.exp((sim[top] - sim[top].max()) / self.KNN_TEMPERATURE)
            knn[row] = weights @ self.fit_labels[top]  # each neighbour's labels share its weight
        knn /= knn.sum(axis=1, keepdims=True)
        embedding, ngram = knn.copy(), knn.copy()
        if self.embedding_model is not None:
            columns = [self.column[c] for c in self.embedding_model.classes_]
            embedding = np.zeros_like(knn)
            embedding[:, columns] = _probabilities(self.embedding_model, vectors)
            ngram = np.zeros_like(knn)
            ngram[:, columns] = _probabilities(self.ngram_model, self._ngram_features(texts))
        return np.stack([self._corrected_zero(texts, zero), knn, embedding, ngram])

    def _mix(self, components: np.ndarray, weights: np.ndarray, sharpness: float) -> np.ndarray:
        mixed = np.tensordot(weights, components, axes=1) ** sharpness
        return mixed / mixed.sum(axis=-1, keepdims=True)

    def _choose_weights(self, zero: np.ndarray) -> None:
        """Mixing weights (a 0.1 grid, averaged over resamples: _mixing_weights) by out-of-fold accuracy, then a calibration exponent by log loss.

        Three folds over at most ``CROSS_FIT_MAX`` examples: every example is predicted once by
        learners that did not see it, which is far steadier than a single held-out split.
        """
        order = np.random.default_rng(0).permutation(len(self.texts))[: self.CROSS_FIT_MAX]
        folds = np.array_split(order, 3)
        components, gold = self._out_of_fold(folds, zero)
        # The pull is judged like the learners: kept unless the held-out rows show it significantly
        # worse than the zero-shot it pulls (as corrections that contradict each other would).
        rows = np.arange(len(gold))
        raw = zero[order]
        fixed, broken, spread = _sign_test(gold[rows, components[0].argmax(axis=1)], gold[rows, raw.argmax(axis=1)])
        self.pulls = bool(broken - fixed <= spread)
        if not self.pulls:
            components[0] = raw
        at_grid = _right_at_grid(components, gold)  # computed once: the folds' choices below read its columns
        self.weights = _mixing_weights(components, gold, self.DEFAULT_WEIGHTS, at_grid)

        self.sharpness = self._fitted_sharpness(components, gold)
        if self.guarded:  # weights chosen on two folds' out-of-fold rows, the share judged on the third
            right = self._share_right_by_fold(folds, components, gold, lambda seen: (
                _mixing_weights(components[:, seen], gold[seen], self.DEFAULT_WEIGHTS, at_grid[:, seen]), 1.0))
            self.share = _chosen_share(right, PRIOR_SHARE if len(self.texts) >= PRIOR_FROM else 0.0)
            if len(self.texts) >= REVIEW_FROM:  # every decision predicted once by learners that did not see it
                fused = (1.0 - self.share) * components[0] + self.share * self._mix(components, self.weights, self.sharpness)
                self.fused_review_below = review_threshold(fused.max(axis=1), gold[rows, fused.argmax(axis=1)])

    def _out_of_fold(self, folds: list[np.ndarray], zero: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(4, rows, nodes) components of every row of ``folds`` from learners fitted on the other
        folds, and (rows, nodes) whether each node is one of the row's labels; rows in fold order."""
        parts, golds = [], []
        for f, held in enumerate(folds):
            self._fit(np.concatenate([g for j, g in enumerate(folds) if j != f]))
            texts = [self.normalized[i] for i in held]
            parts.append(self._components(texts, self.vectors[held], zero[held]))
            gold = np.zeros(parts[-1].shape[1:], dtype=bool)
            for row, i in enumerate(held):
                gold[row, [self.column[label] for label in self.labels[i]]] = True
            golds.append(gold)
        return np.concatenate(parts, axis=1), np.concatenate(golds)

    def _small_gate(self, zero: np.ndarray | None) -> float:
        """The learners' share for fewer than ``HOLDOUT_MIN`` examples: three folds, default weights, the mix's exponent
        fitted on two folds' held-out rows for the share judged on the third (as the tuned path chooses its weights)."""
        if zero is None:  # fewer than SMALL_GATE_MIN
            return 0.0
        folds = np.array_split(np.random.default_rng(0).permutation(len(self.texts)), 3)
        components, gold = self._out_of_fold(folds, zero)
        right = self._share_right_by_fold(folds, components, gold, lambda seen: (self.weights, self._fitted_sharpness(components[:, seen], gold[seen])))
        self.sharpness = self._fitted_sharpness(components, gold)  # what the drafts get: fitted on every held-out decision
        return _chosen_share(right, 0.0)

    def _share_right_by_fold(self, folds: list[np.ndarray], components: np.ndarray, gold: np.ndarray,
                             fitted: Callable[[np.ndarray], tuple[np.ndarray, float]]) -> np.ndarray:
        """(shares, rows) whether each fold's held-out rows are right at every share of ``GATE_SHARES``, the learners'
        mix (weights, exponent) fitted by ``fitted(seen)`` on the other folds' rows only (rows in fold order)."""
        fold_of = np.concatenate([np.full(len(held), f) for f, held in enumerate(folds)])
        right = []
        for f in range(len(folds)):
            seen, judged = fold_of != f, fold_of == f
            weights, sharpness = fitted(seen)
            right.append(_share_right(components[:, judged], self._mix(components[:, judged], weights, sharpness), gold[judged]))
        return np.hstack(right)

    def _fitted_sharpness(self, components: np.ndarray, gold: np.ndarray) -> float:
        """The exponent on the learners' mix (``self.weights``) with the least log loss on out-of-fold ``components``.

        Why in the small gate too: the zero-shot's probabilities are sharp and the learners' flat with
        few decisions (a logistic regression on 17 decisions over 6 strategies tops at about 0.2), so a
        linear mix at any share of ``GATE_SHARES`` kept the zero-shot's answer and the gate compared
        zero-shot with itself. Routine items x the National Strategy (e5 + LR on the same 25 decisions 0.643),
        with the zero-shot of then (0.405): 0.414 -> 0.447 at 25 decisions, 0.410 -> 0.414 at 10; with
        today's (0.430, the passage view) and each fold judged with the other folds' exponent: 0.438 -> 0.465
        at 25, 0.435 -> 0.433 at 10; the routine items x bma-9d, the project names and Traffy unchanged
        under 40 decisions (eval/README.md)."""
        def log_loss(sharpness: float) -> float:
            mixed = self._mix(components, self.weights, sharpness)
            return float(-np.log((mixed * gold).sum(axis=1) + 1e-9).mean())

        return min((0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0), key=log_loss)

    def _remembered(self, text: str) -> tuple[float, int] | None:
        """(Jaccard, example) of the decided text this draft nearly repeats, if any: the lower of the
        whole texts' and their first lines' trigram Jaccard. A form's fields come one a line, the name
        first, and districts repeat one objective word for word: "งานปกครอง" and a decided "งานบำรุงรักษา
        ซ่อมแซม", each with "เพื่อให้การดำเนินงานของสำนักงานเขตเป็นไปอย่างมีประสิทธิภาพ" below it, shared
        0.52-0.67 of their trigrams, so one correction moved the confidence and review flag of some 55
        other rows of an evaluation file (a walkthrough). A text of one line is read against the other's
        first line by its start: the same words on one line are the same text (``text_key`` reads line
        breaks as spaces), and another name before the shared objective is not (two blind reviews).
        The last draft's answer is kept: :meth:`fuse` and :meth:`repeats` ask for the same draft in turn."""
        last = getattr(self, "_last_remembered", None)  # (text, answer); one tuple, swapped whole, so threads see either
        if last is not None and last[0] == text:
            return last[1]
        found = None
        if self.shingles is not None and self.shingle_counts is not None:
            jaccard = _jaccard(self.shingles, self.shingle_counts, text)
            for i in np.flatnonzero(jaccard >= MEMORY_FROM):  # the few near ones: their names must repeat too
                jaccard[i] = min(jaccard[i], _names_jaccard(text, self.normalized[i]))
            best = int(jaccard.argmax())
            found = (float(jaccard[best]), best) if jaccard[best] >= MEMORY_FROM else None
        self._last_remembered = (text, found)
        return found

    def repeats(self, text: str) -> tuple[str, list[str]] | None:
        """The decided text this draft repeats closely enough to follow its decision at least half
        way (trigram Jaccard 0.75 or more), and the nodes decided on it; None otherwise."""
        remembered = self._remembered(text)
        if remembered is None or _follow_share(remembered[0]) < 0.5:
            return None
        return self.texts[remembered[1]], self.given[remembered[1]]

    def unlike_decisions(self, text: str, vector: np.ndarray, sims: np.ndarray | None = None) -> bool:
        """Whether a draft is unlike every decided text (not a near-repeat, and its best cosine to one
        under ``near_from``): there the learners extrapolate, and their fused confidence was never
        checked. A walkthrough: after 329 decisions on the sample projects "ทดสอบ", "กินข้าวหรือยัง"
        and a curry recipe got 0.67-0.78, unflagged (zero-shot 0.40-0.43, flagged); their best
        cosines to a decided text were 0.82-0.86, the decided texts' own 5th percentile 0.896.
        ``sims``: :meth:`similarities` of the vector, when the caller has them."""
        sims = self.similarities(vector) if sims is None else sims
        return self._remembered(text) is None and float(sims.max()) < self.near_from

    def similarities(self, vector: np.ndarray) -> np.ndarray:
        """A draft's cosine to every decided text (the neighbours and the unlike test read the same ones)."""
        return self.vectors @ vector

    def neighbours(self, vector: np.ndarray, k: int, sims: np.ndarray | None = None) -> list[Neighbour]:
        sims = self.similarities(vector) if sims is None else sims
        top = np.argsort(-sims)[:k]
        return [Neighbour(self.texts[i][:SHOWN_CHARS], self.labels[i], round(float(sims[i]), 4)) for i in top]

    def near(self, neighbours: list[Neighbour], repeated: tuple[str, list[str]] | None) -> list[Neighbour]:
        """Of a draft's nearest decided texts, those near it: the one it repeats (:meth:`repeats`) first, then those as
        near as decided texts are to each other (``near_from``; infinite under two decided texts): the nearest three
        whatever their cosine put unrelated decisions under "similar" (a planner's walkthrough). One rule for what the
        answer lists and for the decided text a learned suggestion gives as its evidence."""
        near = [n for n in neighbours if n.similarity >= self.near_from]
        shown = repeated[0][:SHOWN_CHARS] if repeated is not None else None
        same = next((n for n in neighbours if n.text == shown), None)
        return [same, *(n for n in near if n is not same)] if same is not None else near

    def fuse(self, text: str, vector: np.ndarray, zero_shot: dict[str, dict[int, float]],
             stops: dict[str, dict[int, float]] | None = None) -> dict[str, dict[int, float]] | None:
        """Fused probabilities per level: label level mixed, ancestors summed, descendants split; None
        when the examples change nothing for this draft (learners' share 0, no correction it looks
        like, no decided text it nearly repeats): the zero-shot answer then stands as it is, its scores,
        confidences and review flag, instead of being re-expressed as fused probabilities (one
        unrelated decision moved a confidence from 0.81 to 0.89 and made every score a probability).

        ``stops``: per level, the zero-shot probabilities of the shallower nodes without children (a ragged
        catalog's paths ending above the level: :meth:`ZeroShotScorer.levels`). The learners know only the
        model's level, so those paths keep their zero-shot share: summed from the model's level alone, an
        issue without goals got nothing under a goal-level model, and a draft of it another branch's issue
        and goal, unflagged (a blind review)."""
        stops = stops or {}
        remembered = self._remembered(text)
        index = self.position
        zero = np.array([[zero_shot[self.level][i] for i in self.level_nodes]])
        if self.share == 0.0:  # the learners stay out: only a pull or a near-repeat can change anything
            mixed = self._corrected_zero([text], zero)[0]
            if remembered is None and np.allclose(mixed, zero[0], rtol=0.0, atol=1e-12):
                return None
        else:
            components = self._components([text], vector[None, :], zero)
            mixed = (1.0 - self.share) * components[0, 0] + self.share * self._mix(components, self.weights, self.sharpness)[0]
        ended = stops.get(self.level, {})  # paths ending above the model's level keep their zero-shot share
        kept = 1.0 - sum(ended.values())
        mixed = mixed * (kept / mixed.sum()) if ended and mixed.sum() > 0 else mixed
        if remembered is not None:
            overlap, example = remembered
            follow = _follow_share(overlap)
            decided = np.zeros_like(mixed)
            decided[[self.column[label] for label in self.labels[example]]] = 1.0 / len(self.labels[example])
            mixed = (1.0 - follow) * mixed + follow * decided
            ended = {j: (1.0 - follow) * p for j, p in ended.items()}  # a near-repeat's path reaches its decision
        fused_level = dict(zip(self.level_nodes, mixed.tolist()))
        catalog = self.catalog
        result: dict[str, dict[int, float]] = {self.level: fused_level}
        label_rank = catalog.levels.index(self.level)
        for level in catalog.levels:
            rank = catalog.levels.index(level)
            if rank < label_rank:
                sums: dict[int, float] = {index[n.id]: 0.0 for n in catalog.at_level(level)}
                for i, p in [*fused_level.items(), *ended.items()]:  # an ended path counts for its node here, or its ancestor here
                    ancestor = catalog.ancestor_at(self.node_ids[i], level)
                    if ancestor is not None:
                        sums[index[ancestor.id]] += p
                result[level] = sums
            elif rank > label_rank:
                # each node of the model's level passes its fused probability down to its descendants
                # here in the zero-shot's proportions among them: a child never outweighs its parent
                # (weighting by the zero-shot's own probabilities and renormalizing over the whole level
                # put an issue at 0.65 under its dimension's 0.52, unflagged, after corrections that
                # had lowered that dimension)
                parents = {i: index[a.id] for i in zero_shot[level] if (a := catalog.ancestor_at(self.node_ids[i], self.level)) is not None}
                mass: dict[int, float] = {}
                children: dict[int, int] = {}
                for i, parent in parents.items():
                    mass[parent] = mass.get(parent, 0.0) + zero_shot[level][i]
                    children[parent] = children.get(parent, 0) + 1
                # a path ending between the two levels keeps its part of its model-level node's probability: a
                # dimension's goals took it whole beside its issue without goals (0.76 under that 0.0: a blind review)
                for j, p in stops.get(level, {}).items():
                    if (a := catalog.ancestor_at(self.node_ids[j], self.level)) is not None and a.id != self.node_ids[j]:
                        mass[index[a.id]] = mass.get(index[a.id], 0.0) + p
                # a parent whose descendants here the zero-shot gave nothing shares its probability evenly among them
                split = {i: (fused_level.get(parents[i], 0.0) * (p / mass[parents[i]] if mass[parents[i]] > 0 else 1.0 / children[parents[i]])
                             if i in parents else 0.0)
                         for i, p in zero_shot[level].items()}
                # not renormalized: a node of the model's level without descendants here keeps its mass (a path
                # ending above this level), which renormalizing gave to the other branches' nodes (a ragged catalog)
                result[level] = split
                # a near-repeat follows its decision at the levels under the model's too: its nodes here,
                # or their ancestors here when it was decided deeper still (an issue decided beside
                # dimension-level decisions of other texts was only split as the zero-shot splits)
                given = self.given[remembered[1]] if remembered else []
                deep = list(dict.fromkeys(index[a.id] for label in given if (a := catalog.ancestor_at(label, level)) is not None))
                if remembered and deep:
                    follow = _follow_share(remembered[0])
                    result[level] = {i: (1.0 - follow) * v + (follow / len(deep) if i in deep else 0.0) for i, v in result[level].items()}
        return result


_GRID = np.array([w for w in itertools.product(range(11), repeat=4) if sum(w) == 10]) / 10  # mixing weights, steps of 0.1
BOOTSTRAPS = 100  # resamples of the out-of-fold rows whose best grid weights are averaged (_mixing_weights)


def _right_at_grid(components: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """(grid, rows): whether the mixture of ``components`` (4, rows, nodes) at each grid weight is right on each row."""
    rows = np.arange(len(gold))
    return np.array([gold[rows, np.tensordot(w, components, axes=1).argmax(axis=1)] for w in _GRID])


def _mixing_weights(components: np.ndarray, gold: np.ndarray, default: tuple[float, ...], right: np.ndarray | None = None) -> np.ndarray:
    """Mixing weights of ``components`` (4, rows, nodes): the mean, over ``BOOTSTRAPS`` resamples of
    the rows, of the grid's weights most often right on each (the nearest to ``default`` among equals).
    ``right``: :func:`_right_at_grid` of these rows, when the caller has it already.

    Why a mean: the single best grid point flips on a handful of texts. Writing "pm 2.5" as one name
    in 26 Traffy reports (of 13,584 of January 2023 and a few of the 3,000 of 2022 learned from) once
    moved Traffy supervised from 0.806 to 0.771 top-1. Study
    (scratch, eval/README.md "Choosing the mixing weights"): Traffy supervised (3,000 reports of 2022
    -> 2,000 of 2023-01) under 13 slight changes of the data (that rule, 30 training reports left
    out, other fold seeds): the best point 0.808 mean top-1, range 0.791-0.819; this mean 0.808,
    0.796-0.815 (TF-IDF + LR 0.789); routine items at 100 decisions 0.880 -> 0.887 (random order),
    0.886 -> 0.885 (review-grid order). Choosing by log loss instead was steady but 4 points worse
    (the components' probabilities are on different scales)."""
    rows = np.arange(len(gold))
    right = _right_at_grid(components, gold) if right is None else right
    nearness = -np.abs(_GRID - np.asarray(default)).sum(axis=1)
    resamples = np.random.default_rng(0).multinomial(len(rows), np.full(len(rows), 1.0 / len(rows)), size=BOOTSTRAPS).T  # (rows, resamples)
    right_counts = right.astype(float) @ resamples
    mean = np.mean([_GRID[np.lexsort((nearness, right_counts[:, b]))[-1]] for b in range(BOOTSTRAPS)], axis=0)
    # A mean of good points can be a bad one (two learners each sure of another node, the rest of
    # their probability on a third, mixed half and half, name the third): then the best point. The
    # test leans toward the best point (chosen on these very rows); on small random problems it
    # switched in 1-3 of 60 (a review), never in the 13 Traffy conditions.
    best = int(np.lexsort((nearness, right.sum(axis=1)))[-1])
    fixed, broken, spread = _sign_test(gold[rows, np.tensordot(mean, components, axes=1).argmax(axis=1)], right[best])
    return _GRID[best] if broken - fixed > spread else mean


def learning_level(catalog: Catalog, labels: Sequence[Sequence[str]]) -> str:
    """The level a model of examples learns at: the deepest at which nine examples in ten have a label (at it, or
    deeper and lifted to it); :func:`labels_at` leaves out the rest, labelled only above it. The shallowest level
    among the labels gave up every deeper label for one example above them: one dimension picked on the planner page
    among 115 issue-level decisions made the catalog's model a dimension model, and an issue-level job lost the
    review threshold its decisions had set (40 of 40 rows flagged, then 6, wrong ones among those unflagged; an
    entry-point audit)."""
    for level in reversed(catalog.levels):
        if sum(bool(labels_at(catalog, ls, level)) for ls in labels) >= LEARNED_SHARE * len(labels):
            return level
    return catalog.levels[0]


def labels_at(catalog: Catalog, labels: Sequence[str], level: str) -> list[str]:
    """The labels (node ids, as given) that read at ``level``: those at it or under a node of it."""
    return [label for label in labels if catalog.ancestor_at(label, level) is not None]


def _near_from(vectors: np.ndarray, block: int = 1024) -> float:
    """``UNLIKE_PERCENTILE`` of the decided texts' cosines to their nearest other decided text (in
    blocks: 5,000 decisions would be a 100 MB matrix at once), each text once (a labelled file may
    repeat one: its copies were each other's nearest, at 1.0); infinite under two (every draft is
    unlike them, but a near-repeat)."""
    vectors = np.unique(np.round(np.asarray(vectors, dtype=np.float32), 5), axis=0)
    if len(vectors) < 2:
        return float("inf")
    nearest = np.empty(len(vectors))
    for start in range(0, len(vectors), block):
        sims = vectors[start:start + block] @ vectors.T
        sims[np.arange(len(sims)), np.arange(start, start + len(sims))] = -np.inf
        nearest[start:start + block] = sims.max(axis=1)
    return float(np.percentile(nearest, UNLIKE_PERCENTILE))


def _follow_share(overlap: float) -> float:
    """How fully a near-repeat follows its decided text: 0 at ``MEMORY_FROM``, 1 for the same text."""
    return (overlap - MEMORY_FROM) / (1.0 - MEMORY_FROM)


def review_threshold(confidence: np.ndarray, right: np.ndarray) -> float:
    """The review threshold a catalog's decisions support: the lowest confidence from which the
    zero-shot suggestions were right for >= 90% of the decided texts *by a one-sided 90% lower
    bound* (Wilson), else 1.0 (every suggestion flagged: the decisions show no confidence from which
    it is right that often).

    The shipped threshold (0.51; 0.53 before the e5 calibration was refitted) was chosen on the routine
    items x the embedded catalog, and holds there only: rows it leaves unflagged are right 76% of the time
    on the official catalog's dimensions and 64% on its issues, 83% on the campaign policies, 69% on Traffy. Chosen out of fold
    on 50 / 100 decisions of the same catalog (5 orders x 5 folds; scratch study, figures in
    eval/README.md "Review threshold from decisions"): routine x embedded dimension 94.4% / 94.3%
    right unflagged, 31% / 29% flagged; policies 84% / 93% right, 83% / 66% flagged; where the
    zero-shot is weaker (official catalog, issues) it flags 96-100%: honest, not useful. The plain
    rule (>= 90% of the decisions above the threshold, no bound) fell under 90% on held-out texts
    everywhere (88.9% on the routine items at 100 decisions): a threshold chosen on its own few
    decisions is too kind to itself."""
    for threshold in REVIEW_GRID:
        above = confidence >= threshold
        n = int(above.sum())
        if n == 0:
            break
        if _wilson_lower(int(right[above].sum()), n) >= REVIEW_RIGHT:
            return float(threshold)
    return 1.0


def _wilson_lower(successes: int, n: int, z: float = 1.2816) -> float:
    """One-sided lower bound of a proportion (Wilson score; z = 1.2816: 90%)."""
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float((centre - spread) / (1 + z * z / n))


def _probabilities(model: LogisticRegression, features: np.ndarray | sparse.spmatrix) -> np.ndarray:
    """``model.predict_proba(features)`` without scikit-learn's input checks (a few ms a draft at a time)."""
    scores = np.asarray(features @ model.coef_.T) + model.intercept_
    if scores.shape[1] == 1:  # two classes: one logistic
        positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
        return np.column_stack([1.0 - positive, positive])
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    return scores / scores.sum(axis=1, keepdims=True)


def _shingle_text(text: str) -> str:
    return "".join(text.split())


def _first_line(text: str) -> str:
    """A text's first line with words on it (a form's project name); the text itself when it has one line."""
    return next((line for line in text.split("\n") if line.strip()), text)


def _names_jaccard(a: str, b: str) -> float:
    """The trigram Jaccard of two texts' names: their first lines; a text of one line gives the start of it as long
    as the other's first line (two texts of one line each: 1.0, their whole texts say it all)."""
    first_a, first_b = _first_line(a), _first_line(b)
    several_a, several_b = first_a != a.strip(), first_b != b.strip()
    if not several_a and not several_b:
        return 1.0
    name_a = _shingle_text(first_a) if several_a else _shingle_text(a)[: len(_shingle_text(first_b))]
    name_b = _shingle_text(first_b) if several_b else _shingle_text(b)[: len(_shingle_text(first_a))]
    grams_a, grams_b = (set(_SHINGLES.transform([name]).indices) for name in (name_a, name_b))  # the trigrams the whole texts are read by
    return len(grams_a & grams_b) / len(grams_a | grams_b) if grams_a | grams_b else float(name_a == name_b)  # names under 3 letters


def _jaccard(shingles: sparse.csc_matrix, counts: np.ndarray, text: str) -> np.ndarray:
    """The character-trigram Jaccard of ``text`` with each decided text whose trigrams are the rows of ``shingles``."""
    columns = _SHINGLES.transform([_shingle_text(text)]).indices
    common = np.asarray(shingles[:, columns].sum(axis=1)).ravel()  # the draft's columns of a column-major matrix
    union = counts + len(columns) - common
    return np.divide(common, union, out=np.zeros_like(common, dtype=float), where=union > 0)


def _chosen_share(right: np.ndarray, prior: float) -> float:
    """The share to use, from (shares, examples) right/wrong on held-out examples (share 0 = zero-shot alone).

    The best share that beats zero-shot significantly there (one-sided sign test at 5% on the
    examples where the two disagree: more fixed than broken by more than 1.645 standard deviations;
    the smallest among equals); else ``prior`` unless it does significantly worse than zero-shot
    there, in which case zero-shot alone. With few decisions a significant gain is rare even where
    the learners help: requiring one kept zero-shot in 20 of 25 folds at 100 routine decisions,
    where 0.75 scored 0.828 against 0.816 (zero-shot then; Traffy, 100 decisions: 0.669 against
    0.653; ``make eval``'s learning curve). The prior is offered from ``PRIOR_FROM`` (100) decisions;
    under that it is 0. From 40 (an earlier choice) it put the routine items under zero-shot at 50
    decisions once zero-shot reached 0.867 (0.863; a fixed 3/4: 0.863 at 50, 0.872 at 100), and
    judging it per fold on so few held-out decisions picks it in the wrong folds. Curves with 100,
    same folds and orders: routine 0.870 / 0.873 / 0.881 at 50 / 100 / all (zero-shot 0.867), Traffy
    0.661 / 0.664 / 0.683 at 50 / 100 / 200 (0.651); requiring the prior to fix more held-out
    decisions than it breaks instead (from 40) gave 0.868 / 0.866 / 0.873 and 0.662 / 0.661 / 0.673.
    Both were read off these same curves.
    """
    fixed, broken, spread = _sign_test(right, right[0])
    significant = (fixed - broken) > spread
    if significant.any():
        return GATE_SHARES[int(np.argmax(np.where(significant, right.sum(axis=1), -1)))]
    at = GATE_SHARES.index(prior)  # prior 0: zero-shot against itself, never worse
    return 0.0 if (broken[at] - fixed[at]) > spread[at] else prior


def _sign_test(right: np.ndarray, baseline: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fixed, broken, spread) of ``right`` against ``baseline`` (last axis: examples): the examples
    only it gets right, those only the baseline gets right, and 1.645 standard deviations of their
    difference under no effect (a one-sided sign test at 5%)."""
    fixed = (right & ~baseline).sum(axis=-1)
    broken = (~right & baseline).sum(axis=-1)
    return fixed, broken, SIGNIFICANCE * np.sqrt(np.maximum(fixed + broken, 1))


def _share_right(components: np.ndarray, fused: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """(shares, rows): whether the mixture of the (pulled) zero-shot and the fused learners at each share of ``GATE_SHARES`` is right."""
    right = np.zeros((len(GATE_SHARES), len(gold)), dtype=bool)
    for k, share in enumerate(GATE_SHARES):
        best = ((1.0 - share) * components[0] + share * fused).argmax(axis=1)
        right[k] = gold[np.arange(len(best)), best]
    return right
