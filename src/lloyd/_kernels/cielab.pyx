# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The image path's measures, compiled ahead of time: sRGB bytes to CIELAB, and CIEDE2000
between distinct colours and the palette entries they take.

These are the formulas of ``lloyd.color`` (``_rgb_to_lab``, ``_delta_e_2000``), written once
more per colour instead of as whole-array numpy expressions: numpy's form makes some thirty
temporaries the size of the input, and measuring a 768x512 photograph's ~150 000 distinct
colours took 80 ms of a `lloyd compress` that pngquant finishes in 200 ms. ``lloyd.color``
stays the public, documented statement; the tests hold these kernels to it (relative 1e-12:
libm's and numpy's transcendental functions may differ in the last bit).

Each output value depends on its own input only, so the result is the same at any thread count.
"""

from cython.parallel cimport prange
from libc.math cimport atan2, cbrt, cos, exp, fabs, sin, sqrt

import numpy as np

from lloyd._threads import kernel_threads

cdef double PI = 3.141592653589793
cdef double TWO_PI = 2 * 3.141592653589793
cdef double POW25_7 = 6103515625.0  # 25**7, exact
cdef double DEG30 = 30 * (3.141592653589793 / 180)
cdef double COS30 = cos(30 * (3.141592653589793 / 180))
cdef double SIN30 = sin(30 * (3.141592653589793 / 180))
cdef double COS6 = cos(6 * (3.141592653589793 / 180))
cdef double SIN6 = sin(6 * (3.141592653589793 / 180))
cdef double COS63 = cos(63 * (3.141592653589793 / 180))
cdef double SIN63 = sin(63 * (3.141592653589793 / 180))
cdef double RAD2DEG = 180 / 3.141592653589793

#: Work units (MIN_WORK_PER_THREAD counts distances of 3 features, ~0.6 ns) one CIEDE2000 costs:
#: ~150 ns, with its arctangents, cosines and exponential.
DELTA_E_WORK = 256


cdef inline double hue(double b, double a) noexcept nogil:
    """atan2(b, a) in [0, 2π), as numpy's ``arctan2(b, a) % (2π)``."""
    cdef double h = atan2(b, a)
    return h + TWO_PI if h < 0 else h


cdef inline double pow7(double x) noexcept nogil:
    cdef double x2 = x * x
    return x2 * x2 * x2 * x


cdef inline double ciede2000(double L1, double a1, double b1,
                             double L2, double a2, double b2) noexcept nogil:
    """CIEDE2000 (kL = kC = kH = 1), term for term as ``lloyd.color._delta_e_2000``, but for
    three cheaper forms that change only the last bits: ``sqrt(a² + b²)`` for ``hypot`` (no
    overflow is possible at CIELAB's scale), x⁷ by products, and the cosines of 2h̄, 3h̄ and 4h̄
    from those of h̄ by the double- and triple-angle identities (one cosine and sine instead of
    four cosines)."""
    cdef double c_bar7 = pow7((sqrt(a1 * a1 + b1 * b1) + sqrt(a2 * a2 + b2 * b2)) / 2)
    cdef double g = 0.5 * (1 - sqrt(c_bar7 / (c_bar7 + POW25_7)))
    cdef double a1p = (1 + g) * a1
    cdef double a2p = (1 + g) * a2
    cdef double c1p = sqrt(a1p * a1p + b1 * b1)
    cdef double c2p = sqrt(a2p * a2p + b2 * b2)
    cdef double h1p = hue(b1, a1p)
    cdef double h2p = hue(b2, a2p)
    cdef double chroma_product = c1p * c2p
    cdef bint neutral = chroma_product == 0

    cdef double dLp = L2 - L1
    cdef double dCp = c2p - c1p
    cdef double dhp = h2p - h1p
    if dhp > PI:
        dhp = dhp - TWO_PI
    elif dhp < -PI:
        dhp = dhp + TWO_PI
    if neutral:
        dhp = 0.0
    cdef double dHp = 2 * sqrt(chroma_product) * sin(dhp / 2)

    cdef double L_barp = (L1 + L2) / 2
    cdef double c_barp = (c1p + c2p) / 2
    cdef double h_sum = h1p + h2p
    cdef double h_barp
    if neutral:
        h_barp = h_sum
    elif fabs(h1p - h2p) <= PI:
        h_barp = h_sum / 2
    elif h_sum < TWO_PI:
        h_barp = (h_sum + TWO_PI) / 2
    else:
        h_barp = (h_sum - TWO_PI) / 2

    cdef double c1 = cos(h_barp), s1 = sin(h_barp)
    cdef double c2 = 2 * c1 * c1 - 1, s2 = 2 * s1 * c1
    cdef double c3 = c2 * c1 - s2 * s1, s3 = s2 * c1 + c2 * s1
    cdef double c4 = 2 * c2 * c2 - 1, s4 = 2 * s2 * c2
    cdef double t = (1 - 0.17 * (c1 * COS30 + s1 * SIN30) + 0.24 * c2
                     + 0.32 * (c3 * COS6 - s3 * SIN6) - 0.20 * (c4 * COS63 + s4 * SIN63))
    cdef double z = (h_barp * RAD2DEG - 275) / 25
    cdef double d_theta = DEG30 * exp(-(z * z))
    cdef double c_barp7 = pow7(c_barp)
    cdef double r_c = 2 * sqrt(c_barp7 / (c_barp7 + POW25_7))
    cdef double l50 = (L_barp - 50) * (L_barp - 50)
    cdef double s_l = 1 + 0.015 * l50 / sqrt(20 + l50)
    cdef double s_c = 1 + 0.045 * c_barp
    cdef double s_h = 1 + 0.015 * c_barp * t
    cdef double r_t = -sin(2 * d_theta) * r_c

    cdef double dl = dLp / s_l
    cdef double dc = dCp / s_c
    cdef double dh = dHp / s_h
    return sqrt(dl * dl + dc * dc + dh * dh + r_t * dc * dh)


