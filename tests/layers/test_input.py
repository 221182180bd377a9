"""Input and input_shape: the Keras ways to give a model its input width."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vgp_native.layers import Dense, Input, InputLayer
from vgp_native.models import Sequential, load_model


def _summary(model: Sequential) -> list[str]:
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    return lines


def _three_ways() -> list[Sequential]:
    """The same network, its input width given by input_dim, input_shape and Input."""
    by_dim = Sequential(seed=4, name="m")
    by_dim.add(Dense(4, activation="relu", input_dim=2, name="hidden"))
    by_dim.add(Dense(1, activation="sigmoid", name="out"))
    by_shape = Sequential(seed=4, name="m")
    by_shape.add(Dense(4, activation="relu", input_shape=(2,), name="hidden"))
    by_shape.add(Dense(1, activation="sigmoid", name="out"))
    by_input = Sequential(
        [
            Input(shape=(2,)),
            Dense(4, activation="relu", name="hidden"),
            Dense(1, activation="sigmoid", name="out"),
        ],
        seed=4,
        name="m",
    )
    return [by_dim, by_shape, by_input]


def test_input_shape_and_input_build_the_model_as_input_dim_does() -> None:
    models = _three_ways()
    for model in models:
        assert model.built and model.input_dim == 2 and len(model.layers) == 2
        assert [w.shape for w in model.get_weights()] == [(2, 4), (4,), (4, 1), (1,)]
        for a, b in zip(model.get_weights(), models[0].get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    assert models[0].input_layer is None and models[1].input_layer is None
    assert isinstance(models[2].input_layer, InputLayer)
    assert models[2].input_layer.shape == (2,)


def test_summary_does_not_list_the_input_as_keras_does() -> None:
    by_dim, _, by_input = _three_ways()
    lines = _summary(by_input)
    assert lines == _summary(by_dim)
    assert not any("Input" in line for line in lines)
    assert any("hidden (Dense)" in line and "(None, 4)" in line for line in lines)


def test_a_model_with_an_input_trains_and_round_trips(tmp_path: Path) -> None:
    *_, model = _three_ways()
    model.compile(loss="binary_crossentropy", optimizer="adam")
    x = np.random.default_rng(0).normal(size=(32, 2))
    model.fit(x, (x[:, 0] > 0).astype(float), epochs=2, verbose=0)
    loaded = load_model(model.save(tmp_path / "with_input.npz"))
    assert loaded.input_layer is not None and loaded.input_layer.name == model.input_layer.name
    assert loaded.input_layer.shape == (2,) and len(loaded.layers) == 2
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert Sequential.from_config(model.get_config()).input_layer.shape == (2,)


def test_an_input_alone_builds_nothing_yet() -> None:
    model = Sequential([Input(batch_shape=(None, 3))])
    assert not model.built and model.input_dim == 3 and model.layers == []
    model.add(Dense(2))
    assert model.built and model.get_weights()[0].shape == (3, 2)


@pytest.mark.parametrize(
    ("factory", "error", "match"),
    [
        (lambda: Input(shape=(28, 28)), ValueError, r"flat feature vectors; received \(28, 28\)"),
        (lambda: Input(shape=2), TypeError, r"shape must be a tuple such as \(2,\)"),
        (lambda: Input(shape=(0,)), ValueError, "feature count"),
        (lambda: Input(shape=(None,)), TypeError, "feature count"),
        (lambda: Input(), ValueError, "exactly one of shape"),
        (lambda: Input(shape=(2,), batch_shape=(None, 2)), ValueError, "exactly one of shape"),
        (lambda: Input(batch_shape=(2,)), ValueError, r"\(batch, features\)"),
        (lambda: Dense(3, input_shape=(2, 2)), ValueError, "input_shape must be"),
        (lambda: Dense(3, input_shape=(2,), input_dim=3), ValueError, "disagree"),
    ],
)
def test_bad_input_shapes_are_named(factory, error, match) -> None:
    with pytest.raises(error, match=match):
        factory()


def test_input_must_come_first_and_once() -> None:
    model = Sequential([Dense(2, input_dim=3)])
    with pytest.raises(ValueError, match="must be the first entry"):
        model.add(Input(shape=(2,)))
    twice = Sequential([Input(shape=(2,))])
    with pytest.raises(ValueError, match="its only Input"):
        twice.add(Input(shape=(2,)))
    with pytest.raises(ValueError, match="declares an input width of 3, but the model's Input"):
        Sequential([Input(shape=(2,)), Dense(4, input_dim=3)])
