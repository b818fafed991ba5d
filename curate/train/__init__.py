"""The bundled region-aware contrastive trainer (RegionMed-CLIP recipe) that reads our shards."""
