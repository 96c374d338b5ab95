"""A Ctrl-C that lands while Python runs a garbage-collector callback or a finalizer is neither lost nor
printed as an "Exception ignored" traceback: it is held and raised at the next safe point, or 50 ms
later if none comes. (Seen in CI: Hypothesis times every collection with a gc callback.)"""

from __future__ import annotations

import subprocess
import sys
import textwrap

PRELUDE = """
import gc, os, signal, sys, time
from cstar_conformance.interrupts import Interrupts

printed = []
sys.unraisablehook = lambda u: printed.append(repr(u.exc_value))
interrupts = Interrupts()
interrupts.install()

def ctrl_c_now():
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(1000):  # let the handler run here, inside the callback or finalizer
        sum(range(10))
"""


def run(body: str) -> str:
    script = PRELUDE + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout.strip()


def test_a_ctrl_c_during_a_gc_callback_is_raised_at_the_next_check_and_nothing_is_printed() -> None:
    out = run("""
        def timer(phase, info):
            if phase == "start" and not interrupts.received:
                ctrl_c_now()
        gc.callbacks.append(timer)
        gc.collect()  # would have lost the KeyboardInterrupt
        gc.callbacks.remove(timer)
        try:
            interrupts.check()
        except KeyboardInterrupt as stop:
            print("raised", stop, printed)
    """)
    assert out == "raised SIGINT []"


def test_a_ctrl_c_during_a_finalizer_is_raised_even_if_no_check_comes() -> None:
    out = run("""
        class Pool:
            def __del__(self):
                ctrl_c_now()
        Pool()  # dropped at once: __del__ runs here
        try:
            time.sleep(5)  # no check() comes: the held signal arrives again
            print("lost")
        except KeyboardInterrupt as stop:
            print("raised", stop, interrupts.received, printed)
    """)
    assert out == "raised SIGINT ['SIGINT'] []"


def test_a_swallowed_keyboard_interrupt_of_the_run_is_not_printed_but_other_errors_are() -> None:
    out = run("""
        class Broken:
            def __del__(self):
                raise ValueError("a real bug")
        class Interrupted:
            def __del__(self):
                raise KeyboardInterrupt("SIGINT")
        interrupts.received.append("SIGINT")
        interrupts.quiet_unraisable()
        Interrupted(); Broken()
        print(printed)
        interrupts.uninstall()
        print(sys.unraisablehook.__name__)
    """)
    assert out.splitlines() == ["[\"ValueError('a real bug')\"]", "<lambda>"]
