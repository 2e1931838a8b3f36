"""Retrieval evaluation on a question file (format: shared/eval/README.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from knowledge.citations import article_of
from knowledge.retrieval import Result, Retriever


@dataclass(frozen=True)
class Row:
    q: str
    expect: tuple[str, ...]
    oos: bool


def read_questions(path: Path) -> list[Row]:
    """Read a JSONL question file; raise ValueError naming the line on a bad row."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            rows.append(Row(str(obj["q"]), tuple(obj.get("expect", [])), bool(obj.get("oos", False))))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: bad question row: {exc}") from None
    return rows


def _correct(entry_citations: tuple[str, ...], expect: tuple[str, ...]) -> bool:
    return any(article_of(c) in expect for c in entry_citations)


def evaluate(retriever: Retriever, rows: list[Row]) -> dict:
    """Top-1, top-3, wrong-answer and out-of-scope rejection rates, plus the failing rows."""
    ins = [r for r in rows if not r.oos]
    oos = [r for r in rows if r.oos]
    top1 = top3 = wrong = rejected = 0
    failures = []
    for r in rows:
        res: Result = retriever.search(r.q)
        answered = res.outcome == "answer" and res.best is not None
        if r.oos:
            if answered:
                wrong += 1
                failures.append({"q": r.q, "problem": "answered out-of-scope", "entry": res.best.entry.id})
            else:
                rejected += 1
            continue
        candidates = ([res.best] if answered else []) + list(res.suggestions)
        ok1 = answered and _correct(res.best.entry.citations, r.expect)
        ok3 = any(_correct(m.entry.citations, r.expect) for m in candidates[:3])
        top1 += ok1
        top3 += ok3
        if answered and not ok1:
            wrong += 1
        if not ok1:
            failures.append(
                {
                    "q": r.q,
                    "problem": "wrong answer" if answered else res.outcome,
                    "entry": res.best.entry.id if res.best else None,
                    "score": round(res.best.score, 1) if res.best else 0,
                    "suggestions": [m.entry.id for m in res.suggestions],
                }
            )

    def pct(a: int, b: int) -> float:
        return round(100.0 * a / b, 1) if b else 0.0

    return {
        "rows": len(rows),
        "in_scope": len(ins),
        "out_of_scope": len(oos),
        "top1": pct(top1, len(ins)),
        "top3": pct(top3, len(ins)),
        "oos_rejection": pct(rejected, len(oos)),
        "wrong_answer": pct(wrong, len(rows)),
        "failures": failures,
    }
