"""`python -m echo_tui.bench.serve [--sessions 30] [--keys 60] [--json]`: a room under load.

Starts `echo-tui serve` on a free loopback port and opens `--sessions` scripted tabs at once
(echo_tui.bench.room: the page's WebSocket protocol, the screen kept by pyte). It measures, per
session: the time from opening the tab to its first echoed key (the app started, a key typed,
its echo on the tab's screen), the keys per second while every tab types at once (each key
waited for until the app's answer to it arrives; the screens are checked after), and the
memory of its app process: resident (RSS), its own (USS: pages no other process shares) and
its share (PSS: each shared page divided among the processes sharing it, so the PSS of every
process of the room adds up to the memory the room takes). The room's total is the PSS of the
sessions, their preloaded parent and the server. Then, with the room still open, one hostile
tab asks for a 100,000 by 100,000 terminal (at connect and by message), pastes a megabyte
with escapes in it and resizes without pause, while its process's resident memory is sampled; and a
fresh tab opens meanwhile: the seconds until its page answers and its app is drawn. The
processes before and after are counted (a closed tab must leave none). The machine's load
average is given, at the start and the end. Needs the [serve] and [test] extras (textual-serve,
pyte). While every tab types, it also gives the CPU milliseconds the whole room (this
benchmark's tabs included) spent per key, and the cores it used: on a machine shared with other
work, keys per second fall with the share of the cores the room gets, CPU per key much less.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import urllib.request

from .room import Tab, drawn, parent_of_sessions, rss_mb, server, sessions_of, tail

TIMEOUT_S = 300.0  # the whole room, opened and typed: a bound, not a target
HOSTILE_S = 6.0  # how long the hostile tab attacks


def smaps_mb(pid: int) -> dict[str, float]:
    """{'uss', 'pss', 'rss'} of a process in MB (0s once it has gone)."""
    fields = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[1].isdigit():
                    fields[parts[0].rstrip(":")] = int(parts[1]) / 1024
    except OSError:
        pass
    return {"uss": fields.get("Private_Clean", 0.0) + fields.get("Private_Dirty", 0.0),
            "pss": fields.get("Pss", 0.0), "rss": fields.get("Rss", 0.0)}


def cpu_s(pids) -> float:
    """CPU seconds (user and system) the processes `pids` have used, this one's included."""
    total = time.process_time()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            continue
    return total


async def one_tab(port: int, keys: str, echoed: list, start_gate: asyncio.Event) -> dict:
    tab = Tab(port)
    opened = time.monotonic()
    await tab.open()
    await tab.wait_for(drawn, timeout=TIMEOUT_S)
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


async def hostile(port: int, server_pid: int, seconds: float) -> dict:
    """One tab attacks while a fresh one opens: the attacker's process's peak resident memory,
    and how soon the server answers the fresh tab (its page, then its app drawn)."""
    before = set(sessions_of(server_pid))
    bad = await Tab(port, 100_000, 100_000).open()
    await bad.wait_for(drawn, timeout=TIMEOUT_S)
    (pid,) = set(sessions_of(server_pid)) - before or {0}
    peak, end = 0.0, time.monotonic() + seconds

    async def attack() -> None:
        # a megabyte of text, ESC and ctrl+q in it (2.7 MB as the page's JSON sends it)
        paste = "\x1b[200~" + ("abc\x1b\x11def\x1b[A" * 90_000)[:1_000_000] + "\x1b[201~"
        await bad.send(paste)
        k = 0
        while time.monotonic() < end:
            k += 1
            size = {"width": 100_000 - k, "height": 100_000}
            await bad.ws.send_str(json.dumps(["resize", size]))
            await asyncio.sleep(0.005)

    attacking = asyncio.ensure_future(attack())
    await asyncio.sleep(min(1.0, seconds / 2))  # the attack under way
    t0 = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30):
        page = time.monotonic() - t0
    fresh = await Tab(port).open()
    await fresh.wait_for(drawn, timeout=TIMEOUT_S)
    answered = time.monotonic() - t0
    while time.monotonic() < end:
        peak = max(peak, rss_mb(pid) if pid else 0.0)
        await asyncio.sleep(0.05)
    await attacking
    peak = max(peak, rss_mb(pid) if pid else 0.0)
    await asyncio.gather(bad.close(), fresh.close())
    return {"hostile_peak_mb": peak, "fresh_page_s": page, "fresh_tab_answer_s": answered}


async def room(sessions: int, n_keys: int, hostile_s: float = HOSTILE_S) -> dict:
    import random

    load_before = os.getloadavg()
    with server("--max-sessions", str(sessions + 2)) as (proc, port):
        before = sessions_of(proc.pid)
        parent = parent_of_sessions(proc.pid)
        steady = [p for p in (proc.pid, parent) if p is not None]
        cpu_at_open = cpu_s(steady)
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
        room_pids = [*steady, *sessions_of(proc.pid)]
        cpu_before, typing_from = cpu_s(room_pids), time.monotonic()
        opening_cpu = cpu_before - cpu_at_open  # the sessions' whole CPU, from their fork
        gate.set()
        outcomes = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True),
                                          TIMEOUT_S)
        typing_cpu, typing_s = cpu_s(room_pids) - cpu_before, time.monotonic() - typing_from
        results = [r for r in outcomes if not isinstance(r, BaseException)]
        failed = [r for r in outcomes if isinstance(r, BaseException)]
        if failed:
            print(tail(proc.log, 4000), file=sys.stderr)
        pids = sessions_of(proc.pid)
        memory = [smaps_mb(pid) for pid in pids]
        overhead = [smaps_mb(p)["pss"] for p in steady]
        attacked = await hostile(port, proc.pid, hostile_s)
        await asyncio.gather(*(r["tab"].close() for r in results))
        end = time.monotonic() + 30
        while sessions_of(proc.pid) and time.monotonic() < end:
            await asyncio.sleep(0.1)
        after = sessions_of(proc.pid)
    first = [r["first_echo_s"] for r in results] or [float("nan")]
    rates = [r["keys_per_s"] for r in results] or [float("nan")]

    def median(key: str) -> float:
        return statistics.median(m[key] for m in memory) if memory else 0.0

    return {
        "sessions": sessions, "keys_per_session": n_keys,
        "load_average_before": round(load_before[0], 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "processes_before": len(before), "processes_while_open": len(pids),
        "processes_after": len(after),
        "sessions_failed": len(failed),
        "first_failure": str(failed[0]).splitlines()[0] if failed else None,
        "all_typed_right": all(r["typed_ok"] for r in results),
        "first_echo_s_median": statistics.median(first), "first_echo_s_max": max(first),
        # the CPU the room spent opening a tab, to its first echo (the tab's side included)
        "cpu_s_per_session_start": opening_cpu / max(1, sessions),
        "keys_per_s_median": statistics.median(rates), "keys_per_s_min": min(rates),
        # the CPU the room (server, sessions, their parent, this benchmark's tabs) used per key
        # while every tab typed, and the share of the machine's cores it got meanwhile: on a
        # busy machine, keys/s falls with the share; this figure does not
        "cpu_ms_per_key": 1000 * typing_cpu / max(1, len(results) * (n_keys - 1)),
        "cores_used_while_typing": typing_cpu / max(typing_s, 1e-9),
        "rss_mb_per_session_median": median("rss"),
        "uss_mb_per_session_median": median("uss"),
        "pss_mb_per_session_median": median("pss"),
        "pss_mb_all_sessions": sum(m["pss"] for m in memory),
        "room_mb": sum(m["pss"] for m in memory) + sum(overhead),
        **attacked,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m echo_tui.bench.serve",
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
