"""Refit knowledge/calibration.toml: `python -m knowledge.calibrate` (or `./pandu eval --refit`).

Training rows: the dev and project questions, the "tune" half of the blind set, the second blind set, the "tune"
half of the fourth to seventh, and each of those under every metamorphic wrapper; and the entry phrasings kept out
of the entries (plain). Never the blind set's "test" half, the fourth to seventh blind sets' "test" halves, the third
blind set, the sealed eighth set or the real questions: those are for reporting.
For every row the retriever's features of its best-ranked entry are recorded with two labels: is the best
entry right (answer model), is a right entry among the best three (suggest model; out-of-scope and
unanswerable rows are 0 for the suggest model; an unanswerable row counts as rightly answered by one of the
nearest topics it names). L2 strength is chosen by 5-fold cross-validation grouped by question (a
question and its wrapped forms share a fold); the final models are fitted on all rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

import numpy as np

from knowledge.base import load_kb
from knowledge.calibration import DEFAULT_FILE, FEATURES, cross_validated, fit_logistic, log_loss, neutral
from knowledge.evaluate import Row, correct, read_questions, wrapped_rows
from knowledge.normalise import Normaliser
from knowledge.retrieval import Retriever
from knowledge.settings import RetrievalConfig

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
# (file, split, wrapped, threshold) used for fitting; a missing file is skipped. `wrapped`: the rows are also
# fitted under every metamorphic wrapper. `threshold`: the answer threshold is read on its rows (the blind sets;
# not dev and extra, whose wording the phrasings were tuned on, so that their out-of-fold answers are easier than
# a new question's).
TRAINING = (
    ("dev-questions.jsonl", None, True, False),
    ("extra-questions.jsonl", None, True, False),
    ("blind-questions.jsonl", "tune", True, True),
    ("blind2-questions.jsonl", None, True, True),  # a second blind set, written later by another helper: all for tuning
    # A fourth blind set (2026-12-03, written from personas and the regulations by a helper who never saw the
    # entries or the other sets): its tune half is fitted on, its test half is held out.
    ("blind4-questions.jsonl", "tune", True, True),
    # A fifth blind set (2026-12-03, a new helper, the same brief): its tune half is fitted on, its test half is
    # held out.
    ("blind5-questions.jsonl", "tune", True, True),
    # A sixth and a seventh blind set (2026-12-03, new helpers, the same brief): their tune halves are for fitting,
    # their test halves are held out. The shipped calibration.toml predates both (the fifth round's fit): the sixth
    # round's refit answered new out-of-scope questions (fitted without the rows out-of-scope terms decide; see
    # collect), and the seventh round's, with those rows, answered one more held-out question wrongly (README).
    ("blind6-questions.jsonl", "tune", True, True),
    ("blind7-questions.jsonl", "tune", True, True),
    # Phrasings written from the entries by curators who never saw a question set, kept OUT of the entries: the
    # retriever has not seen them, so their features are those of new questions in many styles (chat, formal,
    # regional, English). Plain only: they are many, and the sets above carry the wrapping.
    ("entry-phrasings.jsonl", None, False, False),
)
L2_CHOICES = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
# The answer threshold recommended for config.toml: the lowest whose out-of-fold wrong-answer rate stays
# at or under this (share of rows).
THRESHOLD_SPLITS = 10  # fold assignments whose recommended thresholds are read; the median is kept
WRONG_TARGET = 0.02  # out of fold; held-out sets come out higher (issue 11 asks <= 3 %)


def _training_sets(data: Path, wrapped: bool | None):
    """(file name, split, reads the threshold, rows) of each TRAINING file present (`wrapped` as below)."""
    for name, split, wrap, threshold in TRAINING:
        path = data / name
        if path.is_file() and wrapped in (None, wrap):
            yield name, split, threshold, read_questions(path, split)


def training_rows(data: Path = DATA, wrapped: bool | None = None) -> tuple[list[Row], list[str]]:
    """The plain training rows and the names of the files they came from (`wrapped`: only the files fitted
    wrapped, or only the others; None: all)."""
    rows, used = [], []
    for name, split, _, got in _training_sets(data, wrapped):
        rows.extend(got)
        used.append(f"{name}" + (f" ({split} half, {len(got)})" if split else f" ({len(got)})"))
    return rows, used


def threshold_rows(data: Path = DATA) -> np.ndarray:
    """For each row of training_rows(data, wrapped=True): whether the answer threshold is read on it."""
    return np.array([t for _, _, t, got in _training_sets(data, True) for _ in got], dtype=bool)


def collect(
    retriever: Retriever, rows: list[Row], plain: list[Row] = ()
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Features, both labels, the group of every row, and whether an out-of-scope term decided it (`caught`):
    `rows` plain and wrapped, `plain` as they are. Rows caught by a term are fitted on, as questions the
    calibration must not answer: the term list is extended from the tune halves' own out-of-scope questions, so
    it catches nearly all of them, while a new set's out-of-scope questions reach the calibration far more often;
    fitted without them, the models learned what an out-of-scope question looks like from the few that escaped
    the list, and answered new ones (README, seventh round)."""
    X, y1, y3, groups, caught = [], [], [], [], []
    skipped = 0
    items = (
        [(i, r) for i, r in enumerate(rows)]
        + [(rows.index(orig), w) for _, orig, w in wrapped_rows(rows)]
        + [(len(rows) + i, r) for i, r in enumerate(plain)]
    )
    for g, r in items:
        res = retriever.search(r.q)
        if not res.features:  # smalltalk, empty, or nothing related: decided before the calibration
            skipped += 1
            continue
        caught.append(res.by_term)
        ranked = [m.entry for m in res.ranked]
        X.append(res.features)
        # Answering is right for an in-scope row whose best entry is right, and for an unanswerable row whose
        # best entry is one of the nearest topics it names (that entry says what the texts settle).
        y1.append(float(not r.oos and bool(ranked) and correct(ranked[0], r.expect)))
        y3.append(float(r.answerable and any(correct(e, r.expect) for e in ranked[:3])))
        groups.append(g)
    return np.array(X), np.array(y1), np.array(y3), np.array(groups), np.array(caught, dtype=bool), skipped


