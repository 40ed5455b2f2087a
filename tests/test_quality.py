"""quantize(quality=...), posterize, strip and metadata, and bytes as input."""

import io
import itertools
import math

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from lloyd._quality import (
    AIM,
    error_features,
    fewest_colors,
    mean_squared_error,
    mse_to_quality,
    quality_to_mse,
)
from lloyd.image import QualityTooLowError, quantize


def _gradient(size=(48, 64)):
    y, x = np.mgrid[0 : size[0], 0 : size[1]]
    rng = np.random.default_rng(0)
    image = np.stack([x * 1.5 + 40, y * 2.0 + 60, (x + y) * 1.0 + 20], axis=2) + rng.normal(0, 1, (*size, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def test_quality_scale_hand_worked():
    assert quality_to_mse(0) == math.inf and quality_to_mse(100) == 0.0
    # libimagequant's formula in pngquant's printed units (65536 / 6 per unit).
    assert quality_to_mse(80) == pytest.approx(65536 / 6 * 2.5 / 290**1.2 * 20.1 / 100)
    fudge = 0.016 / 10.001 - 0.001
    assert quality_to_mse(10) == pytest.approx(65536 / 6 * (fudge + 2.5 / 220**1.2 * 0.901))
    values = [quality_to_mse(q) for q in range(101)]
    assert all(a > b for a, b in itertools.pairwise(values))  # stricter as quality rises
    for q in (1, 10, 19, 20, 50, 65, 80, 95, 100):
        assert mse_to_quality(quality_to_mse(q)) == q
    assert mse_to_quality(quality_to_mse(80) * 1.001) == 79
    assert mse_to_quality(1e9) == 0


@pytest.mark.parametrize(("mse", "quality"), [
    (61.146, 5), (52.401, 7), (33.024, 18), (26.124, 31), (15.308, 54), (10.783, 66),
    (7.688, 75), (5.130, 82), (2.754, 90), (1.743, 94), (0.459, 98), (0.016, 99),
])
def test_quality_of_an_mse_is_pngquants(mse, quality):
    # What pngquant 2.17 -v printed (MSE=..., Q=...) for scikit-image's photographs and
    # Adwaita's icons at 16, 64 and 256 colours.
    assert mse_to_quality(mse) == quality


def test_error_features_hand_worked():
    colors = np.array([[255, 0, 255, 255], [255, 255, 255, 51], [0, 0, 0, 0]], np.uint8)
    np.testing.assert_allclose(error_features(colors), [
        [0.5, 0.0, 0.45, 0.625],
        [0.5 * 0.2, 1.0 * 0.2, 0.45 * 0.2, 0.625 * 0.2],  # premultiplied, 1 ** gamma is 1
        [0.0, 0.0, 0.0, 0.0],
    ])
    grey = error_features(np.array([[128, 128, 128]], np.uint8))  # no alpha: opaque
    np.testing.assert_allclose(grey[0, :3] / [0.5, 1.0, 0.45], (128 / 255) ** (0.5499 / 0.45455))
    assert grey[0, 3] == 0.625


def test_mean_squared_error_hand_worked():
    colors_f = np.array([[0.0, 0, 0, 0], [1.0, 0, 0, 0], [0.0, 0, 0, 0.5]])
    palette_f = np.zeros((1, 4))
    entries = np.zeros(3, np.intp)
    counts = np.array([6.0, 1.0, 1.0])
    # Squared errors 0, 1 and 0.25 over 8 pixels, 2 of them with any error: the mean 1.25 / 8
    # over sqrt(2 / 8), in printed units times the calibration to pngquant's.
    expected = 1.25 / 8 / math.sqrt(2 / 8) * 65536 / 6 * 2.3
    assert mean_squared_error(colors_f, palette_f, entries, counts) == pytest.approx(expected)
    assert mean_squared_error(colors_f[:1], palette_f, entries[:1], counts[:1]) == 0.0


def test_fewest_colors_bisects_and_tries_each_k_once():
    calls = []

    def error_of(k):
        calls.append(k)
        return 10.0 / k, f"palette {k}"

    assert fewest_colors(error_of, 1.0, 256) == (10, 1.0, "palette 10")
    assert len(calls) == len(set(calls)) <= 10  # 256 then 8 halvings
    calls.clear()
    assert fewest_colors(error_of, 0.01, 256) == (256, 10 / 256, "palette 256")
    assert calls == [256]  # out of reach: the most allowed, at once
    assert fewest_colors(error_of, 100.0, 256)[0] == 1


def _scale_error(image, result):
    colors = image.reshape(-1, image.shape[-1])
    return mean_squared_error(error_features(colors), error_features(result.palette),
                              result.indices.ravel().astype(np.intp), np.ones(len(colors)))


def test_quality_uses_the_fewest_colours_that_reach_max():
    image = _gradient()
    result = quantize(image, quality=(0, 80), random_state=0)
    target = AIM * quality_to_mse(80)  # the search aims a little beyond MAX
    assert _scale_error(image, result) <= target and result.report.quality >= 80
    n = len(result.palette)
    assert 2 <= n < 256
    fewer = quantize(image, n - 1, random_state=0)
    assert _scale_error(image, fewer) > target  # one colour less does not reach it
    assert result.report.as_dict()["quality"] == result.report.quality
    # n_colors is then the most allowed.
    capped = quantize(image, 3, quality=(0, 80), random_state=0)
    assert len(capped.palette) <= 3 and capped.report.quality < 80


def test_quality_below_min_raises_with_the_quality_reached():
    with pytest.raises(QualityTooLowError, match=r"quality \d+ is below the minimum of 90") as e:
        quantize(_gradient(), 2, quality=(90, 100), random_state=0)
    assert e.value.quality < 90 and e.value.minimum == 90 and e.value.n_colors == 2
    assert e.value.delta_e > 1.0  # two colours for a gradient: far off


def test_quality_min_is_the_scale_itself():
    # MIN is not tightened by the aim: an image whose palette reaches exactly MIN is written.
    image = _gradient()
    reached = quantize(image, 6, random_state=0)
    q = mse_to_quality(_scale_error(image, reached))
    assert quantize(image, 6, quality=(q, 100), random_state=0).report.quality == q
    with pytest.raises(QualityTooLowError):
        quantize(image, 6, quality=(q + 1, 100), random_state=0)


def test_quality_of_an_image_with_few_colours_is_lossless():
    image = np.zeros((8, 8, 3), np.uint8)
    image[:4] = [255, 0, 0]
    result = quantize(image, quality=(100, 100))
    assert result.report.quality == 100 and len(result.palette) == 2
    np.testing.assert_array_equal(result.to_array(), image)


@pytest.mark.parametrize(("quality", "message"), [
    ((80, 60), r"quality=\(80, 60\) must have min <= max"),
    ((0, 101), r"quality must be a pair \(min, max\) of integers in \[0, 100\]"),
    (80, r"quality must be a pair"),
    ((0.5, 80), r"quality must be a pair"),
])
def test_bad_quality(quality, message):
    with pytest.raises(ValueError, match=message):
        quantize(_gradient(), quality=quality)


def test_quality_refuses_an_init_array():
    with pytest.raises(ValueError, match="init must be 'k-means\\+\\+' or 'random' with quality"):
        quantize(_gradient(), quality=(0, 80), init=np.zeros((4, 3)))


def test_posterize_rounds_the_palette():
    image = _gradient()
    result = quantize(image, 16, posterize=4, random_state=0)
    assert (result.palette % 17 == 0).all()
    np.testing.assert_array_equal(result.to_array(), result.palette[result.indices])
    # Every pixel takes its nearest posterized colour.
    d = ((image[:, :, None, :].astype(float) - result.palette) ** 2).sum(axis=3)
    chosen = np.take_along_axis(d, result.indices[..., None].astype(np.intp), axis=2)[..., 0]
    np.testing.assert_allclose(chosen, d.min(axis=2))
    with pytest.raises(ValueError, match=r"posterize=5 must be an integer in \[0, 4\]"):
        quantize(image, posterize=5)


def _png_with_metadata(tmp_path):
    info = PngInfo()
    info.add_text("Title", "gradient")
    info.add_itxt("Description", "dégradé", lang="fr")
    path = tmp_path / "meta.png"
    icc = b"fake-icc-profile-bytes" * 4
    Image.fromarray(_gradient()).save(path, pnginfo=info, icc_profile=icc, dpi=(144, 144))
    return path, icc


def test_metadata_is_kept_by_default_and_stripped_on_request(tmp_path):
    path, icc = _png_with_metadata(tmp_path)
    kept = quantize(path, 8, random_state=0).to_png()
    with Image.open(io.BytesIO(kept)) as im:
        im.load()
        assert im.info["icc_profile"] == icc
        assert im.text["Title"] == "gradient" and im.text["Description"] == "dégradé"
        assert im.info["dpi"] == pytest.approx((144, 144), abs=0.01)
    stripped = quantize(path, 8, strip=True, random_state=0).to_png()
    with Image.open(io.BytesIO(stripped)) as im:
        im.load()
        assert "icc_profile" not in im.info and not im.text and "dpi" not in im.info
        assert np.array_equal(np.asarray(im), np.asarray(Image.open(io.BytesIO(kept))))


def test_gamma_is_kept(tmp_path):
    # Pillow cannot write gAMA: lloyd's own output with it is the input.
    from lloyd._image_io import Metadata, encode_png

    indices = np.zeros((4, 4), np.uint8)
    data = encode_png(indices, np.array([[1, 2, 3]], np.uint8), Metadata(gamma=0.45455))
    source = tmp_path / "gamma.png"
    source.write_bytes(data)
    with Image.open(io.BytesIO(quantize(source, 4).to_png())) as im:
        assert im.info["gamma"] == pytest.approx(0.45455)


def test_bytes_input_is_a_file(tmp_path):
    path, _ = _png_with_metadata(tmp_path)
    from_path = quantize(path, 8, random_state=0)
    from_bytes = quantize(path.read_bytes(), 8, random_state=0)
    assert from_bytes.to_png() == from_path.to_png()
    assert from_bytes.report.input_bytes == path.stat().st_size


def test_speed_options_follow_pngquants_range():
    from lloyd.image import speed_options

    assert [speed_options(s) for s in (1, 4, 5, 7, 8, 10, 11)] == [
        {}, {}, {"max_iter": 10}, {"max_iter": 10}, {"max_iter": 3}, {"max_iter": 3},
        {"max_iter": 3, "n_init": 1}]
    speed_options(8)["max_iter"] = 99  # a copy: the table is not changed
    assert speed_options(8) == {"max_iter": 3}
    for bad in (0, 12, 4.0, True, "4"):
        with pytest.raises(ValueError, match=r"speed=.* must be an integer in \[1, 11\]"):
            speed_options(bad)
