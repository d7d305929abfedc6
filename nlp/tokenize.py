"""Thai word tokenization, sentence splitting and chunking.

Tokenization is pythainlp's newmm (dictionary maximal matching) with our own dictionary of BMA
vocabulary added (district, agency and canal names, planning terms), because newmm splits unknown
proper names into meaningless syllables and that hurts both keyword search and near-copy detection.
Dotted abbreviations (กทม., ค.ส.ล.) are protected by a regex before newmm sees them, since newmm
splits on every dot.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from itertools import accumulate

from pythainlp.corpus.common import thai_stopwords, thai_words
from pythainlp.tokenize import word_tokenize
from pythainlp.util import Trie, dict_trie

from planalign.nlp.normalize import normalize

# One to four Thai consonant groups each closed by a dot: กทม. / ค.ส.ล. / ถ. / พ.ศ.
_ABBREVIATION = re.compile(r"(?:[\u0e01-\u0e4e]{1,4}\.){1,4}(?![\u0e01-\u0e4e]*\.)")
_PUNCTUATION_ONLY = re.compile(r"^[\W_]+$", re.UNICODE)
# Brackets and quotes glued to Latin words by newmm ("(bkk"); a final dot is kept for abbreviations.
_EDGE_PUNCTUATION = re.compile(r"^[^\w\u0e01-\u0e4e]+|[^\w\u0e01-\u0e4e.]+$")
_SENTENCE_BREAK = re.compile(r"\n+|(?<=[.!?;:])\s+|\s{2,}")
# Raised whenever tokenize() cuts some text differently (a rule, the packaged dictionaries, or
# pythainlp's word and stopword lists after an upgrade of it): a keyword index stores tokens, and one
# written by another version is indexed again (project_index). 2: a Thai word followed by a full stop
# stays whole (2026-12-05).
TOKENS_VERSION = 5  # 3: documents also carry the heads of compound words (index_words); 4: not_words.txt; 5: "คสล." expanded
# The words every project name starts with: they say what kind of document a text is, never what it
# is about, so they are no topic word, no evidence and no shared word. Each is cut off whole before
# newmm sees the rest, because newmm splits "โครงการลอกท่อ" into "โครง" + "การลอก", and that
# fragment then "matched" every catalog text with the word โครง (frame) in it.
BOILERPLATE_WORDS = ("โครงการ", "กิจกรรม", "แผนงาน")
_BOILERPLATE = re.compile("|".join(sorted(BOILERPLATE_WORDS, key=len, reverse=True)))


def _package_lines(name: str) -> list[str]:
    text = resources.files("planalign.nlp").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def bma_vocabulary() -> frozenset[str]:
    """Our BMA word list (districts, agencies, canals, planning terms)."""
    return frozenset(_package_lines("bma_words.txt"))


@lru_cache(maxsize=1)
def abbreviations() -> dict[str, str]:
    """Dotted government abbreviations and their expansions (กทม. -> กรุงเทพมหานคร)."""
    table: dict[str, str] = {}
    for line in _package_lines("abbreviations.tsv"):
        abbr, _, expansion = line.partition("\t")
        if expansion:
            table[abbr.strip()] = expansion.strip()
    return table


@lru_cache(maxsize=1)
def _synonym_groups() -> dict[str, tuple[str, ...]]:
    """Each word of ``synonyms.tsv`` -> its whole group (itself first)."""
    groups: dict[str, tuple[str, ...]] = {}
    for line in _package_lines("synonyms.tsv"):
        members = tuple(w.strip() for w in line.split("\t") if w.strip())
        for word in members:
            groups[word] = (word, *(m for m in members if m != word))
    return groups


def synonyms(word: str) -> tuple[str, ...]:
    """``word`` and the words that mean the same in BMA text (ขยะ -> ขยะ, มูลฝอย); the word alone when it has none."""
    return _synonym_groups().get(word, (word,))


def with_synonyms(words: list[str]) -> list[str]:
    """``words`` followed by their synonyms not already among them (a query widened for BM25)."""
    return list(dict.fromkeys(w for word in words for w in synonyms(word)))


@lru_cache(maxsize=1)
def _dictionary() -> Trie:
    return dict_trie((set(thai_words()) - not_words()) | bma_vocabulary())


@lru_cache(maxsize=1)
def not_words() -> frozenset[str]:
    """Rare dictionary words that cut common BMA words wrongly (``nlp/data/not_words.txt``)."""
    return frozenset(line.split("#")[0].strip() for line in _package_lines("not_words.txt"))


def known_word(word: str) -> bool:
    """Whether ``word`` is in the tokenizer's dictionary (pythainlp's Thai words and our BMA list)."""
    return word in _dictionary()


def readable_word(word: str) -> bool:
    """A word that says something without a stored text to vouch for it: in the dictionary, with a
    digit (a year, PM2.5), or Latin letters with a vowel (y counts: "city"; there is no English
    dictionary offline, and multilingual e5 matches "tree planting" to ปลูกต้นไม้). Not: Thai-script
    strings that are no word and Latin letters without a vowel, a keyboard slip ("ฟหกดเ่าสว", "qwzxv")."""
    letters = [c for c in word.lower() if "a" <= c <= "z"]
    return known_word(word) or any(c.isdigit() for c in word) or (bool(letters) and any(c in "aeiouy" for c in letters))


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Function words that carry no topic (pythainlp's list plus :data:`BOILERPLATE_WORDS`)."""
    return frozenset(thai_stopwords()) | set(BOILERPLATE_WORDS) | {"เพื่อ", "การ", "ความ", "ๆ"}


