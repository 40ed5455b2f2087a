"""Selective dithering: the strength maps, the diffusion kernel and its guarantees."""

import numpy as np
import pytest

from lloyd._dither import contrast_maps, grain, palette_weights, run_map
from lloyd._remap import dither_indices
from lloyd.image import quantize

BOX = {"lower": np.zeros(3), "upper": np.full(3, 255.0)}


def _diffuse(pixels, palette, strength, faint=0.0, max_error=np.inf):
    labels = np.zeros(pixels.shape[:2], dtype=np.uint8)
    for k in range(len(palette) - 1, -1, -1):  # nearest entry, ties to the lower index
        d = ((pixels - palette[k]) ** 2).sum(axis=2)
        best = ((pixels[..., None, :] - palette) ** 2).sum(axis=3).min(axis=2)
        labels[d == best] = k
    strengths = np.broadcast_to(np.float64(strength), pixels.shape[:2])
    return dither_indices(pixels, palette, labels, strengths, faint=faint, max_error=max_error,
                          **BOX), labels


def test_full_strength_keeps_the_mean_colour():
    grey = np.full((16, 16, 3), 128.0)
    palette = np.array([[0.0, 0.0, 0.0], [255.0, 255.0, 255.0], [255.0, 0.0, 0.0]])
    indices, _ = _diffuse(grey, palette, 1.0)
    assert set(np.unique(indices)) == {0, 1}
    assert abs(palette[indices].mean() - 128) < 2


def test_zero_strength_keeps_the_nearest_colour():
    rng = np.random.default_rng(0)
    pixels = rng.uniform(0, 255, (12, 9, 3))
    palette = rng.uniform(0, 255, (5, 3))
    indices, labels = _diffuse(pixels, palette, 0.0)
    np.testing.assert_array_equal(indices, labels)


def test_faint_error_is_dropped():
    # Every pixel is 1 level from the palette's grey: squared error 3 < faint = 4.
    pixels = np.full((8, 8, 3), 101.0)
    palette = np.array([[100.0, 100.0, 100.0], [110.0, 110.0, 110.0]])
    indices, _ = _diffuse(pixels, palette, 1.0, faint=4.0)
    assert (indices == 0).all()
    indices, _ = _diffuse(pixels, palette, 1.0, faint=0.0)
    assert (indices == 1).any()  # without the guard the error builds up into the other grey


def test_run_map_hand_worked():
    # One row: a run of three 0s (10 a pixel, no rows above or below), then one 1.
    labels = np.array([[0, 0, 0, 1]])
    np.testing.assert_allclose(run_map(labels), [[285 / 640] * 3 + [265 / 640]])
    # Two identical rows: each pixel also scores 15 for its neighbour below or above.
    two = np.array([[0, 0], [0, 0]])
    np.testing.assert_allclose(run_map(two), np.full((2, 2), (255 + 50) / 640))
    long_run = np.zeros((3, 40), dtype=int)
    np.testing.assert_allclose(run_map(long_run), 1.0)  # capped


def test_contrast_maps_flat_gradient_and_edge():
    _, x = np.mgrid[0:24, 0:24]
    gradient = np.repeat((x * 4.0)[:, :, None], 3, axis=2)
    texture, edges = contrast_maps(gradient, 255.0)
    # A linear ramp has no second difference (but at the border, padded by repetition).
    np.testing.assert_allclose(texture[:, 1:-1], 1.0)
    np.testing.assert_allclose(edges[:, 1:-1], 1.0)
    step = np.where(x < 12, 0.0, 255.0)[:, :, None].repeat(3, axis=2)
    texture, edges = contrast_maps(step, 255.0)
    assert edges[:, 11:13].max() < 0.05  # no diffusion across the edge ...
    np.testing.assert_allclose(edges[:, :5], 1.0)  # ... and full strength away from it
    assert 0 <= edges.min() and edges.max() <= 1 and texture.min() >= 80 / 256 - 1e-12


def test_palette_weights_sum_the_texture_of_each_colour():
    texture = np.array([[[1.0, 0.5], [0.5, 0.25]]])
    inverse = np.array([0, 1, 1, 0])
    np.testing.assert_allclose(palette_weights(texture, inverse, 3), [1.0625, 0.5, 0.0])


def _patches_and_gradient(alpha=False):
    """Flat patches (colours the palette will hold exactly) beside a noisy gradient."""
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:48, 0:64]
    image = np.stack([x * 3.0 + 30, y * 4.0 + 20, (x + y) * 1.5], axis=2)
    image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255)
    image[:, :16] = [200, 30, 40]
    image[:16, 48:] = [20, 90, 200]
    image = image.astype(np.uint8)
    if alpha:
        a = np.full((48, 64, 1), 255, np.uint8)
        a[20:30, 20:44] = 0  # a transparent hole in the middle of the gradient
        a[30:34, 20:44] = 128
        image = np.concatenate([image, a], axis=2)
    return image


@pytest.mark.parametrize("space", ["rgb", "lab", "oklab"])
def test_pixels_whose_colour_is_in_the_palette_never_change(space):
    image = _patches_and_gradient()
    result = quantize(image, 8, dither=True, color_space=space, random_state=0)
    palette = {tuple(c) for c in result.palette}
    held = np.array([tuple(p) in palette for p in image.reshape(-1, 3)]).reshape(48, 64)
    assert held.sum() >= 16 * 16  # a patch at least (oklab may round the other): it can fail
    np.testing.assert_array_equal(result.to_array()[held], image[held])
    plain = quantize(image, 8, random_state=0)
    assert (result.indices != plain.indices).sum() > 50  # and the rest is dithered


def test_no_colour_goes_into_fully_transparent_pixels():
    image = _patches_and_gradient(alpha=True)
    transparent = image[:, :, 3] == 0
    result = quantize(image, 8, dither=True, random_state=0)
    out = result.to_array()
    assert out.shape[2] == 4
    np.testing.assert_array_equal(out[transparent], 0)
    assert (out[~transparent, 3] > 0).all()


def test_dithered_bytes_are_repeatable():
    image = _patches_and_gradient(alpha=True)
    first = quantize(image, 16, dither=0.7, random_state=3).to_png()
    assert quantize(image, 16, dither=0.7, random_state=3).to_png() == first


def test_grain_is_the_median_smaller_second_difference():
    y, x = np.mgrid[0:20, 0:30]
    ramp = np.repeat((3.0 * x + 2.0 * y)[:, :, None], 3, axis=2)
    everywhere = np.ones((20, 30), bool)
    assert grain(ramp, everywhere) == 0.0  # a gradient has no grain
    checker = np.repeat((10.0 * ((x + y) % 2))[:, :, None], 3, axis=2)
    assert grain(checker, everywhere) == 60.0  # |10 + 10 - 0| in each of 3 channels
    stripes = np.repeat((10.0 * (x % 2))[:, :, None], 3, axis=2)
    assert grain(stripes, everywhere) == 0.0  # the smaller of the two: flat vertically
    only_left = x < 15
    assert grain(np.where(only_left[:, :, None], ramp, checker), only_left) == 0.0
