"""The calibrated decision: the shipped file loads, the refit command works, the models point the right way."""

import numpy as np
import pytest

from knowledge import calibrate
from knowledge.calibration import FEATURES, Calibration, cross_validated, fit_logistic
from knowledge.settings import RetrievalConfig


def test_shipped_calibration_loads_and_says_how_it_was_fitted():
    cal = Calibration.from_file()
    assert "knowledge.calibrate" in cal.fitted and "tune half" in cal.fitted
    assert len(cal.answer.coef) == len(FEATURES)
    # A better score (fused, lexical and dense rise together: they are nearly collinear, so one coefficient alone
    # may take either sign), a wider margin over a different answer, and being nearer to the entry than to any
    # out-of-scope example make an answer more likely right.
    x = np.asarray(cal.answer.mean, dtype=float)
    better = x.copy()
    for name in ("fused", "lexical", "dense"):
        better[FEATURES.index(name)] += 0.1
    better[FEATURES.index("beyond")] -= 0.1  # beyond = cosine to the nearest out-of-scope example − dense
    assert cal.answer.p(better) > cal.answer.p(x)
    assert cal.answer.coef[FEATURES.index("margin")] > 0
    assert cal.answer.coef[FEATURES.index("beyond")] < 0
    assert cal.suggest.coef[FEATURES.index("beyond")] < 0


def test_refit_writes_a_file_that_loads(tmp_path):
    out = tmp_path / "calibration.toml"
    assert calibrate.main(["--out", str(out)]) == 0
    cal = Calibration.from_file(out)
    assert cal.fitted.startswith(tuple("0123456789"))
    assert "5-fold CV" in cal.fitted


def test_a_file_with_other_features_is_refused(tmp_path):
    bad = tmp_path / "calibration.toml"
    bad.write_text('features = ["fused"]\n[answer]\nbias = 0\ncoef = [1]\nmean = [0]\nscale = [1]\n'
                   '[suggest]\nbias = 0\ncoef = [1]\nmean = [0]\nscale = [1]\n')
    with pytest.raises(ValueError, match="features"):
        Calibration.from_file(bad)


def test_logistic_fit_recovers_a_simple_rule_out_of_fold():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 2))
    y = (X[:, 0] - 0.5 * X[:, 1] + rng.normal(scale=0.3, size=400) > 0).astype(float)
    model = fit_logistic(X, y, l2=1.0)
    assert model.coef[0] > 0 > model.coef[1]
    oof = cross_validated(X, y, np.arange(400) // 2, l2=1.0)
    assert np.mean((oof >= 0.5) == (y == 1)) > 0.85  # the noise alone costs about a tenth


def test_settings_name_their_key():
    assert RetrievalConfig().problems() == []
    assert "retrieval.answer_probability" in RetrievalConfig(answer_probability=1.2).problems()[0]
    assert "retrieval.suggest_probability" in RetrievalConfig(answer_probability=0.2).problems()[0]


def test_rows_an_out_of_scope_term_decides_are_fitted_as_not_to_answer(knowledge):
    """collect() keeps a term-decided row (features recorded, both labels 0, marked caught) instead of dropping it:
    without such rows the sixth round's refit saw almost no out-of-scope question and answered new ones."""
    from knowledge.evaluate import Row

    oos = Row(q="dana desa kapan cair", expect=(), oos=True)
    inside = Row(q="siapa saja anggota bkad", expect=("Permendesa 2/2015 Pasal 72",), oos=False)
    res = knowledge.retriever.search(oos.q)
    assert res.by_term and res.miss == "out_of_scope" and res.outcome == "none" and res.features
    X, y1, y3, groups, caught, skipped = calibrate.collect(knowledge.retriever, [oos, inside])
    assert skipped == 0 and list(groups[:2]) == [0, 1]  # the plain rows come first
    assert list(caught[:2]) == [True, False]
    assert y1[0] == 0 and y3[0] == 0 and X.shape[1] == len(FEATURES)
    # Every wrapped form of the out-of-scope question is decided by its term too.
    assert caught[groups == 0].all() and not caught[groups == 1].any()
