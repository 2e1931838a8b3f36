"""Retrieval benchmark: accuracy, latency, start-up and memory of the hybrid retrieval vs its parts and baselines.

Run: ./pandu-bench retrieval [--rounds N] [--skip-startup]

Methods, all over the same entries, measured in the same run:
  * Pandu hybrid (USE): the shipped retriever — message stripping, lexical + USE v3 cosine, calibrated decision.
  * Pandu hybrid (char n-grams): the same with the alternative encoder (TF-IDF of character 3–5-grams fitted
    on the knowledge base, reduced to 256 dimensions by SVD; numpy only). Its decision uses the USE-fitted
    calibration, so read its ranking columns.
  * Pandu lexical only: the same retriever without a dense score (same stripping and calibration).
  * USE alone / char n-grams alone: the cosine to the best phrasing of each entry, raw question, no stripping.
  * WRatio: rapidfuzz `WRatio` of the raw question against every raw phrasing; BM25: `bm25s`, one document per
    entry (title + phrasings + answer), lower-cased word tokens, no stemming or stop words.
A baseline (the last four) answers its best entry at or above its threshold and otherwise offers its top three.
Its threshold maximises top-1 + out-of-scope rejection − wrong answers on the blind set's tune half (the half the
hybrid's fusion weight and calibration were fitted on); every other set is scored with the same threshold.
Question sets: the blind set's test half, the third blind set, the fourth to seventh blind sets' test halves and
the real questions are held out (never tuned on); dev, extra and the tune half are not. "wrapped" = every question under
the 10 wrappers of knowledge/metamorphic.py.
Latency: per question, medians over rounds of each round's p50/p99 of wall time, and the p99 of the thread's CPU
time (what a question costs when it need not wait for a core another process holds), over all KB phrasings, the
dev and blind questions, and a fifth of their wrapped forms. Start-up and RSS: a fresh `python` process that imports the bot
and loads the knowledge base (median of 3).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from collections import Counter

import common
import bm25s
import numpy as np
from rapidfuzz import fuzz, process, utils

from bot.config import load_config
from knowledge.base import KnowledgeBase, load_kb
from knowledge.dense import DenseIndex, default_encoder
from knowledge.evaluate import Row, evaluate, read_questions, wrapped_rows
from knowledge.normalise import Normaliser, fold
from knowledge.retrieval import Match, Result, Retriever

TOP = 3
DATA = common.REPO / "tests" / "data"


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
        matches = tuple(Match(self.entries[i], float(v)) for i, v in zip(idx, sc) if v > 0)
        if not matches:
            return Result(question, "none")
        if matches[0].score >= self.threshold:
            return Result(question, "answer", best=matches[0], ranked=matches)
        return Result(question, "suggest", best=matches[0], suggestions=matches, ranked=matches)

    def tune(self, rows) -> None:
        """Pick the threshold maximising top-1 + OOS rejection − wrong answers on rows."""
        self._cache = {}
        try:
            tops = sorted({float(self.top(r.q)[1][0]) for r in rows} | {float("inf")})
            best_key, best_t = None, 0.0
            for t in tops:
                self.threshold = t
                rep = evaluate(self, rows)
                key = (rep["top1"] + rep["oos_rejection"] - rep["wrong_answer"], -rep["wrong_answer"], rep["top3"])
                if best_key is None or key > best_key:
                    best_key, best_t = key, t
            self.threshold = best_t
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


class CharNgramEncoder:
    """The alternative encoder: TF-IDF of character 3–5-grams of folded text, fitted on the knowledge base's
    phrasings, titles and answers, projected to `dims` dimensions by SVD and L2-normalised. Numpy only."""

    name = "char 3–5-gram TF-IDF + SVD (fitted on the KB)"

    def __init__(self, kb: KnowledgeBase, dims: int = 256):
        docs = [fold(t) for e in kb.entries for t in (*e.questions, e.title, e.answer)]
        df: Counter[str] = Counter()
        for d in docs:
            df.update(set(self._grams(d)))
        self.vocab = {g: i for i, g in enumerate(df)}
        self.idf = np.array([math.log(len(docs) / df[g]) + 1.0 for g in self.vocab], dtype=np.float32)
        X = np.stack([self._tfidf(d) for d in docs])
        _, _, vt = np.linalg.svd(X, full_matrices=False)
        self.proj = vt[:dims].T.astype(np.float32)

    @staticmethod
    def _grams(text: str) -> list[str]:
        t = f" {text} "
        return [t[i : i + n] for n in (3, 4, 5) for i in range(len(t) - n + 1)]

    def _tfidf(self, text: str) -> np.ndarray:
        v = np.zeros(len(self.vocab), dtype=np.float32)
        for g, c in Counter(self._grams(text)).items():
            j = self.vocab.get(g)
            if j is not None:
                v[j] = 1.0 + math.log(c)
        v *= self.idf
        n = np.linalg.norm(v)
        return v / n if n else v

    def encode(self, texts: list[str]) -> np.ndarray:
        z = np.stack([self._tfidf(fold(t)) for t in texts]) @ self.proj if texts else np.zeros((0, self.proj.shape[1]))
        return (z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-9)).astype(np.float32)

    encode_fresh = encode


class DenseAlone(Baseline):
    """An encoder alone: cosine of the raw question to each entry's best phrasing (or title)."""

    def __init__(self, kb: KnowledgeBase, encoder, name: str):
        super().__init__(kb)
        self.name = name
        texts, owner = [], []
        for i, e in enumerate(self.entries):
            for phrase in (*e.questions, e.title):
                texts.append(fold(phrase))
                owner.append(i)
        self.index = DenseIndex(encoder, texts, owner, len(self.entries))

    def scores(self, question: str) -> np.ndarray:
        return np.maximum(self.index.scores([fold(question)]), 0.0)


