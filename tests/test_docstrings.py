"""Every Examples section in lloyd's public modules runs as a doctest."""

import doctest
import importlib

import pytest

MODULES = [
    "lloyd.steps",
    "lloyd.datasets",
    "lloyd.plot",
    "lloyd._plot_choose_k",
    "lloyd._plot_images",
    "lloyd.cluster",
    "lloyd.seeding",
    "lloyd.color",
    "lloyd.image",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
