"""vgp_native.sklearn in scikit-learn's machinery: check_estimator, Pipeline,
GridSearchCV, cross_val_score, clone, pickling, feature names."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.datasets import make_moons, make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from vgp_native.models import Sequential
from vgp_native.sklearn import MLPClassifier, MLPRegressor

# Short fits stop at max_iter before tol is met, and warn as scikit-learn's do.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# scikit-learn's own suite: every API check, with the default parameters.
@parametrize_with_checks([MLPClassifier(), MLPRegressor()])
def test_check_estimator(estimator, check):
    check(estimator)


@pytest.fixture
def moons():
    return make_moons(n_samples=200, noise=0.15, random_state=0)


def test_pipeline_with_scaler(moons):
    X, y = moons
    X = X * 100 + 5  # far from unit scale
    clf = MLPClassifier(random_state=0, max_iter=300, learning_rate_init=0.01)
    pipe = make_pipeline(StandardScaler(), clf).fit(X, y)
    assert pipe.score(X, y) > 0.97
    assert pipe.score(X, y) > clone(clf).fit(X, y).score(X, y) + 0.05
    assert pipe[-1].flow_report_.verdict == "healthy"


def test_grid_search_over_sizes_and_activations(moons):
    X, y = moons
    grid = {"hidden_layer_sizes": [(4,), (32, 32)], "activation": ["identity", "tanh"]}
    clf = MLPClassifier(random_state=0, max_iter=200, learning_rate_init=0.01)
    search = GridSearchCV(clf, grid, cv=3)
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    # A linear network cannot bend around the moons; two tanh layers can.
    scores = dict(
        zip(
            [(p["hidden_layer_sizes"], p["activation"]) for p in search.cv_results_["params"]],
            search.cv_results_["mean_test_score"],
            strict=True,
        )
    )
    assert scores[((32, 32), "tanh")] > scores[((32, 32), "identity")] + 0.03
    assert search.best_params_["activation"] == "tanh"
    assert isinstance(search.best_estimator_, MLPClassifier)
    assert isinstance(search.best_estimator_.model_, Sequential)


def test_cross_val_score(moons):
    X, y = moons
    clf = MLPClassifier(random_state=0, max_iter=300, learning_rate_init=0.01)
    scores = cross_val_score(clf, X, y, cv=4)
    assert scores.shape == (4,)
    assert scores.mean() > 0.9


def test_clone_keeps_parameters_not_fit(moons):
    X, y = moons
    clf = MLPClassifier(hidden_layer_sizes=(7, 5), alpha=0.01, random_state=3, max_iter=300)
    clf.fit(X, y)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "model_") and not hasattr(copy, "coefs_")
    copy.fit(X, y)  # the same random_state: the same network, bit for bit
    for a, b in zip(copy.coefs_, clf.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_pickle_round_trip_keeps_predictions_and_report(moons):
    X, y = moons
    clf = MLPClassifier(hidden_layer_sizes=(16,), random_state=0, max_iter=300).fit(X, y)
    verdict = clf.flow_report_.verdict
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert back.flow_report_.verdict == verdict
    assert back.loss_curve_ == clf.loss_curve_
    back.partial_fit(X, y)  # the network trains on after unpickling
    assert back.n_iter_ == 1 and back.t_ == clf.t_ + len(X)


def test_feature_names_from_a_dataframe():
    pd = pytest.importorskip("pandas")
    X, y = make_regression(n_samples=80, n_features=3, random_state=0)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(frame, y)
    assert list(reg.feature_names_in_) == ["a", "b", "c"]
    assert reg.n_features_in_ == 3
    with pytest.raises(ValueError, match="feature names"):
        reg.predict(frame[["a", "c", "b"]])
