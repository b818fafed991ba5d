"""The ingest stage over a folder of mixed good and hostile inputs: every item ends as a
document or a quarantine row with a clear reason, and nothing is written outside the run."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from curate.ingest.discover import discover_sources
from curate.records import Document, Figure, Quarantine
from curate.runtime.config import load_config
from curate.runtime.manifest import RunLayout, read_records
from curate.runtime.runner import LocalRunner
from stages.ingest import IngestStage

JATS = b"""<?xml version="1.0"?><article xmlns:xlink="http://www.w3.org/1999/xlink"><front><article-meta>
<title-group><article-title>T</article-title></title-group></article-meta></front><body><p>See
<xref ref-type="fig" rid="f1">Fig. 1</xref>.</p><fig id="f1"><label>Figure 1</label><caption><p>A cell.</p>
</caption><graphic xlink:href="f1"/></fig></body></article>"""


def _jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 10, 10)).save(buf, format="JPEG")
    return buf.getvalue()


def _tar(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _inputs(root: Path) -> None:
    (root / "good").mkdir(parents=True)
    (root / "good" / "paper.nxml").write_bytes(JATS)
    (root / "good" / "f1.jpg").write_bytes(_jpeg())
    _tar(root / "evil.tar.gz", {"pkg/paper.nxml": JATS, "../evil.txt": b"escaped"})
    _tar(root / "absolute.tar.gz", {"pkg/paper.nxml": JATS, "/tmp/panel2patch-absolute.txt": b"escaped"})
    (root / "empty.pdf").write_bytes(b"")
    (root / "imgs").mkdir()
    (root / "imgs" / "a.jpg").write_bytes(_jpeg())
    lines = [json.dumps({"image": "a.jpg", "caption": "A red square.", "licence": "CC0"}), "{broken json",
             json.dumps({"image": "../../etc/passwd", "caption": "escape"})]
    (root / "imgs" / "captions.jsonl").write_text("\n".join(lines) + "\n")


def test_hostile_inputs_are_quarantined_and_good_ones_ingested(tmp_path):
    inputs, runs = tmp_path / "in", tmp_path / "runs"
    _inputs(inputs)
    cfg = load_config(None, [f"input_dir={inputs}", f"runs_dir={runs}", "name=t", "runner=local",
                             "max_quarantine_frac=1.0"])
    (report,) = LocalRunner(cfg, [IngestStage], lambda c: discover_sources(Path(c.input_dir))).run()
    layout = RunLayout(cfg.run_dir)
    parts = range(report.parts)
    docs = [d for p in parts for d in read_records(layout.table("ingest", "documents", p), Document)]
    figs = [f for p in parts for f in read_records(layout.table("ingest", "figures", p), Figure)]
    quarantine = {q.item_id: q for p in parts for q in read_records(layout.quarantine("ingest", p), Quarantine)}
    assert sorted(d.id for d in docs) == ["good", "imgs__captions_l00001"]
    assert len(figs) == 2 and all(layout.blobs.joinpath(f.image_sha256[:2]).exists() for f in figs)
    assert report.counts["in"] == 7 == len(docs) + len(quarantine)
    assert quarantine["evil"].error_class == "UnsafeArchive" and ".." in quarantine["evil"].message
    assert quarantine["absolute"].error_class == "UnsafeArchive"
    assert "absolute" in quarantine["absolute"].message.lower() or "/tmp" in quarantine["absolute"].message
    assert quarantine["empty"].error_class == "IngestError"
    assert quarantine["imgs__captions_l00002"].error_class == "IngestError"
    assert "leaves the folder" in quarantine["imgs__captions_l00003"].message
    assert not (tmp_path / "evil.txt").exists() and not (runs / "evil.txt").exists()
    assert not Path("/tmp/panel2patch-absolute.txt").exists()
    outside = [p for p in tmp_path.rglob("*") if not (p.is_relative_to(inputs) or p.is_relative_to(runs))]
    assert outside == []
