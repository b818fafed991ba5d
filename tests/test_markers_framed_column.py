"""A red box around a column of red heat-map cells (the box joins the cells in the red mask)."""

import numpy as np

from curate.markers.detect import detect_markers

RED = (240, 30, 20)


def _heat_map(framed: bool, rng_seed: int = 0) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A 6 x 10 grid of 22 x 20 px cells, the first two columns shades of red, the rest blue,
    with grey grid lines; optionally a 4-px red frame around the red columns. Returns the
    image and the frame's box (xyxy, half-open)."""
    rng = np.random.default_rng(rng_seed)
    img = np.full((260, 220, 3), 255, np.uint8)
    x0, y0, cw, ch = 20, 30, 22, 20
    for r in range(10):
        for c in range(6):
            if c < 2:
                t = rng.uniform(0.3, 0.6)
                colour = (215, int(150 * t + 30), int(150 * t + 30))
            else:
                t = rng.uniform(0.2, 0.9)
                colour = (int(220 * t), int(220 * t), 200)
            img[y0 + r * ch : y0 + (r + 1) * ch, x0 + c * cw : x0 + (c + 1) * cw] = colour
    img[y0 : y0 + 10 * ch + 1, x0 : x0 + 6 * cw + 1 : cw] = 190
    img[y0 : y0 + 10 * ch + 1 : ch, x0 : x0 + 6 * cw + 1] = 190
    box = (x0 - 2, y0 - 2, x0 + 2 * cw + 3, y0 + 10 * ch + 3)
    if framed:
        x1, y1, x2, y2 = box
        img[y1:y2, x1 : x1 + 4] = RED
        img[y1:y2, x2 - 4 : x2] = RED
        img[y1 : y1 + 4, x1:x2] = RED
        img[y2 - 4 : y2, x1:x2] = RED
    return img, box


def _iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_red_frame_around_red_cells_is_a_box():
    img, box = _heat_map(framed=True)
    boxes = [m for m in detect_markers(img).markers if m.kind == "box"]
    assert len(boxes) == 1
    assert boxes[0].colour == "red"
    assert _iou(boxes[0].bbox_xyxy, box) > 0.9


def test_unframed_heat_map_and_solid_block_give_no_box():
    img, _ = _heat_map(framed=False)
    assert not [m for m in detect_markers(img).markers if m.kind == "box"]
    # A solid red block (a bar, a legend swatch) has no line of its own colour around content.
    block = np.full((200, 160, 3), 255, np.uint8)
    block[40:160, 40:100] = RED
    assert not [m for m in detect_markers(block).markers if m.kind == "box"]
    # An outlined flat bar: a dark-red line around one flat pale-red fill is not a marker box.
    bar = block.copy()
    bar[44:156, 44:96] = (225, 120, 120)
    assert not [m for m in detect_markers(bar).markers if m.kind == "box"]
