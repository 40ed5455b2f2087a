"""lloyd explore in a real browser: Debian's chromium, headless, driven by Playwright.

The page is clicked through as a learner would; what it shows is checked against lloyd and
numpy computed here. Screenshots of every view go to a folder printed at the start.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os

import numpy as np
import pytest

pytest.importorskip("starlette")
playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

import lloyd  # noqa: E402 - after the skips, as the test needs them
from lloyd.cli import ExitCode, main  # noqa: E402
from lloyd.explore.server import running  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(f"the browser tests need Debian's chromium at {CHROMIUM}: "
                "apt-get install chromium chromium-driver", allow_module_level=True)

pytestmark = pytest.mark.slow
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
LAB = [[3.0, 3.0], [6.0, 2.0], [8.0, 5.0]]
WAIT = 180_000  # ms: the first click of a fresh checkout waits for numba to compile


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explore-screenshots")
    print(f"\nlloyd explore screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def server():
    with running() as (url, _srv):
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    with playwright.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=ARGS, headless=True,
            viewport={"width": 1366, "height": 768}, accept_downloads=True)
        yield context
        context.close()


@pytest.fixture
def page(browser, server):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server)
    page.wait_for_selector("body[data-ready=true]", timeout=WAIT)
    yield page
    page.close()
    assert not errors, errors


def plot_position(page, x, y):
    """Page coordinates of the data point (x, y) on the step-through's plot."""
    svg = page.locator("svg[data-testid=plot]")
    view = [float(v) for v in svg.get_attribute("data-view").split(",")]
    left, top, width, _height = (float(v) for v in svg.get_attribute("data-box").split(","))
    box = svg.bounding_box()
    scale = width / (view[1] - view[0])
    return box["x"] + left + (x - view[0]) * scale, box["y"] + top + (view[3] - y) * scale


def shown_distortion(page):
    return float(page.locator("#distortion").get_attribute("data-value"))


def wait_label(page, text):
    page.wait_for_function(
        "t => document.getElementById('timeline-label').textContent.includes(t)", arg=text,
        timeout=WAIT)


def test_step_through_the_lab_matches_run_kmeans(page, shots):
    X, _ = lloyd.load_sample_2d()
    _, _, history = lloyd.run_kmeans(X, np.array(LAB), 10, return_history=True)
    page.fill("#typed", "[[3, 3], [6, 2], [8, 5]]")
    page.click("#set-typed")
    wait_label(page, "0 / 0: start")
    for t in range(10):
        page.click("#assign")
        wait_label(page, f"{2 * t + 1} / {2 * t + 1}: assigned")
        assert shown_distortion(page) == history.distortion[t]
        page.click("#move")
        wait_label(page, f"{2 * t + 2} / {2 * t + 2}: centroids moved")
        moved = compute_after_move(X, history, t)
        assert shown_distortion(page) == moved
        rows = page.locator("#centroid-table tbody tr")
        shown = [[float(rows.nth(k).get_attribute("data-x")), float(rows.nth(k).get_attribute("data-y"))]
                 for k in range(3)]
        assert shown == history.centroids[t + 1].tolist()
    page.click("#assign")
    wait_label(page, "21 / 21")
    assert shown_distortion(page) == history.distortion[10]
    values = [float(v) for v in page.locator("#distortion-list li[data-kind=assign]")
              .evaluate_all("els => els.map(e => e.dataset.value)")]
    assert values == history.distortion.tolist()
    assert all(b <= a for a, b in itertools.pairwise(values))  # J never rises
    # Hover the point nearest a border (its two closest centroids almost tie): its distances
    # to every centroid, the winner marked.
    d = np.sqrt(((X[:, None, :] - history.centroids[10][None]) ** 2).sum(axis=2))
    two = np.sort(d, axis=1)
    row = int(np.argmin(two[:, 1] - two[:, 0]))
    page.mouse.move(*plot_position(page, *X[row]))
    page.wait_for_selector("#hover-info table", timeout=WAIT)
    winner = page.locator("#hover-info tr.win td").first.inner_text()
    assert int(winner) == history.labels[10][row] + 1
    shown = [float(v) for v in page.locator("#hover-info td:nth-child(2)").all_inner_texts()]
    np.testing.assert_allclose(shown, d[row], rtol=1e-4)  # printed to 5 digits
    page.screenshot(path=shots / "explore-step.png")
    # Scrub back with the keyboard: the timeline shows the earlier half-step's J.
    page.mouse.move(5, 5)
    page.locator("#timeline-label").click()
    page.keyboard.press("ArrowLeft")
    wait_label(page, "20 / 21")
    assert shown_distortion(page) == compute_after_move(X, history, 9)
    # Copy as Python, run it here: the same J to the last digit.
    page.click("#copy-python")
    code = page.locator("#python").inner_text()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<copy as python>", "exec"), {})
    assert float(out.getvalue()) == shown_distortion(page)


