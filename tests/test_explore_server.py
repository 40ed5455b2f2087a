"""lloyd explore's server without a browser: security, limits, and that it answers with lloyd's
own numbers. A real uvicorn server on loopback, spoken to over plain HTTP (http.client)."""

from __future__ import annotations

import http.client
import json
import socket
import struct
import subprocess
import sys
import time
import zlib
from urllib.parse import urlsplit

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from lloyd import compute_centroids, compute_distortion, find_closest_centroids, load_sample_2d
from lloyd.cli import ExitCode, main
from lloyd.explore.server import Limits, running

LIMITS = Limits(json_bytes=2**20, csv_bytes=64 * 2**10, image_bytes=2**20, rows=500,
                pixels=1_000_000)
LAB = [[3.0, 3.0], [6.0, 2.0], [8.0, 5.0]]
SAMPLE = {"kind": "sample", "n": 300, "seed": 0}


class Client:
    """One client of the explorer: HTTP with the token header and a client id."""

    def __init__(self, url, client="test-client-1"):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.token = parts.query.removeprefix("token=")
        self.client = client

    def request(self, method, path, body=None, headers=None, token=True):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        all_headers = {"X-Lloyd-Client": self.client}
        if token:
            all_headers["X-Lloyd-Token"] = self.token
        all_headers.update(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, response, data

    def json(self, method, path, body=None, **kw):
        status, _response, data = self.request(method, path, body, **kw)
        return status, json.loads(data) if data else None

    def wait_job(self, job_id, timeout=300):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, state = self.json("GET", f"/api/jobs/{job_id}")
            assert status == 200, state
            if state["state"] in ("done", "failed", "cancelled"):
                return state
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} did not finish in {timeout} s")


@pytest.fixture(scope="module")
def server():
    with running(limits=LIMITS) as (url, srv):
        yield url, srv


@pytest.fixture
def client(server):
    return Client(server[0])


def test_listening_socket_is_loopback_only(server):
    url, srv = server
    (sock,) = [s for s in srv.servers[0].sockets]
    assert sock.getsockname()[0] == "127.0.0.1"
    port = urlsplit(url).port
    # From any other address of this machine the port is closed.
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        other = probe.getsockname()[0]
    except OSError:
        other = None
    finally:
        probe.close()
    if other and not other.startswith("127."):
        with pytest.raises(OSError):
            socket.create_connection((other, port), timeout=2).close()


@pytest.mark.parametrize("path", ["/", "/api/shapes", "/static/js/main.js", "/api/jobs/0"])
def test_no_token_is_403(client, path):
    status, _, data = client.request("GET", path, token=False)
    assert status == 403
    assert b"token" in data


def test_wrong_token_is_403(client):
    status, _, _ = client.request("GET", "/api/shapes", token=False,
                                  headers={"X-Lloyd-Token": client.token[:-1] + "x"})
    assert status == 403


def test_token_in_the_address_becomes_a_cookie(client):
    status, response, _ = client.request("GET", f"/?token={client.token}", token=False)
    assert status == 303 and response.getheader("location") == "/"
    cookie = response.getheader("set-cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, response, page = client.request("GET", "/", token=False,
                                            headers={"Cookie": cookie.split(";")[0]})
    assert status == 200 and b"lloyd explore" in page
    assert "script-src 'self'" in response.getheader("content-security-policy")


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:1",
                                  "127.0.0.1.nip.io:{port}"])
def test_wrong_host_is_refused(client, host):
    # DNS rebinding: the browser sends the attacker's name in Host, even with the token.
    status, _, data = client.request("GET", "/api/shapes",
                                     headers={"Host": host.format(port=client.port)})
    assert status == 403
    assert b"Host" in data


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1:1"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # another port of this host
])
def test_cross_origin_post_is_refused(client, headers):
    status, _, _ = client.request("POST", "/api/assign", {"data": SAMPLE, "centroids": LAB},
                                  headers=headers)
    assert status == 403


