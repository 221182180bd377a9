"""scikit-learn drop-in estimators: ``MLPClassifier`` and ``MLPRegressor``.

Replace ``from sklearn.neural_network import MLPClassifier`` with
``from vgp_native.sklearn import MLPClassifier`` and a script keeps working:
the same parameters and defaults, the same fitted attributes and the same
training rules, run by the native executor (each epoch one native call), plus
a gradient-flow report of every fit (``flow_report_``) and the trained
``Sequential`` (``model_``)::

    from vgp_native.sklearn import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=(10,) * 8, activation="logistic", random_state=0)
    clf.fit(X, y)
    print(clf.score(X, y), clf.flow_report_.verdict)

They pass scikit-learn's ``check_estimator`` and work in ``Pipeline``,
``GridSearchCV``, ``cross_val_score`` and ``clone``. What differs from
scikit-learn: no L-BFGS solver, no Poisson loss, no ``sample_weight``; sparse
inputs are densified; the shuffling stream is the network's own (seeded from
``random_state``), so runs match scikit-learn's in distribution, not bit for
bit; a pickled estimator keeps its weights but not its optimizer's moments.

scikit-learn (1.6 or later) is an optional dependency: this module needs it,
the rest of the package does not.
"""

from __future__ import annotations

try:
    import sklearn  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised without scikit-learn only
    raise ImportError(
        "vgp_native.sklearn needs scikit-learn (pip install 'scikit-learn>=1.6')"
    ) from exc

from ._classifier import MLPClassifier
from ._regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
