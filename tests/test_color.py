"""Colour conversions against published values and scikit-image, an independent reference."""

import numpy as np
import pytest

from lloyd import color

skcolor = pytest.importorskip("skimage.color")


def test_lab_matches_scikit_image():
    rng = np.random.default_rng(0)
    rgb = rng.random((2000, 3))
    # scikit-image rounds the sRGB matrix to 6 digits; lloyd uses IEC 61966-2-1's 7.
    np.testing.assert_allclose(color.rgb_to_lab(rgb), skcolor.rgb2lab(rgb), atol=0.01)


def test_lab_round_trip_matches_scikit_image():
    rng = np.random.default_rng(1)
    lab = skcolor.rgb2lab(rng.random((500, 3)))
    np.testing.assert_allclose(color.lab_to_rgb(lab), skcolor.lab2rgb(lab), atol=1e-3)
    rgb = rng.random((500, 3))
    np.testing.assert_allclose(color.lab_to_rgb(color.rgb_to_lab(rgb)), rgb, atol=1e-10)


def test_lab_white_black_grey():
    np.testing.assert_allclose(color.rgb_to_lab([1.0, 1.0, 1.0]), [100, 0, 0], atol=1e-4)
    np.testing.assert_allclose(color.rgb_to_lab([0.0, 0.0, 0.0]), [0, 0, 0], atol=1e-12)
    grey = color.rgb_to_lab([0.5, 0.5, 0.5])
    assert abs(grey[1]) < 1e-4 and abs(grey[2]) < 1e-4


# Sharma, Wu & Dalal (2005), Table 1: pairs 1, 2, 3, 4, 7 and 17.
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 2.8361, -74.0200), (50.0, 0.0, -82.7485), 3.4412),
    ((50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0000),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
]


@pytest.mark.parametrize(("lab1", "lab2", "expected"), SHARMA)
def test_delta_e_2000_published_pairs(lab1, lab2, expected):
    assert color.delta_e_2000(lab1, lab2) == pytest.approx(expected, abs=5e-5)
    assert color.delta_e_2000(lab2, lab1) == pytest.approx(expected, abs=5e-5)


def test_delta_e_2000_matches_scikit_image():
    rng = np.random.default_rng(2)
    lab1 = skcolor.rgb2lab(rng.random((3000, 3)))
    lab2 = skcolor.rgb2lab(rng.random((3000, 3)))
    np.testing.assert_allclose(
        color.delta_e_2000(lab1, lab2), skcolor.deltaE_ciede2000(lab1, lab2), atol=1e-9
    )
    assert np.all(color.delta_e_2000(lab1, lab1) == 0)


def test_oklab_published_values():
    # Björn Ottosson's reference: the sRGB primaries and white.
    expected = {
        (1.0, 0.0, 0.0): (0.627955, 0.224863, 0.125846),
        (0.0, 1.0, 0.0): (0.866440, -0.233888, 0.179498),
        (0.0, 0.0, 1.0): (0.452014, -0.032457, -0.311528),
        (1.0, 1.0, 1.0): (1.0, 0.0, 0.0),
    }
    for rgb, oklab in expected.items():
        np.testing.assert_allclose(color.rgb_to_oklab(rgb), oklab, atol=1e-5)


def test_oklab_round_trip():
    rgb = np.random.default_rng(3).random((1000, 3))
    np.testing.assert_allclose(color.oklab_to_rgb(color.rgb_to_oklab(rgb)), rgb, atol=1e-9)


def test_srgb_transfer_curve():
    assert color.srgb_to_linear([0.5, 0.5, 0.5])[0] == pytest.approx(0.21404114, abs=1e-7)
    x = np.linspace(0, 1, 1001)
    rgb = np.stack([x, x, x], axis=1)
    np.testing.assert_allclose(color.linear_to_srgb(color.srgb_to_linear(rgb)), rgb, atol=1e-12)
    # Continuous at the joint of the linear and power segments.
    below, above = color.srgb_to_linear([[0.04045 - 1e-9] * 3, [0.04045 + 1e-9] * 3])[:, 0]
    assert above - below < 1e-8


