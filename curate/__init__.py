"""panel2patch: biomedical literature -> figure / panel / patch image-text corpus."""

__version__ = "0.1.0"
