"""Security properties: hardened XML (no network, no entities), no unsafe deserialisation in
the source tree, and the HTML report escaping every text that comes from a paper."""

from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from curate.ingest.base import IngestError
from curate.ingest.jats import parse_jats
from tests import badinputs_make as mk

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for d in ("curate", "stages", "bench", "scripts") for p in (REPO / d).rglob("*.py"))


def _code(path: Path) -> str:
    """Source without comments (a comment may name what it forbids)."""
    return "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())


def test_every_torch_load_is_weights_only():
    calls = [(p.name, m.group(0)) for p in SOURCES for m in re.finditer(r"torch\.load\([^)]*\)", _code(p))]
    assert calls, "the grep found no torch.load at all: the pattern is wrong"
    assert [c for c in calls if "weights_only=True" not in c[1]] == []


@pytest.mark.parametrize("pattern", [
    r"(?<![\w.])eval\(", r"(?<![\w.])exec\(", r"\bpickle\.loads?\(", r"\bcloudpickle\.loads?\(",
    r"\bmarshal\.loads?\(", r"\byaml\.load\(", r"\byaml\.unsafe_load\(", r"allow_pickle\s*=\s*True",
    r"read_pickle\(", r"\bshelve\.open\(", r"resolve_entities\s*=\s*True", r"no_network\s*=\s*False",
])
def test_no_unsafe_deserialisation_in_the_source(pattern):
    hits = [f"{p.relative_to(REPO)}: {m.group(0)}" for p in SOURCES for m in re.finditer(pattern, _code(p))]
    assert hits == []


class _Counter(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.hits.append(self.path)
        body = b'<!ENTITY leak "LEAKED-FROM-NETWORK">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def loopback():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    httpd.hits = []
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.hits
    httpd.shutdown()
    httpd.server_close()


def test_xml_parser_never_fetches_dtds_or_entities(loopback, tmp_path):
    url, hits = loopback
    secret = tmp_path / "secret.txt"
    secret.write_text(mk.SECRET)
    doctypes = [
        f'<!DOCTYPE article SYSTEM "{url}/article.dtd">',
        f'<!DOCTYPE article [<!ENTITY % remote SYSTEM "{url}/param.dtd"> %remote;]>',
        f'<!DOCTYPE article [<!ENTITY net SYSTEM "{url}/entity">]>',
        mk.xxe_doctype(secret),
    ]
    for doctype in doctypes:
        xml = mk.jats([{"caption": "Lesion &net;&xxe;&leak;."}], doctype=doctype).encode()
        try:
            parsed = parse_jats(xml, doc_id="x", source_path="x")
        except IngestError:
            continue  # refusing is fine; what matters is that nothing was fetched or read
        text = " ".join(f.caption for f in parsed.figures)
        assert mk.SECRET not in text and "LEAKED" not in text
    time.sleep(0.2)
    assert hits == []


def test_billion_laughs_is_refused_fast():
    start = time.perf_counter()
    with pytest.raises(IngestError, match="amplification"):
        parse_jats(mk.jats([{"caption": "&lol9;"}], doctype=mk.BILLION_LAUGHS).encode(), doc_id="x",
                   source_path="x")
    assert time.perf_counter() - start < 1.0


HOSTILE = "Figure 1. <script>alert(1)</script> <img src=x onerror=alert(2)> A lesion (arrow)."


def test_html_report_escapes_paper_text(tmp_path):
    """Captions, titles and quarantine messages (they quote member names) reach the page escaped."""
    import json

    from curate.report.html import write_report
    from stages import STAGE_NAMES
    from tests.badinputs import run_corpus

    inputs = tmp_path / "in"
    (inputs / "imgs").mkdir(parents=True)
    (inputs / "imgs" / "a.png").write_bytes(mk.png(120, 90))
    line = {"image": "a.png", "caption": HOSTILE, "title": "<script>alert(3)</script>", "licence": "CC0"}
    (inputs / "imgs" / "captions.jsonl").write_text(json.dumps(line) + "\n")
    mk.tar_gz(inputs / "evil.tar.gz", [*mk.good_members(), ("../<script>alert(4)</script>", b"x")])
    cfg, _ = run_corpus(inputs, tmp_path / "runs")
    page = write_report(cfg.run_dir, STAGE_NAMES).read_text()
    assert "alert(1)" in page and "alert(4)" in page  # the texts are shown ...
    low = page.lower()
    own_scripts = re.findall(r"<script[^>]*>.*?</script>", low, flags=re.S)  # the report's filter code
    assert own_scripts and not any("alert(" in block for block in own_scripts)
    for block in own_scripts:
        low = low.replace(block, "")
    assert "<script" not in low and "<img src=x" not in low  # ... only escaped
    assert re.findall(r"<[^>]*onerror", low) == []  # no raw tag carries the handler
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
