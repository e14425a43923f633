"""`huibao run` processes forked from one that imported the bot once.

tests/test_crash_recovery.py starts the bot twenty times and more; on a loaded two-core
machine the imports take seconds of every start. This process imports the bot, then
forks a child for each `go <log file>` line on stdin: the child sends its output to the
file and runs exactly what `python -m bot.cli run` runs (settings from this process's
environment); the parent answers `pid <pid>`. `wait <pid>` answers `exit <pid> <status>`
once that child ended (the status as os.waitstatus_to_exitcode gives it: -9 after a
SIGKILL). The test kills a child by its pid.
"""

from __future__ import annotations

import os
import sys

import bot.app
import bot.cli
import bot.webhook  # webhook mode loads it on start: loaded here, it costs nothing then


def child(log: str) -> None:
    """Become the bot: output to `log`, no stdin; never return to the parent's loop."""
    code = 1
    try:
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        bot.cli.main(["run"], prog_name="huibao")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    assert bot.app.run is not None and bot.webhook.Webhook is not None  # imported to be ready
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "go":
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:
                child(argument)
            print(f"pid {pid}", flush=True)
        elif command == "wait":
            _, status = os.waitpid(int(argument), 0)
            print(f"exit {argument} {os.waitstatus_to_exitcode(status)}", flush=True)
        else:
            return


if __name__ == "__main__":
    main()
