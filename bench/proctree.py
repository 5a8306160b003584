"""Peak memory of a process tree, from /proc (Linux; no dependency).

The Spark engine runs in two processes: dbt (Python, the pyspark driver's front end) and the
JVM it starts (the Spark driver, with the executors' threads in local mode). os.wait4's
ru_maxrss only sees reaped children, and pyspark never reaps its JVM, so bench samples the
tree: every process's own high-water mark (VmHWM, exact) and the tree's summed RSS (sampled).
"""
from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path


def _status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def _kb(value: str | None) -> int:
    return int(value.split()[0]) if value else 0


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _descendants(root: int) -> list[int]:
    tree, out, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(tree.get(pid, []))
    return out


class TreeSampler(threading.Thread):
    def __init__(self, root: int, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peak_total_kb = 0
        self.hwm_kb: dict[int, tuple[str, int]] = {}  # pid -> (name, VmHWM)
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            total = 0
            for pid in _descendants(self.root):
                status = _status(pid)
                if not status:
                    continue
                total += _kb(status.get("VmRSS"))
                name = status.get("Name", "?").strip()
                self.hwm_kb[pid] = (name, max(self.hwm_kb.get(pid, (name, 0))[1], _kb(status.get("VmHWM"))))
            self.peak_total_kb = max(self.peak_total_kb, total)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def peaks_mb(self) -> dict[str, float]:
        java = [kb for name, kb in self.hwm_kb.values() if name == "java"]
        other = [kb for name, kb in self.hwm_kb.values() if name != "java"]
        return {
            "peak_tree_rss_mb": round(self.peak_total_kb / 1024, 1),
            "peak_jvm_rss_mb": round(max(java) / 1024, 1) if java else 0.0,
            "peak_python_rss_mb": round(max(other) / 1024, 1) if other else 0.0,
        }


def run_measured(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[int, float, dict[str, float]]:
    """Run cmd; (exit code, wall seconds, peaks of its process tree)."""
    started = time.monotonic()
    process = subprocess.Popen(cmd, env=env, cwd=cwd)
    sampler = TreeSampler(process.pid)
    sampler.start()
    code = process.wait()
    seconds = time.monotonic() - started
    sampler.stop()
    return code, seconds, sampler.peaks_mb()