def compute_after_move(X, history, t):
    return lloyd.compute_distortion(X, history.labels[t], history.centroids[t + 1])


def test_place_centroids_by_clicking(page, shots):
    page.fill("#k", "3")
    page.click("#place")
    targets = [(2.0, 5.0), (3.0, 1.0), (6.5, 3.0)]
    for x, y in targets:
        page.mouse.click(*plot_position(page, x, y))
    wait_label(page, "0 / 0: start")
    rows = page.locator("#centroid-table tbody tr")
    assert rows.count() == 3
    svg = page.locator("svg[data-testid=plot]")
    view = [float(v) for v in svg.get_attribute("data-view").split(",")]
    tol = (view[1] - view[0]) / 200  # a pixel or two
    for k, (x, y) in enumerate(targets):
        assert abs(float(rows.nth(k).get_attribute("data-x")) - x) < tol
        assert abs(float(rows.nth(k).get_attribute("data-y")) - y) < tol
    page.click("#step")
    wait_label(page, "2 / 2")
    # Drag centroid 3 somewhere else: a new start, points wait for the next Assign.
    cx, cy = plot_position(page, float(rows.nth(2).get_attribute("data-x")),
                           float(rows.nth(2).get_attribute("data-y")))
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(*plot_position(page, 7.5, 1.0), steps=5)
    page.mouse.up()
    wait_label(page, "3 / 3: centroid dragged")
    assert abs(float(rows.nth(2).get_attribute("data-x")) - 7.5) < tol


def test_space_runs_to_convergence_and_the_page_says_why_rings_fail(page):
    X, _ = lloyd.load_sample_2d()
    final, labels = lloyd.run_kmeans(X, np.array(LAB), 100)
    page.click("#set-typed")
    wait_label(page, "0 / 0: start")
    page.locator("#timeline-label").click()  # focus off the buttons: space is "run"
    page.keyboard.press(" ")
    page.wait_for_function("() => document.getElementById('status').textContent.includes('Converged')",
                           timeout=WAIT)
    assert shown_distortion(page) == lloyd.compute_distortion(X, labels, final)
    page.select_option("#shape", "rings")
    assert "convex" in page.locator("#lesson").inner_text()
    assert page.input_value("#k") == "2"


def test_upload_a_csv_and_pick_columns(page, tmp_path):
    rng = np.random.default_rng(3)
    data = rng.normal(size=(120, 3)) * [1.0, 5.0, 2.0] + [0.0, 50.0, -3.0]
    path = tmp_path / "people.csv"
    with path.open("w") as f:
        f.write("age,height,weight,name\n")
        for i, row in enumerate(data):
            f.write(",".join(repr(float(v)) for v in row) + f",p{i}\n")
    page.set_input_files("#csv-file", str(path))
    page.wait_for_selector("#csv-columns:not([hidden])", timeout=WAIT)
    assert page.locator("#col-x option").all_inner_texts() == ["age", "height", "weight"]
    page.select_option("#col-x", "weight")
    page.select_option("#col-y", "height")
    page.wait_for_function("() => document.getElementById('lesson').textContent.includes('120 rows')")
    page.fill("#k", "2")
    page.fill("#seed", "1")
    page.click("#random")
    wait_label(page, "0 / 0: start")
    page.click("#assign")
    wait_label(page, "1 / 1: assigned")
    X = data[:, [2, 1]]
    start = lloyd.kmeans_init_centroids(X, 2, random_state=1)
    idx = lloyd.find_closest_centroids(X, start)
    assert shown_distortion(page) == lloyd.compute_distortion(X, idx, start)
    page.click("#copy-python")
    assert "read_csv_columns" in page.locator("#python").inner_text()


