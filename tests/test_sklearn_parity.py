"""vgp_native.sklearn against scikit-learn's own classes.

Without shuffling both libraries see the same batches in the same order from
the same initial weights (drawn from ``random_state`` in scikit-learn's
order), so in float64 the whole run must agree to rounding: the loss curve,
the weights, the epochs run, early stopping's validation scores, the
learning-rate schedules and the L2 penalty. With shuffling the batch order
differs (the network shuffles with its own generator), so accuracy is
compared on average over seeds.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn import neural_network as sk
from sklearn.datasets import load_digits, make_circles, make_moons, make_regression
from sklearn.model_selection import train_test_split

from vgp_native import sklearn as vs

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _moons():
    return make_moons(n_samples=230, noise=0.2, random_state=0)


def _digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300]


def _regression(targets: int):
    X, y = make_regression(n_samples=150, n_features=5, n_targets=targets, random_state=0)
    return X, y / 100.0


def _multilabel():
    X, y = _moons()
    return X, np.stack([y, (X[:, 0] > 0.5).astype(int)], axis=1)


# (name, class name, data, parameters); 230 rows in batches of 50 leave a last batch of 30.
EXACT = [
    ("adam", "MLPClassifier", _moons, {"hidden_layer_sizes": (8, 8), "batch_size": 50}),
    (
        "adam alpha",
        "MLPClassifier",
        _moons,
        {"hidden_layer_sizes": (8,), "alpha": 0.5, "batch_size": 50},
    ),
    (
        "sgd nesterov invscaling",
        "MLPClassifier",
        _moons,
        {
            "hidden_layer_sizes": (8, 8),
            "batch_size": 50,
            "solver": "sgd",
            "learning_rate": "invscaling",
            "learning_rate_init": 0.1,
            "alpha": 0.01,
        },
    ),
    (
        "sgd adaptive",
        "MLPClassifier",
        _moons,
        {
            "hidden_layer_sizes": (8,),
            "solver": "sgd",
            "learning_rate": "adaptive",
            "n_iter_no_change": 2,
            "tol": 1e-2,
            "nesterovs_momentum": False,
        },
    ),
    (
        "softmax tanh",
        "MLPClassifier",
        _digits,
        {"hidden_layer_sizes": (16,), "activation": "tanh", "alpha": 0.1},
    ),
    ("multilabel", "MLPClassifier", _multilabel, {"hidden_layer_sizes": (8,), "alpha": 0.1}),
    (
        "early stopping",
        "MLPClassifier",
        _moons,
        {"hidden_layer_sizes": (8,), "early_stopping": True, "validation_fraction": 0.2},
    ),
    (
        "regression 2 outputs",
        "MLPRegressor",
        lambda: _regression(2),
        {"hidden_layer_sizes": (8,), "activation": "logistic", "alpha": 0.3},
    ),
    (
        "regression sgd",
        "MLPRegressor",
        lambda: _regression(1),
        {"hidden_layer_sizes": (8,), "solver": "sgd", "learning_rate_init": 0.01, "alpha": 0.2},
    ),
]


@pytest.mark.parametrize(("name", "cls", "data", "params"), EXACT, ids=[e[0] for e in EXACT])
def test_matches_scikit_learn_to_rounding_without_shuffling(name, cls, data, params):
    X, y = data()
    common = {"random_state": 1, "shuffle": False, "max_iter": 40, **params}
    ref = getattr(sk, cls)(**common).fit(X, y)
    ours = getattr(vs, cls)(**common).fit(X, y)
    assert ours.n_iter_ == ref.n_iter_ and ours.t_ == ref.t_
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-9)
    for a, b in zip(ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)
    if ref.best_loss_ is None:
        assert ours.best_loss_ is None
    else:
        assert ours.best_loss_ == pytest.approx(ref.best_loss_, rel=1e-9, abs=0)
    if params.get("early_stopping"):
        np.testing.assert_allclose(ours.validation_scores_, ref.validation_scores_)
    if cls == "MLPClassifier":
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-7)
    else:
        np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-7, atol=1e-9)


def _accuracy(cls: str, make, params: dict, seeds=(0, 1, 2)) -> tuple[float, float]:
    X, y = make()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
    scores = {"ref": [], "ours": []}
    for seed in seeds:
        for key, module in (("ref", sk), ("ours", vs)):
            est = getattr(module, cls)(random_state=seed, **params).fit(X_tr, y_tr)
            scores[key].append(est.score(X_te, y_te))
    return float(np.mean(scores["ours"])), float(np.mean(scores["ref"]))


ACCURACY = [
    (
        "moons",
        "MLPClassifier",
        lambda: make_moons(400, noise=0.25, random_state=0),
        {"hidden_layer_sizes": (32, 32), "learning_rate_init": 0.01, "max_iter": 200},
    ),
    (
        "circles",
        "MLPClassifier",
        lambda: make_circles(400, noise=0.1, factor=0.5, random_state=0),
        {"hidden_layer_sizes": (32,), "learning_rate_init": 0.01, "max_iter": 200},
    ),
    (
        "digits",
        "MLPClassifier",
        lambda: load_digits(return_X_y=True),
        {"hidden_layer_sizes": (32,), "max_iter": 40, "batch_size": 64},
    ),
    (
        "regression",
        "MLPRegressor",
        lambda: make_regression(400, n_features=8, noise=5.0, random_state=0),
        {"hidden_layer_sizes": (32,), "learning_rate_init": 0.01, "max_iter": 200},
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "cls", "make", "params"), ACCURACY, ids=[a[0] for a in ACCURACY])
def test_accuracy_within_003_of_scikit_learn_over_seeds(name, cls, make, params):
    ours, ref = _accuracy(cls, make, params)
    assert abs(ours - ref) <= 0.03, f"{name}: ours {ours:.3f}, scikit-learn {ref:.3f}"
    assert ref > 0.8  # a setting where both learn, so the comparison means something