def _best_l2(X, y, groups) -> tuple[float, float, np.ndarray]:
    best = None
    for l2 in L2_CHOICES:
        oof = cross_validated(X, y, groups, l2)
        loss = log_loss(oof, y)
        if best is None or loss < best[1]:
            best = (l2, loss, oof)
    return best


def recommend_threshold(p: np.ndarray, y1: np.ndarray, n_rows: int) -> float:
    """The lowest answer probability whose out-of-fold wrong answers stay within WRONG_TARGET of all rows."""
    for t in np.arange(0.30, 0.96, 0.01):
        answered = p >= t
        wrong = np.sum(answered & (y1 == 0))
        if wrong <= WRONG_TARGET * n_rows:
            return round(float(t), 2)
    return 0.95


def main(argv: list[str] | None = None) -> int:
    """Fit both models and write the calibration file; print the cross-validated figures."""
    ap = argparse.ArgumentParser(prog="python -m knowledge.calibrate", description=__doc__.split("\n")[0])
    ap.add_argument("--knowledge", default=str(REPO / "knowledge"), help="knowledge directory")
    ap.add_argument("--out", default=str(DEFAULT_FILE), help="calibration file to write")
    args = ap.parse_args(argv)
    directory = Path(args.knowledge)
    norm = Normaliser.for_directory(directory)
    kb = load_kb(directory, norm)
    if kb.problems:
        print(f"error: the knowledge base has {len(kb.problems)} problem(s); run kb check", file=sys.stderr)
        return 2
    retriever = Retriever(kb, norm, RetrievalConfig(), calibration=neutral())  # features do not depend on it
    rows, used = training_rows(wrapped=True)
    plain, used_plain = training_rows(wrapped=False)
    X, y1, y3, groups, caught, skipped = collect(retriever, rows, plain)
    l2a, loss_a, oof_a = _best_l2(X, y1, groups)
    l2s, loss_s, oof_s = _best_l2(X, y3, groups)
    answer = fit_logistic(X, y1, l2a)
    suggest = fit_logistic(X, y3, l2s)
    # The threshold is read on the blind sets only (people's questions and their wrapped forms): the entry
    # phrasings help the fit but are not the mix of messages the bot receives, and dev and extra, which the
    # phrasings were tuned on, are answered more surely than a new question (out of fold in 2026-12-03's data,
    # 2 % wrong on all question sets' rows was 2.3–2.4 % on the blind sets' rows).
    # Rows an out-of-scope term decides are never answered, whatever the probability: not read for the threshold.
    asked = np.concatenate([threshold_rows(), np.zeros(len(plain), dtype=bool)])[groups] & ~caught
    # One assignment of questions to folds moves the recommended threshold by several hundredths (0.81–0.87 with
    # the data of 2026-12-03), so it is the median over THRESHOLD_SPLITS assignments.
    per_split = [
        recommend_threshold(oof[asked], y1[asked], int(asked.sum()))
        for oof in [oof_a] + [cross_validated(X, y1, groups, l2a, seed=s) for s in range(1, THRESHOLD_SPLITS)]
    ]
    threshold = round(float(np.median(per_split)), 2)
    acc_a = float(np.mean((oof_a >= 0.5) == (y1 == 1)))
    acc_s = float(np.mean((oof_s >= 0.5) == (y3 == 1)))
    fitted = (
        f"{dt.date.today().isoformat()} by python -m knowledge.calibrate on {len(rows)} questions "
        f"({', '.join(used)}) and their {len(wrapped_rows(rows))} wrapped forms, and {len(plain)} plain "
        f"({', '.join(used_plain)}); "
        f"{len(y1)} rows fitted ({int(caught.sum())} of them decided by an out-of-scope term; {skipped} rows "
        f"decided before the calibration). 5-fold CV grouped by question: "
        f"answer l2={l2a} log-loss {loss_a:.3f} accuracy {acc_a:.3f}; suggest l2={l2s} log-loss {loss_s:.3f} "
        f"accuracy {acc_s:.3f}; out-of-fold answer threshold for <= {WRONG_TARGET:.1%} wrong: {threshold} "
        f"(median over {THRESHOLD_SPLITS} fold assignments, {min(per_split)}–{max(per_split)}; "
        f"with the first assignment "
        f"on the blind sets' {int(asked.sum())} rows it answers "
        f"{np.mean((oof_a[asked] >= threshold) & (y1[asked] == 1)):.1%} rightly, "
        f"{np.mean((oof_a[asked] >= threshold) & (y1[asked] == 0)):.1%} wrongly)"
    )
    text = (
        "# The answer / suggest decision (knowledge/calibration.py): two logistic models over the features below.\n"
        "# Generated by `python -m knowledge.calibrate`; refit after changing entries' phrasings or the retrieval.\n"
        f"fitted = \"{fitted}\"\n"
        f"features = [{', '.join(repr(f).replace(chr(39), chr(34)) for f in FEATURES)}]\n\n"
        + answer.as_toml("answer") + "\n" + suggest.as_toml("suggest")
    )
    Path(args.out).write_text(text, encoding="utf-8")
    print(fitted)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
