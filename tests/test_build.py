"""The extension imports and reports how it was built."""

from __future__ import annotations

import pytest

import vgp_native as vn


def test_version_is_a_string() -> None:
    assert isinstance(vn.__version__, str)
    assert vn.__version__.count(".") == 2


def test_set_num_threads_round_trips() -> None:
    before = vn.get_num_threads()
    try:
        vn.set_num_threads(1)
        assert vn.get_num_threads() == 1
    finally:
        vn.set_num_threads(before)
    assert vn.get_num_threads() == before


def test_set_num_threads_rejects_zero() -> None:
    with pytest.raises(ValueError, match="n >= 1"):
        vn.set_num_threads(0)
