"""Prompts: synthetic ones of an approximate length with a fixed seed, or the user's own.

Synthetic prompts are random sequences of short, common English words: each is one token in the
Llama, Qwen, Mistral and GPT tokenizers, so ``prompt_tokens`` words are about that many tokens
(plus the chat template). Each request gets a different prompt so prefix caches don't flatter TTFT
(``vllm bench serve --dataset-name random`` does the same with random token ids).
"""

from __future__ import annotations

import random

from advisor.loadtest.config import BOUNDS

_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "was",
    "for",
    "on",
    "are",
    "with",
    "as",
    "at",
    "be",
    "by",
    "this",
    "had",
    "not",
    "but",
    "from",
    "or",
    "have",
    "an",
    "they",
    "which",
    "one",
    "you",
    "were",
    "her",
    "all",
    "she",
    "there",
    "would",
    "their",
    "we",
    "him",
    "been",
    "has",
    "when",
    "who",
    "will",
    "more",
    "no",
    "if",
    "out",
    "so",
    "said",
    "what",
    "up",
    "its",
    "about",
    "into",
    "than",
    "them",
    "can",
    "only",
    "other",
    "new",
    "some",
    "could",
    "time",
    "these",
    "two",
    "may",
    "then",
    "do",
    "first",
    "any",
    "my",
    "now",
    "such",
    "like",
    "our",
    "over",
    "man",
    "me",
    "even",
    "most",
    "made",
    "after",
    "also",
    "did",
    "many",
    "before",
    "must",
    "through",
    "back",
    "years",
    "where",
    "much",
    "your",
    "way",
    "well",
    "down",
    "should",
    "because",
    "each",
    "just",
    "those",
    "people",
    "how",
    "too",
    "little",
    "state",
    "good",
    "very",
    "make",
    "world",
    "still",
    "own",
    "see",
    "men",
    "work",
    "long",
    "get",
    "here",
    "between",
    "both",
    "life",
    "being",
    "under",
    "never",
    "day",
    "same",
    "another",
    "know",
    "while",
    "last",
    "might",
    "us",
    "great",
    "old",
    "year",
    "off",
    "come",
    "since",
    "against",
    "go",
    "came",
    "right",
    "used",
    "take",
    "three",
]

_INSTRUCTION = "Continue this text:"


def synthetic_prompt(index: int, *, tokens: int, seed: int) -> str:
    """Prompt number ``index`` of a run seeded with ``seed``: about ``tokens`` tokens long.
    ValueError past ``BOUNDS["prompt_tokens"]``: memory and time grow with ``tokens``."""
    bound = BOUNDS["prompt_tokens"]
    if not bound.low <= tokens <= bound.high:
        raise ValueError(f"prompt tokens must be between {bound.low:g} and {bound.high:g}")
    rng = random.Random(seed * 1_000_003 + index)
    words = max(tokens - 4, 1)  # the instruction takes about four tokens
    return _INSTRUCTION + " " + " ".join(rng.choice(_WORDS) for _ in range(words))


class PromptSource:
    """Hands out prompt ``i``: the user's prompts in turn, else a synthetic one, built when asked
    for (the generator asks as each request leaves, so at most one prompt per request in flight is
    held)."""

    def __init__(self, *, prompts: tuple[str, ...], tokens: int, seed: int):
        self._prompts = prompts
        self._tokens = tokens
        self._seed = seed

    def get(self, index: int) -> str:
        if self._prompts:
            return self._prompts[index % len(self._prompts)]
        return synthetic_prompt(index, tokens=self._tokens, seed=self._seed)
