"""`python -m echo_tui.serve_bench [--sessions 30] [--keys 60] [--json]`: a room under load.

Starts `echo-tui serve` on a free loopback port and opens `--sessions` scripted tabs at once
(echo_tui.room: the page's WebSocket protocol, the screen kept by pyte). It measures, per
session: the time from opening the tab to its first echoed key (the app started, a key typed,
its echo on the tab's screen), the keys per second while every tab types at once (each key
waited for until the app's answer to it arrives; the screens are checked after), and the
memory of its app process; in all: the
server's sessions' memory, and the processes before and after (a closed tab must leave none).
Needs the [serve] and [test] extras (textual-serve, pyte).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time

from .room import Tab, rss_mb, server, sessions_of

TIMEOUT_S = 300.0  # the whole room, opened and typed: a bound, not a target


async def one_tab(port: int, keys: str, echoed: list, start_gate: asyncio.Event) -> dict:
    tab = Tab(port)
    opened = time.monotonic()
    await tab.open()
    await tab.wait_for(lambda t: "│ typed " in t.text(), timeout=TIMEOUT_S)
    await tab.type(keys[0])
    # the first key's echo: delay 8 on the text model, so a blank under the first key
    await tab.wait_for(lambda t: t.typed_line() == keys[0] and t.echo_line() != "",
                       timeout=TIMEOUT_S)
    first_echo = time.monotonic() - opened
    echoed.append(first_echo)
    await start_gate.wait()
    t0 = time.monotonic()
    for k in range(1, len(keys)):
        since = tab.version
        await tab.type(keys[k])
        await tab.answered(since, timeout=TIMEOUT_S)  # its frame; the screen is read after
    seconds = time.monotonic() - t0
    await tab.wait_for(lambda t: t.typed_line() == keys, timeout=30)
    return {"tab": tab, "first_echo_s": first_echo, "keys_per_s": (len(keys) - 1) / seconds,
            "typed_ok": tab.typed_line() == keys}


async def room(sessions: int, n_keys: int) -> dict:
    import random

    with server("--max-sessions", str(sessions)) as (proc, port):
        before = sessions_of(proc.pid)
        gate = asyncio.Event()
        rng = random.Random(0)
        texts = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n_keys))
                 for _ in range(sessions)]
        echoed: list[float] = []
        tasks = [asyncio.create_task(one_tab(port, text, echoed, gate)) for text in texts]
        # every tab has echoed its first key before any types on: then they type all at once
        deadline = time.monotonic() + TIMEOUT_S
        while len(echoed) < sessions and time.monotonic() < deadline:
            if any(t.done() and t.exception() for t in tasks):
                break
            await asyncio.sleep(0.1)
        gate.set()
        outcomes = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True),
                                          TIMEOUT_S)
        results = [r for r in outcomes if not isinstance(r, BaseException)]
        failed = [r for r in outcomes if isinstance(r, BaseException)]
        if failed:
            from .room import tail

            print(tail(proc.log, 4000), file=sys.stderr)
        pids = sessions_of(proc.pid)
        memory = [rss_mb(pid) for pid in pids]
        await asyncio.gather(*(r["tab"].close() for r in results))
        end = time.monotonic() + 30
        while sessions_of(proc.pid) and time.monotonic() < end:
            await asyncio.sleep(0.1)
        after = sessions_of(proc.pid)
    first = [r["first_echo_s"] for r in results] or [float("nan")]
    rates = [r["keys_per_s"] for r in results] or [float("nan")]
    return {
        "sessions": sessions, "keys_per_session": n_keys,
        "processes_before": len(before), "processes_while_open": len(pids),
        "processes_after": len(after),
        "sessions_failed": len(failed),
        "first_failure": str(failed[0]).splitlines()[0] if failed else None,
        "all_typed_right": all(r["typed_ok"] for r in results),
        "first_echo_s_median": statistics.median(first), "first_echo_s_max": max(first),
        "keys_per_s_median": statistics.median(rates), "keys_per_s_min": min(rates),
        "memory_mb_per_session_median": statistics.median(memory) if memory else 0.0,
        "memory_mb_all_sessions": sum(memory),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m echo_tui.serve_bench",
                                description=__doc__.split("\n")[0])
    p.add_argument("--sessions", type=int, default=30, help="tabs open at once")
    p.add_argument("--keys", type=int, default=60, help="keys each tab types")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    if args.sessions < 1 or args.keys < 2:
        p.error("--sessions must be at least 1 and --keys at least 2")
    result = asyncio.run(room(args.sessions, args.keys))
    if args.json:
        print(json.dumps(result))
        return 0
    for key, value in result.items():
        print(f"{key:32} {value:.2f}" if isinstance(value, float) else f"{key:32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
