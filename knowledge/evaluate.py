"""Retrieval evaluation on a question file (format: shared/eval/README.md), plain and wrapped.

Figures (percentages):
- top1 / top3: decided — the answer is right / a right entry is among the answer and the offered topics;
- rank_top1 / rank_top3: the ranking alone, ignoring the decision (the gap is what the cut-offs cost);
- wrong_answer: rows answered with an entry that is not right: in scope, a wrong entry; out of scope, any
  entry; unanswerable (in scope, not settled by the texts), an entry other than the nearest topics the row
  names in `expect` (answering with such an entry, which says what the texts do and do not settle, is counted
  as `unanswerable_nearest`, not as wrong);
- oos_rejection: out-of-scope rows not answered; unanswerable_declined: unanswerable rows not answered.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from knowledge.citations import article_of
from knowledge.metamorphic import WRAPPERS


@dataclass(frozen=True)
class Row:
    q: str
    expect: tuple[str, ...]
    oos: bool
    unanswerable: bool = False
    split: str = ""
    persona: str = ""
    long: bool = False

    @property
    def answerable(self) -> bool:
        return not self.oos and not self.unanswerable


def read_questions(path: Path, split: str | None = None) -> list[Row]:
    """Read a JSONL question file (only rows of `split` when given); raise ValueError naming a bad line."""
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            row = Row(
                str(obj["q"]),
                tuple(obj.get("expect", []) or []),
                bool(obj.get("oos", False)),
                bool(obj.get("unanswerable", False)),
                str(obj.get("split", "") or ""),
                str(obj.get("persona", "") or ""),
                bool(obj.get("long", False)),
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}:{n}: bad question row: {exc}") from None
        if split is None or row.split == split:
            rows.append(row)
    return rows


def correct(entry, expect: tuple[str, ...]) -> bool:
    """Whether an entry is a right answer: one of its citations, cut to the article, is expected."""
    return any(article_of(c) in expect for c in entry.citations)


def _ranking(res) -> list:
    """The best three entries of the ranking alone, before any decision (Result.ranked)."""
    return [m.entry for m in (res.ranked or ((res.best,) if res.best else ()) + tuple(res.suggestions))][:3]


def _pct(a: int, b: int) -> float:
    return round(100.0 * a / b, 1) if b else 0.0


def evaluate(retriever, rows: list[Row], results: list | None = None) -> dict:
    """Decided and ranking top-1/top-3, wrong answers, declines, miss kinds, and the failing rows.

    `results`: the retriever's results for the rows when already computed (one per row, same order).
    """
    ans = [r for r in rows if r.answerable]
    n_oos = sum(r.oos for r in rows)
    n_unans = sum(r.unanswerable and not r.oos for r in rows)
    top1 = top3 = rank1 = rank3 = wrong = rejected = declined = nearest = 0
    misses: Counter[str] = Counter()
    failures = []
    for i, r in enumerate(rows):
        res = results[i] if results is not None else retriever.search(r.q)
        answered = res.outcome == "answer" and res.best is not None
        if not answered:
            misses[getattr(res, "miss", "") or res.outcome] += 1
        if not r.answerable:
            if answered and r.unanswerable and not r.oos and correct(res.best.entry, r.expect):
                nearest += 1
            elif answered:
                wrong += 1
                problem = "answered out-of-scope" if r.oos else "answered unanswerable"
                failures.append({"q": r.q, "problem": problem, "entry": res.best.entry.id})
            elif r.oos:
                rejected += 1
            else:
                declined += 1
            continue
        candidates = ([res.best] if answered else []) + list(res.suggestions)
        ok1 = answered and correct(res.best.entry, r.expect)
        ok3 = any(correct(m.entry, r.expect) for m in candidates[:3])
        ranking = _ranking(res)
        rank1 += bool(ranking) and correct(ranking[0], r.expect)
        rank3 += any(correct(e, r.expect) for e in ranking[:3])
        top1 += ok1
        top3 += ok3
        if answered and not ok1:
            wrong += 1
        if not ok1:
            failures.append(
                {
                    "q": r.q,
                    "problem": "wrong answer" if answered else (getattr(res, "miss", "") or res.outcome),
                    "entry": res.best.entry.id if res.best else None,
                    "score": round(res.best.score, 1) if res.best else 0,
                    "suggestions": [m.entry.id for m in res.suggestions],
                    "ranked_first": ranking[0].id if ranking else None,
                }
            )
    return {
        "rows": len(rows),
        "in_scope": len(ans),
        "out_of_scope": n_oos,
        "unanswerable": n_unans,
        "top1": _pct(top1, len(ans)),
        "top3": _pct(top3, len(ans)),
        "rank_top1": _pct(rank1, len(ans)),
        "rank_top3": _pct(rank3, len(ans)),
        "oos_rejection": _pct(rejected, n_oos),
        "unanswerable_declined": _pct(declined, n_unans),
        "unanswerable_nearest": _pct(nearest, n_unans),
        "wrong_answer": _pct(wrong, len(rows)),
        "misses": dict(misses),
        "failures": failures,
    }


def wrapped_rows(rows: list[Row]) -> list[tuple[str, Row, Row]]:
    """(wrapper name, original row, wrapped row) for every row and wrapper."""
    out = []
    for r in rows:
        for name, fn in WRAPPERS.items():
            out.append((name, r, Row(fn(r.q), r.expect, r.oos, r.unanswerable, r.split, r.persona, r.long)))
    return out


def _key(res) -> tuple[str, str | None]:
    outcome = res.outcome if res.outcome in ("answer", "suggest") else "none"
    return outcome, res.best.entry.id if res.best and outcome == "answer" else None


def evaluate_wrapped(retriever, rows: list[Row]) -> dict:
    """Every row under every wrapper: the usual figures on the wrapped messages, and how many keep the
    plain question's outcome and entry (overall and per wrapper)."""
    triples = wrapped_rows(rows)
    results = [retriever.search(w.q) for _, _, w in triples]
    report = evaluate(retriever, [w for _, _, w in triples], results)
    plain = {r.q: _key(retriever.search(r.q)) for r in rows}
    kept: Counter[str] = Counter()
    changed = []
    for (name, r, _), res in zip(triples, results):
        if _key(res) == plain[r.q]:
            kept[name] += 1
        else:
            changed.append({"wrapper": name, "q": r.q, "plain": plain[r.q], "wrapped": _key(res)})
    report["wrappers"] = len(WRAPPERS)
    report["kept"] = _pct(sum(kept.values()), len(triples))
    report["kept_by_wrapper"] = {name: _pct(kept[name], len(rows)) for name in WRAPPERS}
    report["changed"] = changed
    return report
