"""The explorer's web server: Starlette routes that call :mod:`lloyd.explore.compute`, on uvicorn.

Every request passes the :class:`~lloyd.explore.security.Guard` (token, Host, Origin) first.
The page's files are read once from the package into memory, so no client path ever reaches
the file system.
"""

from __future__ import annotations

import io
import ipaddress
import logging
import socket
import sys
import threading
import time
import warnings
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from importlib import resources

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lloyd.explore import compute
from lloyd.explore.jobs import Busy, JobManager
from lloyd.explore.params import MAX_STEP_CLUSTERS, ApiError, Params
from lloyd.explore.security import BodyTooLarge, Guard, new_token, read_body
from lloyd.explore.shapes import MAX_SHAPE_ROWS, SHAPES, TableError, read_csv_columns
from lloyd.explore.store import Store

__all__ = ["Limits", "make_app", "running", "serve"]

_log = logging.getLogger("lloyd.explore")
_CLIENT_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


@dataclass(frozen=True)
class Limits:
    """What one request may send: bytes of JSON, of a CSV, of an image; rows; pixels."""

    json_bytes: int = 4 * 2**20
    csv_bytes: int = 8 * 2**20
    image_bytes: int = 32 * 2**20
    rows: int = MAX_SHAPE_ROWS
    pixels: int = 25_000_000


