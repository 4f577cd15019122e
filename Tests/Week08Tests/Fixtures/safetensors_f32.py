"""safetensors by hand, so the fixture scripts need only torch: an 8-byte little-endian
header length, a JSON header (name -> dtype, shape, byte range; plus __metadata__), padded
with spaces to a multiple of 8, then every tensor's raw little-endian float32 bytes."""
import json
import struct


def write_safetensors_f32(path, tensors, metadata):
    """Writes `tensors` (name -> torch tensor, stored as float32) and `metadata` (str -> str).
    Returns the file's size in bytes."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        blob = t.detach().contiguous().float().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    return 8 + len(text) + offset
