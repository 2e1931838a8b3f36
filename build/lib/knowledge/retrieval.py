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
# search() ranks only the best few entries (suggestions need at most 3, the margin the 2nd).
RANKED_KEPT = 5


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
        # Sparse index (postings): for each word, the phrasings and the entries that contain it; the
        # phrasings' total IDF weight. Memory and query time grow with the words a question shares.
        idf32 = self.idf.astype(np.float32)
        phrase_rows: list[list[int]] = [[] for _ in self.vocab]
        self.phrase_weight = np.zeros(len(phrasings), dtype=np.float32)
        for r, tokens in enumerate(phrasings):
            cols = [self.vocab_index[t] for t in tokens]
            for j in cols:
                phrase_rows[j].append(r)
            self.phrase_weight[r] = idf32[cols].sum() if cols else 0.0
        entry_rows: list[list[int]] = [[] for _ in self.vocab]
        for i, toks in enumerate(entry_tokens):
            for t in toks:
                entry_rows[self.vocab_index[t]].append(i)
        self.phrase_postings = [np.array(rows, dtype=np.int64) for rows in phrase_rows]
        self.entry_postings = [np.array(rows, dtype=np.int64) for rows in entry_rows]

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

    def rank(self, question: str, limit: int | None = None) -> list[Match]:
        """Entries scored 0–100 for the question, best first: all, or only the best `limit` (empty when no word is known)."""
        tokens = self.query_tokens(question)
        known = [self.vocab_index[t] for t in tokens if t in self.vocab_index]
        if not known or not self.entries:
            return []
        known_w = self.idf[known].astype(np.float32)
        total = float(known_w.sum()) + self.unknown_idf * (len(tokens) - len(known))

        inter = np.zeros(len(self.choices), dtype=np.float32)
        support = np.zeros(len(self.entries), dtype=np.float32)
        for j, w in zip(known, known_w):
            inter[self.phrase_postings[j]] += w
            support[self.entry_postings[j]] += w
        support = support / total * 100.0
        # Only phrasings sharing a word with the question score above 0 (the fuzzy term needs one too).
        hit = np.flatnonzero(inter)
        recall = inter[hit] / total
        precision = inter[hit] / np.maximum(self.phrase_weight[hit], 1e-6)
        phrase_score = 100.0 * np.power(recall, RECALL_EXP) * np.power(precision, 1.0 - RECALL_EXP)
        base = (1.0 - FUZZY_WEIGHT) * phrase_score
        owners = self.owner[hit]
        if limit is not None and len(hit):
            # Skip the fuzzy score for entries that cannot reach the best `limit` even with fuzzy = 100.
            lower = np.zeros(len(self.entries), dtype=np.float32)
            np.maximum.at(lower, owners, base.astype(np.float32))
            lower = (1.0 - ENTRY_WEIGHT) * lower + ENTRY_WEIGHT * support
            kth = np.partition(lower, -min(limit, len(lower)))[-min(limit, len(lower))]
            keep = (lower + (1.0 - ENTRY_WEIGHT) * FUZZY_WEIGHT * 100.0 + 1e-3 >= kth)[owners]
            hit, base, owners = hit[keep], base[keep], owners[keep]
        fuzzy = process.cdist(
            [" ".join(tokens)], [self.choices[r] for r in hit], scorer=fuzz.token_sort_ratio, dtype=np.float32
        )[0]
        combined = base + FUZZY_WEIGHT * fuzzy
        best_phrase = np.zeros(len(self.entries), dtype=np.float32)
        np.maximum.at(best_phrase, owners, combined.astype(np.float32))

        scores = (1.0 - ENTRY_WEIGHT) * best_phrase + ENTRY_WEIGHT * support
        if limit is None or limit >= len(scores):
            order = np.argsort(-scores, kind="stable")
        else:  # the same order as the full stable sort, for the first `limit`
            cand = np.flatnonzero(scores >= np.partition(scores, -limit)[-limit])
            order = cand[np.argsort(-scores[cand], kind="stable")][:limit]
        return [Match(self.entries[i], float(scores[i])) for i in order]

    def search(self, question: str) -> Result:
        """Decide: answer the best entry, suggest the closest topics, or nothing."""
        talk = self.norm.smalltalk(question)
        if talk:
            return Result(question, "smalltalk", smalltalk=talk)
        if self.norm.out_of_scope(self.norm.tokens(question)):
            return Result(question, "none")
        ranked = self.rank(question, limit=max(RANKED_KEPT, self.cfg.suggestions))
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
