"""Retrieval settings an operator may change in config.toml's [retrieval] section (defaults = config.toml)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetrievalConfig:
    """How sure the retriever must be to answer or to offer topics, and how many topics it shows.

    The probabilities are those of the calibrated decision (knowledge/calibration.toml): the chance that the
    best entry is right (answer), and that one of the closest topics is (offer them).
    """

    answer_probability: float = 0.84
    suggest_probability: float = 0.3
    suggestions: int = 3
    related: int = 3

    def problems(self) -> list[str]:
        """One line per bad value, each naming its key (retrieval.<key>)."""
        out = []
        for name in ("answer_probability", "suggest_probability"):
            v = getattr(self, name)
            if not 0.0 < v < 1.0:
                out.append(f"retrieval.{name} must be between 0 and 1 (exclusive), not {v}")
        if self.suggest_probability > self.answer_probability:
            out.append("retrieval.suggest_probability must not be above retrieval.answer_probability")
        if not 2 <= self.suggestions <= 3:
            out.append(f"retrieval.suggestions must be 2 or 3, not {self.suggestions}")
        if not 0 <= self.related <= 5:
            out.append(f"retrieval.related must be between 0 and 5, not {self.related}")
        return out
