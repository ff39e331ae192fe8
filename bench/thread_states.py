#!/usr/bin/env python3
"""Samples a process's threads every 50 ms until it exits, and prints, per
busiest thread, its CPU seconds, how often it was running (R), sleeping (S)
or waiting uninterruptibly in the kernel (D), and for the D samples the
kernel stack it waited in and when (seconds from the start). Also prints
the machine's dirty and writeback page cache every second or so. Waits
that CPU counters and valgrind do not show (the device, the file system's
block allocation) show here: session 18 found the import's writer in D
state 5 % of the time this way.

    bench/thread_states.py PID OUT        (bench/import_ab.sh runs it with STATES=1)
"""
import collections
import os
import sys
import time

pid, out = int(sys.argv[1]), sys.argv[2]
waits = collections.defaultdict(collections.Counter)
states = collections.defaultdict(collections.Counter)
when = collections.defaultdict(list)
cpu, memory = {}, []
start = time.time()
while os.path.exists(f"/proc/{pid}"):
    now = round(time.time() - start, 1)
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        break
    for tid in tids:
        base = f"/proc/{pid}/task/{tid}"
        try:
            fields = open(f"{base}/stat").read().rsplit(")", 1)[1].split()
            state, cpu[tid] = fields[0], int(fields[11]) + int(fields[12])
            states[tid][state] += 1
            if state == "D":
                stack = [line.split(" ")[-1].split("+")[0]
                         for line in open(f"{base}/stack").read().splitlines()[:14]]
                waits[tid][" < ".join(stack)] += 1
                when[tid].append(now)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    meminfo = dict(line.split(":") for line in open("/proc/meminfo")
                   if line.startswith(("Dirty", "Writeback:")))
    memory.append((now, meminfo["Dirty"].strip(), meminfo["Writeback"].strip()))
    time.sleep(0.05)
with open(out, "w") as f:
    for tid in sorted(cpu, key=lambda t: -cpu[t])[:8]:
        print(tid, f"{cpu[tid] / 100:.2f} CPU s", dict(states[tid]), file=f)
        for stack, n in waits[tid].most_common(6):
            print("   ", n, stack, file=f)
        if when[tid]:
            print("    D at", when[tid], file=f)
    print("seconds dirty writeback", file=f)
    for row in memory[::20]:
        print(*row, file=f)
