"""Failpoints kill the process for real, so each case runs in a child Python."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).parents[1]

SHIELDED = textwrap.dedent("""
    import asyncio
    from watcher.failpoints import failpoint, shielded

    async def mailer(inside, done):
        with shielded():
            inside.set()
            await done.wait()
            print("mailer: inside its shield", flush=True)
            failpoint("point")  # its own failpoint fires, shield or not

    async def other(inside, done):
        await inside.wait()
        failpoint("point")  # another task: held while the shield is open
        print("other: survived", flush=True)
        done.set()

    async def main():
        inside, done = asyncio.Event(), asyncio.Event()
        await asyncio.gather(mailer(inside, done), other(inside, done))
        print("not reached", flush=True)

    asyncio.run(main())
""")


def run(code: str, failpoints: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WATCHER_FAILPOINTS": failpoints, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=30)


def test_a_failpoint_kills_the_process_with_sigkill() -> None:
    done = run("from watcher.failpoints import failpoint\nfailpoint('x')\nprint('alive')", "x=1")
    assert done.returncode == -signal.SIGKILL and done.stdout == ""
    assert done.stderr.startswith("failpoint x: killing pid ")


def test_an_unnamed_or_zero_rate_failpoint_does_nothing() -> None:
    done = run("from watcher.failpoints import failpoint\nfailpoint('x')\nprint('alive')", "x=0,y")
    assert (done.returncode, done.stdout) == (0, "alive\n")


def test_a_shield_holds_other_tasks_failpoints_but_not_its_own() -> None:
    done = run(SHIELDED, "point=1")
    assert done.stdout.splitlines() == ["other: survived", "mailer: inside its shield"]
    assert done.returncode == -signal.SIGKILL


SIGNALLED = textwrap.dedent("""
    import os, signal
    from watcher import failpoints

    failpoints.arm()
    with failpoints.shielded():
        os.kill(os.getpid(), signal.SIGUSR2)
        print("inside the shield: survived", flush=True)
    print("not reached", flush=True)
""")


def test_sigusr2_kills_at_once_when_armed() -> None:
    code = ("import os, signal\nfrom watcher import failpoints\nfailpoints.arm()\n"
            "os.kill(os.getpid(), signal.SIGUSR2)\nprint('not reached')")
    done = run(code, "on-sigusr2")
    assert done.returncode == -signal.SIGKILL and done.stdout == ""
    assert done.stderr.startswith("failpoint on-sigusr2: killing pid ")


def test_sigusr2_waits_for_an_open_shield_to_close() -> None:
    done = run(SIGNALLED, "on-sigusr2")
    assert done.stdout.splitlines() == ["inside the shield: survived"]
    assert done.returncode == -signal.SIGKILL


def test_unarmed_sigusr2_is_not_installed() -> None:
    code = ("import os, signal\nfrom watcher import failpoints\nfailpoints.arm()\n"
            "print(signal.getsignal(signal.SIGUSR2) == signal.SIG_DFL)")
    assert run(code, "x=1").stdout == "True\n"
