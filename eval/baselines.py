"""Baselines measured beside planalign in the same run (never used by the product).

* raw e5 cosine: the draft as an e5 query against ``name + description`` of each node as an e5
  passage; the argmax over the level's nodes.
* centered e5 cosine: the same, each side centered on its own mean (the batch of texts, the level's nodes).
* word TF-IDF cosine: Thai words (newmm) of the draft against name, description and keywords.
* char n-gram TF-IDF cosine: character 2-4-grams of the draft against name, description and keywords.
* supervised (learning from labelled texts): logistic regression on character 2-4-gram TF-IDF, and
  on the e5 vectors, trained on the same examples as planalign.
* the previous aligner (planalign until December 2026), kept here only to be measured against:
  node name / name + description / name + keywords as passages, both sides centered with the
  catalog's passages embedded as queries (its stand-in for the drafts' mean), 0.8 whole draft +
  0.2 best sentence, TF-IDF overlap x 0.5, parent weight 0.2, softmax temperature 0.04.
"""
from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from planalign.corpora.catalog import Catalog
from planalign.index.align.query import prepare_text
from planalign.nlp.encoders import Encoder
from planalign.nlp.encoders.base import unit_rows
from planalign.nlp.normalize import normalize
from planalign.nlp.tokenize import content_tokens


def raw_cosine(catalog: Catalog, level: str, texts: list[str], encoder: Encoder) -> np.ndarray:
    """(texts, level nodes) raw e5 cosines."""
    nodes = catalog.at_level(level)
    passages = encoder.encode_passages([normalize(f"{n.name} {n.description}".strip())[:1000] for n in nodes])
    return encoder.encode_queries([normalize(t)[:2000] for t in texts]) @ passages.T


def centered_cosine(catalog: Catalog, level: str, texts: list[str], encoder: Encoder) -> np.ndarray:
    """(texts, level nodes) e5 cosines after centering each side on its own mean (the texts' batch,
    the level's nodes), the usual fix for e5's narrow band of cosines."""
    nodes = catalog.at_level(level)
    passages = encoder.encode_passages([normalize(f"{n.name} {n.description}".strip())[:1000] for n in nodes])
    queries = encoder.encode_queries([normalize(t)[:2000] for t in texts])
    return unit_rows(queries - queries.mean(axis=0)) @ unit_rows(passages - passages.mean(axis=0)).T


def word_tfidf(catalog: Catalog, level: str, texts: list[str]) -> np.ndarray:
    """(texts, level nodes) cosine of Thai-word TF-IDF (name, description and keywords)."""
    nodes = catalog.at_level(level)
    documents = [content_tokens(f"{n.name} {n.description} {' '.join(n.keywords)}") for n in nodes]
    drafts = [content_tokens(t) for t in texts]
    vectorizer = TfidfVectorizer(analyzer=lambda words: words, sublinear_tf=True).fit(documents + drafts)
    return np.asarray((vectorizer.transform(drafts) @ vectorizer.transform(documents).T).toarray())


def char_tfidf(catalog: Catalog, level: str, texts: list[str]) -> np.ndarray:
    nodes = catalog.at_level(level)
    documents = [normalize(f"{n.name} {n.description} {' '.join(n.keywords)}") for n in nodes]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True).fit(documents + [normalize(t) for t in texts])
    return np.asarray((vectorizer.transform([normalize(t) for t in texts]) @ vectorizer.transform(documents).T).toarray())


