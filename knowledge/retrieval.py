"""Question → entry retrieval: normalised text, rapidfuzz over all phrasings, IDF-weighted coverage."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from bot.config import RetrievalConfig
from knowledge.base import Entry, KnowledgeBase
from knowledge.normalise import Normaliser

# Weight of the fuzzy phrasing match vs. the share of the question's (IDF-weighted) words the entry
# knows. Both are 0–100; the final score is their weighted mean.
FUZZY_WEIGHT = 0.55
COVERAGE_WEIGHT = 0.45
# A question word not in the knowledge base is corrected to the closest known word at this ratio.
TYPO_CUTOFF = 84
TYPO_MIN_LEN = 4


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float


@dataclass(frozen=True)
class Result:
    """The outcome of one question: "answer", "suggest" or "none" (or "smalltalk")."""

    question: str
    outcome: str
    best: Match | None = None
    suggestions: tuple[Match, ...] = ()
    smalltalk: str = ""  # "greeting" | "thanks" when outcome == "smalltalk"
    ranked: tuple[Match, ...] = field(default=(), repr=False)

    @property
    def entry(self) -> Entry | None:
        return self.best.entry if self.best and self.outcome == "answer" else None

    def as_json(self) -> dict:
        """The `ask --json` shape; smalltalk counts as "none" (nothing answered from the KB)."""
        best = self.best
        answered = self.outcome == "answer" and best is not None
        return {
            "question": self.question,
            "outcome": self.outcome if self.outcome in ("answer", "suggest") else "none",
            "entry": best.entry.id if answered else None,
            "title": best.entry.title if answered else None,
            "score": round(best.score, 1) if best else 0.0,
            "citations": list(best.entry.citations) if answered else [],
            "answer": best.entry.answer if answered else None,
            "suggestions": [
                {"entry": m.entry.id, "title": m.entry.title, "citations": list(m.entry.citations)}
                for m in self.suggestions
            ],
        }


class Retriever:
    """Indexes a knowledge base once; answers questions in well under a millisecond each."""

    def __init__(self, kb: KnowledgeBase, normaliser: Normaliser, cfg: RetrievalConfig):
        self.kb = kb
        self.norm = normaliser
        self.cfg = cfg
        self.entries = list(kb.entries)
        choices: list[str] = []
        owner: list[int] = []
        entry_tokens: list[set[str]] = []
        for i, e in enumerate(self.entries):
            toks: set[str] = set()
            for phrase in (*e.questions, e.title):
                tokens = self.norm.tokens(phrase)
                toks.update(tokens)
                choices.append(" ".join(tokens))
                owner.append(i)
            entry_tokens.append(toks)
        self.choices = choices
        self.owner = np.array(owner, dtype=np.int64)
        self.vocab = sorted(set().union(*entry_tokens)) if entry_tokens else []
        self.vocab_index = {t: j for j, t in enumerate(self.vocab)}
        n = max(len(self.entries), 1)
        df = np.zeros(len(self.vocab))
        matrix = np.zeros((len(self.entries), len(self.vocab)), dtype=np.float32)
        for i, toks in enumerate(entry_tokens):
            for t in toks:
                j = self.vocab_index[t]
                matrix[i, j] = 1.0
                df[j] += 1
        self.idf = np.log((n + 1) / (df + 0.5)) if len(self.vocab) else df
        self.unknown_idf = math.log((n + 1) / 0.5)
        self.matrix = matrix

    # -- query side ---------------------------------------------------------------------------
    def query_tokens(self, question: str) -> list[str]:
        """Normalised question tokens, each unknown word corrected to a close known one if any."""
        out = []
        for t in self.norm.tokens(question):
            if t not in self.vocab_index and len(t) >= TYPO_MIN_LEN and self.vocab:
                hit = process.extractOne(t, self.vocab, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
                if hit:
                    t = hit[0]
            out.append(t)
        return list(dict.fromkeys(out))

    def rank(self, question: str) -> list[Match]:
        """Every entry scored 0–100 for the question, best first (empty when nothing is known)."""
        tokens = self.query_tokens(question)
        if not tokens or not self.entries:
            return []
        known = [self.vocab_index[t] for t in tokens if t in self.vocab_index]
        if not known:
            return []
        weights = np.array([self.idf[self.vocab_index[t]] if t in self.vocab_index else self.unknown_idf for t in tokens])
        total = float(weights.sum()) or 1.0
        known_w = np.array([self.idf[j] for j in known])
        coverage = (self.matrix[:, known] @ known_w) / total * 100.0

        q = " ".join(tokens)
        sims = process.cdist([q], self.choices, scorer=fuzz.token_set_ratio, dtype=np.float32)[0]
        sims = 0.5 * sims + 0.5 * process.cdist([q], self.choices, scorer=fuzz.token_sort_ratio, dtype=np.float32)[0]
        fuzzy = np.zeros(len(self.entries), dtype=np.float32)
        np.maximum.at(fuzzy, self.owner, sims)

        scores = FUZZY_WEIGHT * fuzzy + COVERAGE_WEIGHT * coverage
        order = np.argsort(-scores, kind="stable")
        return [Match(self.entries[i], float(scores[i])) for i in order]

    def search(self, question: str) -> Result:
        """Decide: answer the best entry, suggest the closest topics, or nothing."""
        talk = self.norm.smalltalk(question)
        if talk:
            return Result(question, "smalltalk", smalltalk=talk)
        ranked = self.rank(question)
        if not ranked or ranked[0].score < self.cfg.suggest_score:
            return Result(question, "none", best=ranked[0] if ranked else None, ranked=tuple(ranked))
        best = ranked[0]
        second = ranked[1].score if len(ranked) > 1 else 0.0
        if best.score >= self.cfg.answer_score and best.score - second >= self.cfg.answer_margin:
            return Result(question, "answer", best=best, ranked=tuple(ranked))
        floor = max(self.cfg.suggest_score, best.score - 15.0)
        # Always two topics to choose from, a third only when it is close.
        sugg = tuple(ranked[:2]) + tuple(m for m in ranked[2 : self.cfg.suggestions] if m.score >= floor)
        return Result(question, "suggest", best=best, suggestions=sugg, ranked=tuple(ranked))
