"""The sample corpus's documents: what each figure shows and what its caption says.

Texts use ``{pN}`` for the caption reference of panel N (``B``, ``b``) and ``{mN}`` for the
phrase of the panel's N-th marker spec, so a caption names exactly the markers drawn.
Layout randomness (positions, gutters) comes from the seed in ``generate``; the content here
is fixed so captions and pixels always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from curate.sample.compose import FigureSpec
from curate.sample.compose import MarkerSpec as M
from curate.sample.compose import PanelSpec as P


@dataclass
class DocSpec:
    """One paper (JATS package or PDF) or the folder input; ``archive`` = write as .tar.gz."""

    name: str
    kind: str  # jats | pdf | folder
    title: str = ""
    figures: list[FigureSpec] = field(default_factory=list)
    intro: list[str] = field(default_factory=list)
    archive: bool = False
    prefix: str = "Figure {n}."  # how a PDF prints the caption label
    files: list[str] = field(default_factory=list)  # folder input: image file names


def _fig(title, panels, **kw) -> FigureSpec:
    return FigureSpec(title=title, panels=panels, **kw)


# Structures in the source views, as (x, y) fractions of the whole view, found by eye on a grid.
DISC, FOVEA = (0.176, 0.459), (0.496, 0.493)  # fundus
MICROANEURYSMS = [(0.16, 0.22), (0.48, 0.69)]
CELL, CELL_EDGE = (0.74, 0.571), (0.74, 0.672)
VERT_BODY, CANAL, CORTEX, TRANSVERSE = (0.47, 0.13), (0.47, 0.38), (0.47, 0.24), (0.15, 0.48)  # CT
LEFT_PARAVERTEBRAL = [(0.66, 0.62), (0.74, 0.76)]
LUMEN, STROMA, GLAND = (0.63, 0.22), (0.45, 0.6), (0.62, 0.78)  # ihc
THIRD_VENTRICLE, FRONTAL_HORNS, SEPTUM, CALLOSUM = (
    (0.48, 0.52),
    [(0.33, 0.25), (0.68, 0.25)],
    (0.5, 0.4),
    (0.42, 0.2),
)


def pdf_papers() -> list[DocSpec]:
    one = DocSpec(
        "sample-paper-1",
        "pdf",
        "Retinal and tissue imaging in a screening cohort",
        prefix="Fig. {n} |",
        intro=["We imaged retinas and tissue sections from a screening cohort."],
    )
    one.figures = [
        _fig(
            "Fundus imaging in the screening cohort.",
            [
                P(
                    "fundus",
                    "Colour fundus photograph; {m0}.",
                    markers=[
                        M(
                            "circle",
                            "yellow",
                            dashed=True,
                            scale=0.7,
                            phrase="the dashed yellow circle outlines the optic disc",
                            at=[DISC],
                        )
                    ],
                ),
                P(
                    "microaneurysms",
                    "Green-channel crop; {m0}.",
                    markers=[
                        M(
                            "arrowhead",
                            "red",
                            2,
                            phrase="red arrowheads point to microaneurysms",
                            at=MICROANEURYSMS,
                        )
                    ],
                ),
                P("fundus", "Temporal periphery.", crop=(0.55, 0.3, 0.95, 0.7)),
                P(
                    "fundus",
                    "Optic disc detail; {m0}.",
                    crop=(0.15, 0.3, 0.5, 0.65),
                    markers=[
                        M(
                            "arrow",
                            "black",
                            phrase="the black arrow indicates the disc margin",
                            at=[(0.215, 0.47)],
                        )
                    ],
                ),
            ],
            cols=[1, 1],
            rows=[1, 1],
            width=760,
            gutter=12,
            labels="lower",
        ),
        _fig(
            "Immunostaining of glands.",
            [
                P(
                    "ihc",
                    "Stained glands; {m0}.",
                    markers=[M("arrow", "white", 2, phrase="white arrows indicate stained membranes")],
                ),
                P(
                    "ihc",
                    "Stroma; {m0}.",
                    crop=(0.3, 0.4, 0.9, 1.0),
                    markers=[M("asterisk", "black", phrase="asterisk, stroma")],
                ),
            ],
            cols=[1, 1],
            width=760,
            background="black",
            gutter=6,
            labels="lower",
            label_place="inside",
        ),
    ]
    two = DocSpec(
        "sample-paper-2",
        "pdf",
        "Cross-sectional imaging of the thoracic spine and brain",
        intro=["Cross-sectional imaging is the first test for suspected spinal disease."],
    )
    two.figures = [
        _fig(
            "Imaging of the thoracic spine.",
            [
                P(
                    "ct",
                    "Axial CT; {m0}. {m1}.",
                    markers=[
                        M(
                            "arrow",
                            "red",
                            phrase="the red arrow indicates the vertebral body",
                            at=[VERT_BODY],
                        ),
                        M("asterisk", "yellow", phrase="Asterisk, paraspinal muscle", at=[(0.3, 0.72)]),
                    ],
                ),
                P("mr", "MR image of the same region."),
                P(
                    "ct_bone",
                    "Bone window; {m0}.",
                    markers=[
                        M(
                            "circle",
                            "green",
                            scale=0.8,
                            phrase="the green circle outlines the spinal canal",
                            at=[CANAL],
                        )
                    ],
                ),
            ],
            cols=[1.5, 1],
            rows=[0.7, 0.7],
            cells=[(0, 0, 1, 2), (1, 0, 2, 1), (1, 1, 2, 2)],
            width=760,
            background="black",
            gutter=5,
            label_place="inside",
        ),
        _fig(
            "Axial T1-weighted MR image at the level of the lateral ventricles.",
            [
                P(
                    "t1_axial_mid",
                    "The {m0}.",
                    markers=[
                        M(
                            "arrowhead",
                            "yellow",
                            phrase="yellow arrowhead marks the septum pellucidum",
                            at=[SEPTUM],
                        )
                    ],
                ),
            ],
            width=600,
            background="black",
            labels=None,
            caption_style="none",
        ),
    ]
    return [one, two]


def folder_input() -> DocSpec:
    figs = [
        _fig(
            "Colour fundus photograph of a left eye.",
            [
                P(
                    "fundus",
                    "The {m0}.",
                    crop=(0.05, 0.15, 0.7, 0.85),
                    markers=[M("arrow", "white", phrase="white arrow indicates the optic disc", at=[DISC])],
                )
            ],
            width=640,
            labels=None,
            caption_style="none",
        ),
        _fig(
            "Immunohistochemistry of a glandular tumour.",
            [P("ihc", "{m0}.", markers=[M("asterisk", "red", phrase="Asterisk, gland lumen", at=[LUMEN])])],
            width=600,
            labels=None,
            caption_style="none",
        ),
        _fig(
            "Axial CT of the thorax at the level of a thoracic vertebra.",
            [P("ct", "")],
            width=600,
            labels=None,
            caption_style="none",
        ),
        _fig(
            "Bright-field images of a floating cell.",
            [
                P(
                    "cell",
                    "Overview; {m0}.",
                    markers=[M("circle", "black", phrase="the circle marks the cell", at=[CELL])],
                ),
                P("cell", "Higher magnification.", crop=(0.55, 0.35, 1.0, 0.8)),
            ],
            cols=[1, 1],
            width=700,
            gutter=10,
        ),
    ]
    return DocSpec(
        "folder",
        "folder",
        figures=figs,
        files=["fundus_left_eye.jpg", "ihc_gland.jpg", "ct_thorax.jpg", "cell_pair.jpg"],
    )


def all_documents() -> list[DocSpec]:
    """Every document of the sample corpus, in output order."""
    from curate.sample.papers import jats_documents  # papers imports this module's landmarks

    return [*jats_documents(), *pdf_papers(), folder_input()]
