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


@pytest.mark.parametrize("kind", ["photo", "random", "one colour", "word edges", "rgba"])
def test_colour_histogram_is_numpys_unique(kind):
    """The histogram (a bitmap of all 2^24 colours for RGB, a sort with alpha) against
    np.unique(axis=0): the same sorted colours, counts and pixel-to-colour index."""
    from lloyd._histogram import color_histogram

    rng = np.random.default_rng(2)
    if kind == "photo":
        pixels = _photo((120, 160))
    elif kind == "random":
        pixels = rng.integers(0, 256, size=(200, 300, 3), dtype=np.uint8)
    elif kind == "one colour":
        pixels = np.full((5, 7, 3), 255, dtype=np.uint8)
    elif kind == "word edges":  # packed values 0, 63, 64, 127, 2^24 - 1: bits at 64-bit edges
        keys = np.array([0, 63, 64, 127, 128, 2**24 - 64, 2**24 - 1])
        pixels = ((keys[rng.integers(0, len(keys), 90)][:, None] >> [16, 8, 0]) & 255)
        pixels = pixels.astype(np.uint8).reshape(9, 10, 3)
    else:
        pixels = rng.integers(0, 4, size=(40, 50, 4), dtype=np.uint8) * 85
    hist = color_histogram(pixels)
    colors, inverse, counts = np.unique(pixels.reshape(-1, pixels.shape[2]), axis=0,
                                        return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(hist.colors, colors)
    np.testing.assert_array_equal(hist.counts, counts)
    np.testing.assert_array_equal(hist.inverse, inverse.reshape(-1))


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
    ({"n_init": 0}, "n_init must be an integer >= 1"),
    ({"n_init": "many"}, "n_init must be an integer >= 1 or 'auto', got 'many'"),
])
def test_bad_options_are_named(kwargs, message):
    options = {"n_colors": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        quantize(_photo(), **options)


@pytest.mark.parametrize(("n_colors", "restarts"), [(16, 8), (31, 8), (32, 3), (127, 3),
                                                   (128, 1), (256, 1)])
def test_auto_restarts_follow_the_palette_size(n_colors, restarts):
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, size=(96, 96, 3), dtype=np.uint8)
    auto = quantize(image, n_colors, random_state=3)
    explicit = quantize(image, n_colors, n_init=restarts, random_state=3)
    assert auto.to_png() == explicit.to_png()
    if n_colors in (16, 256):  # here the other count gives another palette: the test can fail
        other = quantize(image, n_colors, n_init=3 if restarts != 3 else 1, random_state=3)
        assert not np.array_equal(auto.palette, other.palette)


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


# frames='all': every frame of an animation, one palette, an animated PNG.


def _save_frames(tmp_path, frames, fmt="GIF", **options):
    """Write ``frames`` (arrays) as one multi-frame file; return its path."""
    path = tmp_path / f"anim.{fmt.lower()}"
    ims = [Image.fromarray(frame) for frame in frames]
    ims[0].save(path, format=fmt, save_all=True, append_images=ims[1:], **options)
    return path


def _read_frames(data):
    """Every frame of a PNG file: (the image, [indices of each frame], [durations])."""
    im = Image.open(io.BytesIO(data))
    indices, durations = [], []
    for i in range(im.n_frames):
        im.seek(i)
        assert im.mode == "P"
        indices.append(np.asarray(im).copy())
        durations.append(im.info["duration"])
    return im, indices, durations


def _tinted(mean, shape=(20, 24), seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(mean, 12, (*shape, 3)), 0, 255).astype(np.uint8)


