"""The two microscopy articles of the sample corpus (immunohistochemistry, bright-field cells)."""

from __future__ import annotations

from curate.sample.catalog import CELL, CELL_EDGE, GLAND, LUMEN, STROMA, DocSpec, _fig
from curate.sample.compose import MarkerSpec as M
from curate.sample.compose import PanelSpec as P


def pathology() -> DocSpec:
    crops = [(0.0, 0.0, 0.55, 0.55), (0.45, 0.0, 1.0, 0.55), (0.2, 0.45, 0.8, 1.0)]
    fig1 = _fig(
        "Immunohistochemistry of a glandular tumour.",
        [
            P(
                "ihc",
                "Membranous staining of tumour glands; {m0}.",
                crop=crops[0],
                markers=[
                    M("arrow", "black", 2, phrase="black arrows indicate strongly stained cell membranes")
                ],
            ),
            P(
                "ihc",
                "Gland lumen; {m0}.",
                crop=crops[1],
                markers=[M("asterisk", "red", phrase="asterisk, lumen", at=[LUMEN])],
            ),
            P(
                "ihc",
                "Stroma between glands; {m0}.",
                crop=crops[2],
                markers=[
                    M(
                        "box",
                        "black",
                        dashed=True,
                        phrase="the dashed box marks unstained stromal nuclei",
                        at=[STROMA],
                    )
                ],
            ),
            P(
                "cell",
                "Control cell, bright-field; {m0}.",
                crop=(0.5, 0.3, 1.0, 0.85),
                markers=[
                    M(
                        "arrowhead",
                        "green",
                        phrase="the green arrowhead points to the cell membrane",
                        at=[CELL_EDGE],
                    )
                ],
            ),
            P("cell", "Control cell at lower magnification.", crop=(0.2, 0.1, 1.0, 1.0)),
            P(
                "ihc",
                "Whole field at low magnification; {m0}.",
                markers=[M("circle", "black", phrase="the circle outlines a gland", at=[GLAND])],
            ),
        ],
        cols=[1, 1, 1],
        rows=[1, 1],
        width=960,
        gutter=8,
        labels="paren",
    )
    fig2 = _fig(
        "Higher magnification of stained glands.",
        [
            P(
                "ihc",
                "Tumour glands; {m0}. {m1}.",
                markers=[
                    M(
                        "box",
                        "black",
                        phrase="the boxed area is shown at higher magnification in the inset",
                        zoom="inset",
                    ),
                    M("asterisk", "red", phrase="Asterisk, stroma", at=[STROMA]),
                ],
                inset=True,
            ),
            P(
                "cell",
                "Unstained control cell; {m0}.",
                crop=(0.45, 0.25, 1.0, 0.9),
                markers=[M("arrow", "red", phrase="the red arrow indicates the cell", at=[CELL])],
            ),
        ],
        cols=[1.4, 1],
        width=860,
        gutter=16,
    )
    return DocSpec(
        "PMC9000003",
        "jats",
        "Membranous immunostaining in glandular tumours",
        [fig1, fig2],
        ["Immunohistochemistry localises protein expression in tissue sections."],
    )


def cell_imaging() -> DocSpec:
    fig1 = _fig(
        "Bright-field imaging of a single floating cell.",
        [
            P(
                "cell",
                "Overview; {m0}.",
                markers=[M("circle", "green", phrase="the green circle marks the cell", at=[CELL])],
            ),
            P(
                "cell",
                "The cell at higher magnification; {m0}, enlarged in {p3}.",
                crop=(0.55, 0.35, 1.0, 0.8),
                markers=[M("box", "black", scale=1.5, phrase="black box", zoom=3, at=[CELL])],
            ),
            P(
                "cell",
                "Background field; {m0}.",
                crop=(0.0, 0.0, 0.5, 0.5),
                markers=[M("arrowhead", "cyan", 2, phrase="cyan arrowheads point to debris")],
            ),
            P(
                "cell",
                "Enlargement of the boxed region in {p1}; {m0}.",
                zoom_of=1,
                markers=[M("asterisk", "black", phrase="asterisk, cell body", at=[CELL])],
            ),
        ],
        cols=[1, 1],
        rows=[0.9, 0.9],
        width=720,
        gutter=10,
    )
    return DocSpec(
        "PMC9000005",
        "jats",
        "Label-free imaging of floating cells",
        [fig1],
        ["Bright-field microscopy images cells without staining."],
    )
