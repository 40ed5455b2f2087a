"""Compiled kernels. Private: they assume validated, C-contiguous float32/float64 input.

Two kinds during the move to ahead-of-time compilation (ARCHITECTURE.md, "Kernels"):

- compiled when lloyd is installed (Cython + OpenMP, ``*.pyx``): the low-dimension Lloyd pass
  (``lloyd_low_d``), k-means++ seeding (``plusplus``, ``seeding_products``), the shared
  reductions (``reductions``: input check, moments, inertia, merges, centre updates), the colour
  histogram (``histogram``), the image measures (``cielab``: sRGB bytes to CIELAB, CIEDE2000),
  error diffusion (``dither``) and the block layout (``blocks``, with ``layout.py``);
- numba's, compiled for a dtype on first call and cached on disk (``cache=True``), imported only
  by the paths that use them: the dense Lloyd pass (``lloyd_dense``), Elkan, Hamerly, Yinyang,
  the mini-batch step, the high-dimension k-means++ products (``seeding_dense``), AFK-MC²
  (``afkmc2``) and the helpers they inline (``common``, ``distances``).

Importing this package compiles nothing.
"""