def previous_aligner(catalog: Catalog, level: str, texts: list[str], encoder: Encoder) -> tuple[np.ndarray, np.ndarray]:
    """(scores, softmax probabilities) over the level's nodes from the previous scoring."""
    nodes = list(catalog)
    position = {n.id: i for i, n in enumerate(nodes)}
    passages: list[str] = []
    owners: list[int] = []
    for i, n in enumerate(nodes):
        passages.append(n.name)
        if n.description:
            passages.append(f"{n.name} {n.description}"[:1000])
        if n.keywords:
            passages.append(f"{n.name}: {' '.join(n.keywords)}"[:1000])
        owners += [i] * (len(passages) - len(owners))
    normalized = [normalize(p) for p in passages]
    passage_vectors = encoder.encode_passages(normalized)
    query_mean = encoder.encode_queries(normalized).mean(axis=0)
    passage_vectors = unit_rows(passage_vectors - passage_vectors.mean(axis=0))
    owner = np.array(owners)
    words = [content_tokens(f"{n.name} {n.description} {' '.join(n.keywords)} {' '.join(n.keywords)}") for n in nodes]
    lexical = TfidfVectorizer(analyzer=lambda w: w, sublinear_tf=True)
    node_lexical = lexical.fit_transform(words)
    queries = [prepare_text(t) for t in texts]  # as written: the previous aligner kept the budget-form prefix
    encoded = [q.units[1:] or [q.shown(0)] for q in queries]
    flat = encoder.encode_queries([u for units in encoded for u in units])
    parents = np.array([position[n.parent_id] if n.parent_id else -1 for n in nodes])
    depth_order = sorted(range(len(nodes)), key=lambda i: len(catalog.ancestors(nodes[i].id)))
    level_nodes = np.array([position[n.id] for n in catalog.at_level(level)])
    scores, offset = [], 0
    lexical_scores = (lexical.transform([content_tokens(q.text, normalized=True) for q in queries]) @ node_lexical.T).toarray()
    for query, units, lex in zip(queries, encoded, lexical_scores):
        part = flat[offset : offset + len(units)]
        offset += len(units)
        if len(query.units) > 1:
            lengths = np.array([len(s) for s in units], dtype=np.float32)
            part = np.vstack([(lengths / lengths.sum()) @ part, part])
        part = unit_rows(part - query_mean)
        sims = part @ passage_vectors.T
        per_node = np.full((len(part), len(nodes)), -np.inf)
        for column, i in enumerate(owner):
            per_node[:, i] = np.maximum(per_node[:, i], sims[:, column])
        whole = per_node[0]
        best = per_node[1:].max(axis=0) if len(per_node) > 1 else whole
        own = 0.8 * whole + 0.2 * best + 0.5 * lex
        mixed = own.copy()
        for i in depth_order:
            if parents[i] >= 0:
                mixed[i] = 0.8 * own[i] + 0.2 * mixed[parents[i]]
        final, lifted = mixed.copy(), set()
        for i in reversed(depth_order):
            p = parents[i]
            if p >= 0 and (p not in lifted or final[i] > final[p]):
                final[p] = final[i]
                lifted.add(p)
        scores.append(final[level_nodes])
    matrix = np.vstack(scores)
    logits = (matrix - matrix.max(axis=1, keepdims=True)) / 0.04
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return matrix, probabilities


def _logistic(features_train, labels: list[list[str]], features_test) -> tuple[list[list[str]], np.ndarray]:
    """Top-3 labels and the top probability per test row; one row per (example, label)."""
    rows = [i for i, ls in enumerate(labels) for _ in ls]
    targets = [label for ls in labels for label in ls]
    if len(set(targets)) == 1:  # one class decided so far: the classifier can only say that
        return [[targets[0]] for _ in range(features_test.shape[0])], np.ones(features_test.shape[0])
    model = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(features_train[rows], targets)
    proba = model.predict_proba(features_test)
    return [[model.classes_[j] for j in row[:3]] for row in np.argsort(-proba, axis=1)], proba.max(axis=1)


def tfidf_logistic(train_texts: list[str], labels: list[list[str]], test_texts: list[str]) -> tuple[list[list[str]], np.ndarray]:
    """Logistic regression on character 2-4-gram TF-IDF (the classic supervised baseline)."""
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2 if len(train_texts) >= 200 else 1,
                                 max_features=200_000)
    features = vectorizer.fit_transform([normalize(t) for t in train_texts])
    return _logistic(features, labels, vectorizer.transform([normalize(t) for t in test_texts]))


def embedding_logistic(train_vectors: np.ndarray, labels: list[list[str]], test_vectors: np.ndarray) -> tuple[list[list[str]], np.ndarray]:
    """Logistic regression on the encoder's vectors of the same examples."""
    return _logistic(train_vectors, labels, test_vectors)