class Ours:
    """The project's retriever (or a variant), under the same interface."""

    def __init__(self, name: str, retriever: Retriever):
        self.name = name
        self.retriever = retriever
        self.threshold = float("nan")

    def search(self, question: str) -> Result:
        return self.retriever.search(question)

    def rank(self, question: str, limit: int | None = None) -> list[Match]:
        return self.retriever.rank(question, limit)


def latency(method, queries: list[str], rounds: int) -> tuple[float, float, float, float]:
    """(median p50, median p99, median max, median CPU-time p99) in ms over rounds; one warm-up pass first."""
    for q in queries[:50]:
        method.search(q)
    p50, p99, mx, cpu99 = [], [], [], []
    for _ in range(rounds):
        t = common.time_each(method.search, queries)
        p50.append(common.percentile(t, 50))
        p99.append(common.percentile(t, 99))
        mx.append(max(t))
        cpu99.append(common.percentile(common.time_each(method.search, queries, time.thread_time_ns), 99))
    return common.median(p50), common.median(p99), common.median(mx), common.median(cpu99)


STARTUP = """
import json, time, resource
t0 = time.perf_counter()
from bot.app import load_knowledge
from bot.config import load_config
t1 = time.perf_counter()
from knowledge import retrieval
if {lexical}:
    _orig = retrieval.Retriever.__init__
    retrieval.Retriever.__init__ = lambda self, *a, **k: _orig(self, *a, **{{**k, "dense": False}})
k = load_knowledge(load_config({config!r}))
t2 = time.perf_counter()
k.retriever.search("apa itu bkad")
t3 = time.perf_counter()
rss = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
print(json.dumps({{"import": t1 - t0, "load": t2 - t1, "first": t3 - t2, "rss": rss}}))
"""


def startup(lexical: bool, rounds: int = 3) -> dict:
    """Median import / load / first-question seconds and RSS MiB of a fresh process."""
    runs = []
    for _ in range(rounds):
        code = STARTUP.format(lexical=lexical, config=str(common.REPO / "config.toml"))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=common.REPO, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {k: common.median(r[k] for r in runs) for k in runs[0]}


