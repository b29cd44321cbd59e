"""Screenshots of the playground for the README, made by driving the real page in Chromium.

    python tools/playground_screenshots.py            # writes docs/playground_*.png

Each picture is a link's settings played until at least a given number of steps, then
paused and captured; the page is driven through its data-testid controls only.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tinygrad_edu.playground.server import ServerThread  # noqa: E402
from tinygrad_edu.spec import load_spec  # noqa: E402

SHOTS = {
    "classification": ("dataset=xor&noise=0.05&layers=8,8&act=relu,relu&lr=0.01", 3000),
    "regression": ("dataset=function:sin&n=500&test=0.2&layers=8&act=relu&lr=0.02&batch=16", 2500),
    "features": ("dataset=circles&layers=&act=&dropout=&features=x1,x2,x1_squared,x2_squared", 500),
}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for the PNGs")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        with ServerThread() as url:
            for name, (address, steps) in SHOTS.items():
                shoot(page, f"{url}#{address}", steps, Path(args.out) / f"playground_{name}.png")
        # a spec the plane cannot show: the images view of the lecture's MNIST network
        with ServerThread(spec=load_spec(ROOT / "specs/mlp.yaml")) as url:
            shoot(page, url, 500, Path(args.out) / "playground_mnist.png", hover=False)
        browser.close()
    return 0


def shoot(page: Any, url: str, steps: int, path: Path, hover: bool = True) -> None:
    """Open `url`, play until `steps`, pause, and capture the page."""
    page.goto(url)
    page.wait_for_function("window.playground.drawn > 0")
    page.click("[data-testid=play]")
    page.wait_for_function(f"window.playground.shown.step >= {steps}", timeout=120_000)
    page.click("[data-testid=play]")
    page.wait_for_function("window.playground.shown.paused")
    if hover:
        page.hover("[data-testid=unit-1-0]")
    page.screenshot(path=str(path))
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
