"""Pack retrieved passages into a prompt's token budget: most relevant first, whole sentences.

A model's context holds the instructions, the question, the passages and the answer it
writes. The answer gets a fixed reserve; what is left goes to passages in retrieval order.
The first passage that does not fit whole is cut back to the whole sentences that fit
(:func:`qa.chunk.split_sentences`), and packing stops there, so a less relevant passage
never displaces a more relevant one. A trimmed passage keeps exact article offsets
(``start``/``end``), so citations into it still quote the article word for word.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import replace

from .chunk import split_sentences
from .types import Passage


def fit_passages(passages: Sequence[Passage], budget: int, cost: Callable[[int, Passage], int]) -> list[Passage]:
    """The passages (the last one possibly trimmed) whose ``cost(n, passage)`` tokens add up to at most ``budget``.

    ``cost(n, p)`` is the token count of passage ``p`` rendered as the n-th (1-based) in the prompt.

    Example, with cost = number of words and budget 7:
        ["One two three.", "Four five. Six seven. Eight nine."]
        -> ["One two three.", "Four five. Six seven."]   (3 + 4 words; "Eight nine." does not fit)
    """
    out: list[Passage] = []
    used = 0
    for p in passages:
        n = len(out) + 1
        spent = cost(n, p)
        if used + spent <= budget:
            out.append(p)
            used += spent
            continue
        trimmed = trim_to_fit(p, budget - used, functools.partial(cost, n))
        if trimmed is not None:
            out.append(trimmed)
        break
    return out


def trim_to_fit(p: Passage, budget: int, cost: Callable[[Passage], int]) -> Passage | None:
    """The longest run of ``p``'s leading whole sentences that costs at most ``budget``, or None."""
    ends = [b for _, b in split_sentences(p.text)]
    best: Passage | None = None
    lo, hi = 0, len(ends) - 1  # binary search: cost grows with the number of sentences kept
    while lo <= hi:
        mid = (lo + hi) // 2
        cut = p.text[: ends[mid]]
        candidate = replace(p, text=cut, end=p.start + len(cut))
        if cost(candidate) <= budget:
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return best
