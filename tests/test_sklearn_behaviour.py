"""vgp_native.sklearn estimators: parameters, labels, partial_fit, warm_start,
early stopping, probabilities and the extras (model_, flow_report_, the
batch-normalization and residual options)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import make_blobs, make_moons, make_regression
from sklearn.exceptions import ConvergenceWarning

from vgp_native.layers import BatchNormalization, Residual
from vgp_native.sklearn import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def moons():
    return make_moons(n_samples=200, noise=0.15, random_state=0)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"solver": "lbfgs"}, "'solver'.*'lbfgs' is scikit-learn's, not implemented"),
        ({"solver": "newton"}, "'solver' parameter of MLPClassifier must be one of"),
        ({"activation": "softmax"}, "'activation'"),
        ({"learning_rate": "cosine"}, "'learning_rate'"),
        ({"hidden_layer_sizes": (10, 0)}, "'hidden_layer_sizes'"),
        ({"alpha": -1.0}, "'alpha'"),
        ({"batch_size": 0}, "'batch_size'"),
        ({"learning_rate_init": 0.0}, "'learning_rate_init'"),
        ({"momentum": 1.5}, "'momentum'"),
        ({"beta_1": 1.0}, "'beta_1'"),
        ({"epsilon": 0.0}, "'epsilon'"),
        ({"validation_fraction": 1.0}, "'validation_fraction'"),
        ({"n_iter_no_change": 0}, "'n_iter_no_change'"),
        ({"max_iter": 0}, "'max_iter'"),
        ({"kernel_initializer": "nope"}, "'kernel_initializer'"),
    ],
)
def test_unsupported_or_invalid_values_are_named_by_fit(moons, params, match):
    clf = MLPClassifier(**params)  # scikit-learn's constructors only store
    assert clf.get_params()[next(iter(params))] == next(iter(params.values()))
    with pytest.raises(ValueError, match=match):
        clf.fit(*moons)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"shuffle": "yes"}, "'shuffle' parameter of MLPClassifier must be a bool"),
        ({"hidden_layer_sizes": (10, 2.5)}, "'hidden_layer_sizes'"),
        ({"alpha": "0.1"}, "'alpha'"),
        ({"kernel_initializer": 3}, "'kernel_initializer'"),
    ],
)
def test_wrong_types_are_type_errors(moons, params, match):
    with pytest.raises(TypeError, match=match):
        MLPClassifier(**params).fit(*moons)


def test_regressor_poisson_loss_is_not_implemented():
    X, y = make_regression(n_samples=30, n_features=2, random_state=0)
    with pytest.raises(ValueError, match=r"'loss'.*'poisson' is scikit-learn's"):
        MLPRegressor(loss="poisson").fit(X, np.abs(y))


def test_string_labels_binary_and_multiclass(moons):
    X, y = moons
    names = np.array(["cat", "dog"])[y]
    clf = MLPClassifier(random_state=0, max_iter=300, learning_rate_init=0.01).fit(X, names)
    assert list(clf.classes_) == ["cat", "dog"]
    assert clf.n_outputs_ == 1 and clf.out_activation_ == "logistic"
    pred = clf.predict(X)
    assert pred.dtype.kind == "U" and set(pred) <= {"cat", "dog"}
    assert np.mean(pred == names) > 0.95
    Xb, yb = make_blobs(n_samples=150, centers=3, random_state=0)
    labels = np.array(["red", "green", "blue"])[yb]
    clf3 = MLPClassifier(random_state=0, max_iter=200, learning_rate_init=0.01).fit(Xb, labels)
    assert list(clf3.classes_) == ["blue", "green", "red"]
    assert clf3.out_activation_ == "softmax" and clf3.n_outputs_ == 3
    assert clf3.score(Xb, labels) > 0.9


def test_predict_proba_sums_to_one_and_log_proba(moons):
    X, y = moons
    Xb, yb = make_blobs(n_samples=120, centers=4, random_state=1)
    for X_, y_ in ((X, y), (Xb, yb)):
        clf = MLPClassifier(hidden_layer_sizes=(16,), random_state=0, max_iter=50).fit(X_, y_)
        proba = clf.predict_proba(X_)
        assert proba.shape == (len(X_), len(clf.classes_))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
        assert (proba >= 0).all()
        np.testing.assert_allclose(clf.predict_log_proba(X_), np.log(proba))
        np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X_))


def test_partial_fit_needs_classes_then_trains_one_epoch_per_call(moons):
    X, y = moons
    clf = MLPClassifier(hidden_layer_sizes=(16,), random_state=0, learning_rate_init=0.01)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    losses = []
    for _ in range(30):
        clf.partial_fit(X[:100], y[:100], classes=[0, 1])
        assert clf.n_iter_ == 1
        losses.append(clf.loss_)
    assert clf.t_ == 30 * 100
    assert losses[-1] < 0.7 * losses[0]
    clf.partial_fit(X[y == 0][:10], y[y == 0][:10])  # one class in a batch is fine
    with pytest.raises(ValueError, match="classes not in"):
        clf.partial_fit(X[:10], np.full(10, 2))
    with pytest.raises(ValueError, match="not the same as on last call"):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1])


def test_warm_start_continues_from_the_weights(moons):
    X, y = moons
    cold = MLPClassifier(hidden_layer_sizes=(16,), random_state=0, max_iter=20)
    cold.fit(X, y)
    warm = MLPClassifier(hidden_layer_sizes=(16,), random_state=0, max_iter=10, warm_start=True)
    warm.fit(X, y)
    first = [c.copy() for c in warm.coefs_]
    warm.fit(X, y)
    assert warm.n_iter_ == 10 and warm.t_ == 20 * len(X)
    # The second fit starts where the first ended: its first loss is below
    # the first fit's last one, and the weights moved on.
    assert warm.loss_curve_[10] < warm.loss_curve_[9]
    assert not np.array_equal(first[0], warm.coefs_[0])
    # ... and not from scratch: a cold fit of 10 epochs ends higher.
    assert warm.loss_ < cold.loss_curve_[9]
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same"):
        warm.fit(X, np.where(y == 1, 2, 0))
    warm.set_params(hidden_layer_sizes=(8,))
    with pytest.raises(ValueError, match=r"hidden_layer_sizes.*must stay"):
        warm.fit(X, y)


def test_early_stopping_keeps_the_best_validation_weights(moons):
    X, y = moons
    kwargs = {"hidden_layer_sizes": (32,), "random_state": 0, "learning_rate_init": 0.01}
    clf = MLPClassifier(early_stopping=True, n_iter_no_change=5, max_iter=500, **kwargs)
    clf.fit(X, y)
    scores = clf.validation_scores_
    assert len(scores) == clf.n_iter_ < 500
    assert clf.best_validation_score_ == max(scores)
    assert clf.best_loss_ is None
    best = int(np.argmax(scores))
    # scikit-learn's rule: stop once n_iter_no_change + 1 epochs in a row fail
    # to beat the best score by tol.
    assert all(s < clf.best_validation_score_ + clf.tol for s in scores[-6:])
    # The same run cut at the best epoch ends with the weights kept.
    cut = MLPClassifier(early_stopping=True, max_iter=best + 1, n_iter_no_change=1000, **kwargs)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        cut.fit(X, y)
    assert cut.validation_scores_ == scores[: best + 1]
    for a, b in zip(cut.coefs_, clf.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_stops_on_training_loss_plateau_with_tol(moons):
    X, y = moons
    clf = MLPClassifier(hidden_layer_sizes=(8,), tol=0.5, n_iter_no_change=3, random_state=0)
    clf.fit(X, y)
    # The first epoch sets the best loss; none after it improves on it by 0.5,
    # so training stops once n_iter_no_change + 1 of them have run.
    assert clf.n_iter_ == 5
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None


def test_fitted_attributes_and_model(moons):
    X, y = moons
    clf = MLPClassifier(hidden_layer_sizes=(7, 5), random_state=0, max_iter=5).fit(X, y)
    assert [c.shape for c in clf.coefs_] == [(2, 7), (7, 5), (5, 1)]
    assert [b.shape for b in clf.intercepts_] == [(7,), (5,), (1,)]
    assert clf.n_layers_ == 4 and clf.n_features_in_ == 2
    assert len(clf.loss_curve_) == clf.n_iter_ == 5
    assert clf.model_.count_params() == sum(
        c.size + b.size for c, b in zip(clf.coefs_, clf.intercepts_, strict=True)
    )
    # coefs_ are live views: editing them changes what the network predicts.
    before = clf.predict_proba(X[:3])
    clf.coefs_[-1][:] = 0.0
    clf.intercepts_[-1][:] = 0.0
    np.testing.assert_allclose(clf.predict_proba(X[:3]), 0.5)
    assert not np.allclose(before, 0.5)


def test_flow_report_tells_a_vanishing_deep_logistic_net_from_a_remedy(moons):
    X, y = moons
    deep = {"hidden_layer_sizes": (10,) * 8, "random_state": 0, "max_iter": 30}
    plain = MLPClassifier(activation="logistic", **deep).fit(X, y)
    assert plain.flow_report_.verdict == "vanishing"
    assert plain.flow_report_.grad_ratio < 1e-3
    fixed = MLPClassifier(activation="relu", kernel_initializer="he_normal", **deep).fit(X, y)
    assert fixed.flow_report_.grad_ratio > 100 * plain.flow_report_.grad_ratio
    off = MLPClassifier(gradient_flow=False, hidden_layer_sizes=(4,), max_iter=3).fit(X, y)
    assert off.flow_report_ is None


def test_batch_normalization_and_residual_options(moons):
    X, y = moons
    kw = {"hidden_layer_sizes": (16, 16, 8), "random_state": 0, "max_iter": 20}
    bn = MLPClassifier(batch_normalization=True, **kw).fit(X, y)
    assert sum(isinstance(layer, BatchNormalization) for layer in bn.model_.layers) == 3
    res = MLPClassifier(residual=True, **kw).fit(X, y)
    # Only the 16 -> 16 layer keeps its width: the one identity skip.
    assert [type(layer).__name__ for layer in res.model_.layers] == [
        "Dense",
        "Residual",
        "Dense",
        "Dense",
    ]
    assert isinstance(res.model_.layers[1], Residual)
    for est in (bn, res):
        assert [c.shape for c in est.coefs_] == [(2, 16), (16, 16), (16, 8), (8, 1)]


def test_verbose_prints_scikit_learns_lines(moons, capsys):
    X, y = moons
    MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, verbose=True, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Iteration 1, loss = ") and lines[1].startswith("Iteration 2")


def test_regressor_single_and_multi_output():
    X, y = make_regression(n_samples=200, n_features=4, n_targets=2, noise=1.0, random_state=0)
    y = y / y.std(axis=0)
    reg = MLPRegressor(
        hidden_layer_sizes=(32,), random_state=0, max_iter=300, learning_rate_init=0.01
    ).fit(X, y)
    assert reg.predict(X).shape == (200, 2) and reg.n_outputs_ == 2
    assert reg.out_activation_ == "identity"
    assert reg.score(X, y) > 0.95
    one = MLPRegressor(hidden_layer_sizes=(32,), random_state=0, max_iter=100).fit(X, y[:, 0])
    assert one.predict(X).shape == (200,)


def test_float32_input_trains_a_float32_network(moons):
    X, y = moons
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    clf.fit(X.astype(np.float32), y)
    assert clf.model_.dtype == np.float32 and clf.coefs_[0].dtype == np.float32
    assert clf.predict_proba(X).dtype == np.float32
