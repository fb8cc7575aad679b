import itertools

import pytest
import tiktoken
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.chunk import Chunker, split_sentences
from qa.config import ChunkSettings, tiktoken_encoding
from qa.load import load_file

from .conftest import SEEDS


def test_tiktoken_loads_offline_from_bundled_file():
    enc = tiktoken_encoding("cl100k_base")
    assert isinstance(enc, tiktoken.Encoding)
    assert enc.encode("hello world") == [15339, 1917]


def test_sentences():
    text = "The U.S. said no. Gen. Smith left at 5 p.m. on Monday. Why? Because.\nNew line"
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "The U.S. said no.",
        "Gen. Smith left at 5 p.m. on Monday.",
        "Why?",
        "Because.",
        "New line",
    ]


def test_seed_chunks_spans_tokens_and_boundaries():
    enc = tiktoken_encoding("cl100k_base")
    chunker = Chunker(ChunkSettings(size=120, overlap=30))
    for path in SEEDS.glob("*.txt"):
        [article], _ = load_file(path)
        chunks = chunker.chunk(article.text)
        assert len(chunks) > 2
        ends = {b for _, b in split_sentences(article.text)}
        for c in chunks:
            assert article.text[c.start : c.end] == c.text
            assert c.tokens == len(enc.encode(c.text)) <= 120
            assert c.end in ends  # ends at a sentence boundary
        assert chunks[0].start == 0 and chunks[-1].end == len(article.text)
        for a, b in itertools.pairwise(chunks):
            assert a.start < b.start  # moves forward
            assert b.start <= a.end or not article.text[a.end : b.start].strip()  # overlapping or adjacent


def test_overlap_repeats_whole_sentences():
    chunker = Chunker(ChunkSettings(size=8, overlap=4))
    chunks = chunker.chunk("One two three. Four five six. Seven.")
    assert [c.text for c in chunks] == ["One two three. Four five six.", "Four five six. Seven."]


def test_long_sentence_is_cut_within_limit():
    chunker = Chunker(ChunkSettings(size=16, overlap=0))
    text = "word " * 200 + "x" * 500
    chunks = chunker.chunk(text)
    assert all(c.tokens <= 16 and text[c.start : c.end] == c.text for c in chunks)
    assert chunks[-1].end == len(text.rstrip())


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=3000), st.integers(min_value=8, max_value=64))
def test_any_text_chunks_validly(text, size):
    chunker = Chunker(ChunkSettings(size=size, overlap=size // 4))
    covered = 0
    for c in chunker.chunk(text):
        assert text[c.start : c.end] == c.text and c.text.strip()
        assert c.tokens == chunker.count(c.text) <= size
        covered = max(covered, c.end)
    assert covered == len(text.rstrip()) or not text.strip()


def test_cut_piece_is_counted_as_kept_without_its_leading_space():
    # One sentence of 16 tokens cut at token 8: the rest, " þ0\x81𐀀", is 8 tokens (" þ" is one), but it
    # is kept as "þ0\x81𐀀", 9 tokens ("þ" alone is two). Counting the piece before trimming let 9 through.
    chunker = Chunker(ChunkSettings(size=8, overlap=1))
    chunks = chunker.chunk("0000000000000000000. þ0\x81𐀀")
    assert [(c.text, c.tokens) for c in chunks] == [("0000000000000000000.", 8), ("þ0\x81", 5), ("𐀀", 4)]


@pytest.mark.parametrize("size", [8, 12, 16])
def test_seed_sentences_longer_than_size_are_cut_within_limit(size):
    # Ordinary English hit the same miscount: " militants" is one token, "militants" two.
    chunker = Chunker(ChunkSettings(size=size, overlap=size // 4))
    for path in SEEDS.glob("*.txt"):
        [article], _ = load_file(path)
        chunks = chunker.chunk(article.text)
        assert all(c.tokens == chunker.count(c.text) <= size for c in chunks)
        assert chunks[0].start == 0 and chunks[-1].end == len(article.text)
        for a, b in itertools.pairwise(chunks):
            assert a.start < b.start and (b.start <= a.end or not article.text[a.end : b.start].strip())


def test_characters_of_one_token_that_take_more_than_size_tokens_are_cut_between_characters():
    # Below the minimum size (8) a single token can be too long once cut out: " développement" is one
    # token, "développement" five. The cut then falls between characters, still within the limit.
    chunker = Chunker(ChunkSettings(size=8, overlap=0))
    chunker.settings = ChunkSettings(size=4, overlap=0)
    text = "One two three four développement five."
    chunks = chunker.chunk(text)
    assert [c.text for c in chunks] == ["One two three four", "développe", "ment five."]
    assert all(c.tokens == chunker.count(c.text) <= 4 and text[c.start : c.end] == c.text for c in chunks)
