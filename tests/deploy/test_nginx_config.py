"""`twin3d deploy nginx` writes a config nginx accepts, and refuses values nginx would read as syntax."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from twin3d.deploy.nginx import NginxSite, nginx_site, standalone_config
from twin3d.errors import ConfigError
from twin3d.server.app import default_viewer_dir


def _site(tiles: Path, **values: Any) -> NginxSite:
    return nginx_site(tiles_dir=tiles, viewer_dir=default_viewer_dir(), **values)


@pytest.mark.skipif(shutil.which("nginx", path="/usr/sbin:/usr/bin") is None, reason="needs Debian's nginx")
def test_the_standalone_config_passes_nginx_own_check(tmp_path: Path) -> None:
    (tmp_path / "tiles").mkdir()
    site = _site(tmp_path / "tiles", upstreams=["127.0.0.1:8000"])
    conf = tmp_path / "run" / "nginx.conf"
    conf.parent.mkdir()
    conf.write_text(standalone_config(site, tmp_path / "run"))
    nginx = shutil.which("nginx", path="/usr/sbin:/usr/bin")
    assert nginx is not None
    command = [nginx, "-t", "-c", str(conf), "-p", str(tmp_path / "run")]
    checked = subprocess.run(command, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize(
    "values",
    [
        {"upstreams": ["127.0.0.1:8000; return 200"]},
        {"upstreams": ["127.0.0.1"]},
        {"upstreams": []},
        {"upstreams": ["127.0.0.1:8000"], "listen": "80 default_server"},
        {"upstreams": ["127.0.0.1:8000"], "server_name": "a.example.org; root /"},
    ],
)
def test_addresses_nginx_would_misread_are_refused(tmp_path: Path, values: dict[str, Any]) -> None:
    (tmp_path / "tiles").mkdir()
    with pytest.raises(ConfigError):
        _site(tmp_path / "tiles", **values)


def test_folders_must_exist_and_have_plain_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        _site(tmp_path / "missing", upstreams=["127.0.0.1:8000"])
    odd = tmp_path / "tiles; autoindex on"
    odd.mkdir()
    with pytest.raises(ConfigError, match="syntax"):
        _site(odd, upstreams=["127.0.0.1:8000"])
