"""Start-up time and idle memory of `huibao run`, as a separate process.

The Bot API test double runs in this process; ``huibao run`` is started with
BOT_TOKEN, BOT_API_BASE_URL and BOT_API_FILE_URL pointing at it and DATABASE_URL at a
temporary SQLite file, from a temporary directory (so no `.env` is read). Start-up is
the time from spawning the process to the double receiving its first getUpdates (the
bot is then polling: settings read, schema checked, getMe, command menus set, the
reminder job scheduled); with it, the CPU time the process had used by then, which a
busy machine does not stretch as it does the wall time. The first start creates the
schema and is reported apart; the others find it current, as every restart does. Two
seconds after the first getUpdates the process's VmRSS and VmHWM are read from
/proc/<pid>/status; then SIGTERM, and the time to a clean exit.

    .venv/bin/python benchmarks/startup.py [--repeat 5] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.double import BotApiDouble  # noqa: E402

TOKEN = "123456:BENCH-token"
IDLE_AFTER = 2.0
SPAWN_TIMEOUT = 60.0


class PollWatch(BotApiDouble):
    """The double, noting when each getUpdates request arrives (its Call is logged only
    when the long poll ends)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.poll_arrivals: list[float] = []
        get_updates = self._handlers["getUpdates"]

        async def noted(params: dict[str, Any]) -> Any:
            self.poll_arrivals.append(time.monotonic())
            return await get_updates(params)

        self._handlers["getUpdates"] = noted


def proc_memory_mb(pid: int) -> dict[str, float]:
    found: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = round(int(value.split()[0]) / 1024, 1)
    return found


def proc_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far: unlike the wall time, not
    stretched by other processes on a busy machine."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def huibao_command() -> list[str]:
    script = Path(sys.executable).parent / "huibao"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from bot.cli import main; main()"]


async def one_start(
    double: PollWatch, env: dict[str, str], cwd: str, measure_memory: bool
) -> dict[str, Any]:
    polls_before = len(double.poll_arrivals)
    t0 = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *huibao_command(),
        "run",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        while True:
            if len(double.poll_arrivals) > polls_before:
                first_poll = double.poll_arrivals[polls_before]
                start_cpu = proc_cpu_s(proc.pid)
                break
            if proc.returncode is not None:
                err = (await proc.stderr.read()).decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"huibao run exited with {proc.returncode}: {err[-500:]}")
            if time.monotonic() - t0 > SPAWN_TIMEOUT:
                raise RuntimeError(f"huibao run did not poll within {SPAWN_TIMEOUT}s")
            await asyncio.sleep(0.002)
        result: dict[str, Any] = {
            "start_s": round(first_poll - t0, 3),
            "start_cpu_s": round(start_cpu, 3),
        }
        if measure_memory:
            await asyncio.sleep(IDLE_AFTER)
            memory = proc_memory_mb(proc.pid)
            result["idle_rss_mb"] = memory.get("VmRSS")
            result["idle_peak_rss_mb"] = memory.get("VmHWM")
    finally:
        if proc.returncode is None:
            t_stop = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()
            stop_s = time.monotonic() - t_stop
        else:
            stop_s = 0.0
    result["stop_s"] = round(stop_s, 3)
    result["exit_code"] = proc.returncode
    return result


async def measure(repeat: int) -> dict[str, Any]:
    double = PollWatch(token=TOKEN)
    await double.start()
    with tempfile.TemporaryDirectory(prefix="huibao-startup-") as tmp:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("BOT_", "WEBHOOK_", "DATABASE_", "REMINDER", "QUIET_"))
        }
        env.update(
            {
                "BOT_TOKEN": TOKEN,
                "BOT_API_BASE_URL": double.base_url,
                "BOT_API_FILE_URL": double.base_file_url,
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'huibao.db'}",
                "LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(ROOT),
            }
        )
        try:
            first = await one_start(double, env, tmp, measure_memory=False)
            runs = [
                await one_start(double, env, tmp, measure_memory=(i == repeat - 1))
                for i in range(repeat)
            ]
        finally:
            await double.stop()
    starts = [r["start_s"] for r in runs]
    last = runs[-1]
    return {
        "first_start_s": first["start_s"],
        "start_s": round(statistics.median(starts), 3),
        "start_runs_s": starts,
        "start_cpu_s": round(statistics.median(r["start_cpu_s"] for r in runs), 3),
        "idle_rss_mb": last.get("idle_rss_mb"),
        "idle_peak_rss_mb": last.get("idle_peak_rss_mb"),
        "stop_s": round(statistics.median(r["stop_s"] for r in runs), 3),
        "clean_exits": all(r["exit_code"] == 0 for r in [first, *runs]),
        "violations": len(double.violations),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5, help="starts after the first")
    parser.add_argument("--json", metavar="PATH", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    # a long poll cut short by SIGTERM is expected; aiohttp would log it as an error
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    result = asyncio.run(measure(max(1, args.repeat)))
    text = json.dumps(result)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
