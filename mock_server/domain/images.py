"""Result images: real JPEGs at the documented size that show the prompt."""

from __future__ import annotations

import hashlib
import io
import textwrap
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

MIMETYPE = "image/jpeg"


def _palette(seed: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    digest = hashlib.sha256(seed.encode()).digest()
    top = (40 + digest[0] % 120, 40 + digest[1] % 120, 60 + digest[2] % 140)
    bottom = (digest[3] % 90, digest[4] % 90, digest[5] % 110)
    return top, bottom


@lru_cache(maxsize=32)
def render(task_id: str, prompt: str, width: int, height: int, index: int = 0) -> bytes:
    """Return a `width` x `height` JPEG, coloured by task, that shows the prompt."""
    top, bottom = _palette(f"{task_id}:{index}")
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.composite(Image.new("RGB", (width, height), bottom),
                            Image.new("RGB", (width, height), top), gradient)
    draw = ImageDraw.Draw(image)
    size = max(14, min(width, height) // 22)
    font = ImageFont.load_default(size=size)
    small = ImageFont.load_default(size=max(10, size // 2))
    columns = max(10, int(width / (size * 0.55)))
    lines = textwrap.wrap(prompt, width=columns)[: max(1, (height // (size + 8)) - 4)]
    y = size
    for line in lines:
        draw.text((size, y), line, font=font, fill=(255, 255, 255))
        y += size + 8
    footer = f"flux2-mock  {width}x{height}  {task_id}"
    draw.text((size, height - 2 * size), footer, font=small, fill=(230, 230, 230))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()
