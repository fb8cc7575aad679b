"""Cut article text into overlapping chunks of whole sentences, counted in tiktoken tokens.

Every chunk records the character span it covers, so ``text[chunk.start:chunk.end] ==
chunk.text`` always holds, and citations can point at the exact passage.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .config import ChunkSettings, tiktoken_encoding

# Words after which a period does not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "col", "lt", "sgt", "capt", "cmdr",
    "st", "jr", "sr", "vs", "etc", "inc", "ltd", "co", "corp", "vol", "fig", "approx",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m", "d.c",
}  # fmt: skip
_END = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s)|\n\s*\n|\n""")
_WORD_BEFORE = re.compile(r"([\w.]+)[.!?…]*[\"'”’)\]]*$")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Character spans of the sentences in ``text[start:end]``, whitespace trimmed.

    Example: "The U.S. said no. Iran said yes." -> [(0, 17), (18, 32)]
    A line break always ends a sentence; a period after an abbreviation or an
    initial ("U.S.", "Gen.", "J.") does not.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _END.finditer(text, start, end):
        cut = m.end()
        if text[m.start()] == ".":
            w = _WORD_BEFORE.search(text, pos, m.start() + 1)
            word = w.group(1).lower().rstrip(".") if w else ""
            nxt = text[cut:end].lstrip()[:1]
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or (word == "no" and nxt.isdigit()):
                continue
            if nxt and nxt.islower():
                continue
        _add_span(text, pos, cut, spans)
        pos = cut
    _add_span(text, pos, end, spans)
    return spans


def _add_span(text: str, a: int, b: int, spans: list[tuple[int, int]]) -> None:
    a, b = _trim(text, a, b)
    if a < b:
        spans.append((a, b))


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    """The span ``text[a:b]`` without its leading and trailing whitespace."""
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


@dataclass(frozen=True)
class Chunk:
    text: str
    start: int
    end: int
    tokens: int
    index: int


class Chunker:
    """Packs sentences into chunks of at most ``size`` tokens with ``overlap`` tokens repeated.

    A sentence longer than ``size`` is cut at token boundaries. Example with size=8:
    "One two three. Four five six. Seven." -> "One two three. Four five six." (7 tokens),
    then "Four five six. Seven." when the overlap allows the second sentence to repeat.
    """

    def __init__(self, settings: ChunkSettings = ChunkSettings(), cache_dir: Path | None = None):
        if settings.size < 8 or not 0 <= settings.overlap < settings.size:
            raise ValueError("chunk size must be at least 8 tokens and overlap smaller than size")
        self.settings = settings
        self.encoding = _encoding(settings.encoding, cache_dir)

    def count(self, text: str) -> int:
        return len(self.encoding.encode_ordinary(text))

    def chunk(self, text: str) -> list[Chunk]:
        size, overlap = self.settings.size, self.settings.overlap
        pieces = [p for a, b in split_sentences(text) for p in self._fit(text, a, b)]
        counts = [len(t) for t in self.encoding.encode_ordinary_batch([text[a:b] for a, b in pieces])]
        chunks: list[Chunk] = []
        i = 0
        while i < len(pieces):
            j, total = i, 0
            while j < len(pieces) and total + counts[j] <= size:
                total += counts[j]
                j += 1
            j = max(j, i + 1)
            # Joined sentences can tokenize a little differently from their sum.
            while (n := self.count(text[pieces[i][0] : pieces[j - 1][1]])) > size and j > i + 1:
                j -= 1
            a, b = pieces[i][0], pieces[j - 1][1]
            chunks.append(Chunk(text[a:b], a, b, n, len(chunks)))
            if j >= len(pieces):
                break
            # Step back over whole sentences that fit in the overlap, but always move forward.
            k, back = j, 0
            while k - 1 > i and back + counts[k - 1] <= overlap:
                back += counts[k - 1]
                k -= 1
            i = k
        return chunks

    def _fit(self, text: str, a: int, b: int) -> list[tuple[int, int]]:
        """Cut the span ``text[a:b]`` into pieces of at most ``size`` tokens, at token boundaries.

        A piece is measured as it is kept, without the whitespace at its ends, and on its own:
        "0000000000000000000. þ0\x81𐀀" (16 tokens) cut after token 8 leaves " þ0\x81𐀀" (8 tokens,
        " þ" is one), kept as "þ0\x81𐀀", 9 tokens ("þ" alone is two).
        """
        size = self.settings.size
        tokens = self.encoding.encode_ordinary(text[a:b])
        if len(tokens) <= size:
            return [(a, b)]
        _, offsets = self.encoding.decode_with_offsets(tokens)

        def end(t: int) -> int:  # where the token t starts (the span's end after the last token)
            return a + offsets[t] if t < len(tokens) else b

        out: list[tuple[int, int]] = []
        t, lo = 0, a
        while lo < b:
            first = t + 1  # the fewest tokens that cover a whole character
            while end(first) <= lo:
                first += 1
            # As many tokens as could fit, fewer while the piece tokenizes to more than size.
            last = max(first, min(t + size, len(tokens)))
            while last > first and not self._fits(text, lo, end(last)):
                last -= 1
            t, hi = last, end(last)
            if not self._fits(text, lo, hi):
                # Those characters take more than size tokens on their own: cut between characters.
                # One character is at most 4 tokens (4 UTF-8 bytes), and size is at least 8.
                hi = next((c for c in range(hi - 1, lo, -1) if self._fits(text, lo, c)), lo + 1)
                t = bisect.bisect_left(offsets, hi - a)  # the first token that starts at or after hi
            _add_span(text, lo, hi, out)
            lo = hi
        return out

    def _fits(self, text: str, a: int, b: int) -> bool:
        a, b = _trim(text, a, b)
        return self.count(text[a:b]) <= self.settings.size


@lru_cache(maxsize=4)
def _encoding(name: str, cache_dir: Path | None = None):
    return tiktoken_encoding(name, cache_dir)