def question_sets() -> dict[str, list[Row]]:
    blind = DATA / "blind-questions.jsonl"
    sets = {
        "blind test half (held out)": read_questions(blind, "test"),
        "third blind set (held out)": read_questions(DATA / "blind3-questions.jsonl"),
        "fourth blind set, test half (held out)": read_questions(DATA / "blind4-questions.jsonl", "test"),
        "fifth blind set, test half (held out)": read_questions(DATA / "blind5-questions.jsonl", "test"),
        "sixth blind set, test half (held out)": read_questions(DATA / "blind6-questions.jsonl", "test"),
        "seventh blind set, test half (held out)": read_questions(DATA / "blind7-questions.jsonl", "test"),
        "real questions (held out)": read_questions(DATA / "real-questions.jsonl"),
        "blind tune half (tuned on)": read_questions(blind, "tune"),
        "dev (tuned on)": read_questions(common.DEV_QUESTIONS),
    }
    sets["blind test half, wrapped"] = [w for _, _, w in wrapped_rows(sets["blind test half (held out)"])]
    sets["dev, wrapped"] = [w for _, _, w in wrapped_rows(sets["dev (tuned on)"])]
    return sets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds per method (default 3)")
    ap.add_argument("--skip-startup", action="store_true", help="skip the fresh-process start-up/RSS rows")
    args = ap.parse_args()
    common.heading("Retrieval: hybrid vs lexical vs encoders alone vs WRatio vs BM25")

    config = load_config(common.REPO / "config.toml")
    norm = Normaliser.for_directory(config.knowledge_dir)
    kb = load_kb(config.knowledge_dir, norm)
    use = default_encoder()
    ms_char, char = common.timed(lambda: CharNgramEncoder(kb))
    methods = [
        Ours("Pandu hybrid (USE)", Retriever(kb, norm, config.retrieval)),
        Ours("Pandu hybrid (char n-grams)", Retriever(kb, norm, config.retrieval, encoder=char)),
        Ours("Pandu lexical only", Retriever(kb, norm, config.retrieval, dense=False)),
        DenseAlone(kb, use, "USE v3 alone"),
        DenseAlone(kb, char, "char n-grams alone"),
        WRatioBaseline(kb),
        BM25Baseline(kb),
    ]
    sets = question_sets()
    tune = sets["blind tune half (tuned on)"]
    for m in methods:
        if isinstance(m, Baseline):
            m.tune(tune)
    print(
        f"{len(kb.entries)} entries, {sum(len(e.questions) + 1 for e in kb.entries)} phrasings+titles; "
        + "; ".join(f"{k}: {len(v)}" for k, v in sets.items())
        + f". Decision: answer_probability {config.retrieval.answer_probability}, "
        f"suggest_probability {config.retrieval.suggest_probability}.\n"
    )
    for label, rows in sets.items():
        if not rows:
            continue
        print(f"Accuracy, {label} ({len(rows)} rows), %:\n")
        table = []
        for m in methods:
            rep = evaluate(m, rows)
            table.append([
                m.name, common.fmt(m.threshold, 2), rep["rank_top1"], rep["rank_top3"], rep["top1"], rep["top3"],
                rep["wrong_answer"], rep["oos_rejection"], rep["unanswerable_declined"],
            ])
        print(common.table(
            ["method", "threshold", "rank top-1", "rank top-3", "top-1", "top-3", "wrong", "OOS declined",
             "unanswerable declined"], table))
        print()

    rows = [r for rs in (sets["dev (tuned on)"], sets["blind test half (held out)"], tune) for r in rs]
    queries = [q for e in kb.entries for q in e.questions] + [r.q for r in rows] + [
        w.q for _, _, w in wrapped_rows(rows)
    ][::5]
    long = [r.q for r in rows if r.long]
    lat = {m.name: latency(m, queries, args.rounds) for m in methods}
    lat_long = {m.name: latency(m, long, args.rounds) for m in methods[:3]}
    base = lat["Pandu lexical only"]
    print(f"Latency per question over {len(queries)} questions ({len(long)} long ones apart), ms:\n")
    print(common.table(
        ["method", "p50", "p99", "max", "CPU p99", "p99 vs lexical only", "long: p50", "long: p99"],
        [[m.name, common.fmt(lat[m.name][0], 3), common.fmt(lat[m.name][1], 3), common.fmt(lat[m.name][2], 2),
          common.fmt(lat[m.name][3], 3), f"{lat[m.name][1] / base[1]:.2f}×",
          common.fmt(lat_long[m.name][0], 2) if m.name in lat_long else "—",
          common.fmt(lat_long[m.name][1], 2) if m.name in lat_long else "—"] for m in methods]))
    enc_q = [fold(q) for q in queries]
    t_use = common.time_each(lambda q: use.encode_fresh([q]), enc_q)
    t_char = common.time_each(lambda q: char.encode([q]), enc_q)
    print(f"\nEncoders alone, ms per question: USE p50 {common.fmt(common.percentile(t_use, 50), 3)} "
          f"p99 {common.fmt(common.percentile(t_use, 99), 3)}; char n-grams p50 "
          f"{common.fmt(common.percentile(t_char, 50), 3)} p99 {common.fmt(common.percentile(t_char, 99), 3)} "
          f"(fitted in {common.fmt(ms_char, 0)} ms).")
    try:
        load = open("/proc/loadavg").read().split()[:3]
        print(f"Load average during the run: {' '.join(load)} (other processes share the 2 cores).\n")
    except OSError:
        pass
    if args.skip_startup:
        return
    hybrid, lexical = startup(False), startup(True)
    print("Start-up of a fresh process (import the bot, load, validate and index the KB, first question), "
          "median of 3:\n")
    print(common.table(
        ["retriever", "import s", "load + index s", "first question s", "total s", "RSS MiB", "RSS vs lexical"],
        [[name, common.fmt(r["import"], 2), common.fmt(r["load"], 2), common.fmt(r["first"], 3),
          common.fmt(r["import"] + r["load"] + r["first"], 2), common.fmt(r["rss"], 1),
          f"{r['rss'] / lexical['rss']:.2f}×"] for name, r in (("hybrid (USE)", hybrid), ("lexical only", lexical))]))


if __name__ == "__main__":
    main()