def delta_e_2000_entries(const double[:, ::1] lab, const double[:, ::1] lab_palette,
                         const Py_ssize_t[::1] entries, int n_threads=0):
    """CIEDE2000 between each colour and the palette entry it takes.

    IN: lab (n, 3) CIELAB colours; lab_palette (m, 3); entries (n,) indices into lab_palette.
    OUT: (n,) float64, ``delta_e_2000(lab, lab_palette[entries])``.
    """
    cdef Py_ssize_t n = lab.shape[0], i, j
    out = np.empty(n, dtype=np.float64)
    cdef double[::1] o = out
    if n_threads <= 0:
        n_threads = kernel_threads(n * DELTA_E_WORK)
    for i in prange(n, nogil=True, num_threads=n_threads, schedule="static"):
        j = entries[i]
        o[i] = ciede2000(lab[i, 0], lab[i, 1], lab[i, 2],
                         lab_palette[j, 0], lab_palette[j, 1], lab_palette[j, 2])
    return out


def lab_from_srgb8(const unsigned char[:, :] colors, const double[::1] linear,
                   const double[:, ::1] xyz_from_linear, const double[::1] white,
                   double epsilon, double kappa):
    """sRGB bytes to CIELAB, as ``lloyd.color._rgb_to_lab(colors[:, :3] / 255)``.

    IN: colors (n, ≥3) uint8 (channels past the third ignored); linear (256,), the linear-light
    value of each byte; xyz_from_linear (3, 3); white (3,); the CIELAB constants.
    OUT: (n, 3) float64.
    """
    cdef Py_ssize_t n = colors.shape[0], i, c
    out = np.empty((n, 3), dtype=np.float64)
    cdef double[:, ::1] o = out
    cdef double lin[3]
    cdef double f[3]
    cdef double xyz
    with nogil:
        for i in range(n):
            lin[0] = linear[colors[i, 0]]
            lin[1] = linear[colors[i, 1]]
            lin[2] = linear[colors[i, 2]]
            for c in range(3):
                xyz = (lin[0] * xyz_from_linear[c, 0] + lin[1] * xyz_from_linear[c, 1]
                       + lin[2] * xyz_from_linear[c, 2]) / white[c]
                f[c] = cbrt(xyz) if xyz > epsilon else (kappa * xyz + 16) / 116
            o[i, 0] = 116 * f[1] - 16
            o[i, 1] = 500 * (f[0] - f[1])
            o[i, 2] = 200 * (f[1] - f[2])
    return out
