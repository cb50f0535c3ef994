"""Arrow IPC answers: the population's streamed cells and the OGC feature pages (``f=arrow``) alike."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

ARROW_STREAM = "application/vnd.apache.arrow.stream"


class _Chunks:
    """A write-only file that hands out what was written since the last :meth:`take` (for streaming IPC)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | memoryview) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def arrow_stream(batches: Iterator[pa.RecordBatch], schema: pa.Schema) -> Iterator[bytes]:
    """Record batches as an Arrow IPC stream, one chunk per batch."""
    sink = _Chunks()
    with pa.ipc.new_stream(sink, schema) as writer:
        yield sink.take()
        for batch in batches:
            writer.write_batch(batch)
            yield sink.take()
    yield sink.take()


def ipc_bytes(table: pa.Table) -> bytes:
    """A whole table as one Arrow IPC stream (an answer that is kept in a cache, not streamed)."""
    return b"".join(arrow_stream(iter(table.to_batches()), table.schema))
