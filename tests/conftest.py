"""Shared test settings: a headless matplotlib, hypothesis profiles sized for CI, and the
tutorial notebook executed once per session."""

import os

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def executed_tutorial(tmp_path_factory):
    """docs/tutorial.ipynb run once for the session (the tutorial test checks it, the docs
    build renders it): the executed notebook, the seconds it took and the folder it ran in."""
    from _notebook import execute_tutorial

    return execute_tutorial(tmp_path_factory.mktemp("tutorial"))
