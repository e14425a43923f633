"""All benchmarks: replies under load, start-up and memory, compile scale, reminder fan-out.

    .venv/bin/python benchmarks/run.py            # full: 50, 200 and 1,000 liaisons (minutes)
    .venv/bin/python benchmarks/run.py --quick    # CI: 20 liaisons, small cases (seconds)

Prints a table and writes benchmarks/results.json (figures, targets, the machine, the
date). Every case runs in its own process: benchmarks/load.py (one bot, one backend, N
liaisons), benchmarks/startup.py, benchmarks/compile.py, benchmarks/word_import.py,
benchmarks/stats.py, benchmarks/fanout.py.

Quick mode only reports: it exits 0 whatever the figures (non-zero only if a benchmark
crashes). Full mode exits 1 when a check fails (an update lost or answered twice, a
submission not stored exactly once) or a target is missed:

- 200 liaisons on SQLite: p99 reply latency <= 1.5 x the echo bot's, throughput >= 60 %
  of the echo bot's;
- the same for one process on PostgreSQL with the inbox, unpaced (without Telegram's
  flood pacing, as the echo bot runs), 200 liaisons; beside it runs the screens bot
  (load.py --bot screens: huibao's requests and nothing else), for what huibao's own work
  costs on top of its replies;
- start-up (process start to first getUpdates) < 1 s; idle resident memory < 100 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results.json"

FULL_SIZES = (50, 200, 1000)
QUICK_SIZES = (20,)
TARGET_N = 200
P99_RATIO_MAX = 1.5
THROUGHPUT_RATIO_MIN = 0.6
START_MAX_S = 1.0
IDLE_RSS_MAX_MB = 100.0
NETWORK_RTT_MS = 50.0


# --- the machine -------------------------------------------------------------------------


def _proc_field(path: str, key: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name.strip() == key:
                    return value.strip()
    except OSError:
        return None
    return None


def machine() -> dict[str, Any]:
    mem_kb = _proc_field("/proc/meminfo", "MemTotal")
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 0
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=ROOT,
                capture_output=True,
                text=True,
            ).stdout.strip()
        )
    except OSError:
        commit, dirty = "", False
    return {
        "cpu": _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "?",
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "ram_gb": round(int(mem_kb.split()[0]) / 1024 / 1024, 1) if mem_kb else None,
        "python": platform.python_version(),
        "os": platform.platform(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "git": commit + ("+uncommitted" if dirty else ""),
    }


# --- running the parts -------------------------------------------------------------------


def _child(script: str, args: list[str], timeout: float) -> dict[str, Any]:
    """Run benchmarks/<script> with --json to a temporary file; its figures, or an error."""
    with tempfile.TemporaryDirectory(prefix="huibao-bench-") as tmp:
        out = Path(tmp) / "out.json"
        try:
            proc = subprocess.run(
                [sys.executable, str(HERE / script), *args, "--json", str(out)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"{script} {' '.join(args)}: no result within {timeout:.0f}s"}
        if not out.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            return {"error": f"{script} {' '.join(args)} exited {proc.returncode}: {tail}"}
        figures: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        if proc.returncode != 0:  # e.g. fanout.py: figures written, its own target missed
            figures["exit_code"] = proc.returncode
        return figures


Plan = tuple[int, float, list[str], bool]  # liaisons, round trip ms, backends, paced


def run_load(plan: list[Plan], repeat: int, timeout: float) -> list[dict[str, Any]]:
    """plan: (liaisons, simulated round trip in ms, backends for huibao, huibao paced). The
    echo bot and huibao run back to back, ``repeat`` rounds, so each ratio compares runs
    minutes apart at most; each case's figures are the medians of its rounds."""
    cases: list[dict[str, Any]] = []
    for entry, (n, rtt, backends, paced) in enumerate(plan):
        # Unpaced, the bot making huibao's requests and nothing else runs too: the floor of
        # huibao's own request pattern against the echo bot's one request per update.
        floor = [] if paced else [("screens", "-")]
        runs = [("echo", "-"), *floor] + [("huibao", b) for b in backends]
        rounds: dict[tuple[str, str], list[dict[str, Any]]] = {r: [] for r in runs}
        for round_no in range(1, repeat + 1):
            for bot, backend in runs:
                args = ["--bot", bot, "-n", str(n), "--rtt-ms", str(rtt)]
                if bot == "huibao":
                    args += ["--backend", backend] + ([] if paced else ["--unpaced"])
                label = f"{bot:<6} {backend:<8} {n:>5} liaisons" + (
                    f", {rtt:g} ms RTT" if rtt else ""
                )
                if bot == "huibao" and not paced:
                    label += ", unpaced"
                if repeat > 1:
                    label += f" ({round_no}/{repeat})"
                print(f"  load: {label} ...", end="", flush=True)
                t0 = time.monotonic()
                result = _child("load.py", args, timeout)
                rounds[(bot, backend)].append(result)
                status = (
                    result.get("error")
                    or result.get("skipped")
                    or ("ok" if result.get("ok") else f"PROBLEMS {result.get('problems')}")
                )
                print(f" {time.monotonic() - t0:5.1f}s {status}", flush=True)
                if "skipped" in result:  # PostgreSQL unreachable: no further rounds
                    runs = [r for r in runs if r != (bot, backend)]
        for (bot, backend), results in rounds.items():
            case = _median_case(results)
            case.update({"bot": bot, "backend": backend, "liaisons": n})
            case["rtt_ms"] = rtt
            case["paced"] = paced if bot == "huibao" else False
            case["plan"] = entry  # compared with the echo bot of the same entry
            cases.append(case)
    return cases


