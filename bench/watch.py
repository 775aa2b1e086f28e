#!/usr/bin/env python3
"""What a watch costs the guest: work timed inside the guest, with and
without `vmsight watch` on it.

Boots one of the lab's clean guests under QEMU (TCG), waits until it is
idle, then has the guest itself time (/proc/uptime, in its own shell) two
workloads, each --runs times alone and --runs times under a watch:

  exec loop     N runs of /bin/true: each is an exec and an exit event,
                so (watched - alone) / 2N is the cost of one breakpoint
                hit as the guest sees it: the stop, vmsight's register
                read and decode, the step over the breakpoint, and the
                resume (the "round trip")
  syscalls      dd with bs=1 over M bytes: 2M system calls, under
                `watch --events syscall --comm dd`, where every system
                call of every process stops the guest

and prints a table of medians. Not a test: nothing is asserted. Run
after the README's setup:

  python3 bench/watch.py [--vmsight build/vmsight] [--guest 6.12-4level]
"""
import argparse, os, re, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lab"))
from live_test import Guest  # noqa
from lab_test import pick_guest  # noqa


def in_guest(vm, tag, work, timeout=300):
    """Run @work in the guest's shell; its wall time there, in ms."""
    # The guest's clock: /proc/uptime, in hundredths of a second
    # (busybox's date has no %N).
    marker = "VMS-BENCH %s" % tag
    vm.send("read a x </proc/uptime; %s; read b x </proc/uptime; "
            "echo \"%s $a $b\"" % (work, marker))
    t0 = time.time()
    while time.time() - t0 < timeout:
        with open(vm.console, errors="replace") as f:
            m = re.search(re.escape(marker) + r" ([0-9.]+) ([0-9.]+)\r?\n",
                          f.read())
        if m:
            return (float(m.group(2)) - float(m.group(1))) * 1000
        time.sleep(0.2)
    raise RuntimeError("the guest did not finish %s" % tag)


def series(vm, name, work, runs, watch=None):
    times = []
    for i in range(runs):
        w = None
        if watch:
            # stderr to a file: a pipe nobody drains would stop vmsight,
            # and with it the guest at its next breakpoint.
            err = open(os.path.join(vm.tmp, "watch.err"), "w+")
            w = subprocess.Popen(watch, stdout=subprocess.DEVNULL,
                                 stderr=err, text=True)
            # The breakpoints are set once it says it is watching.
            t0 = time.time()
            while "watching" not in open(err.name).read():
                if w.poll() is not None or time.time() - t0 > 120:
                    raise RuntimeError("watch: %s" % open(err.name).read())
                time.sleep(0.1)
        try:
            times.append(in_guest(vm, "%s-%d-%s" % (name, i, bool(watch)),
                                  work))
        except RuntimeError:
            if w:
                print("watch said: %s" % open(err.name).read()[-3000:],
                      file=sys.stderr)
            raise
        if w:
            w.terminate()
            w.wait(timeout=60)
            text = open(err.name).read()
            err.close()
            if w.returncode:
                raise RuntimeError("watch: exit %d: %s"
                                   % (w.returncode, text))
            if "warning" in text:
                print("watch warned: %s" % text[:2000], file=sys.stderr)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmsight", default="build/vmsight")
    ap.add_argument("--guest", default="6.12-4level")
    ap.add_argument("--manifest")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--execs", type=int, default=100)
    ap.add_argument("--bytes", type=int, default=5000)
    a = ap.parse_args()
    g = pick_guest(a, rootkit=False, vmcoreinfo=False)
    if not g:
        return 1
    with Guest(g, "process", mem="1G") as vm:
        vm.wait_ready()
        src = "qemu:" + vm.qmp
        loop = ("i=0; while [ $i -lt %d ]; do /bin/true; i=$((i+1)); "
                "done" % a.execs)
        dd = "dd if=/dev/zero of=/dev/null bs=1 count=%d 2>/dev/null" \
            % a.bytes
        alone = series(vm, "exec", loop, a.runs)
        watched = series(vm, "exec", loop, a.runs,
                         [a.vmsight, "watch", "--events", "exec,exit", src])
        dd_alone = series(vm, "dd", dd, a.runs)
        dd_watched = series(vm, "dd", dd, a.runs,
                            [a.vmsight, "watch", "--events", "syscall",
                             "--comm", "dd", src])
    hit = (watched - alone) / (2 * a.execs)
    calls = 2 * a.bytes
    print("guest %s under QEMU TCG, 2 vCPUs; medians of %d runs, timed "
          "in the guest" % (g["name"], a.runs))
    print()
    print("| workload | alone (ms) | watched (ms) | slowdown | per hit (ms) |")
    print("|---|---:|---:|---:|---:|")
    print("| %d execs of /bin/true (exec, exit) | %.0f | %.0f | %.1fx | "
          "%.2f |" % (a.execs, alone, watched, watched / alone, hit))
    print("| dd, %d syscalls (syscall --comm dd) | %.0f | %.0f | %.1fx | "
          "%.2f |" % (calls, dd_alone, dd_watched, dd_watched / dd_alone,
                      (dd_watched - dd_alone) / calls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
