"""Build lloyd's ahead-of-time kernels (Cython + OpenMP) with the machine's C compiler.

Everything else about the package is in ``pyproject.toml``. The kernels are built for the host's
processor (``-march=native``), as numba compiled them before; set ``LLOYD_MARCH`` to build for
another target (``LLOYD_MARCH=x86-64-v3`` for a wheel other machines will run), or to an empty
string for the compiler's default.
"""

import os
import sys
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

KERNELS = Path("src/lloyd/_kernels")


def compile_args():
    march = os.environ.get("LLOYD_MARCH", "native")
    if sys.platform == "win32":
        return ["/O2", "/openmp", "/fp:precise"], []
    args = ["-O3", "-fopenmp", "-ffp-contract=off"]  # no fused multiply-add: sums round as written
    if march:
        args.append(f"-march={march}")
    return args, ["-fopenmp"]


def extensions():
    cflags, lflags = compile_args()
    return [
        Extension(f"lloyd._kernels.{pyx.stem}", [str(pyx)], extra_compile_args=cflags,
                  extra_link_args=lflags)
        for pyx in sorted(KERNELS.glob("*.pyx"))
    ]


setup(ext_modules=cythonize(extensions(), compiler_directives={"language_level": 3}))
