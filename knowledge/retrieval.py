"""Question → entry retrieval: the message cut to its question, lexical and dense scores fused, a calibrated decision.

1. knowledge/message.py removes greetings, self-introductions, thanks and emoji, and separates the asking
   sentence(s) from the story around them (context).
2. Lexical score: normalised, stemmed tokens; IDF-weighted recall and precision against every phrasing, plus
   the entry's support and a small fuzzy tie-breaker (0–100). Context words count for less.
3. Dense score: the cosine of the question to the entry's phrasings (knowledge/dense.py); the same embedding's
   best cosine with the out-of-scope examples (knowledge/out_of_scope.toml) gives the feature "beyond".
4. Fused score = LEXICAL_WEIGHT · lexical + (1 − LEXICAL_WEIGHT) · rescaled dense, 0–100; entries ranked by it.
5. Decision (knowledge/calibration.py): answer when the estimated probability that the best entry is right
   reaches `answer_probability`; else offer the closest topics when one of them is likely right; else a miss,
   which says whether the question is out of scope or in scope but not settled by the texts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from knowledge.base import Entry, KnowledgeBase
from knowledge.calibration import FEATURES, Calibration
from knowledge.citations import article_of
from knowledge.message import Message, MessageStripper
from knowledge.normalise import Normaliser, fold
from knowledge.settings import RetrievalConfig

# How a phrasing's lexical score weighs recall (share of the question's IDF weight that the phrasing contains)
# against precision (share of the phrasing's IDF weight that the question contains).
RECALL_EXP = 0.65
# Entry-level support: the question's words found anywhere in the entry (all phrasings, title, answer).
ENTRY_WEIGHT = 0.25
# Tie-breaker on the surface form (word order, near-spellings): rapidfuzz token_sort_ratio.
FUZZY_WEIGHT = 0.10
# A question word not in the knowledge base is corrected to the closest known word at this ratio.
TYPO_CUTOFF = 84
TYPO_MIN_LEN = 4
FIX_CACHE = 50_000  # unknown words whose reading is remembered
# A word the knowledge base does not know weighs this share of the rarest known word's IDF: enough that a
# question about something else scores low, not so much that one stray word sinks a clear match.
UNKNOWN_WEIGHT = 0.5
# Words of the context (sentences around the asking one) weigh this much against the question's own words.
CONTEXT_WEIGHT = 0.3
# A question with fewer known words than this, naming no kerja sama term or key term, is vague: its context
# counts in full.
VAGUE_TOKENS = 3
# Fusion: the dense cosine is rescaled from [DENSE_LOW, DENSE_HIGH] to [0, 1] before weighting.
LEXICAL_WEIGHT = 0.7
DENSE_LOW = 0.25
DENSE_HIGH = 0.85
# The encoder reads at most this many words of the message (its time grows with length; accuracy did not).
DENSE_MAX_WORDS = 32
# How many of the best-ranked entries the Result keeps (suggestions need at most 3).
RANKED_KEPT = 5
# A third suggestion is shown only when its fused score is within this of the best.
THIRD_WITHIN = 15.0

MISSES = ("out_of_scope", "not_in_texts", "unclear")  # the values of Result.miss


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float


@dataclass(frozen=True)
class Result:
    """The outcome of one question: "answer", "suggest" or "none" (or "smalltalk").

    `miss` says why nothing was answered: "out_of_scope" (outcome "none"), "not_in_texts" (outcome "none", in
    scope but no entry settles it; `suggestions` holds the closest topics), "unclear" (outcome "suggest").
    `asked` is the question as retrieval saw it (the message without greetings, introductions, thanks).
    """

    question: str
    outcome: str
    best: Match | None = None
    suggestions: tuple[Match, ...] = ()
    smalltalk: str = ""  # "greeting" | "thanks" when outcome == "smalltalk"
    ranked: tuple[Match, ...] = field(default=(), repr=False)
    miss: str = ""
    asked: str = ""
    probability: float = 0.0  # estimated probability that `best` is right
    features: tuple[float, ...] = field(default=(), repr=False)
    # True when an out-of-scope term (normalisation.toml [out_of_scope]) decided it before the calibration; its
    # features are still recorded, for refitting the calibration (knowledge/calibrate.py).
    by_term: bool = False

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
            "miss": self.miss or None,
            "asked": self.asked,
            "probability": round(self.probability, 3),
        }


@dataclass
class Scores:
    """Per-entry scores of one question (arrays indexed like Retriever.entries)."""

    lexical: np.ndarray  # 0–100
    dense: np.ndarray  # cosine
    fused: np.ndarray  # 0–100
    tokens: list[str]  # the question's normalised tokens (context excluded)
    unknown: float  # share of the question's tokens the knowledge base does not know
    support: np.ndarray  # share of the question's weight each entry contains anywhere, 0–1
    context: list[str] = field(default_factory=list)  # the context's tokens (other sentences of the message)
    beyond: float = -1.0  # the best cosine with an out-of-scope example (−1 without them)
    typed: list[str] = field(default_factory=list)  # question and context tokens before typo correction


def _plain(text: str) -> str:
    """What the encoder sees: lower case, no punctuation (the KB's phrasings are written that way)."""
    return fold(text)


class Retriever:
    """Indexes a knowledge base once; answers questions in a few milliseconds each."""

    def __init__(
        self,
        kb: KnowledgeBase,
        normaliser: Normaliser,
        cfg: RetrievalConfig,
        *,
        encoder=None,
        dense: bool = True,
        calibration: Calibration | None = None,
        stripper: MessageStripper | None = None,
    ):
        """`encoder`: the sentence encoder (default: the process-wide USE); `dense=False` ranks lexically only."""
        self.kb = kb
        self.norm = normaliser
        self.cfg = cfg
        self.entries = list(kb.entries)
        self.position = {e.id: i for i, e in enumerate(self.entries)}
        directory = getattr(kb, "directory", None)
        self.stripper = stripper or normaliser.stripper
        self.calibration = calibration or Calibration.for_directory(directory)
        self.articles = [frozenset(article_of(c) for c in e.citations) for e in self.entries]
        self._build_lexical()
        texts, owner = [], []
        for i, e in enumerate(self.entries):
            for phrase in (*e.questions, e.title):
                texts.append(_plain(phrase))
                owner.append(i)
        self.dense = None
        self.beyond = None
        if dense:
            from knowledge.dense import DenseIndex, default_encoder

            self.dense = DenseIndex(encoder or default_encoder(), texts, owner, len(self.entries))
            # Questions the assistant must not answer (out_of_scope.toml): a message nearer to one of them than to
            # the best entry is probably about something else (feature "beyond").
            examples = [_plain(q) for _, q in kb.out_of_scope]
            self.beyond = DenseIndex(self.dense.encoder, examples, [0] * len(examples), 1) if examples else None

    def _build_lexical(self) -> None:
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
        self.entry_tokens = entry_tokens
        self._fixes: dict[str, str] = {}  # unknown word → its informal/typo reading (or itself)
        # Terms that name a thing (normalisation.toml [key_terms]): BKAD, BUM Desa, BPD, Musdes …
        self.terms = self.norm.key_term_tokens
        # The things each entry is about: the key terms in its title ("Apa itu BUM Desa" → bum desa).
        self.title_terms = [set(self.norm.tokens(e.title)) & self.terms for e in self.entries]
        self.choices = [" ".join(p) for p in phrasings]
        # Each phrasing's words sorted once: rapidfuzz's token_sort_ratio is ratio() on sorted words, so the
        # question's words are sorted per question and the phrasings' not again (an object array, to index by hit).
        self._sorted_choices = np.array([" ".join(sorted(c.split())) for c in self.choices], dtype=object)
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
        self.unknown_idf = UNKNOWN_WEIGHT * float(math.log(1.0 + (n + 1) / 0.5))
        # Postings: for each word, the phrasings and the entries that contain it; each phrasing's IDF weight.
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
        """Normalised question tokens; an unknown word is read as informal Indonesian or corrected as a typo."""
        return self._read(self.norm.tokens(question))

    def _read(self, typed: list[str]) -> list[str]:
        """Normalised tokens as typed → as read (unknown words read as informal forms or typos), deduplicated."""
        out = []
        for t in typed:
            if t not in self.vocab_index and len(t) >= TYPO_MIN_LEN and self.vocab and not t.isdigit():
                fixed = self._fixes.get(t)
                if fixed is None:
                    fixed = self._informal(t) or self._typo(t) or t
                    if len(self._fixes) < FIX_CACHE:
                        self._fixes[t] = fixed
                t = fixed
            out.append(t)
        return list(dict.fromkeys(out))

    def _informal(self, word: str) -> str | None:
        """A known stem for an informal form: "-in" for "-kan" (bikinin), "ny-/ng-" for "meny-/meng-"."""
        candidates = []
        if word.endswith("in") and len(word) > 5:
            candidates += [word[:-2] + "kan", word[:-2]]
        for short, formal in (("ny", "meny"), ("ng", "meng"), ("nge", "me")):
            if word.startswith(short):
                candidates += [formal + word[len(short):], formal + word[len(short):-2] + "kan"]
        for c in candidates:
            for tok in self.norm.tokens(c):
                if tok in self.vocab_index:
                    return tok
        return None

    def _typo(self, word: str) -> str | None:
        hit = process.extractOne(word, self.vocab, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
        return hit[0] if hit else None

    def _lexical(self, tokens: list[str], context: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Lexical score 0–100 of every entry, and its support (share of the question's weight the entry has
        anywhere, 0–1); context tokens weigh CONTEXT_WEIGHT."""
        scores = np.zeros(len(self.entries), dtype=np.float32)
        # A vague question ("apakah ini diperbolehkan?") takes its subject from the context in full; one that names
        # its subject ("Perber kades?", "BKAD itu apa?") does not, however short.
        named = sum(t in self.vocab_index for t in tokens) >= VAGUE_TOKENS or self.norm.names_in_scope(tokens)
        cw = CONTEXT_WEIGHT if named else 1.0
        weights = [(t, 1.0) for t in tokens] + [(t, cw) for t in context if t not in tokens]
        known = [(self.vocab_index[t], w) for t, w in weights if t in self.vocab_index]
        if not known or not self.entries:
            return scores, scores.copy()
        cols = np.array([j for j, _ in known], dtype=np.int64)
        known_w = (self.idf[cols] * np.array([w for _, w in known])).astype(np.float32)
        total = float(known_w.sum()) + self.unknown_idf * sum(w for t, w in weights if t not in self.vocab_index)

        inter = np.zeros(len(self.choices), dtype=np.float32)
        support = np.zeros(len(self.entries), dtype=np.float32)
        for j, w in zip(cols, known_w):
            inter[self.phrase_postings[j]] += w
            support[self.entry_postings[j]] += w
        support = support / total * 100.0
        hit = np.flatnonzero(inter)
        recall = np.minimum(inter[hit] / total, 1.0)
        precision = np.minimum(inter[hit] / np.maximum(self.phrase_weight[hit], 1e-6), 1.0)
        phrase_score = 100.0 * np.power(recall, RECALL_EXP) * np.power(precision, 1.0 - RECALL_EXP)
        fuzzy = process.cdist(
            [" ".join(sorted(" ".join(tokens).split()))], self._sorted_choices[hit].tolist(), scorer=fuzz.ratio,
            dtype=np.float32,
        )[0]
        combined = (1.0 - FUZZY_WEIGHT) * phrase_score + FUZZY_WEIGHT * fuzzy
        best_phrase = np.zeros(len(self.entries), dtype=np.float32)
        np.maximum.at(best_phrase, self.owner[hit], combined.astype(np.float32))
        return (1.0 - ENTRY_WEIGHT) * best_phrase + ENTRY_WEIGHT * support, support / 100.0

    def score(self, message: Message) -> Scores:
        """Lexical, dense and fused scores of every entry for a stripped message."""
        typed = self.norm.tokens(message.question)
        typed_context = self.norm.tokens(message.context) if message.context else []
        tokens = self._read(typed)
        context = self._read(typed_context) if typed_context else []
        lexical, support = self._lexical(tokens, context)
        if self.dense is not None:
            # The whole message (question first, then its story): the story often carries the subject
            # ("… apakah itu sesuai aturan?"). Cut to DENSE_MAX_WORDS words: the encoder's time grows with length.
            words = _plain(message.text).split()[:DENSE_MAX_WORDS]
            vector = self.dense.embed([" ".join(words)])
            dense = self.dense.cosines(vector)
            beyond = float(self.beyond.cosines(vector)[0]) if self.beyond is not None else -1.0
            rescaled = np.clip((dense - DENSE_LOW) / (DENSE_HIGH - DENSE_LOW), 0.0, 1.0) * 100.0
            fused = LEXICAL_WEIGHT * lexical + (1.0 - LEXICAL_WEIGHT) * rescaled
        else:
            dense = np.zeros(len(self.entries), dtype=np.float32)
            fused = lexical
            beyond = -1.0
        unknown = sum(t not in self.vocab_index for t in tokens) / len(tokens) if tokens else 1.0
        fused = np.asarray(fused, dtype=np.float32)
        return Scores(lexical, dense, fused, tokens, unknown, support, context, beyond, typed + typed_context)

    def rank(self, question: str, limit: int | None = None) -> list[Match]:
        """Entries by fused score 0–100, best first: all, or the best `limit` (empty when nothing relates)."""
        s = self.score(self.stripper.strip(question))
        return self._order(s, limit)

    def _order(self, s: Scores, limit: int | None) -> list[Match]:
        order = np.argsort(-s.fused, kind="stable")
        if limit is not None:
            order = order[:limit]
        return [Match(self.entries[i], float(s.fused[i])) for i in order if s.fused[i] > 0]

    def missing_terms(self, s: Scores, index: int) -> list[str]:
        """The question's key terms (normalisation.toml [key_terms]) that entry `index` never mentions."""
        return [t for t in dict.fromkeys(s.tokens) if t in self.terms and t not in self.entry_tokens[index]]

    def features(self, s: Scores, order: list[int]) -> np.ndarray:
        """The calibration features (knowledge/calibration.py FEATURES) for the best-ranked entry."""
        top = order[0]
        rival = next((i for i in order[1:] if not self.articles[i] & self.articles[top]), None)
        margin = (s.fused[top] - s.fused[rival]) / 100.0 if rival is not None else s.fused[top] / 100.0
        lex_top = int(np.argmax(s.lexical))
        dense_top = int(np.argmax(s.dense))
        agree = float(
            (lex_top == top or bool(self.articles[lex_top] & self.articles[top]))
            and (dense_top == top or bool(self.articles[dense_top] & self.articles[top]))
        )
        anchor = float(self.norm.names_in_scope(s.tokens + s.context))
        values = {
            "fused": s.fused[top] / 100.0,
            "margin": margin,
            "lexical": s.lexical[top] / 100.0,
            "dense": s.dense[top],
            "agree": agree,
            "unknown": s.unknown,
            "length": math.log1p(len(s.tokens)),
            "anchor": anchor,
            "support": float(s.support[top]),
            "story": float(bool(s.context)),
            "missing": float(min(2, len(self.missing_terms(s, top)))),
            "beyond": float(s.beyond - s.dense[top]) if s.beyond > -1.0 else 0.0,
        }
        return np.array([float(values[f]) for f in FEATURES], dtype=np.float64)

    def search(self, question: str) -> Result:
        """Decide: answer the best entry, suggest the closest topics, or say why nothing was found."""
        message = self.stripper.strip(question)
        if message.empty:
            talk = self.stripper.smalltalk(question)
            if talk:
                return Result(question, "smalltalk", smalltalk=talk)
            return Result(question, "none", miss="unclear")
        asked = message.question
        s = self.score(message)
        order = [int(i) for i in np.argsort(-s.fused, kind="stable")[:RANKED_KEPT]]
        ranked = tuple(Match(self.entries[i], float(s.fused[i])) for i in order if s.fused[i] > 0)
        # Out-of-scope terms are read before typo correction too ("cair" is not a typo of "air").
        if self.norm.out_of_scope(s.tokens + s.context) or self.norm.out_of_scope(s.typed):
            features = tuple(self.features(s, order).tolist()) if ranked else ()
            return Result(question, "none", miss="out_of_scope", asked=asked, ranked=ranked, features=features,
                          by_term=True)
        if not ranked:
            return Result(question, "none", miss="out_of_scope", asked=asked)
        x = self.features(s, order)
        p_answer = self.calibration.answer.p(x)
        p_suggest = self.calibration.suggest.p(x)
        best = ranked[0]
        common = dict(best=best, ranked=ranked, asked=asked, probability=p_answer, features=tuple(x.tolist()))
        # A question naming a thing the best entry never mentions ("apakah BKAD berbadan hukum?" → the BUM Desa
        # entry) weighs in the calibration (feature "missing"); when it is not answered, it is in scope and the
        # texts at hand do not settle it: the closest topics and the one naming that thing are offered.
        missing = self.missing_terms(s, order[0])
        # About another thing altogether: the question names a thing the entry never mentions, and the entry's
        # own subject is not in the question ("apakah BKAD berbadan hukum?" → "Apa itu BUM Desa"). Never answered
        # with it. (A thing merely mentioned beside the entry's own — "MAD itu siapa yang mengundang, camat atau
        # kades?" — only lowers the probability, through the feature.)
        other_thing = bool(missing) and bool(self.title_terms[order[0]] - set(s.tokens))
        if p_answer >= self.cfg.answer_probability and not other_thing:
            return Result(question, "answer", **common)
        floor = best.score - THIRD_WITHIN
        # Always two topics to choose from, a third only when it is close.
        sugg = tuple(ranked[:2]) + tuple(m for m in ranked[2 : self.cfg.suggestions] if m.score >= floor)
        if missing and p_suggest >= self.cfg.suggest_probability:
            named = tuple(m for m in ranked if set(missing) & self.entry_tokens[self.position[m.entry.id]])
            sugg = tuple(dict.fromkeys(sugg[:1] + named[:1] + sugg[1:]))[: self.cfg.suggestions]
            return Result(question, "none", suggestions=sugg, miss="not_in_texts", **common)
        if p_suggest >= self.cfg.suggest_probability:
            return Result(question, "suggest", suggestions=sugg, miss="unclear", **common)
        # Naming a kerja sama term or a key term makes it in scope, unless the message is nearer to an
        # out-of-scope example than to any entry ("kerja sama pemkab dengan pemkab lain", "syarat jadi anggota BPD").
        if self.norm.names_in_scope(s.tokens + s.context) and s.beyond <= s.dense[order[0]]:
            return Result(question, "none", suggestions=sugg, miss="not_in_texts", **common)
        return Result(question, "none", miss="out_of_scope", **common)
