"""The PMC-style sample articles (JATS packages) of the sample corpus.

Texts and marker phrases follow ``catalog``'s placeholder rules; ``at`` points are the
anatomical landmarks named in ``catalog``.
"""

from __future__ import annotations

from curate.sample.catalog import (
    CALLOSUM,
    CANAL,
    CORTEX,
    DISC,
    FOVEA,
    FRONTAL_HORNS,
    LEFT_PARAVERTEBRAL,
    MICROANEURYSMS,
    SEPTUM,
    THIRD_VENTRICLE,
    TRANSVERSE,
    VERT_BODY,
    DocSpec,
    _fig,
)
from curate.sample.compose import MarkerSpec as M
from curate.sample.compose import PanelSpec as P
from curate.sample.papers_micro import cell_imaging, pathology

CT_ARROWS = M(
    "arrow",
    "white",
    2,
    phrase="white arrows indicate the left paravertebral soft tissue",
    at=LEFT_PARAVERTEBRAL,
)


def thoracic_ct() -> DocSpec:
    fig1 = _fig(
        "Thoracic CT and MR appearance of the paravertebral region.",
        [
            P(
                "ct",
                "Axial contrast-enhanced CT at the level of a thoracic vertebra; {m0}.",
                markers=[CT_ARROWS],
            ),
            P(
                "ct_bone",
                "Bone window of the same slice; {m0}.",
                markers=[
                    M(
                        "arrowhead",
                        "yellow",
                        phrase="the yellow arrowhead marks the cortical margin of the vertebral body",
                        at=[CORTEX],
                    )
                ],
            ),
            P(
                "mr",
                "Corresponding MR image. {m0}.",
                markers=[M("asterisk", "red", phrase="Asterisk, high-signal structure", at=[(0.72, 0.62)])],
            ),
            P(
                "ct",
                "The spinal canal is outlined by the {m0}.",
                crop=(0.2, 0.2, 0.8, 0.8),
                markers=[
                    M("circle", "cyan", dashed=True, scale=0.9, phrase="dashed cyan circle", at=[CANAL])
                ],
            ),
        ],
        cols=[1, 1],
        rows=[1, 1],
        width=760,
        background="black",
        gutter=4,
        label_place="inside",
    )
    fig2 = _fig(
        "Axial CT of the thorax in mediastinal window.",
        [
            P(
                "ct",
                "The {m0}.",
                markers=[
                    M(
                        "arrow",
                        "red",
                        phrase="red arrow points to the costovertebral junction",
                        at=[TRANSVERSE],
                    )
                ],
            ),
        ],
        width=620,
        background="white",
        labels=None,
        caption_style="none",
    )
    return DocSpec(
        "PMC9000001",
        "jats",
        "Paravertebral findings on thoracic CT: a pictorial case series",
        [fig1, fig2],
        ["Thoracic CT often shows incidental paravertebral findings."],
    )


def retina() -> DocSpec:
    fig1 = _fig(
        "Colour fundus photography of the left eye.",
        [
            P(
                "fundus",
                "Colour fundus photograph; {m0}, and {m1}.",
                crop=(0.0, 0.0, 0.75, 1.0),
                markers=[
                    M(
                        "box",
                        "yellow",
                        dashed=True,
                        phrase="the boxed area is enlarged in {p2}",
                        zoom=2,
                        at=[(0.45, 0.26)],
                    ),
                    M(
                        "circle",
                        "green",
                        scale=0.7,
                        phrase="the green circle marks the optic disc",
                        at=[DISC],
                    ),
                ],
            ),
            P(
                "microaneurysms",
                "Green-channel detail of the posterior pole; {m0}.",
                markers=[
                    M(
                        "arrowhead",
                        "cyan",
                        2,
                        scale=1.2,
                        phrase="cyan arrowheads point to microaneurysms",
                        at=MICROANEURYSMS,
                    )
                ],
            ),
            P(
                "fundus",
                "Enlargement of the boxed area in {p0}; {m0}.",
                zoom_of=0,
                markers=[M("arrow", "white", phrase="the white arrow indicates a vessel")],
            ),
        ],
        cols=[1.6, 1],
        rows=[0.8, 0.8],
        cells=[(0, 0, 1, 2), (1, 0, 2, 1), (1, 1, 2, 2)],
        width=900,
        gutter=14,
        labels="lower",
    )
    fig2 = _fig(
        "Fundus findings at follow-up.",
        [
            P(
                "fundus",
                "Macular region at follow-up; {m0}.",
                crop=(0.25, 0.2, 0.85, 0.8),
                markers=[M("arrow", "white", phrase="the white arrow indicates the fovea", at=[FOVEA])],
            ),
            P(
                "microaneurysms",
                "Detail of the inferior arcade; {m0}.",
                markers=[
                    M(
                        "circle",
                        "red",
                        2,
                        scale=0.6,
                        phrase="red circles mark microaneurysms",
                        at=MICROANEURYSMS,
                    )
                ],
            ),
        ],
        cols=[1, 1],
        width=820,
        gutter=22,
        caption_style="comma",
    )
    return DocSpec(
        "PMC9000002",
        "jats",
        "Microaneurysm detection on colour fundus photographs",
        [fig1, fig2],
        ["Microaneurysms are the earliest visible sign of diabetic retinopathy."],
        archive=True,
    )


