"""Runtime: the stage contract, manifests on disk, the blob store, and the runners."""
