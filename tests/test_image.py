"""quantize() and compress(): known-answer images, every input mode, alpha, safety, determinism."""

import io
import os
import warnings

import numpy as np
import pytest
from PIL import Image

import lloyd
from lloyd.image import (
    ImageReadError,
    MultiFrameWarning,
    _features,
    _fit_palette,
    compress,
    quantize,
)


def _palette_image(n_colors, shape=(24, 32), channels=3, seed=0):
    """An image that uses exactly ``n_colors`` distinct colours, and those colours."""
    rng = np.random.default_rng(seed)
    colors = rng.choice(256**channels if channels < 4 else 2**31, size=n_colors, replace=False)
    colors = ((colors[:, None] >> (8 * np.arange(channels))) & 255).astype(np.uint8)
    if channels == 4:
        colors[:, 3] = np.maximum(colors[:, 3], 1)  # no fully transparent ones
    labels = rng.permutation(np.resize(np.arange(n_colors), shape[0] * shape[1]))
    return colors[labels].reshape(*shape, channels), colors


def _photo(size=(48, 64), seed=0):
    """A smooth, noisy colour image with thousands of distinct colours."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : size[0], 0 : size[1]]
    base = np.stack([x * 255 / size[1], y * 255 / size[0], (x + y) * 127 / sum(size)], axis=2)
    return np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)


def _read_png(data):
    im = Image.open(io.BytesIO(data))
    return im, np.asarray(im)


def _bit_depth(data):
    return data[24]  # IHDR: 8-byte signature, 8-byte chunk header, width, height, bit depth


@pytest.mark.parametrize("n_colors", [1, 2, 3, 16, 200])
def test_exactly_k_colours_is_lossless(n_colors):
    image, colors = _palette_image(n_colors)
    result = quantize(image, max(n_colors, 2), random_state=0)
    np.testing.assert_array_equal(result.to_array(), image)
    assert sorted(map(tuple, result.palette)) == sorted(map(tuple, colors))
    report = result.report
    assert report.psnr == float("inf") and report.delta_e == 0
    assert report.n_colors == n_colors


@pytest.mark.parametrize(("n_colors", "bits"), [(2, 1), (4, 2), (5, 4), (16, 4), (17, 8), (64, 8)])
def test_png_has_the_smallest_bit_depth_and_reads_back(n_colors, bits):
    result = quantize(_photo(), n_colors, random_state=0)
    assert len(result.palette) <= n_colors
    data = result.to_png()
    im, indices = _read_png(data)
    assert im.mode == "P" and _bit_depth(data) == bits
    np.testing.assert_array_equal(indices, result.indices)
    np.testing.assert_array_equal(np.asarray(im.convert("RGB")), result.to_array())
    assert result.report.output_bytes == len(data)
    assert result.report.bits_per_pixel == pytest.approx(len(data) * 8 / indices.size)


def test_one_colour_is_the_mean_in_a_1_bit_png():
    image = _photo()
    result = quantize(image, 1)
    np.testing.assert_allclose(result.palette[0], image.reshape(-1, 3).mean(0), atol=0.5)
    assert _bit_depth(result.to_png()) == 1


def test_quantizing_gives_a_good_palette():
    image = _photo()
    result = quantize(image, 16, random_state=0)
    assert result.report.n_colors == 16 and result.report.psnr > 20
    # Each pixel takes its nearest palette colour (no dithering).
    pixels = image.reshape(-1, 1, 3).astype(float)
    dist = ((pixels - result.palette[None].astype(float)) ** 2).sum(2)
    np.testing.assert_array_equal(dist.min(1), dist[np.arange(len(dist)), result.indices.ravel()])


def test_weighted_histogram_fit_equals_fit_on_every_pixel():
    image = _photo(size=(40, 40))
    pixels = image.reshape(-1, 3)
    colors, counts = np.unique(pixels, axis=0, return_counts=True)
    start = _features(pixels[[0, 500, 1000, 1500, 1599, 800]], "rgb")
    options = dict(init=start, n_init=1, max_iter=100, tol=0.0, random_state=0)
    weighted = _fit_palette(_features(colors, "rgb"), counts.astype(float), 6, **options)
    every = _fit_palette(_features(pixels, "rgb"), np.ones(len(pixels)), 6, **options)
    np.testing.assert_allclose(weighted, every, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("space", ["rgb", "lab", "oklab"])
def test_every_colour_space_gives_srgb_palettes(space):
    result = quantize(_photo(), 8, color_space=space, random_state=0)
    assert result.palette.dtype == np.uint8 and result.palette.shape == (8, 3)
    assert 0 < result.report.delta_e < 12


def test_alpha_survives():
    image, _ = _palette_image(6, channels=4)
    image[:4] = 0  # fully transparent rows, with whatever colour
    image[:4, :, :3] = np.random.default_rng(1).integers(0, 256, (4, image.shape[1], 3))
    result = quantize(image, 8, random_state=0)
    im, _ = _read_png(result.to_png())
    assert "transparency" in im.info
    back = np.asarray(im.convert("RGBA"))
    assert (back[:4, :, 3] == 0).all()
    np.testing.assert_array_equal(back[4:], image[4:])
    # Fully transparent pixels take one entry, whatever their colour was.
    assert (result.palette[:, 3] == 0).sum() == 1


def test_alpha_survives_lossy_quantization():
    rgba = np.dstack([_photo(), np.full(_photo().shape[:2], 255, np.uint8)])
    rgba[:10, :, 3] = 0
    rgba[10:20, :, 3] = 128
    result = quantize(rgba, 8, random_state=0)
    back = np.asarray(Image.open(io.BytesIO(result.to_png())).convert("RGBA"))
    assert (back[:10, :, 3] == 0).all() and (back[20:, :, 3] == 255).all()
    assert (np.abs(back[10:20, :, 3].astype(int) - 128) <= 1).all()
    # tRNS stops after the last translucent entry: they come first in the palette.
    alpha = result.palette[:, 3]
    assert (alpha[: (alpha < 255).sum()] < 255).all()


def _save(tmp_path, im, fmt, **options):
    path = tmp_path / f"input.{fmt.lower()}"
    im.save(path, format=fmt, **options)
    return path


MODES = {
    "RGB": lambda rgb: Image.fromarray(rgb),
    "RGBA": lambda rgb: Image.fromarray(np.dstack([rgb, np.full(rgb.shape[:2], 200, np.uint8)])),
    "LA": lambda rgb: Image.fromarray(np.dstack([rgb[:, :, 0], rgb[:, :, 1]])),
    "L": lambda rgb: Image.fromarray(rgb[:, :, 0]),
    "P": lambda rgb: Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=7),
    "I;16": lambda rgb: Image.fromarray(rgb[:, :, 0].astype(np.uint16) * 257),
    "CMYK": lambda rgb: Image.fromarray(rgb).convert("CMYK"),
}


@pytest.mark.parametrize("mode", list(MODES))
def test_every_input_mode_round_trips(mode, tmp_path):
    rgb, _ = _palette_image(7)
    im = MODES[mode](rgb)
    assert im.mode == mode
    expected = np.asarray(im.convert("RGBA" if "A" in mode else "RGB"))
    if mode == "I;16":
        expected = np.repeat(rgb[:, :, :1], 3, axis=2)
    fmt = "TIFF" if mode == "CMYK" else "PNG"
    for source in (im, _save(tmp_path, im, fmt)):
        result = quantize(source, 16, random_state=0)
        np.testing.assert_array_equal(result.to_array(), expected)


@pytest.mark.parametrize(("fmt", "lossless"), [
    ("PNG", True), ("BMP", True), ("TIFF", True), ("GIF", True), ("WEBP", True), ("JPEG", False),
])
def test_every_format_pillow_reads(fmt, lossless, tmp_path):
    rgb, _ = _palette_image(5)
    options = {"lossless": True} if fmt == "WEBP" else {}
    path = _save(tmp_path, Image.fromarray(rgb), fmt, **options)
    result = quantize(path, 8, random_state=0)
    assert result.indices.shape == rgb.shape[:2]
    assert result.report.input_bytes == os.path.getsize(path)
    if lossless:
        np.testing.assert_array_equal(result.to_array(), rgb)


def test_16_bit_grey_is_scaled_not_clipped():
    im = Image.fromarray(np.array([[0, 257 * 128, 65535]], dtype=np.uint16))
    assert im.mode == "I;16"
    np.testing.assert_array_equal(quantize(im, 4).to_array()[0, :, 0], [0, 128, 255])


def test_exif_orientation_is_applied(tmp_path):
    rgb, _ = _palette_image(4, shape=(2, 3))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    path = tmp_path / "rotated.png"
    Image.fromarray(rgb).save(path, exif=exif)
    result = quantize(path, 4)
    np.testing.assert_array_equal(result.to_array(), np.rot90(rgb, k=-1))


def test_several_frames_use_the_first_with_a_warning(tmp_path):
    first, _ = _palette_image(3)
    frames = [Image.fromarray(first), Image.fromarray(255 - first)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    with pytest.warns(MultiFrameWarning, match="has 2 frames; only the first"):
        result = quantize(path, 4)
    np.testing.assert_array_equal(result.to_array(), first)


def test_dithering_keeps_the_mean_colour():
    from lloyd._remap import dither_indices

    grey = np.full((16, 16, 3), 128.0)
    palette = np.array([[0.0, 0.0, 0.0], [255.0, 255.0, 255.0], [255.0, 0.0, 0.0]])
    box = {"lower": np.zeros(3), "upper": np.full(3, 255.0)}
    indices = dither_indices(grey, palette, 1.0, **box)
    assert set(np.unique(indices)) == {0, 1}
    assert abs(palette[indices].mean() - 128) < 2
    # Strength 0 is the nearest colour everywhere.
    np.testing.assert_array_equal(dither_indices(grey + 100, palette, 0.0, **box), 1)


def test_dither_option():
    image = _photo()
    plain = quantize(image, 4, random_state=0)
    np.testing.assert_array_equal(quantize(image, 4, dither=0.0, random_state=0).indices,
                                  plain.indices)
    for space in ("rgb", "lab", "oklab"):
        dithered = quantize(image, 4, dither=True, color_space=space, random_state=0)
        assert dithered.report.n_colors <= 4 and dithered.report.psnr > 15
        assert (dithered.indices != plain.indices).any()


def test_deterministic_to_the_byte(tmp_path):
    image = _photo()
    first = quantize(image, 16, random_state=0).to_png()
    assert quantize(image, 16, random_state=0).to_png() == first
    source = tmp_path / "in.png"
    Image.fromarray(image).save(source)
    compress(source, tmp_path / "a.png", 16, dither=0.8, random_state=3)
    compress(source, tmp_path / "b.png", 16, dither=0.8, random_state=3)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_compress_never_overwrites_without_permission(tmp_path):
    source = tmp_path / "in.png"
    Image.fromarray(_photo()).save(source)
    target = tmp_path / "out.png"
    target.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match=r"out\.png already exists"):
        compress(source, target, 8)
    assert target.read_bytes() == b"precious"
    with pytest.raises(FileExistsError):
        compress(source, source, 8)
    compress(source, target, 8, overwrite=True)
    with Image.open(target) as im:
        assert im.mode == "P"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png", "out.png"]  # no temp files


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: None, "no such file"),
    (lambda p: p.write_bytes(b"hello, not an image"), "not an image format"),
    (lambda p: p.write_bytes(_png_bytes()[:-80]), "truncated or corrupt"),
])
def test_unreadable_inputs(tmp_path, make, message):
    path = tmp_path / "bad.png"
    make(path)
    with pytest.raises(ImageReadError, match=f"cannot read .*bad.png: {message}"):
        quantize(path)


def _png_bytes():
    buffer = io.BytesIO()
    Image.fromarray(_photo()).save(buffer, format="PNG")
    return buffer.getvalue()


def test_decompression_bomb_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.fromarray(_photo()).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ImageReadError, match="decompression-bomb limit of 1,000 pixels"):
        quantize(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2000)  # over the limit but under twice it
    with pytest.raises(ImageReadError, match="decompression-bomb"):
        quantize(path)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_colors": 0}, r"n_colors=0 must be in \[1, 256\]"),
    ({"n_colors": 257}, r"n_colors=257 must be in \[1, 256\]: a PNG palette"),
    ({"n_colors": 2.5}, "n_colors must be an integer"),
    ({"color_space": "hsv"}, "color_space='hsv' must be one of"),
    ({"dither": 1.5}, r"dither=1.5 must be a bool or a strength in \[0, 1\]"),
    ({"init": "median"}, "init='median' must be"),
    ({"init": np.zeros((3, 3))}, r"init must have shape \(4, 3\)"),
    ({"max_iter": 0}, "max_iter must be an integer >= 1"),
])
def test_bad_options_are_named(kwargs, message):
    options = {"n_colors": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        quantize(_photo(), **options)


def test_bad_arrays_are_explained():
    with pytest.raises(ValueError, match="shape"):
        quantize(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(ValueError, match=r"float image must hold values in \[0, 1\]"):
        quantize(np.full((4, 4, 3), 2.0))
    with pytest.raises(TypeError, match="image must be a path"):
        quantize(42)


def test_array_init_and_float_input():
    image = _photo() / 255.0
    start = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 0, 255]])
    result = quantize(image, 4, init=start)
    assert result.report.n_colors <= 4


def test_public_names_and_repr():
    assert lloyd.quantize is quantize and lloyd.compress is compress
    result = quantize(_photo(), 4, random_state=0)
    assert repr(result) == "<QuantizedImage 64x48, 4 colours, rgb>"
    assert result.to_image().mode == "P"
    as_dict = result.report.as_dict()
    assert as_dict["input_bytes"] is None and as_dict["ratio"] is None


def test_no_warnings_on_photos():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quantize(lloyd.load_sample_image(), 16, random_state=0)
