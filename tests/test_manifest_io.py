"""The manifest's Parquet readers and writer give what the plain ``pq`` calls they replaced give:
the same tables, the same column values (an empty file answered from its footer) and the same
file bytes."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.records import Panel, Quarantine
from curate.runtime.manifest import arrow_schema, read_column, read_records, read_table, write_records


def _panels(n: int) -> list[Panel]:
    return [Panel(id=f"doc-f{i:02d}-p{i}", figure_id=f"doc-f{i:02d}", document_id="doc", index=i,
                  label=chr(97 + i % 26) if i % 4 else None, bbox_xyxy=[i, 2 * i, i + 10, 2 * i + 20],
                  confidence=0.5 + i / 100, subcaption="cells" * (i % 3), mentions=[f"see panel {i}"] * (i % 2))
            for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, 17])
def test_written_file_and_tables_equal_the_plain_pyarrow_forms(tmp_path, n):
    records = _panels(n)
    path = tmp_path / "panels" / "part-00000.parquet"
    write_records(path, records, Panel)
    plain = tmp_path / "plain.parquet"
    rows = sorted((r.model_dump(mode="json") for r in records), key=lambda row: row["id"])
    pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema(Panel)), plain, compression="zstd")
    assert path.read_bytes() == plain.read_bytes()
    assert not list(path.parent.glob("*.tmp"))

    want = pq.read_table(path)
    got = read_table(path)
    assert got.equals(want) and got.schema.equals(want.schema, check_metadata=True)
    assert read_table(path, columns=["label", "id"]).equals(pq.read_table(path, columns=["label", "id"]))
    assert read_records(path, Panel) == sorted(records, key=lambda r: r.id)
    assert read_column(path, "id") == want.column("id").to_pylist() == sorted(r.id for r in records)


def test_read_column_of_a_quarantine_part(tmp_path):
    path = tmp_path / "quarantine" / "panels" / "part-00000.parquet"
    write_records(path, [], Quarantine)
    assert read_column(path, "item_id") == []
    rows = [Quarantine(stage="panels", item_id=f"doc-f0{i}", error_class="BadImage", message="cut short", part=0)
            for i in (2, 1)]
    write_records(path, rows, Quarantine)
    assert read_column(path, "item_id") == ["doc-f02", "doc-f01"]  # no id: kept in the order written
    for read in (lambda: read_column(path, "no_such_column"), lambda: read_table(path, ["item_id", "no_such_column"])):
        with pytest.raises(KeyError):
            read()