def tokenize(text: str, *, normalized: bool = False) -> list[str]:
    """Split text into words; whitespace dropped, abbreviations kept whole."""
    if not normalized:
        text = normalize(text)
    tokens: list[str] = []
    position = 0
    for match in _ABBREVIATION.finditer(text):
        start = _known_abbreviation_start(match.group(0)) + match.start()
        if _full_stop_after_word(text, match, start):  # newmm alone would still cut "บ้าน." into "บ้า" + "น."
            tokens.extend(_newmm(text[position : match.end() - 1]))
            tokens.append(".")
            position = match.end()
            continue
        tokens.extend(_newmm(text[position:start]))
        tokens.append(text[start : match.end()])
        position = match.end()
    tokens.extend(_newmm(text[position:]))
    return tokens


def _full_stop_after_word(text: str, match: re.Match[str], start: int) -> bool:
    """A single dot the regex took for an abbreviation but that ends a word ("ซ่อมถนน.", "หน้าบ้าน."):
    the match began inside the word, so cutting there split it ("ซ่อ" + "มถนน.", "บ้า" + "น."). A
    dotted group glued to the word before it is an abbreviation only when known and longer than one
    letter ("ของกทม."); several dots (ค.ส.ล.) and a group standing alone (" ถ.") stay abbreviations."""
    candidate = text[start : match.end()]
    glued = start > 0 and "\u0e01" <= text[start - 1] <= "\u0e4e"  # the range _ABBREVIATION reads
    return glued and candidate.count(".") == 1 and (len(candidate) == 2 or candidate not in abbreviations())


def _known_abbreviation_start(candidate: str) -> int:
    """Where the abbreviation starts in a dotted match: the regex also swallows the end of the word
    before it ("ของกทม." matches "งกทม."), so the longest known abbreviation that ends the match wins."""
    if candidate in abbreviations():
        return 0
    for start in range(1, len(candidate) - 1):
        if candidate[start:] in abbreviations():
            return start
    return 0


def _newmm(text: str) -> list[str]:
    # Each space-separated chunk is cut on its own and remembered: chunks repeat a lot (street
    # names, "ซอย", a draft's sentences read again as the whole draft), and newmm in pure Python is
    # the slowest step of indexing and of the static encoder. newmm rarely joins across a space
    # (a few dictionary entries such as "เรื่อย ๆ" hold one): 99.5% of 20,000 Traffy reports split
    # exactly as before, 1.5x faster the first time and ~30x faster when the text comes back.
    return [word for chunk in text.split() for word in _newmm_chunk(chunk)]


def forget_memos() -> None:
    """Drop memoized normalizations and splits, so a benchmark sees every text for the first time."""
    _newmm_chunk.cache_clear()
    normalize.cache_clear()


@lru_cache(maxsize=100_000)
def _newmm_chunk(chunk: str) -> tuple[str, ...]:
    words: list[str] = []
    position = 0
    for match in _BOILERPLATE.finditer(chunk):  # boilerplate words whole, newmm between them
        words.extend(word_tokenize(chunk[position : match.start()], custom_dict=_dictionary(), engine="newmm", keep_whitespace=False))
        words.append(match.group(0))
        position = match.end()
    words.extend(word_tokenize(chunk[position:], custom_dict=_dictionary(), engine="newmm", keep_whitespace=False))
    return tuple(w for w in (w.strip() for w in words) if w)


def content_tokens(text: str, *, normalized: bool = False) -> list[str]:
    """Lower-cased words without punctuation or stopwords: the unit of keyword search and shingles.

    Abbreviations are expanded so that "กทม." and "กรุงเทพมหานคร" meet.
    """
    expansions = abbreviations()
    result: list[str] = []
    for token in tokenize(text, normalized=normalized):
        if token in expansions:
            result.extend(_newmm(expansions[token]))
            continue
        token = _EDGE_PUNCTUATION.sub("", token.lower())
        if not token or _PUNCTUATION_ONLY.match(token) or token in stopwords():
            continue
        result.append(token)
    return [t for t in result if t not in stopwords()]


