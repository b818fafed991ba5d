"""Real medical pixels that pip packages ship, as RGB uint8 arrays.

Sources (all inside the wheels, no download): pydicom's ``CT_small.dcm`` / ``MR_small.dcm``,
scikit-image's ``retina.jpg``, ``ihc.png``, ``cell.png``, ``microaneurysms.png`` and nibabel's
``tests/data/anatomical.nii``. When a package's file is missing, the copy under
``../shared/data/medical-images-from-packages/`` (relative to the repo root) is used; if
neither is there, ``MissingPixels`` says what to install.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "medical-images-from-packages"

# key -> (package, path inside the package, path inside SHARED)
_FILES = {
    "ct": ("pydicom", "data/test_files/CT_small.dcm", "pydicom/CT_small.dcm"),
    "mr": ("pydicom", "data/test_files/MR_small.dcm", "pydicom/MR_small.dcm"),
    "fundus": ("skimage", "data/retina.jpg", "scikit-image/retina.jpg"),
    "ihc": ("skimage", "data/ihc.png", "scikit-image/ihc.png"),
    "cell": ("skimage", "data/cell.png", "scikit-image/cell.png"),
    "microaneurysms": ("skimage", "data/microaneurysms.png", "scikit-image/microaneurysms.png"),
    "t1": ("nibabel", "tests/data/anatomical.nii", "nibabel/anatomical.nii"),
}

# Derived views: name -> (file key, view argument).
VIEWS = {
    "ct": ("ct", "mediastinal"),
    "ct_bone": ("ct", "bone"),
    "mr": ("mr", ""),
    "fundus": ("fundus", ""),
    "ihc": ("ihc", ""),
    "cell": ("cell", ""),
    "microaneurysms": ("microaneurysms", ""),
    "t1_axial_lo": ("t1", "axial:8"),
    "t1_axial_mid": ("t1", "axial:12"),
    "t1_axial_hi": ("t1", "axial:16"),
    "t1_sagittal": ("t1", "sagittal:16"),
}


class MissingPixels(RuntimeError):
    """A sample source image is neither in its package nor in the shared copy."""


def source_path(key: str) -> Path:
    """Path of the file behind ``key``: inside the installed package, else the shared copy."""
    package, inner, shared = _FILES[key]
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.origin:
        candidate = Path(spec.origin).parent / inner
        if candidate.is_file():
            return candidate
    candidate = SHARED / shared
    if candidate.is_file():
        return candidate
    raise MissingPixels(
        f"sample image {key!r} not found: install the 'sample' extra (pip install -e '.[sample]': "
        f"{package}) or provide {candidate}"
    )


def _gray_to_rgb(gray: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Linear window [lo, hi] -> 0..255, stacked to 3 channels."""
    scaled = (gray.astype(np.float64) - lo) * (255.0 / max(hi - lo, 1e-6))
    g8 = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return np.stack([g8] * 3, axis=-1)


def _dicom(path: Path, view: str) -> np.ndarray:
    try:
        import pydicom
    except ImportError as exc:  # the file alone is not decodable without it
        raise MissingPixels("pydicom is needed to decode the sample DICOM files") from exc
    ds = pydicom.dcmread(str(path))
    arr = ds.pixel_array.astype(np.float64)
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    if getattr(ds, "Modality", "") == "CT":
        hu = arr * slope + intercept
        # Windows in Hounsfield units: mediastinal (C 40, W 400) and bone (C 400, W 1800).
        centre, width = (400.0, 1800.0) if view == "bone" else (40.0, 400.0)
        return _gray_to_rgb(hu, centre - width / 2, centre + width / 2)
    lo, hi = np.percentile(arr, [0.5, 99.5])
    return _gray_to_rgb(arr, float(lo), float(hi))


def _nifti(path: Path, view: str) -> np.ndarray:
    try:
        import nibabel
    except ImportError as exc:
        raise MissingPixels("nibabel is needed to read the sample NIfTI volume") from exc
    vol = np.asarray(nibabel.load(str(path)).get_fdata(), dtype=np.float64)
    plane, index = view.split(":")
    sl = vol[:, :, int(index)] if plane == "axial" else vol[int(index), :, :]
    lo, hi = np.percentile(vol, [1.0, 99.7])
    return _gray_to_rgb(np.rot90(sl), float(lo), float(hi))


def _raster(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


@cache
def load_view(name: str) -> np.ndarray:
    """RGB uint8 ``H x W x 3`` array for a view name of ``VIEWS`` (read-only, cached)."""
    key, view = VIEWS[name]
    path = source_path(key)
    if path.suffix == ".dcm":
        rgb = _dicom(path, view)
    elif path.suffix == ".nii":
        rgb = _nifti(path, view)
    else:
        rgb = _raster(path)
    rgb = np.ascontiguousarray(rgb)
    rgb.setflags(write=False)
    return rgb


def source_files() -> dict[str, str]:
    """Where each source key was read from: ``package/path`` or ``shared/data/...`` (no
    machine-specific absolute paths, for the ground truth's provenance)."""
    out = {}
    for key, (package, inner, shared) in _FILES.items():
        path = source_path(key).resolve()
        in_shared = path == (SHARED / shared).resolve()
        out[key] = f"shared/data/medical-images-from-packages/{shared}" if in_shared else f"{package}/{inner}"
    return out
