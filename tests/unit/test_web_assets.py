"""The web UI's assets are all served by the control plane: the vendored htmx is the file its
README records (name, version, licence, sha256), and no template or asset loads anything from
another origin (the pages' Content-Security-Policy would block it anyway)."""
import hashlib
import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "controlplane" / "web"


def test_vendored_htmx_matches_the_recorded_sha256():
    readme = (WEB / "static" / "README.md").read_text()
    recorded = re.search(r"\| `htmx\.min\.js` \|.*\| `([0-9a-f]{64})` \|", readme).group(1)
    assert hashlib.sha256((WEB / "static" / "htmx.min.js").read_bytes()).hexdigest() == recorded


def test_no_template_or_asset_reaches_another_origin():
    for f in [*(WEB / "templates").glob("*.html"), WEB / "static" / "live.js", WEB / "static" / "kadalu.css"]:
        text = f.read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), f"{f.name} loads from another origin"
        assert "<script>" not in text and " style=" not in text, f"{f.name}: inline script or style (CSP forbids them)"
