"""The shipped front end is really there, pinned, and loads nothing from another origin."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess

from tests.conftest import REPO

VIEWER = REPO / "viewer"


def test_vendored_bundles_match_their_manifest() -> None:
    manifest = json.loads((VIEWER / "vendor" / "MANIFEST.json").read_text())
    pinned = json.loads((VIEWER / "package.json").read_text())["dependencies"]
    assert manifest["deck.gl/dist.min.js"]["version"] == pinned["deck.gl"]
    for dest, entry in manifest.items():
        data = (VIEWER / "vendor" / dest).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], dest
    assert any(dest.endswith("LICENSE") for dest in manifest)


def test_vendor_copy_equals_the_npm_package() -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed"
    assert (VIEWER / "node_modules" / "deck.gl").is_dir(), "run: npm ci --prefix viewer"
    subprocess.run([node, str(VIEWER / "scripts" / "vendor.mjs"), "--check"], check=True, timeout=60)


def test_viewer_code_requests_nothing_from_another_origin() -> None:
    html = (VIEWER / "index.html").read_text()
    for src in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not re.match(r"^(https?:)?//", src), src
    assert "default-src 'self'" in html  # the Content-Security-Policy enforces it in the browser too
    for js in (VIEWER / "js").glob("*.js"):
        assert not re.search(r"https?://", js.read_text()), js.name
