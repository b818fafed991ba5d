"""Shards: WebDataset tars per split, a Parquet index per shard, sizes.json and DATASET.md."""
