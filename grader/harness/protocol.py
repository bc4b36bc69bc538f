"""Wire format between the judge and the harness (standard library only).

Job (judge -> harness, on stdin):  MAGIC, u64 json length, json, u64 blob length, blob.
Frames (harness -> judge, on the harness's private stdout), one per event:
    b"\\n\\x00DGM1 <nonce> <kind> <json length> <blob length>\\n" json blob
kinds: "phase" (what runs now), "probe" (one probe's outputs), "done"; a "train" job
adds "progress" (every few seconds: step, latest logged values; display only),
"checkpoint" (safetensors blob) and "training" (loss log, steps, seconds or error),
a "sample" job "samples" (what sample() returned) and "sampling" (seconds or error).
The judge ignores frames whose nonce is not the job's.
"""
from __future__ import annotations

import json
import struct

# Bound now, so a submission that replaces json.dumps cannot corrupt our frames.
_dumps = json.dumps

JOB_MAGIC = b"DGMJOB1\n"
FRAME_PREFIX = b"\n\x00DGM1 "
_U64 = struct.Struct(">Q")


def encode_job(spec: dict, blob: bytes) -> bytes:
    payload = json.dumps(spec).encode()
    return JOB_MAGIC + _U64.pack(len(payload)) + payload + _U64.pack(len(blob)) + blob


def read_job(read) -> tuple[dict, bytes]:
    """Read a job with `read(n) -> bytes` (e.g. sys.stdin.buffer.read)."""

    def exactly(n: int) -> bytes:
        chunks, left = [], n
        while left:
            chunk = read(left)
            if not chunk:
                raise EOFError("job truncated")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    if exactly(len(JOB_MAGIC)) != JOB_MAGIC:
        raise ValueError("not a grading job")
    spec = json.loads(exactly(_U64.unpack(exactly(8))[0]))
    blob = exactly(_U64.unpack(exactly(8))[0])
    return spec, blob


def encode_frame(nonce: str, kind: str, payload: dict, blob: bytes = b"") -> bytes:
    body = _dumps(payload).encode()
    header = f"{nonce} {kind} {len(body)} {len(blob)}\n".encode()
    return FRAME_PREFIX + header + body + blob


def decode_frames(stream: bytes, nonce: str) -> list[tuple[str, dict, bytes]]:
    """All well-formed frames carrying `nonce`, in order. Anything else is skipped.

    The stream is untrusted: a malformed frame is skipped, never raised on.
    """
    frames, pos = [], 0
    marker = FRAME_PREFIX + nonce.encode() + b" "
    while True:
        start = stream.find(marker, pos)
        if start < 0:
            return frames
        header_end = stream.find(b"\n", start + len(marker))
        if header_end < 0:
            return frames
        try:
            kind, json_len, blob_len = stream[start + len(marker):header_end].decode("ascii").split(" ")
            body_start = header_end + 1
            body_end = body_start + int(json_len)
            blob_end = body_end + int(blob_len)
            if int(json_len) < 0 or int(blob_len) < 0 or blob_end > len(stream):
                raise ValueError("frame overruns the stream")
            payload = json.loads(stream[body_start:body_end])
        except (ValueError, UnicodeDecodeError):
            pos = header_end  # skip the bad header; a good frame may follow
            continue
        if isinstance(payload, dict):
            frames.append((kind, payload, stream[body_end:blob_end]))
        pos = blob_end
