"""PIL images through ``t.log_image`` (the core suite has no PIL): each mode arrives as a PNG with
the same pixels, palette images as RGBA."""

from __future__ import annotations

import io
import urllib.request

import numpy as np
import pytest
from PIL import Image

from conftest import Env
from tora import Tora

pytestmark = pytest.mark.integration


def test_pil_images_arrive_pixel_for_pixel(env: Env) -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    rgb = Image.fromarray(pixels, "RGB")
    grey = Image.fromarray(rng.integers(0, 256, size=(5, 7), dtype=np.uint8), "L")
    palette = rgb.convert("P")
    t = Tora.create_experiment("pil", system_metrics=False, **env.kwargs())
    for step, img in enumerate((rgb, grey, palette)):
        t.log_image("pil", img, step=step)
    rgb.paste((0, 0, 0), (0, 0, 7, 5))  # changed after the call: the logged copy is not
    assert t.flush(timeout=30)
    eid = str(t.experiment_id)
    listed = env.server.api(env.key, "GET", f"/api/experiments/{eid}/media?name=pil")["media"]
    assert [m["step"] for m in listed] == [0, 1, 2]
    got = []
    for m in listed:
        req = urllib.request.Request(f"{env.url}/api/experiments/{eid}/files/{m['path']}")
        req.add_header("x-api-key", env.key)
        with urllib.request.urlopen(req, timeout=30) as r:
            got.append(Image.open(io.BytesIO(r.read())))
    assert all(g.format == "PNG" for g in got)
    assert [g.mode for g in got] == ["RGB", "L", "RGBA"]
    assert np.array_equal(np.asarray(got[0]), pixels)  # as logged, before the paste
    assert np.array_equal(np.asarray(got[1]), np.asarray(grey))
    assert np.array_equal(np.asarray(got[2]), np.asarray(palette.convert("RGBA")))
    t.shutdown()