def test_a_link_from_another_site_opens_the_page_but_cannot_fetch(client):
    link = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
            "Sec-Fetch-Dest": "document"}
    assert client.request("GET", "/", headers=link)[0] == 200
    fetch = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}
    assert client.request("GET", "/api/shapes", headers=fetch)[0] == 403
    embed = {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}
    assert client.request("GET", "/api/jobs/0123456789abcdef/compressed.png", headers=embed)[0] == 403


def test_same_origin_post_is_served(client):
    status, body = client.json("POST", "/api/assign", {"data": SAMPLE, "centroids": LAB},
                               headers={"Origin": f"http://127.0.0.1:{client.port}",
                                        "Sec-Fetch-Site": "same-origin"})
    assert status == 200, body


def test_static_files_never_touch_the_file_system(client):
    for path in ["/static/../server.py", "/static/%2e%2e/server.py", "/static//etc/passwd",
                 "/static/js/../../server.py", "/static/index.html%00.js"]:
        status, _, data = client.request("GET", path)
        assert status == 404, path
        assert b"import" not in data


def test_assign_and_move_are_lloyds_steps(client):
    X, _ = load_sample_2d()
    status, out = client.json("POST", "/api/assign", {"data": SAMPLE, "centroids": LAB})
    assert status == 200
    idx = find_closest_centroids(X, np.array(LAB))
    assert out["labels"] == idx.tolist()
    assert out["distortion"] == compute_distortion(X, idx, np.array(LAB))
    status, moved = client.json("POST", "/api/move", {"data": SAMPLE, "centroids": LAB,
                                                      "labels": out["labels"]})
    expected = compute_centroids(X, idx, 3, previous_centroids=np.array(LAB))
    assert moved["centroids"] == expected.tolist()
    assert moved["distortion"] == compute_distortion(X, idx, expected)


def test_kmeanspp_probabilities_are_d2_over_sum(client):
    import lloyd

    X, _ = load_sample_2d()
    status, out = client.json("POST", "/api/seed", {"data": SAMPLE, "k": 3, "method": "k-means++",
                                                    "random_state": 4})
    assert status == 200
    centers, indices = lloyd.kmeans_plusplus(X, 3, random_state=4, n_local_trials=1)
    assert out["indices"] == indices.tolist()
    for j, step in enumerate(out["steps"]):
        if j == 0:
            expected = np.full(len(X), 1 / len(X))
        else:
            d2 = ((X[:, None, :] - centers[None, :j, :]) ** 2).sum(axis=2).min(axis=1)
            expected = d2 / d2.sum()
        np.testing.assert_allclose(step["probabilities"], expected, rtol=1e-12, atol=1e-15)


def _csv(rows):
    return ("a,b,name\n" + "".join(f"{i * 0.5},{(i * 7) % 11},r{i}\n" for i in range(rows))).encode()


def test_csv_upload_and_its_columns(client):
    status, table = client.json("POST", "/api/table", _csv(40))
    assert status == 200, table
    assert table["columns"] == ["a", "b"] and table["skipped"] == ["name"] and table["rows"] == 40
    spec = {"kind": "upload", "id": table["id"], "columns": ["b", "a"]}
    status, points = client.json("POST", "/api/points", {"data": spec})
    assert points["X"][3] == [(3 * 7) % 11, 1.5]
    # Another client cannot use it.
    other = Client(f"http://127.0.0.1:{client.port}/?token={client.token}", client="someone-else")
    status, _ = other.json("POST", "/api/points", {"data": spec})
    assert status == 404


@pytest.mark.parametrize(("path", "body", "status"), [
    ("/api/table", b"x" * (64 * 2**10 + 1), 413),   # bytes
    ("/api/table", _csv(501), 413),                  # rows
    ("/api/image", b"x" * (2**20 + 1), 413),         # bytes
    ("/api/assign", b" " * (2**20 + 1), 413),        # JSON bytes
])
def test_oversized_upload_is_413(client, path, body, status):
    got, _, data = client.request("POST", path, body)
    assert got == status, data
    assert b"limit" in data or b"more than" in data