def test_all_frames_share_one_palette_in_an_animated_png(tmp_path):
    red, dark_red, blue = [200, 40, 40], [150, 30, 30], [40, 40, 200]
    frames = [_tinted(red, seed=0), _tinted(dark_red, seed=1), _tinted(blue, seed=2)]
    frames[1][:10] = _tinted(blue, shape=(10, 24), seed=3)  # frame 1 differs once quantized
    path = _save_frames(tmp_path, frames, duration=[100, 200, 300], loop=0)
    result = quantize(path, 2, frames="all", random_state=0)
    assert result.frames == 3 and result.indices.shape == (3, 20, 24)
    assert result.original.shape == (3, 20, 24, 3) and result.to_array().shape == (3, 20, 24, 3)
    # Blue is only in frames 1 and 2, yet has its own entry: the palette saw every frame.
    assert len(result.palette) == 2
    for colour in (red, blue):
        assert np.abs(result.palette.astype(int) - colour).max(axis=1).min() < 40
    data = result.to_png()
    assert data.count(b"PLTE") == 1 and data.count(b"acTL") == 1 and data.count(b"fcTL") == 3
    im, indices, _ = _read_frames(data)
    assert im.n_frames == 3 and len(im.getpalette()) // 3 == 2
    for i in range(3):
        np.testing.assert_array_equal(indices[i], result.indices[i])
    assert repr(result) == "<QuantizedImage 24x20, 3 frames, 2 colours, rgb>"


def test_all_frames_with_few_colours_is_lossless():
    colors = np.random.default_rng(0).integers(0, 256, (6, 3), dtype=np.uint8)
    labels = np.random.default_rng(1).integers(0, 6, (3, 12, 16))
    frames = colors[labels]  # (3, 12, 16, 3): an array of frames is accepted too
    result = quantize(frames, 8, frames="all", random_state=0)
    np.testing.assert_array_equal(result.to_array(), frames)
    report = result.report
    assert report.psnr == float("inf") and report.delta_e == 0 and report.n_colors == 6
    assert report.frames == 3 and report.as_dict()["frames"] == 3
    assert report.bits_per_pixel == pytest.approx(len(result.to_png()) * 8 / (3 * 12 * 16))
    _, indices, _ = _read_frames(result.to_png())
    np.testing.assert_array_equal(np.stack(indices), result.indices)