def _median_case(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One case from its rounds: medians of the figures, every round's problems, the rounds."""
    done = [r for r in results if "latency_ms" in r]
    if not done:
        return dict(results[0])
    case: dict[str, Any] = dict(done[0])

    def med(get: Any) -> Any:
        values = [get(r) for r in done if get(r) is not None]
        return round(statistics.median(values), 2) if values else None

    for key in (
        "updates_per_s",
        "cpu_ms_per_update",
        "thread_cpu_ms_per_update",
        "wall_s",
        "sql_per_update",
    ):
        case[key] = med(lambda r, k=key: r.get(k))
    for group in ("latency_ms", "complete_ms", "rss_mb"):
        case[group] = {k: med(lambda r, g=group, k=k: r[g].get(k)) for k in done[0].get(group, {})}
    case["ok"] = all(r.get("ok") for r in results)
    case["problems"] = [p for r in results for p in r.get("problems", [])][:10]
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        case["ok"] = False
        case["problems"] += errors
    if len(results) > 1:
        case["rounds"] = [
            {
                "updates_per_s": r.get("updates_per_s"),
                "p99_ms": r.get("latency_ms", {}).get("p99"),
                "cpu_ms_per_update": r.get("cpu_ms_per_update"),
                "load_avg": r.get("load_avg"),
            }
            for r in results
        ]
    return case


def with_ratios(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each huibao case against the echo case run beside it (same N and round trip)."""
    echo = {c["plan"]: c for c in cases if c["bot"] == "echo" and "latency_ms" in c}
    for c in cases:
        base = echo.get(c["plan"])
        if c["bot"] == "echo" or base is None or "latency_ms" not in c:
            continue
        c["vs_echo"] = {
            "p99_ratio": round(c["latency_ms"]["p99"] / base["latency_ms"]["p99"], 2),
            "throughput_ratio": round(c["updates_per_s"] / base["updates_per_s"], 2),
        }
    return cases


# --- the report --------------------------------------------------------------------------


def _f(value: Any, fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)


def print_load(cases: list[dict[str, Any]]) -> None:
    print(
        f"\n{'bot':<8}{'db':<9}{'N':>6}{'RTT':>5}{'paced':>6}{'upd/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'p99 ms':>9}{'CPU ms/upd':>11}{'of it DB':>9}{'SQL/upd':>8}{'RSS MB':>8}{'p99 x':>7}"
        f"{'thru x':>7}"
        "  checks"
    )
    for c in cases:
        paced = "yes" if c.get("paced") else "no"
        head = f"{c['bot']:<8}{c['backend']:<9}{c['liaisons']:>6}{c['rtt_ms']:>5g}{paced:>6}"
        if "error" in c or "skipped" in c:
            print(f"{head}  {c.get('error') or 'skipped: ' + c['skipped']}")
            continue
        lat = c.get("latency_ms", {})
        ratios = c.get("vs_echo", {})
        checks = "ok" if c.get("ok") else "; ".join(c.get("problems", []))[:120]
        print(
            f"{head}{_f(c.get('updates_per_s')):>9}{_f(lat.get('p50')):>9}{_f(lat.get('p95')):>9}"
            f"{_f(lat.get('p99')):>9}{_f(c.get('cpu_ms_per_update'), '{:.2f}'):>11}"
            f"{_f(c.get('thread_cpu_ms_per_update') or None, '{:.2f}'):>9}"
            f"{_f(c.get('sql_per_update') or None):>8}{_f(c['rss_mb'].get('after_run')):>8}"
            f"{_f(ratios.get('p99_ratio'), '{:.2f}'):>7}"
            f"{_f(ratios.get('throughput_ratio'), '{:.2f}'):>7}  {checks}"
        )


def targets(
    cases: list[dict[str, Any]], startup: dict[str, Any], quick: bool
) -> list[tuple[str, bool | None, str]]:
    """(target, met or None when not measured, the figure)."""
    found: list[tuple[str, bool | None, str]] = []
    for c in cases:
        if c["bot"] == "huibao" and "latency_ms" in c:
            rtt = f", {c['rtt_ms']:g} ms RTT" if c["rtt_ms"] else ""
            rtt += "" if c.get("paced") else ", unpaced"
            found.append(
                (
                    f"{c['liaisons']} liaisons on {c['backend']}{rtt}: no update lost or "
                    "answered twice, each submission stored once",
                    bool(c.get("ok")),
                    "ok" if c.get("ok") else "; ".join(c.get("problems", []))[:200],
                )
            )
    found += _against_echo(cases, "sqlite", True, "SQLite", quick)
    found += _against_echo(cases, "postgres", False, "PostgreSQL, unpaced, the inbox", quick)
    if "start_s" in startup:
        found.append(
            (
                f"start-up < {START_MAX_S:.0f} s",
                startup["start_s"] < START_MAX_S,
                f"{startup['start_s']:.2f} s",
            )
        )
        found.append(
            (
                f"idle RSS < {IDLE_RSS_MAX_MB:.0f} MB",
                (startup.get("idle_rss_mb") or 1e9) < IDLE_RSS_MAX_MB,
                f"{startup.get('idle_rss_mb')} MB",
            )
        )
    else:
        found.append(("start-up and idle memory", False, str(startup.get("error"))))
    return found


def _against_echo(
    cases: list[dict[str, Any]], backend: str, paced: bool, name: str, quick: bool
) -> list[tuple[str, bool | None, str]]:
    """The p99 and throughput targets of TARGET_N liaisons on loopback, against the echo
    bot run beside them."""
    at = next(
        (
            c
            for c in cases
            if c["bot"] == "huibao"
            and c["backend"] == backend
            and c["paced"] == paced
            and c["liaisons"] == TARGET_N
            and not c["rtt_ms"]
        ),
        None,
    )
    p99 = f"{TARGET_N} liaisons, {name}: p99 <= {P99_RATIO_MAX} x echo"
    throughput = f"{TARGET_N} liaisons, {name}: throughput >= 60 % of echo"
    if at is None or "vs_echo" not in at:
        why = "not measured (quick mode)" if quick else "not measured"
        return [(p99, None, why), (throughput, None, why)]
    r = at["vs_echo"]
    return [
        (p99, r["p99_ratio"] <= P99_RATIO_MAX, f"{r['p99_ratio']:.2f} x"),
        (
            throughput,
            r["throughput_ratio"] >= THROUGHPUT_RATIO_MIN,
            f"{r['throughput_ratio'] * 100:.0f} %",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small N, seconds; never fails")
    parser.add_argument("--json", metavar="PATH", type=Path, default=RESULTS)
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL load cases")
    parser.add_argument(
        "--sizes", metavar="N,N", help="liaisons per load case (default 50,200,1000; quick 20)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        metavar="K",
        help="rounds of each load case, medians reported (default 3; quick 1)",
    )
    args = parser.parse_args(argv)
    quick: bool = args.quick
    sizes = (
        tuple(int(s) for s in args.sizes.split(","))
        if args.sizes
        else (QUICK_SIZES if quick else FULL_SIZES)
    )
    backends = ["sqlite"] + ([] if args.no_postgres else ["postgres"])
    plan: list[Plan] = [(n, 0.0, backends, True) for n in sizes]
    if not quick:  # as on a real network: every Bot API request takes a round trip
        plan.append((TARGET_N, NETWORK_RTT_MS, ["sqlite"], True))
    if not quick and not args.no_postgres:  # as the echo bot runs: no flood pacing
        plan.append((TARGET_N, 0.0, ["postgres"], False))
    started = datetime.now(UTC)
    report: dict[str, Any] = {
        "date": started.isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "machine": machine(),
    }
    m = report["machine"]
    print(
        f"huibao benchmarks ({report['mode']}) {report['date']}\n"
        f"machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), "
        f"{m['ram_gb']} GB RAM, Python {m['python']}, {m['os']}, load {m['load_avg_at_start']}"
    )

    print("\nreplies under load (benchmarks/load.py)")
    load_timeout = 300.0 if quick else 1800.0
    repeat = args.repeat or (1 if quick else 3)
    report["repeat"] = repeat
    cases = with_ratios(run_load(plan, repeat, load_timeout))
    report["load"] = cases

    print("\nstart-up and memory (benchmarks/startup.py)")
    startup = _child("startup.py", ["--repeat", "1" if quick else "5"], 300)
    report["startup"] = startup
    largest = max(
        (
            c
            for c in cases
            if c["bot"] == "huibao"
            and c["backend"] == "sqlite"
            and "rss_mb" in c
            and not c["rtt_ms"]
        ),
        key=lambda c: c["liaisons"],
        default=None,
    )
    if largest is not None:
        report["memory_after_load"] = {
            "liaisons": largest["liaisons"],
            **largest["rss_mb"],
            "how": (
                "VmRSS/VmHWM from /proc/self/status of the benchmark process, which holds the "
                "Application, the Bot API double (with every message of the run) and the "
                "simulated users: before_bot = everything but the Application, read before it "
                "was built; after_run = after the run, the Application stopped, gc.collect()"
            ),
        }

    print("compile scale (benchmarks/compile.py)")
    report["compile"] = _child("compile.py", ["--quick"] if quick else [], 900)

    print("importing a 200-row table from Word (benchmarks/word_import.py)")
    report["word_import"] = _child("word_import.py", ["--quick"] if quick else [], 300)

    print("the /stats chart for a year of history (benchmarks/stats.py)")
    report["stats"] = _child("stats.py", ["--quick"] if quick else [], 300)

    fanout_script = HERE / "fanout.py"
    if fanout_script.exists():
        print("reminder fan-out (benchmarks/fanout.py)")
        report["fanout"] = _child("fanout.py", ["--n", "60" if quick else "1000"], 900)
    else:
        report["fanout"] = {"skipped": "benchmarks/fanout.py is not there yet"}

    # --- the table
    print_load(cases)
    print(
        "  latency: update queued for getUpdates -> the bot's first request for that chat; "
        "p99 x / thru x: against the echo bot run beside it (same N and RTT);\n"
        "  RTT: simulated round trip (ms) added to every Bot API request (0: loopback)"
    )
    if "error" in startup:
        print(f"\nstart-up: {startup['error']}")
    else:
        print(
            f"\nstart-up to first getUpdates: {startup['start_s']:.2f} s (median; CPU used by "
            f"then: {startup.get('start_cpu_s', 0):.2f} s; first start, "
            f"creating the schema: {startup['first_start_s']:.2f} s); idle RSS after 2 s: "
            f"{startup['idle_rss_mb']} MB; SIGTERM to exit: {startup['stop_s']:.2f} s"
        )
    if largest is not None:
        mem = report["memory_after_load"]
        print(
            f"in-process after {mem['liaisons']} liaisons: RSS {mem['after_run']} MB "
            f"(before the bot: {mem['before_bot']} MB, peak {mem['peak']} MB)"
        )
    comp = report["compile"]
    if "cases" in comp:
        print("\ncompile:", ", ".join(f"{c['case']} {c['cold_s']:.3f} s" for c in comp["cases"]))
        if "speedup_200_rows" in comp:
            print(f"  200 rows: {comp['speedup_200_rows']}x faster than the baseline")
    else:
        print(f"\ncompile: {comp.get('error')}")
    drawn = report["stats"]
    if "draw_ms" in drawn:
        print(
            f"/stats: {drawn['departments']} departments x {drawn['items']} items x 12 months: "
            f"query {drawn['query_ms']} ms, draw {drawn['draw_ms']} ms (warm "
            f"{drawn['warm_ms']} ms), PNG {drawn['png_bytes']} bytes"
        )
    else:
        print(f"/stats: {drawn.get('error')}")
    fan = report["fanout"]
    if "seconds" in fan:
        print(
            f"fan-out: {fan.get('n')} reminders in {fan['seconds']:.2f} s (floor "
            f"{fan.get('floor_seconds')} s, x{fan.get('ratio')}), {fan.get('flood_429')} x 429, "
            f"each liaison reminded once: {fan.get('reminded_once')}"
        )
    else:
        print(f"fan-out: {json.dumps(fan, ensure_ascii=False)[:300]}")

    checks = targets(cases, startup, quick)
    report["targets"] = [{"target": t, "met": ok, "figure": fig} for t, ok, fig in checks]
    print("\ntargets")
    for t, ok, fig in checks:
        mark = "n/a " if ok is None else ("ok  " if ok else "MISS")
        print(f"  {mark} {t}: {fig}")

    report["duration_s"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"\nfigures written to {args.json} ({report['duration_s']} s)")
    if quick:
        return 0
    return 0 if all(ok is not False for _, ok, _ in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
