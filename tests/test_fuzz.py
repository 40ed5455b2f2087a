"""A short fuzzing run of the image path (the long runs are ``python tests/fuzz_image.py``)."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import fuzz_image


@pytest.mark.slow
def test_short_fuzz_run_finds_no_crash():
    seconds = float(os.environ.get("LLOYD_FUZZ_SECONDS", "45"))
    tried, _counts, crashes = fuzz_image.run(seconds, seed=int(os.environ.get("LLOYD_FUZZ_SEED",
                                                                             "12345")))
    assert tried > 20
    assert not crashes, crashes[0]
