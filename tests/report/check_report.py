#!/usr/bin/env python3
"""Renders an mpiply report in headless Chromium and checks what a reader would see.

    check_report.py REPORT.html BARS FAILED [ERROR_TEXT]

The DOM Chromium built (--dump-dom, after the page's script ran) must hold BARS Gantt bars (one
per task), FAILED rows in the failed-tasks table and ERROR_TEXT among them; the screenshot must
not be blank. Exits 77 (ctest's SKIP_RETURN_CODE) when Chromium is not installed.
"""
import html.parser
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def browser_args(exe, profile):
    # --no-sandbox: CI runs as root, where Chromium refuses its sandbox. The profile directory
    # keeps a run from touching the user's own.
    return [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", f"--user-data-dir={profile}"]


class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.bars = 0
        self.failed_rows = 0
        self.text = []

    def handle_starttag(self, tag, attrs):
        cls = (dict(attrs).get("class") or "").split()
        if tag == "rect" and "bar" in cls:
            self.bars += 1
        if tag == "tr" and "failed-task" in cls:
            self.failed_rows += 1

    def handle_data(self, data):
        self.text.append(data)


def png_pixels(path):
    """(width, height, non-white pixel count) of an 8-bit RGB or RGBA PNG, with zlib only."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path} is not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if depth != 8 or colour not in (2, 6):
                raise SystemExit(f"{path}: PNG depth {depth} colour type {colour} not handled")
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    nonwhite = 0
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        ftype, cur = line[0], bytearray(line[1:])
        for i in range(stride):  # undo the PNG row filter
            a = cur[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                cur[i] = (cur[i] + a) & 255
            elif ftype == 2:
                cur[i] = (cur[i] + b) & 255
            elif ftype == 3:
                cur[i] = (cur[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                cur[i] = (cur[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(0, stride, bpp):
            if cur[x] < 240 or cur[x + 1] < 240 or cur[x + 2] < 240:
                nonwhite += 1
        prev = cur
    return width, height, nonwhite


def main():
    if len(sys.argv) not in (4, 5):
        raise SystemExit(__doc__)
    report, bars, failed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    error_text = sys.argv[4] if len(sys.argv) == 5 else None
    exe = chromium()
    if not exe:
        print("SKIPPED: Chromium is not installed (Debian: apt-get install chromium; "
              "tools/setup.sh installs it)")
        return 77
    url = "file://" + os.path.abspath(report)
    with tempfile.TemporaryDirectory(prefix="mpiply-report-") as tmp:
        dom = subprocess.run(browser_args(exe, tmp + "/p1") + ["--dump-dom", url],
                             capture_output=True, text=True, timeout=120)
        if dom.returncode != 0 or "<svg" not in dom.stdout:
            print(dom.stderr[-2000:])
            raise SystemExit(f"chromium --dump-dom failed (exit {dom.returncode})")
        shot = os.path.join(tmp, "report.png")
        r = subprocess.run(browser_args(exe, tmp + "/p2") +
                           [f"--screenshot={shot}", "--window-size=1200,1600", url],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0 or not os.path.exists(shot):
            print(r.stderr[-2000:])
            raise SystemExit(f"chromium --screenshot failed (exit {r.returncode})")
        width, height, nonwhite = png_pixels(shot)
    parsed = Dom()
    parsed.feed(dom.stdout)
    text = "".join(parsed.text)
    print(f"DOM: {parsed.bars} bars, {parsed.failed_rows} failed-task rows; screenshot "
          f"{width}x{height}, {nonwhite} non-white pixels")
    problems = []
    if parsed.bars != bars:
        problems.append(f"{parsed.bars} Gantt bars, expected {bars} (one per task)")
    if parsed.failed_rows != failed:
        problems.append(f"{parsed.failed_rows} failed-task rows, expected {failed}")
    if error_text and error_text not in text:
        problems.append(f"the error text '{error_text}' is not on the page")
    # A blank page (nothing drawn, or the page failed to load) is all white.
    if nonwhite < width * height // 100:
        problems.append(f"the screenshot is blank ({nonwhite} non-white pixels of "
                        f"{width * height})")
    if problems:
        print("FAILED: " + "; ".join(problems))
        return 1
    print("report ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
