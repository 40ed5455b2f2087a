"""Colour spaces for palettes: sRGB <-> linear RGB <-> CIELAB (D65) and OKLab, and ΔE2000.

Every function is vectorised over leading axes and works in float64; colours are in the last axis.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "COLOR_SPACES",
    "delta_e_2000",
    "lab_to_rgb",
    "linear_to_srgb",
    "oklab_to_rgb",
    "rgb_to_lab",
    "rgb_to_oklab",
    "srgb_to_linear",
]

#: The colour spaces k-means can run in; palettes are always written as sRGB.
COLOR_SPACES = ("rgb", "lab", "oklab")

# IEC 61966-2-1 sRGB primaries with the D65 white point.
_XYZ_FROM_LINEAR = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_LINEAR_FROM_XYZ = np.linalg.inv(_XYZ_FROM_LINEAR)
#: CIE D65 white, 2° observer, the white CIELAB is relative to (as scikit-image's default).
_D65_WHITE = np.array([0.95047, 1.0, 1.08883])

# Björn Ottosson's OKLab (2020): linear sRGB -> LMS, cube root, -> Lab.
_LMS_FROM_LINEAR = np.array(
    [
        [0.4122214708, 0.5363325363, 0.0514459929],
        [0.2119034982, 0.6806995451, 0.1073969566],
        [0.0883024619, 0.2817188376, 0.6299787005],
    ]
)
_OKLAB_FROM_LMS = np.array(
    [
        [0.2104542553, 0.7936177850, -0.0040720468],
        [1.9779984951, -2.4285922050, 0.4505937099],
        [0.0259040371, 0.7827717662, -0.8086757660],
    ]
)
_LINEAR_FROM_LMS = np.linalg.inv(_LMS_FROM_LINEAR)
_LMS_FROM_OKLAB = np.linalg.inv(_OKLAB_FROM_LMS)

_LAB_EPSILON = 216 / 24389  # (6/29)**3
_LAB_KAPPA = 24389 / 27


def _as_colors(colors, name: str) -> np.ndarray:
    """Return ``colors`` as a float64 array of shape (..., 3); uint8 is divided by 255."""
    arr = np.asarray(colors)
    if arr.ndim == 0 or arr.shape[-1] != 3:
        raise ValueError(
            f"{name} must have shape (..., 3), one colour per row in the last axis, "
            f"got shape {arr.shape}."
        )
    if arr.dtype == np.uint8:
        return arr / 255.0
    if arr.dtype.kind not in "uif":
        raise ValueError(f"{name} must hold numbers, got dtype {arr.dtype}.")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite, found NaN or infinity.")
    return arr


def srgb_to_linear(rgb) -> np.ndarray:
    """Undo the sRGB transfer curve: gamma-encoded sRGB -> linear light.

    Parameters
    ----------
    rgb : array-like of shape (..., 3)
        sRGB colours as floats in [0, 1], or uint8 in [0, 255].

    Returns
    -------
    linear : ndarray of shape (..., 3), float64

    Examples
    --------
    >>> srgb_to_linear([0.0, 0.5, 1.0]).round(4)
    array([0.   , 0.214, 1.   ])
    """
    return _srgb_to_linear(_as_colors(rgb, "rgb"))


def _srgb_to_linear(c):
    a = np.abs(c)
    out = np.where(a <= 0.04045, a / 12.92, ((a + 0.055) / 1.055) ** 2.4)
    return np.copysign(out, c)


#: The linear-light value of each sRGB byte, and the matrix laid out for the compiled kernels.
_LINEAR_OF_BYTE = _srgb_to_linear(np.arange(256) / 255.0)
_XYZ_FROM_LINEAR_C = np.ascontiguousarray(_XYZ_FROM_LINEAR)


def linear_to_srgb(linear) -> np.ndarray:
    """Apply the sRGB transfer curve: linear light -> gamma-encoded sRGB in [0, 1].

    Values outside [0, 1] (out-of-gamut colours) are mapped symmetrically, not clipped.

    Parameters
    ----------
    linear : array-like of shape (..., 3)

    Returns
    -------
    rgb : ndarray of shape (..., 3), float64

    Examples
    --------
    >>> linear_to_srgb([0.0, 0.214, 1.0]).round(3)
    array([0. , 0.5, 1. ])
    """
    return _linear_to_srgb(_as_colors(linear, "linear"))


def _linear_to_srgb(c):
    a = np.abs(c)
    out = np.where(a <= 0.0031308, 12.92 * a, 1.055 * a ** (1 / 2.4) - 0.055)
    return np.copysign(out, c)


def rgb_to_lab(rgb) -> np.ndarray:
    """sRGB -> CIELAB (D65 white, 2° observer).

    Parameters
    ----------
    rgb : array-like of shape (..., 3)
        sRGB colours as floats in [0, 1], or uint8 in [0, 255].

    Returns
    -------
    lab : ndarray of shape (..., 3)
        L* in [0, 100]; a* and b* roughly in [-128, 127].

    Examples
    --------
    >>> rgb_to_lab([1.0, 1.0, 1.0]).round(3) + 0.0
    array([100.,   0.,   0.])
    """
    return _rgb_to_lab(_as_colors(rgb, "rgb"))


def _rgb_to_lab(rgb):
    xyz = _srgb_to_linear(rgb) @ _XYZ_FROM_LINEAR.T / _D65_WHITE
    f = np.where(xyz > _LAB_EPSILON, np.cbrt(xyz), (_LAB_KAPPA * xyz + 16) / 116)
    L = 116 * f[..., 1] - 16
    a = 500 * (f[..., 0] - f[..., 1])
    b = 200 * (f[..., 1] - f[..., 2])
    return np.stack([L, a, b], axis=-1)


def lab_to_rgb(lab) -> np.ndarray:
    """CIELAB (D65) -> sRGB floats; out-of-gamut colours fall outside [0, 1] (clip them to draw).

    Parameters
    ----------
    lab : array-like of shape (..., 3)

    Returns
    -------
    rgb : ndarray of shape (..., 3), float64

    Examples
    --------
    >>> lab_to_rgb([50.0, 0.0, 0.0]).round(4)
    array([0.4663, 0.4663, 0.4663])
    """
    lab = np.asarray(lab, dtype=np.float64)
    if lab.ndim == 0 or lab.shape[-1] != 3:
        raise ValueError(f"lab must have shape (..., 3), got shape {lab.shape}.")
    return _lab_to_rgb(lab)


def _bytes_to_lab(colors) -> np.ndarray:
    """``_rgb_to_lab(colors[:, :3] / 255)`` for uint8 colours (n, ≥3), by the compiled kernel
    (a table of the 256 linear values; no temporaries the size of the input)."""
    from lloyd._kernels.cielab import lab_from_srgb8

    return lab_from_srgb8(colors, _LINEAR_OF_BYTE, _XYZ_FROM_LINEAR_C, _D65_WHITE,
                          _LAB_EPSILON, _LAB_KAPPA)


def _delta_e_2000_entries(lab, lab_palette, entries) -> np.ndarray:
    """``_delta_e_2000(lab, lab_palette[entries])`` (kL = kC = kH = 1) by the compiled kernel."""
    from lloyd._kernels.cielab import delta_e_2000_entries

    return delta_e_2000_entries(np.ascontiguousarray(lab, dtype=np.float64),
                                np.ascontiguousarray(lab_palette, dtype=np.float64),
                                np.ascontiguousarray(entries, dtype=np.intp))


def _lab_to_rgb(lab):
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f**3 > _LAB_EPSILON, f**3, (116 * f - 16) / _LAB_KAPPA) * _D65_WHITE
    return _linear_to_srgb(xyz @ _LINEAR_FROM_XYZ.T)


def rgb_to_oklab(rgb) -> np.ndarray:
    """sRGB -> OKLab (Björn Ottosson, 2020), a perceptual space with L in [0, 1].

    Parameters
    ----------
    rgb : array-like of shape (..., 3)
        sRGB colours as floats in [0, 1], or uint8 in [0, 255].

    Returns
    -------
    oklab : ndarray of shape (..., 3)

    Examples
    --------
    >>> rgb_to_oklab([1.0, 0.0, 0.0]).round(4)
    array([0.628 , 0.2249, 0.1258])
    """
    return _rgb_to_oklab(_as_colors(rgb, "rgb"))


def _rgb_to_oklab(rgb):
    lms = _srgb_to_linear(rgb) @ _LMS_FROM_LINEAR.T
    return np.cbrt(lms) @ _OKLAB_FROM_LMS.T


def oklab_to_rgb(oklab) -> np.ndarray:
    """OKLab -> sRGB floats; out-of-gamut colours fall outside [0, 1].

    Parameters
    ----------
    oklab : array-like of shape (..., 3)

    Returns
    -------
    rgb : ndarray of shape (..., 3), float64

    Examples
    --------
    >>> oklab_to_rgb([1.0, 0.0, 0.0]).round(4)
    array([1., 1., 1.])
    """
    oklab = np.asarray(oklab, dtype=np.float64)
    if oklab.ndim == 0 or oklab.shape[-1] != 3:
        raise ValueError(f"oklab must have shape (..., 3), got shape {oklab.shape}.")
    return _oklab_to_rgb(oklab)


def _oklab_to_rgb(oklab):
    lms = (oklab @ _LMS_FROM_OKLAB.T) ** 3
    return _linear_to_srgb(lms @ _LINEAR_FROM_LMS.T)


def delta_e_2000(lab1, lab2, *, kL=1.0, kC=1.0, kH=1.0) -> np.ndarray:
    """The CIEDE2000 colour difference between CIELAB colours (Sharma, Wu & Dalal, 2005).

    About 1 is a just-noticeable difference; 2 to 10 is visible at a glance.

    Parameters
    ----------
    lab1, lab2 : array-like of shape (..., 3)
        CIELAB colours; they broadcast against each other.
    kL, kC, kH : float, default=1.0
        Weights of lightness, chroma and hue (1 for the reference conditions).

    Returns
    -------
    delta_e : ndarray of shape (...)

    Examples
    --------
    >>> round(float(delta_e_2000([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485])), 4)
    2.0425
    """
    lab1 = np.asarray(lab1, dtype=np.float64)
    lab2 = np.asarray(lab2, dtype=np.float64)
    for name, lab in (("lab1", lab1), ("lab2", lab2)):
        if lab.ndim == 0 or lab.shape[-1] != 3:
            raise ValueError(f"{name} must have shape (..., 3), got shape {lab.shape}.")
    return _delta_e_2000(lab1, lab2, kL, kC, kH)


def _delta_e_2000(lab1, lab2, kL=1.0, kC=1.0, kH=1.0):
    L1, a1, b1 = np.moveaxis(lab1, -1, 0)
    L2, a2, b2 = np.moveaxis(lab2, -1, 0)
    c_bar7 = ((np.hypot(a1, b1) + np.hypot(a2, b2)) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(c_bar7 / (c_bar7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    # arctan2(0, 0) is 0, the hue the standard assigns to neutral colours.
    h1p = np.arctan2(b1, a1p) % (2 * np.pi)
    h2p = np.arctan2(b2, a2p) % (2 * np.pi)
    chroma_product = c1p * c2p
    neutral = chroma_product == 0

    dLp = L2 - L1
    dCp = c2p - c1p
    dhp = h2p - h1p
    dhp = np.where(dhp > np.pi, dhp - 2 * np.pi, np.where(dhp < -np.pi, dhp + 2 * np.pi, dhp))
    dhp = np.where(neutral, 0.0, dhp)
    dHp = 2 * np.sqrt(chroma_product) * np.sin(dhp / 2)

    L_barp = (L1 + L2) / 2
    c_barp = (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_barp = np.where(
        np.abs(h1p - h2p) <= np.pi,
        h_sum / 2,
        np.where(h_sum < 2 * np.pi, (h_sum + 2 * np.pi) / 2, (h_sum - 2 * np.pi) / 2),
    )
    h_barp = np.where(neutral, h_sum, h_barp)

    t = (
        1
        - 0.17 * np.cos(h_barp - np.deg2rad(30))
        + 0.24 * np.cos(2 * h_barp)
        + 0.32 * np.cos(3 * h_barp + np.deg2rad(6))
        - 0.20 * np.cos(4 * h_barp - np.deg2rad(63))
    )
    d_theta = np.deg2rad(30) * np.exp(-(((np.rad2deg(h_barp) - 275) / 25) ** 2))
    c_barp7 = c_barp**7
    r_c = 2 * np.sqrt(c_barp7 / (c_barp7 + 25.0**7))
    s_l = 1 + 0.015 * (L_barp - 50) ** 2 / np.sqrt(20 + (L_barp - 50) ** 2)
    s_c = 1 + 0.045 * c_barp
    s_h = 1 + 0.015 * c_barp * t
    r_t = -np.sin(2 * d_theta) * r_c

    dl = dLp / (kL * s_l)
    dc = dCp / (kC * s_c)
    dh = dHp / (kH * s_h)
    return np.sqrt(dl**2 + dc**2 + dh**2 + r_t * dc * dh)


def _to_space(rgb, space: str) -> np.ndarray:
    """sRGB floats in [0, 1] -> the working space of k-means; assumes a valid ``space``.

    ``rgb`` stays on the 0–255 scale, so its distances read in 8-bit units.
    """
    if space == "rgb":
        return rgb * 255.0
    if space == "lab":
        return _rgb_to_lab(rgb)
    return _rgb_to_oklab(rgb)


def _from_space(values, space: str) -> np.ndarray:
    """The inverse of :func:`_to_space`: working space -> sRGB floats (not clipped)."""
    if space == "rgb":
        return values / 255.0
    if space == "lab":
        return _lab_to_rgb(values)
    return _oklab_to_rgb(values)


#: The span of each working space's lightness axis (the image path scales the opacity's axis
#: from it: ``image._ALPHA_AXIS``).
_ALPHA_SCALE = {"rgb": 255.0, "lab": 100.0, "oklab": 1.0}
