"""Highlighted snippets: the part of a document that best shows why it matched."""
from __future__ import annotations

from planalign.nlp.tokenize import known_word, tokenize


def snippet(text: str, words: list[str], width: int = 160) -> tuple[str, list[tuple[int, int]]]:
    """The window of ``text`` with the most query words, and the (start, end) spans to highlight.

    Thai words are not separated by spaces, so a query word is looked for as a substring, ignoring
    case, and highlighted where it starts and ends between words (:func:`_split_points`): "ขยะ" in
    "ถังขยะ", not "หมา" in "กฎหมาย" (a blind review found the fragment marked as a match).
    """
    words = sorted({w.lower() for w in words if len(w) > 1}, key=len, reverse=True)
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer: matched as written
        lowered = text
    boundaries, cuts = _split_points(text)
    points = boundaries | cuts
    hits: list[tuple[int, int]] = []
    for word in words:
        start = lowered.find(word)
        while start >= 0:
            end = start + len(word)
            # inside a compound, a word of 3 characters or more: "เสพติด" in "ยาเสพติด", not "ตา" in "ตาราง"
            whole = (start in boundaries and end in boundaries) or len(word) >= 3
            if start in points and end in points and whole and not any(s < end and start < e for s, e in hits):
                hits.append((start, end))
            start = lowered.find(word, start + 1)
    hits.sort()
    if len(text) <= width:
        return text, hits
    best_start, best_count = 0, -1
    for start, _ in hits or [(0, 0)]:
        begin = max(0, start - width // 4)
        count = sum(1 for s, e in hits if begin <= s and e <= begin + width)
        if count > best_count:
            best_start, best_count = begin, count
    window = text[best_start : best_start + width]
    prefix = "…" if best_start else ""
    suffix = "…" if best_start + width < len(text) else ""
    shifted = [(s - best_start + len(prefix), e - best_start + len(prefix)) for s, e in hits if best_start <= s and e <= best_start + width]
    return prefix + window + suffix, shifted


def render(text: str, spans: list[tuple[int, int]], open_mark: str, close_mark: str) -> str:
    """Insert markers around the spans (e.g. ``[reverse]``/``[/reverse]`` for the terminal)."""
    out, position = [], 0
    for start, end in spans:
        out.append(text[position:start])
        out.append(open_mark + text[start:end] + close_mark)
        position = end
    out.append(text[position:])
    return "".join(out)


def _split_points(text: str) -> tuple[set[int], set[int]]:
    """Offsets of ``text`` where one word ends and another starts: the tokenizer's word boundaries, and
    inside a compound the tokenizer keeps whole, the points that cut it into two dictionary words
    ("ถัง|ขยะ", "ยา|เสพติด"; not "กฎหมา|ย"). :func:`snippet` marks only words of 3 characters or more
    at a cut: "ตา" was marked in "ตาราง" (a blind review), and requiring 3 on both sides of a cut lost
    "เสพติด" in "ยาเสพติด" (a second one)."""
    boundaries, cuts = {0, len(text)}, set[int]()
    position = 0
    for token in tokenize(text, normalized=True):
        start = text.find(token, position)
        if start < 0:  # not found as written: no boundary from it
            continue
        end = start + len(token)
        boundaries.update((start, end))
        cuts.update(start + cut for cut in range(2, len(token) - 1) if known_word(token[:cut]) and known_word(token[cut:]))
        position = end
    return boundaries, cuts
