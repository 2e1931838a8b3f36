"""Question → entry retrieval: normalised text, rapidfuzz over all phrasings, IDF-weighted coverage."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from bot.config import RetrievalConfig
from knowledge.base import Entry, KnowledgeBase
from knowledge.normalise import Normaliser

# How a phrasing's score weighs recall (share of the question's IDF weight that the phrasing contains)
# against precision (share of the phrasing's IDF weight that the question contains): score =
# 100 · recall^RECALL_EXP · precision^(1 − RECALL_EXP). A question should be explained fully; a phrasing
# may say a little more than the question.
RECALL_EXP = 0.65
# Entry-level support: the question's words found anywhere in the entry (all phrasings, title, answer).
ENTRY_WEIGHT = 0.25
# Tie-breaker on the surface form (word order, near-spellings): rapidfuzz token_sort_ratio.
FUZZY_WEIGHT = 0.10
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
        phrasings: list[list[str]] = []
        owner: list[int] = []
        entry_tokens: list[set[str]] = []
        for i, e in enumerate(self.entries):
            toks: set[str] = set()
            for phrase in (*e.questions, e.title):
                tokens = list(dict.fromkeys(self.norm.tokens(phrase)))
                toks.update(tokens)
                phrasings.append(tokens)
                owner.append(i)
            toks.update(self.norm.tokens(e.answer))
            entry_tokens.append(toks)
        self.choices = [" ".join(p) for p in phrasings]
        self.owner = np.array(owner, dtype=np.int64)
        self.vocab = sorted(set().union(*entry_tokens)) if entry_tokens else []
        self.vocab_index = {t: j for j, t in enumerate(self.vocab)}
        # IDF over entries (an entry = its phrasings, title and answer).
        n = max(len(self.entries), 1)
        df = np.zeros(len(self.vocab))
        for toks in entry_tokens:
            for t in toks:
                df[self.vocab_index[t]] += 1
        self.idf = np.log(1.0 + (n + 1) / (df + 0.5)) if len(self.vocab) else df
        self.unknown_idf = float(math.log(1.0 + (n + 1) / 0.5))
        # Binary phrasing × word and entry × word matrices; the phrasings' total IDF weight.
        self.phrase_matrix = np.zeros((len(phrasings), len(self.vocab)), dtype=np.float32)
        for r, tokens in enumerate(phrasings):
            for t in tokens:
                self.phrase_matrix[r, self.vocab_index[t]] = 1.0
        self.phrase_weight = self.phrase_matrix @ self.idf.astype(np.float32)
        self.entry_matrix = np.zeros((len(self.entries), len(self.vocab)), dtype=np.float32)
        for i, toks in enumerate(entry_tokens):
            for t in toks:
                self.entry_matrix[i, self.vocab_index[t]] = 1.0

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
        """Every entry scored 0–100 for the question, best first (empty when no word is known)."""
        tokens = self.query_tokens(question)
        known = [self.vocab_index[t] for t in tokens if t in self.vocab_index]
        if not known or not self.entries:
            return []
        known_w = self.idf[known].astype(np.float32)
        total = float(known_w.sum()) + self.unknown_idf * (len(tokens) - len(known))

        inter = self.phrase_matrix[:, known] @ known_w
        recall = inter / total
        precision = inter / np.maximum(self.phrase_weight, 1e-6)
        phrase_score = 100.0 * np.power(recall, RECALL_EXP) * np.power(precision, 1.0 - RECALL_EXP)
        fuzzy = process.cdist([" ".join(tokens)], self.choices, scorer=fuzz.token_sort_ratio, dtype=np.float32)[0]
        combined = (1.0 - FUZZY_WEIGHT) * phrase_score + FUZZY_WEIGHT * fuzzy * (inter > 0)
        best_phrase = np.zeros(len(self.entries), dtype=np.float32)
        np.maximum.at(best_phrase, self.owner, combined.astype(np.float32))

        support = (self.entry_matrix[:, known] @ known_w) / total * 100.0
        scores = (1.0 - ENTRY_WEIGHT) * best_phrase + ENTRY_WEIGHT * support
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
