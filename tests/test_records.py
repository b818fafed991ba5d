from __future__ import annotations

import pytest
from pydantic import ValidationError

from curate.records import ID_PATTERN, Figure, Panel, child_id, safe_token


def test_safe_token_removes_dots_and_slashes():
    token = safe_token("pmc/10.1038_s41467-024-44806-1.v2")
    assert ID_PATTERN.match(token)
    assert "." not in token and "/" not in token


def test_long_tokens_keep_a_hash_tail_and_stay_distinct():
    a, b = safe_token("x" * 200 + "a"), safe_token("x" * 200 + "b")
    assert len(a) <= 80 and a != b


def test_child_ids_extend_the_parent_without_dots():
    fig = child_id("PMC123", "f", 2)
    panel = child_id(fig, "p", 3)
    assert panel == "PMC123_f02_p03"
    assert panel.startswith(fig) and "." not in panel


def test_record_rejects_dotted_id():
    with pytest.raises(ValidationError):
        Figure(id="PMC1.f2", document_id="PMC1", source_kind="jats", image_sha256="0" * 64, width=1, height=1)


def test_record_rejects_unknown_fields():
    with pytest.raises(ValidationError):
        Panel(id="a_p01", figure_id="a", document_id="a", index=1, bbox_xyxy=[0, 0, 1, 1], colour="red")
