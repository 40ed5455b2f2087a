"""Reading the explorer's JSON requests: every field checked, every mistake a 4xx that says why."""

from __future__ import annotations

import json
import math
import re

__all__ = ["ApiError", "Params"]

#: K of the step-through: the page has this many colours that colour-blind readers can tell apart.
MAX_STEP_CLUSTERS = 10
_ID = re.compile(r"[0-9a-f]{16}")


class ApiError(Exception):
    """A request the server refuses: answered with ``status`` and ``{"error": message}``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Params:
    """The fields of a JSON object body, each read once through a checking accessor."""

    def __init__(self, body: bytes | dict, where: str = "request"):
        if isinstance(body, (bytes, bytearray)):
            try:
                body = json.loads(body or b"{}")
            except (ValueError, RecursionError):
                raise ApiError(400, f"the {where} body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, f"the {where} body must be a JSON object, got "
                           f"{type(body).__name__}")
        self.body = body
        self.where = where

    def _get(self, name, default):
        if name not in self.body:
            if default is _REQUIRED:
                raise ApiError(400, f"{name} is required")
            return default
        return self.body[name]

    def integer(self, name: str, lo: int, hi: int, default=None) -> int:
        value = self._get(name, _REQUIRED if default is None else default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ApiError(400, f"{name} must be an integer in [{lo}, {hi}], got {value!r:.40}")
        return value

    def number(self, name: str, lo: float, hi: float, default=None) -> float:
        value = self._get(name, _REQUIRED if default is None else default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not lo <= value <= hi:
            raise ApiError(400, f"{name} must be a number in [{lo}, {hi}], got {value!r:.40}")
        return float(value)

    def choice(self, name: str, options, default=None) -> str:
        value = self._get(name, _REQUIRED if default is None else default)
        if not isinstance(value, str) or value not in options:
            raise ApiError(400, f"{name} must be one of {list(options)}, got {value!r:.40}")
        return value

    def ident(self, name: str) -> str:
        value = self._get(name, _REQUIRED)
        if not isinstance(value, str) or not _ID.fullmatch(value):
            raise ApiError(400, f"{name} must be an id the server gave, got {value!r:.40}")
        return value

    def obj(self, name: str) -> Params:
        return Params(self._get(name, _REQUIRED), where=name)

    def strings(self, name: str, count: int) -> list:
        value = self._get(name, _REQUIRED)
        if not isinstance(value, list) or len(value) != count \
                or not all(isinstance(v, str) and len(v) <= 200 for v in value):
            raise ApiError(400, f"{name} must be a list of {count} column names")
        return value

    def centroids(self, name: str = "centroids", max_k: int = MAX_STEP_CLUSTERS) -> list:
        """K points of two finite numbers each, 1 <= K <= max_k."""
        value = self._get(name, _REQUIRED)
        if not isinstance(value, list) or not 1 <= len(value) <= max_k:
            raise ApiError(400, f"{name} must be a list of 1 to {max_k} points [x, y], got "
                           f"{_describe(value)}")
        for i, point in enumerate(value):
            if not isinstance(point, list) or len(point) != 2 or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                    and abs(v) <= 1e150 for v in point):
                raise ApiError(400, f"{name}[{i}] must be [x, y], two finite numbers, got "
                               f"{point!r:.60}")
        return value

    def labels(self, name: str, n_rows: int, n_clusters: int) -> list:
        value = self._get(name, _REQUIRED)
        if not isinstance(value, list) or len(value) != n_rows or not all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v < n_clusters
                for v in value):
            raise ApiError(400, f"{name} must be a list of {n_rows} cluster numbers in "
                           f"[0, {n_clusters}), one per row")
        return value


def _describe(value) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return f"{value!r:.40}"


_REQUIRED = object()