def test_a_lying_content_length_is_cut_off(client):
    # The client declares a small body and sends a huge one: the server stops reading at the limit.
    conn = http.client.HTTPConnection(client.host, client.port, timeout=30)
    conn.putrequest("POST", "/api/image")
    conn.putheader("X-Lloyd-Token", client.token)
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    chunk = b"y" * 65536
    try:
        for _ in range(40):  # 2.5 MiB, over the 1 MiB limit
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
    except OSError:
        pass  # the server may close before reading it all
    try:
        assert conn.getresponse().status == 413
    finally:
        conn.close()


def _png_header(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


@pytest.mark.parametrize("side", [20_000, 100_000])
def test_decompression_bomb_is_a_clean_4xx(client, side):
    # A few hundred bytes that claim 4·10⁸ or 10¹⁰ pixels: refused from the header alone.
    status, _, data = client.request("POST", "/api/image", _png_header(side, side))
    assert status == 413
    assert b"Traceback" not in data and b"pixels" in data


def test_over_the_pixel_limit_is_413(client):
    status, _, data = client.request("POST", "/api/image", _png_header(1001, 1000))
    assert status == 413 and b"1,001,000 pixels" in data


def test_not_an_image_is_415(client):
    status, _, data = client.request("POST", "/api/image", b"GIF89a not really")
    assert 400 <= status < 500 and b"Traceback" not in data


def _image_file(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, size=(6, 8, 3)).astype(np.uint8)
    image = np.kron(base, np.ones((12, 12, 1), dtype=np.uint8))
    image = np.clip(image.astype(int) + rng.integers(-20, 21, image.shape), 0, 255).astype(np.uint8)
    path = tmp_path / "photo.png"
    Image.fromarray(image).save(path)
    return path


def test_compress_gives_the_bytes_of_lloyd_compress(client, tmp_path, capsys):
    path = _image_file(tmp_path)
    status, info = client.json("POST", "/api/image", path.read_bytes())
    assert status == 200 and (info["width"], info["height"]) == (96, 72)
    status, job = client.json("POST", "/api/jobs", {"kind": "compress", "image": info["id"],
                                                   "n_colors": 6, "color_space": "oklab",
                                                   "dither": 0.5, "random_state": 0})
    assert status == 202, job
    state = client.wait_job(job["id"])
    assert state["state"] == "done", state
    status, response, png = client.request("GET", f"/api/jobs/{job['id']}/compressed.png")
    assert status == 200 and response.getheader("content-type") == "image/png"
    out = tmp_path / "cli.png"
    assert main(["compress", str(path), "-k", "6", "--space", "oklab", "--dither", "0.5",
                 "-o", str(out), "-q"]) == ExitCode.OK
    assert png == out.read_bytes()
    report = state["result"]["report"]
    assert report["output_bytes"] == len(png) and report["input_bytes"] == path.stat().st_size
    assert sum(state["result"]["counts"]) == 96 * 72


def test_one_long_computation_per_client_and_cancel(client):
    X, _ = load_sample_2d()
    body = {"kind": "elbow", "data": SAMPLE, "k_max": 16, "random_state": 0}
    status, first = client.json("POST", "/api/jobs", body)
    assert status == 202
    status, second = client.json("POST", "/api/jobs", body)
    assert status == 409 and "cancel" in second["error"]
    status, _state = client.json("DELETE", f"/api/jobs/{first['id']}")
    assert status == 200
    final = client.wait_job(first["id"])
    assert final["state"] in ("cancelled", "done")
    status, third = client.json("POST", "/api/jobs", {**body, "k_max": 4})
    assert status == 202, third
    done = client.wait_job(third["id"])
    from lloyd import KMeans

    for row in done["result"]["rows"]:
        model = KMeans(n_clusters=row["k"], n_init=4, random_state=0).fit(X)
        assert row["inertia"] == pytest.approx(model.inertia_, rel=1e-12)


def test_jobs_of_another_client_are_invisible(client):
    status, job = client.json("POST", "/api/jobs", {"kind": "elbow", "data": SAMPLE, "k_max": 2})
    assert status == 202
    other = Client(f"http://127.0.0.1:{client.port}/?token={client.token}", client="intruder-1")
    assert other.json("GET", f"/api/jobs/{job['id']}")[0] == 404
    assert other.json("DELETE", f"/api/jobs/{job['id']}")[0] == 404
    client.wait_job(job["id"])


@pytest.mark.parametrize(("path", "body", "needle"), [
    ("/api/assign", {"data": SAMPLE, "centroids": [[1, 2, 3]]}, "centroids[0]"),
    ("/api/assign", {"data": SAMPLE, "centroids": []}, "centroids"),
    ("/api/assign", {"data": {"kind": "../../etc/passwd"}, "centroids": LAB}, "kind"),
    ("/api/assign", {"data": SAMPLE, "centroids": [[1e308, 0]]}, "finite"),
    ("/api/move", {"data": SAMPLE, "centroids": LAB, "labels": [5] * 300}, "labels"),
    ("/api/seed", {"data": SAMPLE, "k": 0, "method": "random", "random_state": 0}, "k must"),
    ("/api/point", {"data": SAMPLE, "row": 300, "centroids": LAB}, "row"),
    ("/api/jobs", {"kind": "compress", "image": "../../../x", "n_colors": 4,
                   "color_space": "rgb", "dither": 0}, "image"),
    ("/api/sample-image", {"name": "/etc/passwd"}, "name"),
    ("/api/assign", b"{not json", "JSON"),
    ("/api/assign", b"[1, 2]", "object"),
])
def test_bad_requests_are_4xx_with_a_message(client, path, body, needle):
    status, out = client.json("POST", path, body)
    assert 400 <= status < 500
    assert needle in out["error"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
FIELDS = st.fixed_dictionaries({}, optional={
    "data": st.one_of(JSON, st.fixed_dictionaries({"kind": st.sampled_from(["sample", "rings", "upload"])},
                                                  optional={"n": JSON, "seed": JSON, "id": JSON,
                                                            "columns": JSON})),
    "centroids": JSON, "labels": JSON, "k": JSON, "method": JSON, "random_state": JSON,
    "row": JSON, "kind": st.one_of(JSON, st.sampled_from(["compress", "elbow"])),
    "image": JSON, "n_colors": JSON, "name": JSON, "k_max": JSON,
})


@settings(max_examples=40, deadline=None)
@given(path=st.sampled_from(["/api/points", "/api/seed", "/api/assign", "/api/move",
                             "/api/distortion", "/api/point", "/api/sample-image", "/api/jobs"]),
       body=FIELDS)
def test_fuzzed_parameters_get_only_4xx(server, path, body):
    c = Client(server[0], client="fuzzer")
    status, _, data = c.request("POST", path, body)
    if status in (200, 202):  # a valid request by chance: then it must be a real answer
        json.loads(data)
        if status == 202:
            c.wait_job(json.loads(data)["id"])
        return
    assert 400 <= status < 500, (status, data)
    assert b"Traceback" not in data and "error" in json.loads(data)


def test_a_bug_is_a_500_without_a_traceback(client, monkeypatch):
    from lloyd.explore import compute

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(compute, "assign", broken)
    status, _, data = client.request("POST", "/api/assign", {"data": SAMPLE, "centroids": LAB})
    assert status == 500
    assert b"secret" not in data and b"Traceback" not in data
    # ...and the server lives on.
    monkeypatch.undo()
    assert client.json("POST", "/api/assign", {"data": SAMPLE, "centroids": LAB})[0] == 200


def test_explore_refuses_a_remote_host_without_the_flag(capsys):
    assert main(["explore", "--host", "0.0.0.0", "--no-browser"]) == ExitCode.USAGE_ERROR
    assert "--allow-remote" in capsys.readouterr().err


def test_explore_help_and_lloyd_help_stay_light():
    code = (
        "import sys, contextlib, io\n"
        "from lloyd.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['--help']); main(['explore', '--help'])\n"
        "bad = [m for m in ('numba', 'matplotlib', 'starlette', 'uvicorn') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_explore_prints_its_address_and_stops_on_ctrl_c():
    import signal

    with subprocess.Popen([sys.executable, "-m", "lloyd.cli", "explore", "--no-browser"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            lines = [proc.stdout.readline() for _ in range(2)]
            url = lines[1].strip()
            assert url.startswith("http://127.0.0.1:") and "?token=" in url
            c = Client(url)
            for _ in range(100):
                try:
                    if c.request("GET", "/api/shapes")[0] == 200:
                        break
                except ConnectionError:
                    time.sleep(0.1)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 0
            assert "stopped" in proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()


# Machado, Oliveira & Fernandes (2009), full-severity dichromacy, on linear RGB.
DICHROMACY = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}


@pytest.mark.parametrize("vision", ["typical", *DICHROMACY])
def test_cluster_colours_stay_apart_for_colour_blind_readers(vision):
    import itertools
    import re
    from importlib import resources

    from lloyd.color import delta_e_2000, linear_to_srgb, rgb_to_lab, srgb_to_linear

    js = (resources.files("lloyd.explore") / "static" / "js" / "colors.js").read_text()
    block = js.split("CLUSTER_COLORS = [")[1].split("];")[0]
    rgb = np.array([[int(h[i:i + 2], 16) for i in (0, 2, 4)]
                    for h in re.findall(r'"#([0-9A-Fa-f]{6})"', block)]) / 255
    assert len(rgb) == 10  # MAX_STEP_CLUSTERS colours
    if vision != "typical":
        rgb = linear_to_srgb(np.clip(srgb_to_linear(rgb) @ np.array(DICHROMACY[vision]).T, 0, 1))
    lab = rgb_to_lab(rgb)
    closest = min(float(delta_e_2000(lab[i], lab[j]))
                  for i, j in itertools.combinations(range(len(lab)), 2))
    assert closest >= 10  # CIEDE2000 ~2.3 is "just noticeable"; 10 is plainly different


def test_shapes_docstring_examples_run():
    import doctest

    from lloyd.explore import shapes

    assert doctest.testmod(shapes, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


def test_shapes_are_seeded_and_the_sample_is_the_labs():
    from lloyd.explore import SHAPES, load_shape

    np.testing.assert_array_equal(load_shape("sample"), load_sample_2d()[0])
    for name in SHAPES:
        X = load_shape(name, 301, random_state=5)
        assert X.shape == (301, 2) and np.isfinite(X).all()
        np.testing.assert_array_equal(X, load_shape(name, 301, random_state=5))
        assert not np.array_equal(X, load_shape(name, 301, random_state=6))
    for bad in [("spiral", 300, 0), ("rings", 2, 0), ("rings", 10**6, 0), ("rings", 300, -1),
                ("rings", True, 0), ("rings", 300, 1.5)]:
        with pytest.raises(ValueError, match=r"name|n_samples|random_state"):
            load_shape(bad[0], bad[1], random_state=bad[2])


@pytest.mark.parametrize(("data", "expected", "skipped"), [
    # a BOM, semicolons, and a decimal comma (not a number: that column is left out)
    (b"\xef\xbb\xbfx;y\n1,5;2\n3;4\n", {"y": [2.0, 4.0]}, ["x"]),
    (b"x\ty\n1\t2\n3\t4\n\n", {"x": [1.0, 3.0], "y": [2.0, 4.0]}, []),
    (b"a,b\n1,nan\n2,3\n", {"a": [1.0, 2.0]}, ["b"]),
])
def test_csv_columns(data, expected, skipped):
    from lloyd.explore import read_csv_columns

    table = read_csv_columns(data)
    assert {k: v.tolist() for k, v in table.columns.items()} == expected
    assert table.skipped == skipped


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"a,b\n", "0 data rows"),
    (b"a,b\n1,2\n3\n", "line 3 has 1 cells"),
    (b"a,a\n1,2\n3,4\n", "twice"),
    (b"a,b\nx,y\nz,w\n", "no column"),
    (b"\xff\xfe\x00a", "UTF-8"),
    (b"a\n" + b"1\n" * 11, "more than 10 rows"),
])
def test_csv_errors_name_the_problem(data, message):
    from lloyd.explore.shapes import TableError, read_csv_columns

    with pytest.raises(TableError, match=message):
        read_csv_columns(data, max_rows=10)


def test_explore_on_a_busy_port_is_an_io_error(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["explore", "--port", str(port), "--no-browser"]) == ExitCode.IO_ERROR
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
