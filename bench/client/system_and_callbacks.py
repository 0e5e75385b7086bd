"""Cost of the system-metrics sampler and of the framework integrations, on the caller's side.

Run (from the repo root, after `npm run build -w apps/server`), with the frameworks' environment
that scripts/test-frameworks.sh installs (parts 3-6 need torch, transformers, lightning, keras):

    V=$(ls -d ~/.cache/tora/venv-frameworks-* | head -1)
    $V/bin/pip install ./clients/python
    KERAS_BACKEND=torch $V/bin/python bench/client/system_and_callbacks.py   # writes SYSTEM.md here

Measures, against a live server on 127.0.0.1:
  1. CPU time per sampler reading (thread time over 200 readings) and so the share of one core
     at the default 10 s interval;
  2. median cost of t.log(name, value, step) over 2,000,000 calls with the sampler off, and on
     at 0.02 s (500x the default rate), alternating runs;
  3-6. per logged value, the cost of each integration's logging hook (HF on_log, Lightning
     log_metrics, Keras on_epoch_end, Ultralytics on_fit_epoch_end) over a direct
     t.log_metrics() of the same 10 values.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
# Keras runs on torch, as in scripts/test-frameworks.sh (the environment has no TensorFlow).
os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, str(ROOT / "clients" / "python" / "tests"))

from toraserver import ToraServer, build_if_needed  # noqa: E402

import tora  # noqa: E402
from tora._system import DEFAULT_INTERVAL, SystemSampler  # noqa: E402

CHUNK = 1000
# --smoke: tiny sizes (figures are not results; SYSTEM.md untouched).
SMOKE = "--smoke" in sys.argv[1:]
SCALE = 100 if SMOKE else 1


def per_call_us(call: Callable[[int], None], total: int, chunk: int = CHUNK) -> float:
    samples = []
    perf = time.perf_counter
    for base in range(0, total, chunk):
        start = perf()
        for i in range(base, base + chunk):
            call(i)
        samples.append((perf() - start) / chunk * 1e6)
    return statistics.median(samples)


def sampler_cost() -> tuple[float, float]:
    s = SystemSampler(lambda v, step: None, 0.005)
    s.start()
    while s.step < 200 // SCALE:
        time.sleep(0.05)
    s.stop()
    per_sample = s.seconds / s.step
    return per_sample * 1e6, 100 * per_sample / DEFAULT_INTERVAL


def log_cost(kw: dict[str, Any]) -> tuple[list[float], list[float]]:
    off, on = [], []
    for rep in range(1 if SMOKE else 3):
        for interval, into in ((None, off), (0.02, on)):
            t = tora.Tora.create_experiment(
                f"bench-sampler-{rep}", run_info=False, system_metrics=interval is not None,
                system_metrics_interval=interval, **kw,
            )  # fmt: skip
            into.append(per_call_us(lambda i: t.log("loss", 0.5, i), 2_000_000 // SCALE))
            t.shutdown()
    return off, on


def callbacks_cost(kw: dict[str, Any]) -> list[tuple[str, float, float]]:
    values = {f"m{i}": 0.5 + i for i in range(10)}
    rows = []
    run = tora.init(name="bench-callbacks", run_info=False, system_metrics=False, **kw)
    direct = per_call_us(lambda i: run.client.log_metrics(values, step=i), 100_000 // SCALE, 100)

    def add(name: str, hook: Callable[[int], None]) -> None:
        cost = per_call_us(hook, 100_000 // SCALE, 100)
        rows.append((name, cost, (cost - direct) / len(values)))

    from tora.integrations.transformers import ToraCallback as HF

    hf = HF()
    hf.run = run
    state = SimpleNamespace(is_world_process_zero=True, global_step=0)
    logs = {k.replace("m", "eval_m"): v for k, v in values.items()}
    add("HF Trainer `on_log`", lambda i: hf.on_log(None, state, None, logs=logs))

    from tora.integrations.lightning import ToraLogger

    pl = ToraLogger()
    pl._run = run
    add("Lightning `log_metrics`", lambda i: pl.log_metrics(values, step=i))

    from tora.integrations.keras import ToraCallback as K

    k = K()
    k.run = run
    add("Keras `on_epoch_end`", lambda i: k.on_epoch_end(i, values))

    try:
        from tora.integrations.ultralytics import ToraYoloCallbacks
    except ImportError:
        pass
    else:
        y = ToraYoloCallbacks({})
        y.run = run
        trainer = SimpleNamespace(epoch=0, metrics=values)

        def yolo(i: int) -> None:
            y._in_epoch = True
            y.on_fit_epoch_end(trainer)

        add("Ultralytics `on_fit_epoch_end`", yolo)
    tora.finish()
    return [("direct `t.log_metrics`", direct, 0.0), *rows]


def main() -> None:
    if SMOKE:
        print("bench/client/system_and_callbacks.py --smoke: tiny sizes to prove the benchmark runs end to end; figures below are NOT results")
    build_if_needed()
    with tempfile.TemporaryDirectory() as tmp:
        srv = ToraServer(Path(tmp))
        srv.start()
        try:
            key = srv.create_key()
            os.environ["TORA_SPOOL_DIR"] = str(Path(tmp) / "spool")
            kw = {"server_url": srv.url, "api_key": key}
            us, share = sampler_cost()
            off, on = log_cost(kw)
            cbs = callbacks_cost(kw)
        finally:
            srv.stop()
    lines = [
        "# System metrics sampler and framework callbacks: client-side cost",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}. "
        "Command: see bench/client/system_and_callbacks.py.",
        "",
        "| measurement | result | target |",
        "|---|---|---|",
        f"| sampler: CPU time per reading (/proc, cgroup; no GPU here) | {us:.0f} µs | |",
        f"| sampler at the default {DEFAULT_INTERVAL:.0f} s interval: share of one core | {share:.4f}% | ≤ 0.1% |",
        f"| `t.log()` median, sampler off ({len(off)} runs) | {' / '.join(f'{x:.2f}' for x in off)} µs | |",
        f"| `t.log()` median, sampler on at 0.02 s ({len(on)} runs) | {' / '.join(f'{x:.2f}' for x in on)} µs | unchanged |",
        "",
        "Integration hooks, 10 values per call (median per call; per-value cost over the direct call):",
        "",
        "| hook | per call | added per value | target |",
        "|---|---|---|---|",
    ]
    for name, cost, added in cbs:
        lines.append(f"| {name} | {cost:.2f} µs | {added:+.3f} µs | {'≤ 2 µs' if added else ''} |")
    text = "\n".join(lines) + "\n"
    if not SMOKE:
        (Path(__file__).parent / "SYSTEM.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
