"""Alpha in the image pipeline: colours premultiplied by opacity in the fit, remap and dither."""

import numpy as np
import pytest

from lloyd.image import _features, _to_palette, quantize


def test_features_premultiply_colour_by_opacity():
    # Hand-worked: opacity 51 / 255 = 0.2 scales the colour about mid-grey (127.5), and the
    # opacity is a fourth coordinate, 0-255 times sqrt(3) / 2 in 'rgb'.
    colors = np.array([[200, 100, 50, 51], [200, 100, 50, 255], [9, 9, 9, 0]], np.uint8)
    h = np.sqrt(3) / 2
    np.testing.assert_allclose(_features(colors, "rgb"),
                               [[14.5, -5.5, -15.5, 51 * h], [72.5, -27.5, -77.5, 255 * h],
                                [0, 0, 0, 0]])


def test_rgb_distance_is_the_mean_error_over_black_and_over_white():
    # Independent float64 reference: composite both colours over black and over white; the
    # working space's squared distance is the mean of the two squared differences, whatever
    # the opacities.
    rng = np.random.default_rng(3)
    colors = rng.integers(0, 256, (400, 4)).astype(np.uint8)
    colors[::5, 3] = 0
    colors[1::5, 3] = 255
    f = _features(colors, "rgb")
    rgb, a = colors[:, :3].astype(float), colors[:, 3:].astype(float) / 255.0
    over_black, over_white = a * rgb, a * rgb + (1 - a) * 255.0
    i, j = np.arange(0, 400, 2), np.arange(1, 400, 2)
    expected = 0.5 * (((over_black[i] - over_black[j]) ** 2).sum(axis=1)
                      + ((over_white[i] - over_white[j]) ** 2).sum(axis=1))
    np.testing.assert_allclose(((f[i] - f[j]) ** 2).sum(axis=1), expected, rtol=1e-12,
                               atol=1e-9)


@pytest.mark.parametrize("space", ["rgb", "lab", "oklab"])
def test_colour_distance_at_one_opacity_scales_with_it(space):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (2, 3))
    for alpha in (255, 128, 13):
        pair = np.hstack([rgb, [[alpha], [alpha]]]).astype(np.uint8)
        f = _features(pair, space)
        opaque = _features(np.hstack([rgb, [[255], [255]]]).astype(np.uint8), space)
        np.testing.assert_allclose(np.linalg.norm(f[0] - f[1]),
                                   alpha / 255 * np.linalg.norm(opaque[0] - opaque[1]))


@pytest.mark.parametrize("space", ["rgb", "lab", "oklab"])
def test_palette_colours_come_back_from_premultiplied_centres(space):
    rng = np.random.default_rng(1)
    colors = rng.integers(0, 256, (3000, 4)).astype(np.uint8)
    colors[:, 3] = np.maximum(colors[:, 3], 1)
    np.testing.assert_array_equal(_to_palette(_features(colors, space), space), colors)


def _ramp_under_faint_colours():
    """A 64-level opaque grey ramp, and below it a band of faint (alpha 24) saturated colours."""
    rng = np.random.default_rng(0)
    image = np.zeros((40, 64, 4), np.uint8)
    image[:, :, :3] = (np.arange(64) * 4)[None, :, None]
    image[:, :, 3] = 255
    faint = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]], np.uint8)
    image[32:, :, :3] = faint[rng.integers(0, 4, (8, 64))]
    image[32:, :, 3] = 24
    return image


def test_faint_colours_cost_the_palette_as_much_as_they_show():
    # Unpremultiplied, the four faint colours are as far apart as opaque ones and take four
    # of 8 entries (the ramp's error is then 342 on the 8-bit scale); at opacity 24 / 255 they
    # show a tenth as much, so one entry serves them and the ramp gets seven.
    image = _ramp_under_faint_colours()
    result = quantize(image, 8, random_state=0)
    assert (result.palette[:, 3] < 255).sum() == 1
    ramp = result.to_array()[:32].astype(float) - image[:32]
    assert (ramp[:, :, 3] == 0).all()
    assert (ramp[:, :, :3] ** 2).mean() < 120  # seven greys over 64 levels: about 108


def test_dithering_keeps_faint_error_out_of_opaque_pixels():
    # Fitted and diffused premultiplied, the faint band neither takes the ramp's entries nor
    # pushes its large colour errors at full size into the ramp below it (rows run top to
    # bottom): the ramp's first rows come out about as they do without the band (10.5 against
    # 10.8 mean absolute error; unpremultiplied, 18.3).
    image = _ramp_under_faint_colours()[::-1].copy()  # the band on top
    dithered = quantize(image, 8, dither=True, random_state=0).to_array()
    alone = quantize(image[8:], 7, dither=True, random_state=0).to_array()
    near_band = slice(8, 16)  # the ramp's rows the band's error reaches first
    err_with = np.abs(dithered[near_band, :, :3].astype(float) - image[near_band, :, :3]).mean()
    err_alone = np.abs(alone[:8, :, :3].astype(float) - image[near_band, :, :3]).mean()
    assert err_with < 1.5 * err_alone
    assert (dithered[8:, :, 3] == 255).all() and (dithered[:8, :, 3] < 255).all()
