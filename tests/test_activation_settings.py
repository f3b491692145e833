"""Activation layers take their frameworks' shape-neutral settings, and check them."""

from __future__ import annotations

import pytest

from convcalc import ConvCalcError, analyze

INPUT = [8, 8, 3]


def shape_after(*layers: object) -> list[int]:
    return list(analyze({"input": INPUT, "layers": list(layers)}).to_dict()["output_shape"])


@pytest.mark.parametrize(
    "layer",
    [
        {"leaky_relu": 0.2},  # PyTorch LeakyReLU(0.2)
        {"LeakyReLU": {"negative_slope": 0.2}},
        {"leaky_relu": {"alpha": 0.3}},  # Keras 2's name
        {"relu": {"inplace": True}},
        {"ReLU": {"max_value": 6, "negative_slope": 0.1, "threshold": 0.5}},  # Keras ReLU
        {"elu": 1.0},
        {"softmax": {"dim": 1}},  # PyTorch Softmax(dim=1)
        {"softmax": -1},
        {"log_softmax": {"axis": -4}},  # the batch axis, counted from the end: allowed
        {"hard_tanh": {"min_val": -2, "max_val": 2}},
        {"softplus": {"beta": 2, "threshold": 10}},
    ],
)
def test_settings_change_nothing(layer: object) -> None:
    assert shape_after(layer) == INPUT


@pytest.mark.parametrize("axis", [4, -5])
def test_softmax_axis_out_of_range_is_refused(axis: int) -> None:
    # With the batch, (None, 8, 8, 3) has axes -4..3, as torch's "Dimension out of range" says.
    with pytest.raises(ConvCalcError, match=f"axis {axis} is out of range"):
        shape_after({"softmax": axis})


@pytest.mark.parametrize(
    ("layer", "fragment"),
    [
        ({"softmax": {"dim": "x"}}, "axis 'x' is not valid: must be an integer"),
        ({"leaky_relu": {"negative_slope": "steep"}}, "negative_slope 'steep' is not valid"),
        ({"relu": {"slope": 0.1}}, "unknown parameter 'slope'"),
    ],
)
def test_bad_settings_are_refused(layer: object, fragment: str) -> None:
    with pytest.raises(ConvCalcError, match=fragment):
        shape_after(layer)


def test_every_activation_is_a_layer_and_every_class_name_belongs_to_one() -> None:
    from convcalc._catalogue import find_kind
    from convcalc._kinds_basic import _ACTIVATION_CLASS_NAMES
    from convcalc._vocab import ACTIVATIONS

    assert set(_ACTIVATION_CLASS_NAMES) <= set(ACTIVATIONS)
    for function in ACTIVATIONS:
        kind = find_kind(function)
        assert kind is not None
        # 'linear' as a layer type is PyTorch's Linear: a dense layer, not the identity.
        assert kind.name == ("dense" if function == "linear" else function)
