"""Retrieval benchmark: accuracy and latency of the project's retrieval vs two baselines, and growth.

Run: ./pandu-bench retrieval [--rounds N] [--scale 1,10,100]

Baselines over the same entries, measured in the same run:
  * WRatio: rapidfuzz `WRatio` of the raw question against every raw phrasing and title (rapidfuzz's own
    `default_process`: lower case, non-alphanumerics stripped; no project normalisation), entry = best phrasing.
  * BM25: `bm25s` (Lucene BM25) with one document per entry (title + phrasings + answer), lower-cased word tokens,
    no stemming or stop words.
A baseline has no "suggest" band of its own: at or above its threshold it answers its best entry, below it it
offers its top three as suggestions (the most generous reading of top-3). Its threshold is the one that
maximises top-1 + out-of-scope rejection − wrong answers on the dev questions (the file this retrieval's
thresholds were tuned on); the held-out file is scored with the same thresholds, no re-tuning.
Accuracy uses knowledge/evaluate.py unchanged. Latencies are medians over rounds of each round's p50/p99.
"""

from __future__ import annotations

import argparse
import random
import string
from dataclasses import replace

import common  # noqa: F401  (puts the repository on sys.path)
import bm25s
import numpy as np
from rapidfuzz import fuzz, process, utils

from bot.config import load_config
from knowledge import normalise
from knowledge.base import KnowledgeBase, load_kb
from knowledge.evaluate import evaluate, read_questions
from knowledge.normalise import Normaliser
from knowledge.retrieval import Match, Result, Retriever

TOP = 3


class Baseline:
    """A ranker with one threshold: answer the best entry at or above it, else suggest the top three."""

    name = "baseline"

    def __init__(self, kb: KnowledgeBase):
        self.entries = list(kb.entries)
        self.threshold = 0.0
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] | None = None

    def scores(self, question: str) -> np.ndarray:
        raise NotImplementedError

    def top(self, question: str) -> tuple[np.ndarray, np.ndarray]:
        """Indices and scores of the best TOP entries, best first."""
        if self._cache is not None and question in self._cache:
            return self._cache[question]
        s = self.scores(question)
        k = min(TOP, len(s))
        idx = np.argpartition(-s, k - 1)[:k]
        idx = idx[np.argsort(-s[idx], kind="stable")]
        out = (idx, s[idx])
        if self._cache is not None:
            self._cache[question] = out
        return out

    def search(self, question: str) -> Result:
        """The same Result shape as the project's retriever, so evaluate() applies unchanged."""
        idx, sc = self.top(question)
        matches = [Match(self.entries[i], float(v)) for i, v in zip(idx, sc) if v > 0]
        if not matches:
            return Result(question, "none")
        if matches[0].score >= self.threshold:
            return Result(question, "answer", best=matches[0])
        return Result(question, "suggest", best=matches[0], suggestions=tuple(matches))

    def tune(self, rows) -> dict:
        """Pick the threshold maximising top-1 + OOS rejection − wrong answers on rows; return that report."""
        self._cache = {}
        try:
            tops = sorted({float(self.top(r.q)[1][0]) for r in rows} | {float("inf")})
            best_key, best = None, None
            for t in tops:
                self.threshold = t
                rep = evaluate(self, rows)
                key = (rep["top1"] + rep["oos_rejection"] - rep["wrong_answer"], -rep["wrong_answer"], rep["top3"])
                if best_key is None or key > best_key:
                    best_key, best = key, (t, rep)
            self.threshold = best[0]
            return best[1]
        finally:
            self._cache = None


class WRatioBaseline(Baseline):
    name = "WRatio (raw text)"

    def __init__(self, kb: KnowledgeBase):
        super().__init__(kb)
        self.choices, owner = [], []
        for i, e in enumerate(self.entries):
            for phrase in (*e.questions, e.title):
                self.choices.append(utils.default_process(phrase))
                owner.append(i)
        self.owner = np.array(owner, dtype=np.int64)

    def scores(self, question: str) -> np.ndarray:
        q = utils.default_process(question)
        sims = process.cdist([q], self.choices, scorer=fuzz.WRatio, dtype=np.float32, workers=1)[0]
        best = np.zeros(len(self.entries), dtype=np.float32)
        np.maximum.at(best, self.owner, sims)
        return best