@pytest.mark.parametrize(
    ("fmt", "options", "durations", "loop"),
    [
        ("GIF", {"duration": [100, 200, 300], "loop": 3}, (100, 200, 300), 3),
        ("GIF", {"duration": [70, 70, 70]}, (70, 70, 70), 1),  # no loop count: plays once
        ("PNG", {"duration": [40, 80, 120], "loop": 0}, (40, 80, 120), 0),
        ("WEBP", {"duration": [40, 80, 120], "loop": 2, "lossless": True}, (40, 80, 120), 2),
        ("TIFF", {}, (100, 100, 100), 1),  # pages have no timing: 100 ms each
    ],
)
def test_all_frames_keep_durations_and_loop(tmp_path, fmt, options, durations, loop):
    colors = np.random.default_rng(0).integers(0, 256, (5, 3), dtype=np.uint8)
    frames = [colors[np.random.default_rng(i).integers(0, 5, (12, 16))] for i in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no MultiFrameWarning with frames='all'
        result = quantize(_save_frames(tmp_path, frames, fmt, **options), 8, frames="all")
    np.testing.assert_array_equal(result.to_array(), np.stack(frames))
    assert result.durations == durations and result.loop == loop
    im, _, written = _read_frames(result.to_png())
    assert written == list(durations) and im.info["loop"] == loop


def test_all_frames_keep_alpha_in_every_frame(tmp_path):
    opaque = _tinted([90, 160, 60], shape=(12, 16), seed=0)
    clear = np.dstack([_tinted([60, 60, 180], shape=(12, 16), seed=1), np.full((12, 16), 255)])
    clear[:4, :, 3] = 0
    clear[4:8, :, 3] = 128
    path = _save_frames(tmp_path, [opaque, clear.astype(np.uint8)], "PNG", duration=[50, 50])
    result = quantize(path, 8, frames="all", random_state=0)
    # One frame has alpha, so both have: the first all opaque.
    assert result.original.shape == (2, 12, 16, 4) and (result.original[0, ..., 3] == 255).all()
    assert (result.palette[:, 3] == 0).sum() == 1  # invisible pixels share one entry
    im = Image.open(io.BytesIO(result.to_png()))
    for i in range(2):
        im.seek(i)
        np.testing.assert_array_equal(np.asarray(im.convert("RGBA")), result.to_array()[i])
    back = result.to_array()
    assert (back[1, :4, :, 3] == 0).all() and (back[1, 8:, :, 3] == 255).all()
    assert (np.abs(back[1, 4:8, :, 3].astype(int) - 128) <= 1).all()


def test_all_frames_keep_repeated_frames(tmp_path):
    # Frames that come out the same once quantized are still frames of their own in the file.
    first, second = _tinted([200, 40, 40], seed=0), _tinted([40, 40, 200], seed=1)
    frames = [first, first, _tinted([210, 50, 50], seed=2), second]
    result = quantize(np.stack(frames), 2, frames="all", random_state=0)
    np.testing.assert_array_equal(result.indices[0], result.indices[2])
    im, indices, durations = _read_frames(result.to_png())
    assert im.n_frames == 4 and durations == [100, 100, 100, 100]
    np.testing.assert_array_equal(np.stack(indices), result.indices)


def test_all_frames_are_dithered_one_by_one():
    frame = _photo(size=(15, 20))  # odd height: a shared pass would also flip the direction
    frames = np.stack([frame, frame, 255 - frame])
    result = quantize(frames, 4, frames="all", dither=True, random_state=0)
    assert (result.indices[0] != result.indices[2]).any()
    np.testing.assert_array_equal(result.indices[0], result.indices[1])


def test_all_frames_are_deterministic_to_the_byte(tmp_path):
    frames = [_photo(seed=i) for i in range(3)]
    path = _save_frames(tmp_path, frames, "PNG", duration=[30, 60, 90])
    options = {"frames": "all", "dither": 0.7, "color_space": "oklab", "random_state": 5}
    compress(path, tmp_path / "a.png", 16, **options)
    compress(path, tmp_path / "b.png", 16, **options)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert quantize(path, 16, **options).to_png() == (tmp_path / "a.png").read_bytes()


def test_all_frames_of_a_single_frame_input_change_nothing(tmp_path):
    image = _photo()
    path = tmp_path / "still.png"
    Image.fromarray(image).save(path)
    for source in (path, image, Image.fromarray(image)):
        first = quantize(source, 8, random_state=0)
        every = quantize(source, 8, frames="all", random_state=0)
        assert every.frames == 1 and every.durations is None and every.loop is None
        assert every.indices.shape == image.shape[:2]
        assert every.to_png() == first.to_png() and every.report == first.report


def test_all_frames_of_a_pil_image_leave_it_on_its_frame(tmp_path):
    frames = [_tinted([200, 40, 40], seed=0), _tinted([40, 40, 200], seed=1)]
    with Image.open(_save_frames(tmp_path, frames)) as im:
        im.seek(1)
        result = quantize(im, 4, frames="all", random_state=0)
        assert im.tell() == 1
    assert result.frames == 2 and result.to_image(1).mode == "P"
    np.testing.assert_array_equal(np.asarray(result.to_image(1)), result.indices[1])
    with pytest.raises(IndexError, match=r"frame=2 must be in \[0, 2\)"):
        result.to_image(2)


@pytest.mark.parametrize("frames", ["every", "ALL", None, True, 3])
def test_bad_frames_option_is_named(frames):
    with pytest.raises(ValueError, match=r"frames=.* must be 'first' or 'all'"):
        quantize(_photo(), 4, frames=frames)


def test_frame_stacks_need_frames_all_and_one_size(tmp_path):
    stack = np.zeros((2, 4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="for a stack of frames pass frames='all'"):
        quantize(stack)
    with pytest.raises(ValueError, match=r"frames must have shape \(n_frames, height, width"):
        quantize(np.zeros((2, 4, 4, 5), np.uint8), frames="all")
    pages = [Image.fromarray(_photo(size=(8, 8))), Image.fromarray(_photo(size=(6, 8)))]
    path = tmp_path / "pages.tiff"
    pages[0].save(path, save_all=True, append_images=pages[1:])
    with pytest.raises(ImageReadError, match="frame 1 is 8x6 pixels but frame 0 is 8x8"):
        quantize(path, frames="all")


def test_all_frames_count_towards_the_decompression_bomb_limit(tmp_path, monkeypatch):
    path = _save_frames(tmp_path, [_photo(size=(10, 10), seed=i) for i in range(4)])
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 250)  # one frame passes, four do not
    with pytest.raises(ImageReadError, match="its 4 frames of 10x10 hold more than"):
        quantize(path, frames="all")
