"""Records of a TFRecord file, read without TensorFlow.

TFMA writes its metrics as TFRecords of protos. TensorFlow's reader would cost a run page 5-10 s of
import; the format is four fields per record (length, its CRC, data, its CRC), documented at
https://www.tensorflow.org/tutorials/load_data/tfrecord#tfrecords_format_details, and the CRCs are
checked with ``google_crc32c`` (installed with Beam's GCP extras) so a damaged file is reported.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from pipelinekit.errors import MetadataError

__all__ = ["read_records"]

_MASK_DELTA = 0xA282EAD8


def _masked_crc(data: bytes) -> int:
    import google_crc32c

    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def read_records(path: str) -> Iterator[bytes]:
    """Each record's bytes; an uncompressed file (TFMA's default), checked record by record."""
    with open(path, "rb") as handle:
        while header := handle.read(12):
            if len(header) < 12:
                raise MetadataError(f"TFRecord file {path} ends inside a record header; the file is cut")
            length, length_crc = struct.unpack("<QI", header)
            if _masked_crc(header[:8]) != length_crc:
                raise MetadataError(f"TFRecord file {path}: a record length fails its checksum; the file is damaged")
            data = handle.read(length)
            footer = handle.read(4)
            if len(data) < length or len(footer) < 4:
                raise MetadataError(f"TFRecord file {path} ends inside a record; the file is cut")
            if _masked_crc(data) != struct.unpack("<I", footer)[0]:
                raise MetadataError(f"TFRecord file {path}: a record fails its checksum; the file is damaged")
            yield data
