"""The answer / suggest / none decision: two small logistic models over a few features of the ranking.

`p_answer` estimates the probability that the best entry is right, `p_suggest` that one of the three closest
entries is. Their coefficients are data (knowledge/calibration.toml, with how and on what they were fitted);
`python -m knowledge.calibrate` refits them. Everything here is plain numpy.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DEFAULT_FILE = Path(__file__).resolve().parent / "calibration.toml"

# The features, in order (each computed by knowledge/retrieval.py for the best-ranked entry):
FEATURES = (
    "fused",  # the fused score of the best entry, 0–1
    "margin",  # its lead over the best entry that gives a different answer (shares no cited article)
    "lexical",  # its lexical score, 0–1
    "dense",  # its dense cosine
    "agree",  # 1 when the lexical and the dense rankings put the same entry (or the same answer) first
    "unknown",  # share of the question's words the knowledge base does not know
    "length",  # log(1 + the question's content words)
    "anchor",  # 1 when the message names a kerja sama term ([out_of_scope] anchors) or a [key_terms] thing (BPD …)
    "support",  # share of the question's word weight found anywhere in the best entry (a key word missing → low)
    "story",  # 1 when the message has sentences of context around the question (long messages score lower)
    "missing",  # key terms of the question (BKAD, BPD, Musdes …) the best entry never mentions, at most 2
    "beyond",  # the message's cosine with the nearest out-of-scope example minus its cosine with the best entry
)


@dataclass(frozen=True)
class Logistic:
    """p = sigmoid(bias + Σ coef · (x − mean) / scale)."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    bias: float

    def p(self, x: np.ndarray) -> float:
        """The probability for one feature vector."""
        z = self.bias + float(np.dot((x - np.asarray(self.mean)) / np.asarray(self.scale), np.asarray(self.coef)))
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def p_many(self, X: np.ndarray) -> np.ndarray:
        """Probabilities for the rows of X."""
        z = self.bias + ((X - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.coef)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))

    def as_toml(self, name: str) -> str:
        """This model as a TOML table named name."""
        def arr(v):
            return "[" + ", ".join(f"{x:.6g}" for x in v) + "]"

        return (
            f"[{name}]\nbias = {self.bias:.6g}\ncoef = {arr(self.coef)}\nmean = {arr(self.mean)}\n"
            f"scale = {arr(self.scale)}\n"
        )


@dataclass(frozen=True)
class Calibration:
    """The two models and where they came from."""

    answer: Logistic
    suggest: Logistic
    fitted: str = ""  # one line: when, on what, cross-validated figures

    @classmethod
    def from_file(cls, path: Path = DEFAULT_FILE) -> "Calibration":
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        if tuple(data.get("features", ())) != FEATURES:
            raise ValueError(f"{path}: features {data.get('features')} differ from the code's {list(FEATURES)}")
        models = {}
        for name in ("answer", "suggest"):
            t = data[name]
            models[name] = Logistic(
                tuple(map(float, t["mean"])), tuple(map(float, t["scale"])), tuple(map(float, t["coef"])),
                float(t["bias"]),
            )
            if not len(models[name].coef) == len(models[name].mean) == len(models[name].scale) == len(FEATURES):
                raise ValueError(f"{path}: [{name}] needs {len(FEATURES)} coef, mean and scale values")
        return cls(models["answer"], models["suggest"], str(data.get("fitted", "")))

    @classmethod
    def for_directory(cls, directory: Path | None) -> "Calibration":
        """A knowledge directory's calibration.toml, else the shipped one."""
        path = Path(directory) / "calibration.toml" if directory else None
        return cls.from_file(path) if path and path.is_file() else default_calibration()


def neutral() -> Calibration:
    """A calibration that knows nothing (every probability 0.5): what a refit starts from, so that a calibration
    file written for other features never stands in the way of fitting a new one."""
    flat = Logistic(tuple(0.0 for _ in FEATURES), tuple(1.0 for _ in FEATURES), tuple(0.0 for _ in FEATURES), 0.0)
    return Calibration(flat, flat, "neutral (before a refit)")


@lru_cache(maxsize=1)
def default_calibration() -> Calibration:
    """The shipped knowledge/calibration.toml."""
    return Calibration.from_file()


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 50) -> Logistic:
    """L2-regularised logistic regression by Newton's method on standardised features."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    Z = (X - mean) / scale
    A = np.hstack([np.ones((len(Z), 1)), Z])
    w = np.zeros(A.shape[1])
    reg = np.full(A.shape[1], l2)
    reg[0] = 0.0  # the bias is not penalised
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(A @ w, -40, 40)))
        grad = A.T @ (p - y) + reg * w
        H = (A * (p * (1 - p))[:, None]).T @ A + np.diag(reg + 1e-9)
        step = np.linalg.solve(H, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return Logistic(tuple(mean.tolist()), tuple(scale.tolist()), tuple(w[1:].tolist()), float(w[0]))


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood."""
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def cross_validated(
    X: np.ndarray, y: np.ndarray, groups: np.ndarray, l2: float, folds: int = 5, seed: int = 11
) -> np.ndarray:
    """Out-of-fold probabilities: rows of one group (a question and its wrapped forms) stay in one fold; `seed`
    picks the assignment of groups to folds."""
    uniq = np.unique(groups)
    rng = np.random.default_rng(seed)
    fold_of = dict(zip(uniq, rng.permutation(len(uniq)) % folds))
    fold = np.array([fold_of[g] for g in groups])
    out = np.zeros(len(y))
    for k in range(folds):
        test = fold == k
        if not test.any() or test.all():
            continue
        model = fit_logistic(X[~test], y[~test], l2)
        out[test] = model.p_many(X[test])
    return out
