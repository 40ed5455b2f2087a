"""Mean image measures of whichever lloyd is on ``PYTHONPATH``, on inputs made once and reused,
so that two versions are compared on identical files (issue 19's "no regression" check).

Run, e.g. for the commit before issue 19 against this checkout::

    git worktree add /tmp/base d9380ab
    python benchmarks/bench_image_versions.py --inputs /tmp/graphics             # this checkout
    PYTHONPATH=/tmp/base/src python benchmarks/bench_image_versions.py --inputs /tmp/graphics

The first run writes the graphics set (``bench_image.graphics_inputs``: Adwaita's icons and the
figures lloyd renders) to ``--inputs``; later runs read it from there. Measures are
``bench_image.metrics`` (PSNR, ΔE2000, SSIM, blurred ΔE2000 over white), averaged over images,
for ``lloyd.compress`` at each K with ``random_state=0``, undithered, and with ``--dither``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_image
from PIL import Image


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=Path, required=True)
    parser.add_argument("-k", "--colors", type=int, nargs="+", default=[16, 64, 256])
    args = parser.parse_args(argv)
    import lloyd

    listing = args.inputs / "inputs.json"
    if not listing.is_file():
        args.inputs.mkdir(parents=True, exist_ok=True)
        made = bench_image.graphics_inputs(args.inputs)
        listing.write_text(json.dumps({name: str(path) for name, path in made.items()}))
    inputs = {name: Path(path) for name, path in json.loads(listing.read_text()).items()}
    print(f"# lloyd at {Path(lloyd.__file__).parent}: {len(inputs)} images from {args.inputs}\n")
    print("| dither | K | PSNR dB | ΔE2000 | SSIM | blurred ΔE2000 | bytes |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for dither in (False, True):
            for k in args.colors:
                rows = []
                for name, src in inputs.items():
                    with Image.open(src) as im:
                        original = bench_image._on_white(im)
                    dst = Path(tmp) / f"{name}.png"
                    lloyd.compress(src, dst, k, overwrite=True, random_state=0,
                                   **({"dither": True} if dither else {}))
                    rows.append(dict(bench_image.metrics(original, dst),
                                     bytes=dst.stat().st_size))

                def mean(key, rows=rows):
                    return statistics.mean(r[key] for r in rows)

                print(f"| {'yes' if dither else 'no'} | {k} | {mean('psnr'):.2f} | "
                      f"{mean('delta_e'):.4f} | {mean('ssim'):.4f} | {mean('blur_de'):.4f} | "
                      f"{mean('bytes'):.0f} |", flush=True)


if __name__ == "__main__":
    main()
