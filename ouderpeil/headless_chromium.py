"""Headless Chromium driven over the DevTools protocol (CDP), for looking at our own pages.

The dashboard tests, the Airflow UI test, the quality report test and the dashboard benchmark
open pages of this machine in a real browser. One driver for all of them: a fresh profile per
browser, one page target, flat CDP sessions over `websockets`. Chromium is Debian's package
(`make browser`); the flags keep it from calling outside the machine.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

BINARY_NAMES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--lang=nl-NL",
]


# For each chart of a Superset dashboard page: has it drawn, is it still loading, does it show
# an error? Evaluated in the page by the dashboard tests and bench/dashboards_browser.py.
SUPERSET_CHART_STATE_JS = r"""
(() => Array.from(document.querySelectorAll('[data-test="chart-grid-component"]')).map(el => {
  const viz = el.getAttribute('data-test-viz-type');
  const text = (el.innerText || '').trim();
  const canvas = Array.from(el.querySelectorAll('canvas')).some(c => c.width > 0 && c.height > 0);
  const svg = el.querySelectorAll('svg path, svg rect, svg text').length > 3;
  const rows = el.querySelectorAll('table tbody tr').length;
  const big = viz && viz.startsWith('big_number')
      && /\d|N\/A|Geen|No data/.test((el.querySelector('.header-line') || el).innerText || '');
  const html = viz === 'handlebars' && /\w{4}/.test(text.replace(el.getAttribute('data-test-chart-name') || '', ''));
  const loading = el.querySelectorAll('[data-test="loading-indicator"], .loading').length > 0;
  const error = el.querySelectorAll(
      '.ant-alert-error, [data-test="error-tooltip"], [data-test="chart-error"], .alert-danger'
    ).length > 0 || /Unexpected error|Onverwachte fout|Fout:|Error:/.test(text);
  const empty = /No results|Geen resultaten/.test(text);
  return {id: el.getAttribute('data-test-chart-id'), name: el.getAttribute('data-test-chart-name'),
          viz, drawn: canvas || svg || rows > 0 || big || html, rows, loading, error, empty,
          text: text.slice(0, 400)};
}))()
"""


def find_binary() -> str | None:
    """The installed Chromium, or None (then `make browser` installs it)."""
    return next((p for p in map(shutil.which, BINARY_NAMES) if p), None)


class Chromium:
    """One headless Chromium with a fresh profile and one page, driven over CDP."""

    def __init__(self, binary: str, width: int = 1600, height: int = 1200):
        from websockets.sync.client import connect

        self.width = width
        self.profile = tempfile.mkdtemp(prefix="ouderpeil-chromium-")
        self.proc = subprocess.Popen(
            [
                binary,
                *FLAGS,
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Chromium writes the port it chose (and the browser target's path) into the profile.
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("Chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        self.ws = connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=30)
        self._ids = itertools.count(1)
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Network"):
            self.call(f"{domain}.enable", page=True)
        self.resize(height)

    def call(self, method: str, page: bool = False, timeout: float = 60, **params):
        """One CDP command (on the page when `page`), its result; events are skipped."""
        msg_id = next(self._ids)
        msg = {"id": msg_id, "method": method, "params": params}
        if page:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(method)
            data = json.loads(self.ws.recv(timeout=remaining))
            if data.get("id") == msg_id:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return data.get("result", {})

    def set_cookie(self, url: str, name: str, value: str, http_only: bool = True) -> None:
        """A cookie for `url`, e.g. a login session taken over from `requests`."""
        self.call(
            "Network.setCookie", page=True, url=url, name=name, value=value, httpOnly=http_only
        )

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", page=True, url=url)

    def eval(self, expression: str):
        result = self.call(
            "Runtime.evaluate",
            page=True,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        return result.get("result", {}).get("value")

    def resize(self, height: int) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            page=True,
            width=self.width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def screenshot(self, height: int) -> bytes:
        data = self.call(
            "Page.captureScreenshot",
            page=True,
            format="png",
            clip={"x": 0, "y": 0, "width": self.width, "height": height, "scale": 1},
        )["data"]
        return base64.b64decode(data)

    def close(self) -> None:
        try:
            if getattr(self, "ws", None) is not None:
                self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


def png_pixels(png: bytes):
    """Decode an 8-bit RGB/RGBA PNG (what Chromium writes) into an RGB array (numpy)."""
    import numpy as np

    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat = 8, b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        chunk = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    if depth != 8 or colour not in (2, 6):
        raise ValueError(f"unsupported PNG: bit depth {depth}, colour type {colour}")
    bpp = 3 if colour == 2 else 4
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8)
    stride = width * bpp
    rows = raw.reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.int32)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        ftype, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if ftype == 0:
            cur = line
        elif ftype == 2:
            cur = (line + prev) & 0xFF
        else:  # sub (1), average (3), paeth (4) depend on the left neighbour: byte by byte
            cur = np.zeros(stride, dtype=np.int32)
            for x in range(stride):
                a = cur[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                if ftype == 1:
                    pred = a
                elif ftype == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[x] = (line[x] + pred) & 0xFF
        out[y] = cur
        prev = cur
    return out.reshape(height, width, bpp)[:, :, :3]