class BM25Baseline(Baseline):
    name = "BM25 (bm25s)"

    def __init__(self, kb: KnowledgeBase):
        super().__init__(kb)
        docs = [" ".join((e.title, *e.questions, e.answer)) for e in self.entries]
        corpus = bm25s.tokenize(docs, stopwords=None, return_ids=False, show_progress=False)
        self.model = bm25s.BM25()
        self.model.index(corpus, show_progress=False)

    def scores(self, question: str) -> np.ndarray:
        toks = bm25s.tokenize([question], stopwords=None, return_ids=False, show_progress=False)[0]
        return np.asarray(self.model.get_scores(toks), dtype=np.float32)


class Ours:
    """The project's retriever, under the same interface."""

    name = "Pandu retrieval"

    def __init__(self, kb: KnowledgeBase, norm: Normaliser, cfg):
        self.retriever = Retriever(kb, norm, cfg)
        self.threshold = cfg.answer_score

    def search(self, question: str) -> Result:
        return self.retriever.search(question)


def cold_stemmer() -> None:
    """Forget the stem cache so index time includes stemming, as at a real start."""
    normalise._stem.cache_clear()


def synthetic_kb(kb: KnowledgeBase, factor: int, seed: int = 7) -> KnowledgeBase:
    """The KB plus (factor − 1) perturbed copies of every entry, each copy with new ids and three new words."""
    if factor <= 1:
        return kb
    rng = random.Random(seed)
    letters = string.ascii_lowercase
    entries = list(kb.entries)
    for k in range(1, factor):
        for e in kb.entries:
            words = ["".join(rng.choice(letters) for _ in range(rng.randint(6, 9))) for _ in range(3)]

            def perturb(text: str) -> str:
                toks = text.split()
                if len(toks) > 2:
                    j = rng.randrange(len(toks) - 1)
                    toks[j], toks[j + 1] = toks[j + 1], toks[j]
                toks[rng.randrange(len(toks))] = rng.choice(words)
                return " ".join(toks)

            entries.append(
                replace(
                    e,
                    id=f"{e.id}-s{k}",
                    title=perturb(e.title),
                    questions=tuple(perturb(q) for q in e.questions),
                    answer=e.answer + " " + " ".join(words),
                    related=(),
                )
            )
    return KnowledgeBase(entries, kb.regulations, kb.version, kb.date, kb.directory, [])


def latency(method, queries: list[str], rounds: int) -> tuple[float, float, float]:
    """(median p50, median p99, median max) in ms over rounds; one warm-up pass first."""
    for q in queries[:50]:
        method.search(q)
    p50, p99, mx = [], [], []
    for _ in range(rounds):
        t = common.time_each(method.search, queries)
        p50.append(common.percentile(t, 50))
        p99.append(common.percentile(t, 99))
        mx.append(max(t))
    return common.median(p50), common.median(p99), common.median(mx)