def brain_mri() -> DocSpec:
    fig1 = _fig(
        "Axial T1-weighted MR images at three levels.",
        [
            P(
                "t1_axial_lo",
                "Level of the basal ganglia; {m0}.",
                markers=[
                    M(
                        "arrow",
                        "red",
                        phrase="the red arrow indicates the third ventricle",
                        at=[THIRD_VENTRICLE],
                    )
                ],
            ),
            P(
                "t1_axial_mid",
                "Level of the lateral ventricles; {m0}.",
                markers=[
                    M(
                        "arrowhead",
                        "yellow",
                        2,
                        phrase="yellow arrowheads mark the frontal horns",
                        at=FRONTAL_HORNS,
                    )
                ],
            ),
            P(
                "t1_axial_hi",
                "Level of the bodies of the lateral ventricles; {m0}.",
                markers=[M("asterisk", "white", phrase="asterisk, septum pellucidum", at=[SEPTUM])],
            ),
        ],
        cols=[1, 1, 1],
        rows=[1.25],
        width=780,
        background="black",
        gutter=3,
        separators=True,
        label_place="inside",
    )
    fig2 = _fig(
        "Sagittal (left) and axial (right) T1-weighted images of a healthy volunteer; the "
        "yellow arrow indicates the corpus callosum on the sagittal image.",
        [
            P(
                "t1_sagittal",
                "",
                markers=[
                    M(
                        "arrow",
                        "yellow",
                        phrase="the yellow arrow indicates the corpus callosum",
                        at=[CALLOSUM],
                    )
                ],
            ),
            P("t1_axial_mid", ""),
        ],
        cols=[1.3, 1],
        width=700,
        background="black",
        gutter=10,
        labels=None,
        caption_style="none",
    )
    return DocSpec(
        "PMC9000004",
        "jats",
        "Normal anatomy on low-resolution T1-weighted MRI",
        [fig1, fig2],
        ["Low-resolution T1-weighted volumes still depict the major landmarks."],
        archive=True,
    )


def ct_windows() -> DocSpec:
    fig1 = _fig(
        "The same axial CT slice in two windows.",
        [
            P(
                "ct",
                "Mediastinal window; {m0}.",
                markers=[
                    M("arrow", "yellow", phrase="the yellow arrow indicates the spinal canal", at=[CANAL])
                ],
            ),
            P(
                "ct_bone",
                "Bone window; {m0}.",
                markers=[
                    M(
                        "box",
                        "green",
                        dashed=True,
                        scale=0.8,
                        phrase="the dashed green box outlines the vertebral body",
                        at=[VERT_BODY],
                    )
                ],
            ),
        ],
        cols=[1, 1],
        width=700,
        background="black",
        gutter=6,
        labels="lower",
        label_place="inside",
    )
    return DocSpec(
        "PMC9000006",
        "jats",
        "Window settings for thoracic CT",
        [fig1],
        ["Window width and level change what a CT slice shows."],
    )


def jats_documents() -> list[DocSpec]:
    """The six articles, in output order."""
    return [thoracic_ct(), retina(), pathology(), brain_mri(), cell_imaging(), ct_windows()]
