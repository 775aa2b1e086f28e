#!/usr/bin/env python3
"""Live introspection costs: how long vmsight takes on a running QEMU
guest, and how long --pause keeps the guest stopped.

Boots one of the lab's clean guests under QEMU (TCG) twice, once with its
RAM in a memory-backend-file (vmsight maps it) and once with a bare -m
(vmsight reads QEMU's memory with process_vm_readv), waits until the
guest is idle, then times, each --runs times with a new vmsight process:

  ps            `vmsight ps qemu:SOCK`, wall time (the first run, cold,
                is reported apart: it faults the RAM file's pages in)
  ps --pause    the same with the guest stopped: wall time, and the
                pause vmsight reports (QMP stop to cont)
  lsmod         a smaller view, to separate locating the kernel from
                walking
  snapshot      the whole guest into an ELF core (paused), wall time
                and pause

and prints a table of medians. Not a test: nothing is asserted. Run
after the README's setup:

  python3 bench/live.py [--vmsight build/vmsight] [--guest 6.12-4level]
"""
import argparse, os, re, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lab"))
from live_test import Guest  # noqa
from lab_test import pick_guest  # noqa

PAUSE = re.compile(r"paused for ([0-9.]+) ms")


def timed(cmd):
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if p.returncode:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd),
                                                p.returncode, p.stderr))
    m = PAUSE.search(p.stderr)
    return wall * 1000, float(m.group(1)) if m else None


def series(cmd, runs):
    walls, pauses = [], []
    for _ in range(runs):
        w, p = timed(cmd)
        walls.append(w)
        if p is not None:
            pauses.append(p)
    return (statistics.median(walls),
            statistics.median(pauses) if pauses else None)


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return "%s, %d CPUs, %s" % (cpu, os.cpu_count(),
                                subprocess.run(["qemu-system-x86_64",
                                                "--version"],
                                               capture_output=True,
                                               text=True).stdout
                                .splitlines()[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmsight", default=os.path.join(HERE, "..", "build",
                                                      "vmsight"))
    ap.add_argument("--guest", default="6.12-4level")
    ap.add_argument("--manifest")
    ap.add_argument("--mem", default="3G")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    if not a.manifest and not os.environ.get("VMSIGHT_LAB_MANIFEST"):
        a.manifest = subprocess.run(
            [sys.executable, os.path.join(HERE, "..", "tests", "lab",
                                          "lab.py")],
            capture_output=True, text=True,
            check=True).stdout.strip().splitlines()[-1]
    g = pick_guest(a, rootkit=False, vmcoreinfo=False)
    if not g:
        return 1
    rows = []
    for ram in ("file", "process"):
        with Guest(g, ram, a.mem) as vm:
            vm.wait_ready()
            src = "qemu:" + vm.qmp
            core = os.path.join(vm.tmp, "bench.elf")
            v = a.vmsight
            cold, _ = timed([v, "ps", src])
            ps, _ = series([v, "ps", src], a.runs)
            psp, psp_pause = series([v, "ps", "--pause", src], a.runs)
            lsmod, _ = series([v, "lsmod", src], a.runs)
            snap, snap_pause = series([v, "snapshot", "--out", core, src],
                                      a.runs)
            os.unlink(core)
            rows.append((ram, cold, ps, psp, psp_pause, lsmod, snap,
                         snap_pause))
    print("# vmsight on a running %s guest (%s RAM, TCG, 2 vCPUs)"
          % (g["name"], a.mem))
    print("# %s; medians of %d runs, ms" % (machine(), a.runs))
    print("| RAM | ps cold | ps | ps --pause | paused | lsmod | snapshot "
          "| paused |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |"
              % ((r[0],) + tuple(x or 0 for x in r[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
