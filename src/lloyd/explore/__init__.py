"""``lloyd explore``: a local web app where k-means can be touched, driven by lloyd itself.

The server (:mod:`lloyd.explore.server`, Starlette on uvicorn) only calls the library; the page
in ``static/`` only draws. Starlette and uvicorn are imported by the server module alone, so
``import lloyd.explore`` stays light.
"""

from __future__ import annotations

from lloyd.explore.shapes import SHAPES, load_shape, read_csv_columns

__all__ = ["SHAPES", "load_shape", "read_csv_columns"]
