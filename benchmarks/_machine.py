"""What a benchmark ran on, and how it times: the helpers every benchmark shares.

:func:`describe_machine` states the CPU, the BLAS libraries and their kernels and threads
(``threadpoolctl.threadpool_info()``), the OpenBLAS environment variables that change
them, and the versions of the numerical libraries, so that a printed figure says what
it was measured on. :func:`timed` runs a function repeatedly and reports the median and
the spread; :func:`peer_environment` gives the environment in which a peer runs with its
library's default kernels.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata

OPENBLAS_TUNING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_VERBOSE")
"""Environment variables that make OpenBLAS use other kernels than it would pick itself."""
LIBRARIES = ("numpy", "scipy", "pandas", "pymrio", "threadpoolctl", "commonplan")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe_machine() -> str:
    """Several lines: CPU and core count, load, BLAS kernels and threads, tuning variables, versions."""
    from threadpoolctl import threadpool_info

    lines = [
        f"machine: {_cpu_model()}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}"
    ]
    try:
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
        lines.append(f"  load average (1, 5, 15 min): {load}")
    except OSError:
        pass
    for pool in threadpool_info():
        kernel = pool.get("architecture") or pool.get("threading_layer") or "?"
        lines.append(
            f"  {pool.get('user_api')}: {pool.get('internal_api')} {pool.get('version')}, "
            f"kernels {kernel}, {pool.get('num_threads')} threads ({os.path.basename(pool.get('filepath', ''))})"
        )
    tuning = {name: os.environ[name] for name in OPENBLAS_TUNING if name in os.environ}
    lines.append(
        "  OpenBLAS tuning variables: "
        + (
            ", ".join(f"{k}={v}" for k, v in tuning.items())
            if tuning
            else "none set (default kernels)"
        )
    )
    lines.append("  " + ", ".join(f"{name} {_version(name)}" for name in LIBRARIES))
    return "\n".join(lines)


def peer_environment() -> dict[str, str]:
    """This process's environment without the OpenBLAS tuning variables (a peer's best configuration)."""
    return {k: v for k, v in os.environ.items() if k not in OPENBLAS_TUNING}


@dataclass(frozen=True)
class Timing:
    """Wall times of repeated runs, seconds."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def spread(self) -> float:
        """(max − min) / median: how far apart the runs were."""
        return (max(self.runs) - min(self.runs)) / self.median if self.median > 0 else 0.0

    def __str__(self) -> str:
        return (
            f"median {_seconds(self.median)} of {len(self.runs)} "
            f"(min {_seconds(min(self.runs))}, max {_seconds(max(self.runs))}, spread {self.spread:.0%})"
        )


def _seconds(value: float) -> str:
    return f"{value * 1e3:.2f} ms" if value < 1.0 else f"{value:.2f} s"


def timed(function: Callable[[], object], repeats: int) -> Timing:
    """Run ``function`` ``repeats`` times; the wall time of each run."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        runs.append(time.perf_counter() - start)
    return Timing(tuple(runs))