def test_uint8_is_read_on_the_8_bit_scale():
    rgb8 = np.array([[255, 128, 0], [12, 34, 56]], dtype=np.uint8)
    np.testing.assert_allclose(color.rgb_to_lab(rgb8), color.rgb_to_lab(rgb8 / 255.0))
    np.testing.assert_allclose(color.rgb_to_oklab(rgb8), color.rgb_to_oklab(rgb8 / 255.0))


def test_leading_axes_are_kept():
    image = np.random.default_rng(4).random((4, 5, 3))
    assert color.rgb_to_lab(image).shape == (4, 5, 3)
    assert color.delta_e_2000(color.rgb_to_lab(image), [50.0, 0.0, 0.0]).shape == (4, 5)


def test_errors_name_the_parameter():
    with pytest.raises(ValueError, match=r"rgb must have shape \(\.\.\., 3\).*\(4, 2\)"):
        color.rgb_to_lab(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="rgb must be finite"):
        color.rgb_to_oklab([np.nan, 0.0, 0.0])
    with pytest.raises(ValueError, match="lab2 must have shape"):
        color.delta_e_2000([50.0, 0.0, 0.0], [1.0, 2.0])


def test_compiled_delta_e_matches_the_numpy_statement():
    """The image path's compiled CIEDE2000 is the formula of ``delta_e_2000``, to the last few
    bits: on Sharma's pairs, on greys (hue 0), across the hue wrap, and on random colours; and
    each value is its own pair's, whatever the thread count."""
    from lloyd._kernels.cielab import delta_e_2000_entries

    rng = np.random.default_rng(3)
    lab = skcolor.rgb2lab(rng.random((5000, 3)))
    lab[:100, 1:] = 0.0  # neutral colours
    lab[100:200, 2] = -1e-3 * rng.random(100)  # hues just below 2π, paired with ones above 0
    lab[200:300, 2] = 1e-3 * rng.random(100)
    palette = np.vstack([lab[rng.choice(lab.shape[0], 61)], [[50.0, 0, 0], [70.0, 5, 1e-4],
                                                              [40.0, 5, -1e-4]]])
    entries = rng.integers(0, palette.shape[0], lab.shape[0])
    entries[100:300] = [62, 63] * 100
    expected = color.delta_e_2000(lab, palette[entries])
    got = color._delta_e_2000_entries(lab, palette, entries)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    ids = np.arange(lab.shape[0], dtype=np.intp)
    for n_threads in (1, 2, 3):
        assert np.array_equal(delta_e_2000_entries(lab, palette, entries.astype(np.intp),
                                                   n_threads), got)
    assert np.all(color._delta_e_2000_entries(lab, lab, ids) == 0)
    for lab1, lab2, published in SHARMA:
        value = color._delta_e_2000_entries(np.array([lab1]), np.array([lab2]), [0])[0]
        assert value == pytest.approx(published, abs=5e-5)
        assert value == pytest.approx(color.delta_e_2000(lab1, lab2), rel=1e-12)


def test_compiled_lab_of_bytes_matches_rgb_to_lab():
    """Every grey and random colours, RGB or RGBA bytes (alpha ignored), as rgb_to_lab of
    their values on the 0-1 scale."""
    rng = np.random.default_rng(4)
    greys = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 4, axis=1)
    colors = np.vstack([greys, rng.integers(0, 256, (3000, 4), dtype=np.uint8)])
    expected = color.rgb_to_lab(colors[:, :3] / 255.0)
    np.testing.assert_allclose(color._bytes_to_lab(colors), expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(color._bytes_to_lab(colors[:, :3].copy()),
                                  color._bytes_to_lab(colors))
