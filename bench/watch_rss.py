#!/usr/bin/env python3
"""Whether a long watch grows: vmsight's memory over time while it
watches a busy guest.

Boots one of the lab's clean guests under QEMU (TCG), has it run
/bin/true in a loop (an exec and an exit event each time), and runs
`vmsight watch --json --dmesg --checks S` on it for --minutes, with the
events going to a file. Every --every seconds it samples the watch's
resident and peak memory (VmRSS, VmHWM from /proc/PID/status) and its
anonymous resident memory (RssAnon: the heap, without the guest's RAM
file, which is mapped and counted in VmRSS as its pages are touched),
and counts
the events so far, and at the end prints the samples and the growth
between the first sample after warm-up and the last. Not a test: nothing
is asserted. Run after the README's setup:

  python3 bench/watch_rss.py [--vmsight build/vmsight] [--minutes 10]
"""
import argparse, os, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lab"))
from live_test import Guest  # noqa
from lab_test import pick_guest  # noqa


def status(pid):
    """VmRSS, VmHWM and RssAnon of @pid, in KiB."""
    got = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon"):
                got[k] = int(v.split()[0])
    return got.get("VmRSS", 0), got.get("VmHWM", 0), got.get("RssAnon", 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmsight", default="build/vmsight")
    ap.add_argument("--guest", default="6.12-4level")
    ap.add_argument("--manifest")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--every", type=float, default=30)
    ap.add_argument("--checks", type=float, default=10,
                    help="the watch's --checks interval, in seconds")
    a = ap.parse_args()
    g = pick_guest(a, rootkit=False, vmcoreinfo=False)
    if not g:
        return 1
    with Guest(g, "file", mem="1G") as vm:
        vm.wait_ready()
        vm.send('while :; do /bin/true; sleep 0.2; done &')
        out = os.path.join(vm.tmp, "events.json")
        err = open(os.path.join(vm.tmp, "watch.err"), "w+")
        w = subprocess.Popen([a.vmsight, "watch", "--json", "--dmesg",
                              "--checks", str(a.checks), "--out", out,
                              "qemu:" + vm.qmp], stdout=subprocess.DEVNULL,
                             stderr=err)
        rows, t0 = [], time.time()
        try:
            while time.time() - t0 < a.minutes * 60:
                time.sleep(a.every)
                if w.poll() is not None:
                    raise RuntimeError("watch ended: %s"
                                       % open(err.name).read()[-2000:])
                rss, hwm, anon = status(w.pid)
                with open(out) as f:
                    n = sum(1 for _ in f)
                rows.append((time.time() - t0, rss, hwm, anon, n))
                print("%7.0f s  rss %7d KiB  peak %7d KiB  anon %6d KiB  "
                      "%8d lines" % rows[-1], flush=True)
        finally:
            w.terminate()
            w.wait(timeout=60)
    if len(rows) >= 3:
        first, last = rows[1], rows[-1]
        print("from %.0f s to %.0f s: rss %+d KiB, anon %+d KiB over %d "
              "more lines (%.1f anon bytes a line)"
              % (first[0], last[0], last[1] - first[1], last[3] - first[3],
                 last[4] - first[4],
                 1024.0 * (last[3] - first[3]) /
                 max(1, last[4] - first[4])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