def build(kind: str, kb: KnowledgeBase, norm: Normaliser, cfg):
    if kind == "ours":
        return Ours(kb, norm, cfg)
    return {"wratio": WRatioBaseline, "bm25": BM25Baseline}[kind](kb)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds per method (default 5)")
    ap.add_argument("--scale", default="1,10,100", help="KB size factors for the growth table")
    ap.add_argument("--scale-rounds", type=int, default=3)
    args = ap.parse_args()
    common.heading("Retrieval: Pandu vs WRatio vs BM25")

    config = load_config(common.REPO / "config.toml")
    cfg = config.retrieval
    load_ms = []
    for _ in range(args.rounds):
        ms, kb = common.timed(lambda: load_kb(config.knowledge_dir))
        load_ms.append(ms)
    if kb.problems:
        print(f"note: the knowledge base has {len(kb.problems)} validation problem(s); measured anyway\n")
    norm = Normaliser.from_file(config.knowledge_dir / "normalisation.toml")
    dev = read_questions(common.DEV_QUESTIONS)
    held = read_questions(common.HELD_OUT_QUESTIONS) if common.HELD_OUT_QUESTIONS.is_file() else []
    phrasings = [q for e in kb.entries for q in e.questions]
    queries = phrasings + [r.q for r in dev]

    kinds = ["ours", "wratio", "bm25"]
    methods, index_ms = {}, {k: [] for k in kinds}
    for _ in range(args.rounds):
        for k in kinds:
            cold_stemmer()
            ms, m = common.timed(lambda: build(k, kb, norm, cfg))
            index_ms[k].append(ms)
            methods[k] = m
    acc_dev, acc_held = {}, {}
    for k in kinds:
        m = methods[k]
        acc_dev[k] = m.tune(dev) if k != "ours" else evaluate(m, dev)
        acc_held[k] = evaluate(m, held) if held else None

    n_phr = sum(len(e.questions) + 1 for e in kb.entries)
    print(
        f"{len(kb.entries)} entries, {n_phr} phrasings+titles; dev questions: {len(dev)} "
        f"({sum(not r.oos for r in dev)} in scope); held-out: {len(held)}. Rounds: {args.rounds}.\n"
    )
    for label, acc, rows in (("dev questions", acc_dev, dev), ("held-out questions", acc_held, held)):
        if not rows:
            continue
        print(f"Accuracy on the {label} ({len(rows)} rows; thresholds tuned on the dev questions):\n")
        print(
            common.table(
                ["method", "threshold", "top-1 %", "top-3 %", "OOS rejected %", "wrong % of rows"],
                [
                    [
                        methods[k].name,
                        common.fmt(methods[k].threshold, 1),
                        acc[k]["top1"],
                        acc[k]["top3"],
                        acc[k]["oos_rejection"],
                        acc[k]["wrong_answer"],
                    ]
                    for k in kinds
                ],
            )
        )
        print()

    lat = {k: latency(methods[k], queries, args.rounds) for k in kinds}
    base = lat["ours"]
    print(f"Latency per question over {len(queries)} questions (all KB phrasings + dev questions), ms:\n")
    print(
        common.table(
            ["method", "p50", "p99", "max", "p99 vs Pandu", "load+index ms", "index vs Pandu"],
            [
                [
                    methods[k].name,
                    common.fmt(lat[k][0], 3),
                    common.fmt(lat[k][1], 3),
                    common.fmt(lat[k][2], 2),
                    f"{lat[k][1] / base[1]:.2f}×",
                    common.fmt(common.median(load_ms) + common.median(index_ms[k]), 0),
                    f"{common.median(index_ms[k]) / common.median(index_ms['ours']):.2f}×",
                ]
                for k in kinds
            ],
        )
    )
    print(f"\n(load_kb: {common.fmt(common.median(load_ms), 0)} ms of that; index: stem cache cleared first)\n")

    factors = [int(f) for f in args.scale.split(",") if f.strip()]
    if not factors:
        return
    sample = random.Random(1).sample(phrasings, min(150, len(phrasings))) + [r.q for r in dev]
    rows, first = [], {}
    for f in factors:
        big = synthetic_kb(kb, f)
        n = sum(len(e.questions) + 1 for e in big.entries)
        for k in kinds:
            cold_stemmer()
            ms, m = common.timed(lambda: build(k, big, norm, cfg))
            p50, p99, _ = latency(m, sample, args.scale_rounds)
            first.setdefault(k, p99)
            rows.append(
                [f"{f}×", len(big.entries), n, m.name, common.fmt(ms, 0), common.fmt(p50, 3), common.fmt(p99, 3),
                 f"{p99 / first[k]:.1f}×"]
            )
            del m
    print(
        f"Growth: synthetic KB (perturbed copies, 3 new words each), {len(sample)} questions, "
        f"{args.scale_rounds} rounds, ms:\n"
    )
    print(common.table(["size", "entries", "phrasings", "method", "index ms", "p50", "p99", "p99 vs 1×"], rows))


if __name__ == "__main__":
    main()