_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
#: The page runs only its own scripts and talks only to this server.
_CSP = ("default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


def _static_files() -> dict[str, tuple[bytes, str]]:
    root = resources.files("lloyd.explore") / "static"
    files = {}

    def walk(folder, prefix):
        for entry in folder.iterdir():
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
            elif "." + entry.name.rsplit(".", 1)[-1] in _TYPES:
                files[prefix + entry.name] = (entry.read_bytes(),
                                              _TYPES["." + entry.name.rsplit(".", 1)[-1]])

    walk(root, "")
    return files


class Explorer:
    """The routes and their shared state: uploads, jobs and limits."""

    def __init__(self, limits: Limits, workers: int):
        self.limits = limits
        self.store = Store()
        self.jobs = JobManager(workers=workers)
        self.static = _static_files()

    # -- plumbing ---------------------------------------------------------------------------
    @staticmethod
    def client(request) -> str:
        # A header from fetch(); a query parameter from <img> and download links.
        value = request.headers.get("x-lloyd-client") or request.query_params.get("client", "")
        if value and len(value) <= 64 and set(value) <= _CLIENT_OK:
            return value
        return "default"

    async def json(self, request) -> Params:
        return Params(await read_body(request, self.limits.json_bytes))

    def data(self, request, params: Params) -> np.ndarray:
        """The points a request names: a built-in shape or an uploaded table's two columns."""
        spec = params.obj("data")
        kind = spec.choice("kind", [*SHAPES, "upload"])
        if kind != "upload":
            return compute.shape_points(kind, spec.integer("n", 3, self.limits.rows, 300),
                                        spec.integer("seed", 0, 2**32 - 1, 0))
        upload = self.store.get(self.client(request), spec.ident("id"), "table")
        if upload is None:
            raise ApiError(404, "no such uploaded table (it may have been evicted): upload "
                           "it again")
        names = spec.strings("columns", 2)
        missing = [n for n in names if n not in upload.value.columns]
        if missing:
            raise ApiError(400, f"columns {missing} are not numeric columns of the table; "
                           f"choose from {list(upload.value.columns)}")
        return np.column_stack([upload.value.columns[n] for n in names])

    # -- pages ------------------------------------------------------------------------------
    async def page(self, request):
        name = request.path_params.get("name", "index.html")
        found = self.static.get(name)
        if found is None:
            raise ApiError(404, f"no page file {name!r}")
        body, media = found
        return Response(body, media_type=media, headers={
            "content-security-policy": _CSP, "x-content-type-options": "nosniff",
            "cache-control": "no-cache", "referrer-policy": "no-referrer"})

    async def shapes(self, request):
        return {"shapes": [{"name": k, "title": s.title, "lesson": s.lesson,
                            "k": s.n_clusters} for k, s in SHAPES.items()],
                "samples": _sample_images(), "max_k": MAX_STEP_CLUSTERS,
                "limits": self.limits.__dict__}

    # -- step-through -----------------------------------------------------------------------
    async def points(self, request):
        params = await self.json(request)
        X = self.data(request, params)
        return {"X": X.tolist(), "n": len(X)}

    async def seed(self, request):
        params = await self.json(request)
        X = self.data(request, params)
        method = params.choice("method", ["random", "k-means++"])
        k = params.integer("k", 1, min(MAX_STEP_CLUSTERS, len(X)))
        seed = params.integer("random_state", 0, 2**32 - 1)
        work = compute.random_rows if method == "random" else compute.kmeanspp_steps
        return await run_in_threadpool(work, X, k, seed)

    async def assign(self, request):
        params = await self.json(request)
        X = self.data(request, params)
        return compute.assign(X, params.centroids())

    async def move(self, request):
        params = await self.json(request)
        X = self.data(request, params)
        centroids = params.centroids()
        return compute.move(X, params.labels("labels", len(X), len(centroids)), centroids)

    async def distortion(self, request):
        params = await self.json(request)
        X = self.data(request, params)
        centroids = params.centroids()
        return compute.distortion(X, params.labels("labels", len(X), len(centroids)), centroids)

    async def point(self, request):
        params = await self.json(request)
        X = self.data(request, params)
        return compute.point_distances(X, params.integer("row", 0, len(X) - 1),
                                       params.centroids())

    # -- uploads ----------------------------------------------------------------------------
    async def table(self, request):
        body = await read_body(request, self.limits.csv_bytes, "CSV file")
        try:
            table = await run_in_threadpool(read_csv_columns, body, max_rows=self.limits.rows)
        except TableError as exc:
            raise ApiError(413 if "rows" in str(exc) and "more than" in str(exc) else 400,
                           str(exc)) from None
        upload_id = self.store.add_table(self.client(request), table, len(body))
        return {"id": upload_id, "columns": list(table.columns), "rows": table.n_rows,
                "skipped": table.skipped}

    async def image(self, request):
        body = await read_body(request, self.limits.image_bytes, "image file")
        info = await run_in_threadpool(_check_image, body, self.limits.pixels)
        upload_id = self.store.add_image(self.client(request), body, info)
        return {"id": upload_id, **info}

    async def sample_image(self, request):
        params = await self.json(request)
        from lloyd.datasets import sample_image_path

        name = params.choice("name", [s["name"] for s in _sample_images()])
        data = sample_image_path(name).read_bytes()  # a name from the list, never a path
        info = await run_in_threadpool(_check_image, data, self.limits.pixels)
        return {"id": self.store.add_image(self.client(request), data, info), **info}

    # -- long computations ------------------------------------------------------------------
    async def start_job(self, request):
        params = await self.json(request)
        client = self.client(request)
        kind = params.choice("kind", ["compress", "elbow"])
        if kind == "compress":
            upload = self.store.get(client, params.ident("image"), "image")
            if upload is None:
                raise ApiError(404, "no such uploaded image (it may have been evicted): "
                               "upload it again")
            args = (upload.path, params.integer("n_colors", 1, 256),
                    params.choice("color_space", ["rgb", "lab", "oklab"]),
                    params.number("dither", 0.0, 1.0), params.integer("random_state", 0,
                                                                       2**32 - 1, 0))

            def work(job):
                return compute.quantize_image(*args, job)
        else:
            X = self.data(request, params)
            k_max = params.integer("k_max", 2, min(16, len(X)))
            seed = params.integer("random_state", 0, 2**32 - 1, 0)

            def work(job):
                return compute.elbow(X, k_max, seed, job)
        try:
            job = self.jobs.start(client, kind, work)
        except Busy as exc:
            raise ApiError(409, str(exc)) from None
        return JSONResponse(job.as_dict(), status_code=202)

    def _job(self, request):
        job = self.jobs.get(self.client(request), request.path_params["job"])
        if job is None:
            raise ApiError(404, "no such computation (only your latest one is kept)")
        return job

    async def job(self, request):
        job = self._job(request)
        if request.method == "DELETE":
            job.cancel()
        out = job.as_dict()
        if job.state == "done":
            out["result"] = job.result["summary"] if job.kind == "compress" else job.result
        return out

    async def job_file(self, request):
        job = self._job(request)
        if job.kind != "compress" or job.state != "done":
            raise ApiError(409, "the image is not compressed yet")
        which = request.path_params["file"]
        if which == "compressed.png":  # the page's link names the download (photo-k16.png)
            return Response(job.result["png"], media_type="image/png")
        if which == "original.png":
            return Response(job.result["original_png"], media_type="image/png")
        raise ApiError(404, f"no file {which!r}")


def _sample_images() -> list:
    from lloyd.datasets import SAMPLE_IMAGES, sample_image_path

    out = []
    for name in SAMPLE_IMAGES:
        try:
            sample_image_path(name)
        except (ImportError, FileNotFoundError):
            continue
        out.append({"name": name, "title": name.replace("_", " ").capitalize()})
    return out


def _check_image(data: bytes, max_pixels: int) -> dict:
    """Size and format from the header, before any decoding; refuses bombs and non-images."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                width, height, fmt = im.width, im.height, im.format
                frames = getattr(im, "n_frames", 1)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ApiError(413, "the image declares more pixels than Pillow's decompression-bomb "
                       f"limit ({Image.MAX_IMAGE_PIXELS:,})") from None
    except UnidentifiedImageError:
        raise ApiError(415, "not an image Pillow can read (PNG, JPEG, WebP, GIF, TIFF, "
                       "BMP, ...)") from None
    except Exception as exc:  # Pillow's header parsers raise many types on damaged files
        raise ApiError(400, f"the image is damaged: {type(exc).__name__}") from None
    if width * height > max_pixels:
        raise ApiError(413, f"the image has {width * height:,} pixels ({width}×{height}); the "
                       f"explorer takes at most {max_pixels:,}")
    return {"width": width, "height": height, "format": fmt, "frames": frames,
            "bytes": len(data)}


def _endpoint(handler):
    """Wrap a handler: JSON out, refusals as 4xx with a message, a Server-Timing header."""

    async def endpoint(request):
        start = time.perf_counter()
        try:
            out = await handler(request)
        except ApiError as exc:
            out = JSONResponse({"error": exc.message}, status_code=exc.status)
        except BodyTooLarge as exc:
            out = JSONResponse({"error": str(exc)}, status_code=413)
        except ValueError as exc:  # lloyd's own checks (e.g. on centroids): the user's to fix
            out = JSONResponse({"error": str(exc)}, status_code=400)
        except Exception:
            _log.exception("explorer request %s %s failed", request.method, request.url.path)
            out = JSONResponse({"error": "internal error (a bug in lloyd; the server's log "
                                "has the details)"}, status_code=500)
        if not isinstance(out, Response):
            out = JSONResponse(out)
        out.headers["server-timing"] = f"app;dur={(time.perf_counter() - start) * 1e3:.3f}"
        out.headers["cache-control"] = out.headers.get("cache-control", "no-store")
        return out

    return endpoint


def make_app(*, token: str, port: int, host: str = "127.0.0.1", limits: Limits | None = None,
             workers: int = 2, warm: bool = True):
    """The explorer as an ASGI application guarded by ``token`` for a server on ``port``."""
    explorer = Explorer(limits or Limits(), workers)
    post, get = ["POST"], ["GET"]
    routes = [
        Route("/", _endpoint(explorer.page), methods=get),
        Route("/static/{name:path}", _endpoint(explorer.page), methods=get),
        Route("/api/shapes", _endpoint(explorer.shapes), methods=get),
        Route("/api/points", _endpoint(explorer.points), methods=post),
        Route("/api/seed", _endpoint(explorer.seed), methods=post),
        Route("/api/assign", _endpoint(explorer.assign), methods=post),
        Route("/api/move", _endpoint(explorer.move), methods=post),
        Route("/api/distortion", _endpoint(explorer.distortion), methods=post),
        Route("/api/point", _endpoint(explorer.point), methods=post),
        Route("/api/table", _endpoint(explorer.table), methods=post),
        Route("/api/image", _endpoint(explorer.image), methods=post),
        Route("/api/sample-image", _endpoint(explorer.sample_image), methods=post),
        Route("/api/jobs", _endpoint(explorer.start_job), methods=post),
        Route("/api/jobs/{job}", _endpoint(explorer.job), methods=["GET", "DELETE"]),
        Route("/api/jobs/{job}/{file}", _endpoint(explorer.job_file), methods=get),
    ]

    async def not_found(request, exc):
        status = getattr(exc, "status_code", 404)
        return JSONResponse({"error": f"{request.method} {request.url.path}: "
                             f"{getattr(exc, 'detail', 'not found')}"}, status_code=status)

    @asynccontextmanager
    async def lifespan(app):
        if warm:
            threading.Thread(target=_warm_up, daemon=True, name="lloyd-warm-up").start()
        yield
        explorer.jobs.shutdown()
        explorer.store.close()

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found},
                    lifespan=lifespan)
    app.state.explorer = explorer
    return Guard(app, token=token, hosts=_hosts(host, port), port=port)


def _warm_up() -> None:
    try:
        compute.warm_up()
    except Exception:  # a failed warm-up only costs the first click its speed
        _log.exception("explorer warm-up failed")


def _hosts(host: str, port: int) -> set:
    names = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
    if host not in ("127.0.0.1", "localhost", "::1"):
        names.add(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    return {n.lower() for n in names}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (0: a free port), IPv4 or IPv6."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


def make_server(sock: socket.socket, *, token: str | None = None, workers: int = 2,
                limits: Limits | None = None):
    """A uvicorn server for the explorer on a bound socket; returns (server, url)."""
    import uvicorn

    host, port = sock.getsockname()[:2]
    token = token or new_token()
    app = make_app(token=token, port=port, host=host, limits=limits, workers=workers)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False,
                            server_header=False, timeout_graceful_shutdown=5)
    shown = f"[{host}]" if ":" in host else host
    return uvicorn.Server(config), f"http://{shown}:{port}/?token={token}"


def serve(host: str = "127.0.0.1", port: int = 0, *, open_browser: bool = True,
          out=sys.stdout) -> None:
    """Run the explorer until Ctrl-C; print its address (and open it in the default browser)."""
    sock = bind(host, port)
    server, url = make_server(sock)
    print(f"lloyd explore is running at\n    {url}\nPress Ctrl-C to stop.", file=out, flush=True)
    if open_browser:
        def opener():
            while not server.started and not server.should_exit:
                time.sleep(0.05)
            if server.started:
                import webbrowser

                webbrowser.open(url)

        threading.Thread(target=opener, daemon=True).start()
    server.run(sockets=[sock])


@contextmanager
def running(host: str = "127.0.0.1", port: int = 0, **options):
    """Run the explorer in a background thread for the duration of a ``with`` block.

    Yields ``(url, server)``; the server stops, and its jobs and uploads are cleared, on exit.
    For tests, benchmarks and notebooks: ``lloyd explore`` itself runs :func:`serve`.
    """
    sock = bind(host, port)
    server, url = make_server(sock, **options)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name="lloyd-explore")
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the explorer's server did not start")
            time.sleep(0.01)
        yield url, server
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
