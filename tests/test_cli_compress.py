"""``lloyd compress``, run in-process through ``main(argv)``."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from lloyd.cli import ExitCode, main


def _photo(seed=0, size=(32, 40)):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : size[0], 0 : size[1]]
    base = np.stack([x * 6.0, y * 7.0, (x + y) * 3.0], axis=2)
    return np.clip(base + rng.normal(0, 10, base.shape), 0, 255).astype(np.uint8)


@pytest.fixture
def photos(tmp_path):
    paths = []
    for i, name in enumerate(["a.png", "b.jpg"]):
        path = tmp_path / name
        Image.fromarray(_photo(i)).save(path)
        paths.append(path)
    return paths


def test_help_documents_names_and_exit_codes(capsys):
    assert main(["compress", "--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "-k{K}.png" in out and "--force" in out and "exit codes" in out and "  4 " in out


def test_output_lands_beside_the_input(photos, capsys):
    assert main(["compress", str(photos[0]), "-k", "8"]) == ExitCode.OK
    out = photos[0].with_name("a-k8.png")
    with Image.open(out) as im:
        assert im.mode == "P" and len(im.getpalette()) // 3 <= 8
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:3] == ["file", "colours", "PSNR"]
    assert "a.png" in table and "→" in table


def test_ext_and_output(photos, tmp_path):
    assert main(["compress", *map(str, photos), "--ext", ".k{K}.png", "-k", "4", "-q"]) == 0
    assert (tmp_path / "a.k4.png").is_file() and (tmp_path / "b.k4.png").is_file()
    target = tmp_path / "out" / "x.png"
    target.parent.mkdir()
    assert main(["compress", str(photos[1]), "-o", str(target), "-q"]) == ExitCode.OK
    assert target.is_file()


def test_output_with_several_inputs_is_a_usage_error(photos, capsys):
    assert main(["compress", *map(str, photos), "-o", "x.png"]) == ExitCode.USAGE_ERROR
    assert "--output takes a single IMAGE" in capsys.readouterr().err


@pytest.mark.parametrize(("value", "message"), [
    ("0", "must be in [1, 256]"), ("257", "must be in [1, 256]"), ("many", "must be an integer"),
])
def test_bad_colour_count_is_a_usage_error(photos, capsys, value, message):
    assert main(["compress", str(photos[0]), "-k", value]) == ExitCode.USAGE_ERROR
    assert message in capsys.readouterr().err


def test_existing_output_is_left_alone_without_force(photos, capsys):
    out = photos[0].with_name("a-k16.png")
    out.write_bytes(b"precious")
    assert main(["compress", *map(str, photos), "-q"]) == ExitCode.OUTPUT_EXISTS
    assert out.read_bytes() == b"precious"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a-k16.png already exists" in err
    assert photos[1].with_name("b-k16.png").is_file()  # the other file was done
    assert main(["compress", *map(str, photos), "-q", "--force"]) == ExitCode.OK
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_input_is_never_overwritten_without_force(photos):
    before = photos[0].read_bytes()
    assert main(["compress", str(photos[0]), "-o", str(photos[0]), "-q"]) == 4
    assert photos[0].read_bytes() == before
    assert main(["compress", str(photos[0]), "-o", str(photos[0]), "-q", "--force"]) == 0
    assert photos[0].read_bytes() != before


def test_unreadable_files_fail_alone(photos, tmp_path, capsys, monkeypatch):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    buffer = io.BytesIO()
    Image.fromarray(_photo(5)).save(buffer, format="PNG")
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(buffer.getvalue()[:-60])
    missing = tmp_path / "missing.png"
    args = ["compress", str(missing), str(text), str(truncated), str(photos[0])]
    assert main(args) == ExitCode.IO_ERROR
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(line.startswith("lloyd compress: cannot read") for line in err)
    assert "no such file" in err[0] and "not an image" in err[1] and "truncated" in err[2]
    assert photos[0].with_name("a-k16.png").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["a.png", "b.jpg", "notes.png", "cut.png", "a-k16.png"])

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    assert main(["compress", str(photos[1]), "-q"]) == ExitCode.IO_ERROR
    assert "decompression-bomb limit" in capsys.readouterr().err


def test_missing_output_folder_fails_before_any_work(photos, tmp_path, capsys):
    nowhere = tmp_path / "nowhere"
    assert main(["compress", str(photos[0]), "-o", str(nowhere / "x.png"), "-q"]) == 3
    err = capsys.readouterr().err
    assert err == f"lloyd compress: cannot write {nowhere / 'x.png'}: folder {nowhere} does not exist\n"
    # --compare's folder is checked before the output is written, not after.
    assert main(["compress", str(photos[0]), "--compare", str(nowhere / "c.png"), "-q"]) == 3
    assert f"folder {nowhere} does not exist" in capsys.readouterr().err
    assert not photos[0].with_name("a-k16.png").exists() and not nowhere.exists()


def test_json_lines(photos, tmp_path, capsys):
    missing = tmp_path / "missing.png"
    assert main(["compress", str(photos[0]), str(missing), "--json", "-k", "4"]) == 3
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["ok"] and lines[0]["n_colors"] <= 4 and lines[0]["output_bytes"] > 0
    assert set(lines[0]) >= {"psnr", "delta_e", "bits_per_pixel", "input_bytes", "ratio"}
    assert not lines[1]["ok"] and lines[1]["exit_code"] == 3 and "no such file" in lines[1]["error"]


def test_dither_space_compare_and_determinism(photos, tmp_path):
    fig = tmp_path / "fig.png"
    args = ["compress", str(photos[0]), "-k", "6", "--dither=0.5", "--space", "oklab", "-q"]
    assert main([*args, "-o", str(tmp_path / "one.png"), "--compare", str(fig)]) == 0
    assert main([*args, "-o", str(tmp_path / "two.png")]) == 0
    assert (tmp_path / "one.png").read_bytes() == (tmp_path / "two.png").read_bytes()
    with Image.open(fig) as im:
        assert im.format == "PNG" and im.width > 500
    assert main([*args, "-o", str(tmp_path / "three.png"), "--compare", str(fig)]) == 4


def test_same_output_for_two_inputs(tmp_path, capsys):
    for name in ("x.png", "x.bmp"):
        Image.fromarray(_photo()).save(tmp_path / name)
    args = ["compress", str(tmp_path / "x.png"), str(tmp_path / "x.bmp"), "-q", "--force"]
    assert main(args) == ExitCode.OUTPUT_EXISTS
    assert "is also the output of" in capsys.readouterr().err


def test_gif_frames_warning_is_one_line(tmp_path, capsys):
    frames = [Image.fromarray(_photo(i)).convert("P") for i in range(2)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    assert main(["compress", str(path), "-q"]) == ExitCode.OK
    err = capsys.readouterr().err
    assert err == f"lloyd compress: warning: {path} has 2 frames; only the first is compressed.\n"


def _animation(tmp_path, n_frames=3):
    frames = [Image.fromarray(_photo(i)).convert("P") for i in range(n_frames)]
    path = tmp_path / "anim.gif"
    durations = [80] * n_frames
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return path


def test_all_frames_writes_an_animated_png(tmp_path, capsys):
    path = _animation(tmp_path)
    assert main(["compress", str(path), "-k", "8", "--all-frames"]) == ExitCode.OK
    captured = capsys.readouterr()
    assert captured.err == ""  # no first-frame warning
    header, row = captured.out.splitlines()
    assert header.split()[:3] == ["file", "frames", "colours"] and row.split()[1] == "3"
    with Image.open(tmp_path / "anim-k8.png") as im:
        assert im.format == "PNG" and im.mode == "P" and im.n_frames == 3
        assert len(im.getpalette()) // 3 <= 8 and im.info["loop"] == 0
        assert im.info["duration"] == 80


def test_all_frames_json_and_compare(tmp_path, capsys):
    path = _animation(tmp_path, n_frames=2)
    fig = tmp_path / "fig.png"
    args = ["compress", str(path), "--all-frames", "--json", "-k", "4", "--compare", str(fig)]
    assert main(args) == ExitCode.OK
    line = json.loads(capsys.readouterr().out)
    assert line["ok"] and line["frames"] == 2 and line["n_colors"] <= 4
    bits = line["output_bytes"] * 8 / (2 * 32 * 40)
    assert line["bits_per_pixel"] == pytest.approx(bits, abs=1e-4)
    with Image.open(fig) as im:
        assert im.format == "PNG"


def test_all_frames_option_is_in_the_help(capsys):
    assert main(["compress", "--help"]) == ExitCode.OK
    out = " ".join(capsys.readouterr().out.split())
    assert "--all-frames" in out
    assert "one palette shared by every frame, written as an animated PNG" in out


class _Stream:
    """A stand-in for sys.stdin / sys.stdout with a binary buffer and no terminal."""

    def __init__(self, data=b"", tty=False):
        self.buffer = io.BytesIO(data)
        self._tty = tty

    def isatty(self):
        return self._tty

    def write(self, text):  # text printed by mistake would land here and fail the test
        raise AssertionError(f"text on standard output: {text!r}")

    def flush(self):
        pass


def test_stdin_to_stdout_gives_the_file_bytes(photos, tmp_path, monkeypatch, capsys):
    data = photos[0].read_bytes()
    assert main(["compress", str(photos[0]), "-k", "6", "-o", str(tmp_path / "f.png"),
                 "-q"]) == ExitCode.OK
    stdout = _Stream()
    monkeypatch.setattr("sys.stdin", _Stream(data))
    monkeypatch.setattr("sys.stdout", stdout)
    assert main(["compress", "-", "-k", "6"]) == ExitCode.OK
    assert stdout.buffer.getvalue() == (tmp_path / "f.png").read_bytes()
    assert "→" in capsys.readouterr().err  # the table went to standard error
    # stdin to a file
    monkeypatch.setattr("sys.stdin", _Stream(data))
    assert main(["compress", "-", "-k", "6", "-o", str(tmp_path / "g.png"), "-q"]) == 0
    assert (tmp_path / "g.png").read_bytes() == (tmp_path / "f.png").read_bytes()


def test_stdout_on_a_terminal_and_empty_stdin(photos, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", _Stream(photos[0].read_bytes()))
    monkeypatch.setattr("sys.stdout", _Stream(tty=True))
    assert main(["compress", "-"]) == ExitCode.USAGE_ERROR
    assert "will not write a PNG to a terminal" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", _Stream(b""))
    monkeypatch.setattr("sys.stdout", _Stream())
    assert main(["compress", "-"]) == ExitCode.IO_ERROR
    assert "standard input: it is empty" in capsys.readouterr().err
    assert main(["compress", "-", "-", "-o", "x.png"]) == ExitCode.USAGE_ERROR


@pytest.mark.slow
def test_a_real_pipe(photos, tmp_path):
    import subprocess
    import sys

    code = "import sys; from lloyd.cli import main; sys.exit(main())"
    with open(photos[0], "rb") as source, open(tmp_path / "b.png", "wb") as sink:
        done = subprocess.run([sys.executable, "-c", code, "compress", "-", "-k", "64"],
                              stdin=source, stdout=sink, stderr=subprocess.PIPE, check=False)
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "b.png") as im:
        assert im.format == "PNG" and im.mode == "P" and im.size == (40, 32)


def test_skip_if_larger_exits_98_and_writes_nothing(photos, tmp_path, capsys):
    small = tmp_path / "small.png"
    assert main(["compress", str(photos[0]), "-k", "2", "-o", str(small), "-q"]) == 0
    out = tmp_path / "big.png"
    code = main(["compress", str(small), "-k", "256", "-o", str(out), "--skip-if-larger"])
    assert code == ExitCode.NOT_SMALLER == 98
    assert not out.exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not written" in err[0] and "not be smaller" in err[0]
    # Smaller outputs are written as usual.
    assert main(["compress", str(photos[0]), "-k", "4", "-o", str(out), "--skip-if-larger",
                 "-q"]) == ExitCode.OK
    assert out.is_file()


def test_quality_exit_99_below_min(photos, tmp_path, capsys):
    out = tmp_path / "q.png"
    code = main(["compress", str(photos[0]), "-k", "2", "--quality", "90-100", "-o", str(out)])
    assert code == ExitCode.QUALITY_TOO_LOW == 99
    assert not out.exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "quality" in err[0] and "below the minimum of 90" in err[0]


def test_quality_writes_the_fewest_colours(photos, tmp_path, capsys):
    # A noisy image of 1,280 pixels: 256 colours reach about quality 60.
    assert main(["compress", str(photos[0]), "--quality", "0-10", "--json"]) == ExitCode.OK
    report = json.loads(capsys.readouterr().out)
    assert report["quality"] >= 10 and report["output"].endswith("a-kq0-10.png")
    assert main(["compress", str(photos[0]), "--quality", "25", "--json", "-f"]) == 0
    high = json.loads(capsys.readouterr().out)
    assert high["output"].endswith("a-kq0-25.png") and high["quality"] >= 25
    assert report["n_colors"] < high["n_colors"] < 256


@pytest.mark.parametrize(("value", "message"), [
    ("80-60", "0 <= MIN <= MAX <= 100"),
    ("x", "must be MIN-MAX or MAX"),
    ("50-101", "0 <= MIN <= MAX <= 100"),
])
def test_bad_quality_is_a_usage_error(photos, capsys, value, message):
    assert main(["compress", str(photos[0]), "--quality", value]) == ExitCode.USAGE_ERROR
    assert message in capsys.readouterr().err


def test_strip_and_metadata(tmp_path):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "lloyd tests")
    source = tmp_path / "meta.png"
    Image.fromarray(_photo()).save(source, pnginfo=info, icc_profile=b"icc" * 30)
    assert main(["compress", str(source), "-k", "8", "-o", str(tmp_path / "kept.png"),
                 "-q"]) == 0
    assert main(["compress", str(source), "-k", "8", "-o", str(tmp_path / "bare.png"),
                 "--strip", "-q"]) == 0
    with Image.open(tmp_path / "kept.png") as kept, Image.open(tmp_path / "bare.png") as bare:
        kept.load()
        bare.load()
        assert kept.info["icc_profile"] == b"icc" * 30 and kept.text == {"Author": "lloyd tests"}
        assert "icc_profile" not in bare.info and bare.text == {}
        np.testing.assert_array_equal(np.asarray(kept), np.asarray(bare))


def test_posterize_option(photos, tmp_path, capsys):
    out = tmp_path / "p.png"
    assert main(["compress", str(photos[0]), "-k", "8", "--posterize", "4", "-o", str(out),
                 "-q"]) == ExitCode.OK
    with Image.open(out) as im:
        assert all(v % 17 == 0 for v in im.getpalette()[: 3 * 8])
    assert main(["compress", str(photos[0]), "--posterize", "5"]) == ExitCode.USAGE_ERROR
    assert "must be an integer in [0, 4]" in capsys.readouterr().err


def test_speed_option_is_pngquants_range_on_kmeans_options(photos, tmp_path, capsys):
    from lloyd.image import quantize

    for speed, options in ((4, {}), (7, {"max_iter": 10}), (11, {"max_iter": 3, "n_init": 1})):
        out = tmp_path / f"s{speed}.png"
        assert main(["compress", str(photos[0]), "-k", "64", "--speed", str(speed), "-o",
                     str(out), "-q"]) == ExitCode.OK
        expected = quantize(photos[0], 64, random_state=0, **options).to_png()
        assert out.read_bytes() == expected
    assert (tmp_path / "s4.png").read_bytes() != (tmp_path / "s11.png").read_bytes()
    for bad in ("0", "12", "fast"):
        assert main(["compress", str(photos[0]), "--speed", bad]) == ExitCode.USAGE_ERROR
        assert "--speed" in capsys.readouterr().err


def test_new_options_give_the_same_bytes_twice(photos, tmp_path):
    args = ["compress", str(photos[1]), "--quality", "20-40", "--dither", "--posterize", "1",
            "-q", "-f"]
    assert main([*args, "-o", str(tmp_path / "1.png")]) == 0
    assert main([*args, "-o", str(tmp_path / "2.png")]) == 0
    assert (tmp_path / "1.png").read_bytes() == (tmp_path / "2.png").read_bytes()


def test_help_lists_pngquant_options_and_codes(capsys):
    assert main(["compress", "--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    for option in ("--quality", "--skip-if-larger", "--strip", "--posterize", "--speed",
                   "  98 ", "  99 "):
        assert option in out
