"""Quality and metadata: duplicates, image type, modality and body region, licence families."""
