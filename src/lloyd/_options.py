"""The named options shared by the estimators, the engine and the command line.

Plain data and no imports, so that ``lloyd --help`` can offer the same choices the estimator
accepts without importing numpy.
"""

from __future__ import annotations

#: The exact k-means algorithms; all give Lloyd's answer from the same start.
ALGORITHMS = ("lloyd", "elkan", "hamerly", "yinyang")
#: What ``algorithm='auto'`` may be besides one of ALGORITHMS.
AUTO = "auto"
#: The named ways to choose the starting centres.
INITS = ("k-means++", "afk-mc2", "random")
