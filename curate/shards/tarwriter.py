"""A WebDataset tar writer that is byte-deterministic.

Members carry mtime 0, uid/gid 0, fixed mode and owner names, and samples are written in
the order given, so the same samples always give the same bytes. A shard is written to
``*.tar.tmp`` and renamed when closed, so a killed run never leaves a half shard named
like a whole one.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

from curate.records import ID_PATTERN


class ShardTarWriter:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.tmp, "wb")  # noqa: SIM115 - closed in close()
        self._tar = tarfile.open(fileobj=self._fh, mode="w", format=tarfile.USTAR_FORMAT)

    def write(self, key: str, members: dict[str, bytes]) -> None:
        """Write one sample: ``key.ext`` for each ``ext -> bytes`` in sorted extension order."""
        if not ID_PATTERN.match(key):
            raise ValueError(f"sample key {key!r} must hold only letters, digits, '_' and '-'")
        for ext in sorted(members):
            data = members[ext]
            info = tarfile.TarInfo(f"{key}.{ext}")
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = "panel2patch"
            self._tar.addfile(info, io.BytesIO(data))

    def close(self) -> None:
        """Finish the tar and publish it under its final name; on failure (a full disk while
        writing the end blocks) remove the temporary file and re-raise."""
        try:
            self._tar.close()
            self._fh.close()
        except BaseException:
            self.abort()
            raise
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """Drop the half-written shard. The tar is not closed: closing writes end blocks, which
        would fail again on a full disk and leave the temporary file behind."""
        try:
            self._fh.close()
        except OSError:
            pass  # buffered bytes that cannot be flushed: the file is removed anyway
        finally:
            self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> ShardTarWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