def index_words(words: list[str]) -> list[str]:
    """A document's words for keyword search: ``words`` and, for a compound the dictionary keeps
    whole, its head (the longest dictionary word it starts with that leaves three characters or more,
    itself three or more, not a stopword: "ชุมชน" gives no "ชุม") and its rest when that is a BMA name: "คลองลาดพร้าว" also gives "คลอง" and
    "ลาดพร้าว", "ขยะอันตราย" also "ขยะ". Thai compounds put the head first, and a reviewer searching
    "คลอง" means every canal: BM25 over whole compounds missed them (keyword nDCG@10 0.549 on the
    search dev queries, char-trigram cosine 0.675; eval/README.md "Search"). Queries are not
    expanded: "คลองบางบัว" still asks for that canal."""
    trie, names, skip = _dictionary(), bma_vocabulary(), stopwords()
    found = list(words)
    for word in words:
        heads = [p for p in trie.prefixes(word) if len(p) >= 3 and len(word) - len(p) >= 3 and p not in skip]
        if heads:
            head = max(heads, key=len)
            found.append(head)
            if word[len(head):] in names:
                found.append(word[len(head):])
    return found


def holds_word(compound: str, word: str) -> bool:
    """Whether ``compound`` holds ``word`` as whole words: at some occurrence, what comes before and
    after it cuts into dictionary words (or nothing). "เขตปลอดบุหรี่" (one dictionary word) holds
    "บุหรี่" (before it: "เขต" + "ปลอด"); "พยาบาล" does not hold "ยา", nor "ยาว" ("ว" is no word).
    Keyword search finds a query word inside the compounds the tokenizer keeps whole through it: a
    search for "บุหรี่" found none of 12 districts' "โครงการกรุงเทพมหานครเขตปลอดบุหรี่" (an
    integrator's walkthrough; :func:`index_words` gives a compound's head only)."""
    return holds_in([compound], word)


def holds_in(tokens: list[str], word: str) -> bool:
    """Whether a text cut into ``tokens`` holds ``word`` as whole words, within one token or across several
    ("ลอกท่อ" in "ลอก|ท่อระบายน้ำ"): at some occurrence in the tokens joined, each end falls between two
    tokens or between dictionary words inside one. "ยา" is not in "ผู้ช่วย|พยาบาล" nor "นม" in "ซ่อม|ถนน|มีนบุรี"
    (a blind review found such hits counted as matches of the query)."""
    if not word:
        return False
    joined = "".join(tokens)
    ends = list(accumulate(len(t) for t in tokens))
    starts = [0, *ends[:-1]]

    def between_words(position: int) -> bool:
        """The position is a token's edge, or splits its token into two runs of dictionary words."""
        k = next((i for i, end in enumerate(ends) if position < end), len(tokens) - 1)
        if position in (starts[k], ends[k]):
            return True
        token = tokens[k]
        return all(known_word(w) for w in _newmm(token[: position - starts[k]])) and all(known_word(w) for w in _newmm(token[position - starts[k]:]))

    start = joined.find(word)
    while start >= 0:
        if between_words(start) and between_words(start + len(word)):
            return True
        start = joined.find(word, start + 1)
    return False


def split_sentences(text: str, *, min_chars: int = 25, max_chars: int = 300) -> list[str]:
    """Split a draft into sentence-like units for evidence.

    Thai marks sentence ends with a space or a line break rather than punctuation, so pieces are
    cut at line breaks, sentence punctuation and double spaces, short pieces are merged with their
    neighbour, and over-long pieces are cut at single spaces.
    """
    text = normalize(text)
    pieces = [p.strip() for p in _SENTENCE_BREAK.split(text) if p and p.strip()]
    merged: list[str] = []
    for piece in pieces:
        if merged and (len(merged[-1]) < min_chars or len(piece) < min_chars // 2):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    sentences: list[str] = []
    for piece in merged:
        sentences.extend(chunk(piece, max_chars=max_chars))
    return sentences


def chunk(text: str, *, max_chars: int = 300) -> list[str]:
    """Cut a long text into pieces of at most ``max_chars``, at spaces where possible."""
    text = text.strip()
    pieces: list[str] = []
    while len(text) > max_chars:
        cut = text.rfind(" ", max_chars // 2, max_chars)
        if cut <= 0:
            cut = max_chars
        pieces.append(text[:cut].strip())
        text = text[cut:].strip()
    if text:
        pieces.append(text)
    return pieces
