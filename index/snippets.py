"""Highlighted snippets: the part of a document that best shows why it matched."""
from __future__ import annotations


def snippet(text: str, words: list[str], width: int = 160) -> tuple[str, list[tuple[int, int]]]:
    """The window of ``text`` with the most query words, and the (start, end) spans to highlight.

    Thai is matched on substrings, since words are not separated by spaces.
    """
    words = sorted({w for w in words if len(w) > 1}, key=len, reverse=True)
    hits: list[tuple[int, int]] = []
    for word in words:
        start = text.find(word)
        while start >= 0:
            end = start + len(word)
            if not any(s < end and start < e for s, e in hits):
                hits.append((start, end))
            start = text.find(word, end)
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