def test_kmeanspp_probabilities_are_d2_over_sum(page, shots):
    X, _ = lloyd.load_sample_2d()
    page.fill("#k", "3")
    page.fill("#seed", "7")
    page.click("#kpp")
    page.wait_for_selector("#kpp-panel:not([hidden])", timeout=WAIT)
    centers, _indices = lloyd.kmeans_plusplus(X, 3, random_state=7, n_local_trials=1)
    for j in range(3):
        if j:
            d2 = ((X[:, None, :] - centers[None, :j, :]) ** 2).sum(axis=2).min(axis=1)
            expected = d2 / d2.sum()
            top = page.locator("#kpp-top li")
            assert top.count() == 5
            for i in range(5):
                row = int(top.nth(i).get_attribute("data-row"))
                assert float(top.nth(i).get_attribute("data-probability")) == pytest.approx(
                    expected[row], rel=1e-12)
            assert int(top.first.get_attribute("data-row")) == int(np.argmax(expected))
            # Hover three points, the likeliest among them: the tooltip says D²/ΣD².
            for row in (int(np.argmax(expected)), 0, 150):
                page.mouse.move(*plot_position(page, *X[row]))
                page.wait_for_function(
                    "r => document.getElementById('hover-info').dataset.row === String(r)",
                    arg=row, timeout=WAIT)
                shown = float(page.locator("#hover-info").get_attribute("data-probability"))
                assert shown == pytest.approx(expected[row], rel=1e-12)
            if j == 1:
                page.screenshot(path=shots / "explore-kmeanspp.png")
        else:
            assert "equally likely" in page.locator("#kpp-text").inner_text()
        page.click("#kpp-draw")
    wait_label(page, "0 / 0: start")
    rows = page.locator("#centroid-table tbody tr")
    shown = [[float(rows.nth(k).get_attribute("data-x")), float(rows.nth(k).get_attribute("data-y"))]
             for k in range(3)]
    assert shown == centers.tolist()


def test_compress_an_upload_and_download_the_cli_bytes(page, shots, tmp_path):
    from PIL import Image

    skimage_data = pytest.importorskip("skimage.data")
    path = tmp_path / "coffee.png"
    Image.fromarray(skimage_data.coffee()).save(path)
    page.click("#tab-compress")
    page.wait_for_selector("#download:not([hidden])", timeout=WAIT)  # the first sample photo
    page.fill("#n-colors", "12")
    page.select_option("#space", "oklab")
    page.set_input_files("#image-file", str(path))
    page.wait_for_function("() => document.getElementById('compress-cli').textContent.includes('coffee.png -k 12')",
                           timeout=WAIT)
    with page.expect_download() as download:
        page.click("#download")
    got = download.value.path().read_bytes()
    out = tmp_path / "cli.png"
    assert main(["compress", str(path), "-k", "12", "--space", "oklab", "-o", str(out),
                 "-q"]) == ExitCode.OK
    assert got == out.read_bytes()
    assert download.value.suggested_filename == "coffee-k12.png"
    counts = [int(v) for v in page.locator("#palette .entry").evaluate_all(
        "els => els.map(e => e.dataset.count)")]
    assert len(counts) == 12 and sum(counts) == 400 * 600
    after = page.locator("td[data-key='bytes after']").inner_text()
    assert after == f"{len(got):,}"
    page.wait_for_timeout(300)  # the previews decode
    page.screenshot(path=shots / "explore-compress.png")


def test_choose_k_loads_a_k_into_the_step_through(page, shots):
    page.click("#tab-choosek")
    page.fill("#k-max", "8")
    page.click("#elbow-go")
    page.wait_for_selector("#elbow-chart .k-dot", timeout=WAIT)
    X, _ = lloyd.load_sample_2d()
    dots = page.locator("#elbow-chart .k-dot")
    assert dots.count() == 8
    inertia = float(dots.nth(2).get_attribute("data-value"))
    assert inertia == pytest.approx(lloyd.KMeans(3, n_init=4, random_state=0).fit(X).inertia_,
                                    rel=1e-12)
    page.screenshot(path=shots / "explore-choosek.png")
    page.locator("#silhouette-chart .k-dot[data-k='4']").click()
    page.wait_for_selector("#view-step:not([hidden]) #kpp-panel:not([hidden])", timeout=WAIT)
    assert page.input_value("#k") == "4"


def test_screenshots_are_written(shots):
    names = {p.name for p in shots.iterdir()}
    assert {"explore-step.png", "explore-kmeanspp.png", "explore-compress.png",
            "explore-choosek.png"} <= names
