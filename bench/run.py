#!/usr/bin/env python3
"""vmsight against the peers Debian packages, on the same dumps, in the
same run (bench/README.md).

Installs what it needs from Debian (python3-drgn, crash, yara, and the
guest kernel's -dbg package, of which only vmlinux is kept), boots one of
the lab's clean guests again under QEMU TCG (tests/integration's Guest)
with the RAM size and the number of extra processes asked for, and dumps
it with QEMU in three forms: the raw RAM file, an ELF core of physical
memory (what the lab and most hypervisor tooling write; vmsight and
crash read it) and an ELF core with the kernel's virtual mappings
(dump-guest-memory paging=true, which drgn 0.0.22 needs: it cannot
translate addresses in a physical-only core). Then each tool runs each
task --runs times, cold (a new process each run), and the median wall
time and the peak RSS of each are compared. Every tool's answer is
checked against what the guest printed of its own /proc before the dump:
a peer that answers wrongly is timed all the same, and the table says so.

Prints the tables, and writes them with the machine's description to
--out (bench/RESULTS.md by default).
"""
import argparse, glob, json, os, platform, shutil, statistics, \
    subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "lab"))
from lab_test import load_guests, parse_truth  # noqa: E402
import live_test  # noqa: E402
import lab  # noqa: E402
from live import machine  # noqa: E402  (bench/live.py)

CACHE = os.path.expanduser("~/.cache/vmsight/bench")
DEBS = os.path.expanduser("~/.cache/vmsight/debs")
PEERS = ["python3-drgn", "crash", "yara"]

DRGN_SCRIPTS = {
    # Processes: thread-group leaders, as ps lists them.
    "ps": """
from drgn.helpers.linux.pid import for_each_task
for t in for_each_task(prog):
    if t.pid == t.tgid:
        print(int(t.pid), t.comm.string_().decode(errors="replace"))
""",
    "lsmod": """
from drgn.helpers.linux.list import list_for_each_entry
for m in list_for_each_entry("struct module", prog["modules"].address_of_(),
                             "list"):
    print(m.name.string_().decode())
""",
    "dmesg": """
from drgn.helpers.linux.printk import get_printk_records
for r in get_printk_records(prog):
    print(r.text.decode(errors="replace"))
""",
}


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def root_cmd(cmd):
    return cmd if os.geteuid() == 0 else ["sudo"] + cmd


def install_peers():
    missing = [p for p in PEERS
               if subprocess.run(["dpkg-query", "-W", "-f=${Status}", p],
                                 capture_output=True, text=True).stdout
               != "install ok installed"]
    if missing:
        log("installing " + " ".join(missing))
        subprocess.run(root_cmd(["apt-get", "install", "-y", "-qq"] +
                                missing), check=True,
                       env=dict(os.environ,
                                DEBIAN_FRONTEND="noninteractive"))


def debug_vmlinux(kernel):
    """vmlinux with DWARF for @kernel (linux-image-RELEASE): from the
    -dbg package of the same version as the image the lab booted."""
    release = kernel[len("linux-image-"):]
    out = os.path.join(CACHE, "vmlinux-" + release)
    if os.path.exists(out):
        return out
    debs = glob.glob(os.path.join(DEBS, kernel + "-unsigned_*.deb"))
    if len(debs) != 1:
        sys.exit("bench: no single %s in %s (run tests/lab/lab.py first)"
                 % (kernel, DEBS))
    version = os.path.basename(debs[0]).split("_")[1]
    os.makedirs(CACHE, exist_ok=True)
    work = tempfile.mkdtemp(prefix="vmsight-bench-dbg-", dir=CACHE)
    try:
        log("downloading %s-dbg %s (about 900 MB)" % (kernel, version))
        subprocess.run(["apt-get", "download", "-q",
                        "%s-dbg=%s" % (kernel, version)], cwd=work,
                       check=True, stdout=subprocess.DEVNULL)
        deb = glob.glob(os.path.join(work, "*.deb"))[0]
        member = "./usr/lib/debug/boot/vmlinux-" + release
        with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb],
                              stdout=subprocess.PIPE) as p:
            subprocess.run(["tar", "-x", "-C", work, member],
                           stdin=p.stdout, check=True)
        os.rename(os.path.join(work, member), out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def guest_dumps(g, mem, procs):
    """Boot lab guest @g with @mem of RAM, start @procs extra sleeping
    processes, and dump it: {"raw", "elf", "elf-paging", "console"}."""
    d = os.path.join(CACHE, "%s-%s-%d" % (g["name"], mem, procs))
    done = os.path.join(d, ".done")
    out = {k: os.path.join(d, f) for k, f in (
        ("raw", "raw.mem"), ("elf", "elf.core"),
        ("elf-paging", "elf-paging.core"), ("console", "console.log"))}
    if os.path.exists(done):
        return out
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    log("booting %s with %s of RAM and %d extra processes" % (
        g["name"], mem, procs))
    # drgn finds the kernel only through VMCOREINFO, and crash finds
    # KASLR's offset through it, which QEMU puts in its dumps only with
    # this device: every bench guest has it, whether or not the lab's
    # guest of that kernel had it.
    extra = ["-device", "vmcoreinfo"]
    with live_test.Guest(g, "file", mem, extra) as vm:
        vm.wait_ready()
        if procs:
            # The lab's init runs each console line in a shell.
            # The console echoes the command: the line waited for must
            # be one only its end prints (the count, not "$i").
            vm.send("i=0; while [ $i -lt %d ]; do sleep 1000000 & "
                    "i=$((i+1)); done; echo VMS-BENCH spawned $i" % procs)
            live_test.wait_for(vm.proc, vm.console,
                               "VMS-BENCH spawned %d" % procs, 1200)
            time.sleep(2)
        q = lab.Qmp(vm.qmp)
        q.cmd("stop")
        shutil.copyfile(vm.ramfile, out["raw"])
        q.cmd("dump-guest-memory", paging=False,
              protocol="file:" + out["elf"])
        q.cmd("dump-guest-memory", paging=True,
              protocol="file:" + out["elf-paging"])
        shutil.copyfile(vm.console, out["console"])
        q.cmd("quit")
    open(done, "w").close()
    return out


def run_many(cmd, runs, stdin=None):
    """Median wall time, peak RSS (MiB) and the last run's output."""
    times, rss = [], 0
    out = err = ""
    rc = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if stdin:
            p.stdin.write(stdin.encode())
        p.stdin.close()
        o, e = p.stdout.read(), p.stderr.read()
        _, status, ru = os.wait4(p.pid, 0)
        times.append(time.perf_counter() - t0)
        p.returncode = os.waitstatus_to_exitcode(status)
        rss = max(rss, ru.ru_maxrss / 1024)
        out, err, rc = o.decode(errors="replace"), e.decode(
            errors="replace"), p.returncode
    return {"seconds": statistics.median(times), "rss_mib": rss,
            "out": out, "err": err, "rc": rc}


def ram_gib():
    with open("/proc/meminfo") as f:
        return int(f.readline().split()[1]) // 1024 // 1024


def version(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except OSError:
        return "?"
    return (p.stdout or p.stderr).strip().splitlines()[0]


def count_lines(out, skip=0):
    return len([x for x in out.splitlines()[skip:] if x.strip()])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vmsight", default=os.path.join(ROOT, "build",
                                                      "vmsight"))
    ap.add_argument("--bench-mem", default=os.path.join(
        ROOT, "build", "bench", "vmsight-bench-mem"))
    ap.add_argument("--guest", default="6.1-4level",
                    help="a lab guest, SERIES-MODE (default 6.1-4level: "
                    "drgn 0.0.22 cannot read 5-level guests)")
    ap.add_argument("--mem", default="512M")
    ap.add_argument("--procs", type=int, default=0,
                    help="extra sleeping processes to start")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--no-install", action="store_true")
    a = ap.parse_args()

    if not a.no_install:
        install_peers()
    guests, _ = load_guests(os.environ.get("VMSIGHT_LAB_MANIFEST"))
    series, mode = a.guest.split("-")
    # A clean guest, with VMCOREINFO if the lab has one (drgn needs it).
    g = sorted((x for x in guests if x["paging"] == mode and
                not x.get("rootkit") and
                x["kernel"].startswith("linux-image-" + series + ".")),
               key=lambda x: not x.get("vmcoreinfo"))
    if not g:
        sys.exit("bench: no clean lab guest " + a.guest)
    g = g[0]
    vmlinux = debug_vmlinux(g["kernel"])
    dumps = guest_dumps(g, a.mem, a.procs)
    truth = parse_truth(dumps["console"])
    # What the guest printed, and the processes started after it.
    want_ps = len(truth["ps"]) + a.procs
    want_log = len(truth.get("dmesg", []))
    # The lab's late modules are loaded before the dump: /proc/modules
    # as the guest printed it then.
    with open(dumps["console"], errors="replace") as f:
        want_mods = sum("VMS-TRUTH late modules " in x for x in f)
    tmp = tempfile.mkdtemp(prefix="vmsight-bench-")
    scripts = {}
    for name, text in DRGN_SCRIPTS.items():
        scripts[name] = os.path.join(tmp, name + ".py")
        with open(scripts[name], "w") as f:
            f.write(text)
    vms, raw, elf, elfp = a.vmsight, dumps["raw"], dumps["elf"], \
        dumps["elf-paging"]
    drgn = ["drgn", "-q", "-s", vmlinux, "-c", elfp]
    crash = ["crash", "-s", vmlinux, elf]
    yar = os.path.join(ROOT, "tests", "lab", "lab.yar")

    # Each peer is compared with vmsight on the file it reads itself:
    # drgn's ELF (virtual mappings, VMCOREINFO), crash's ELF (physical,
    # VMCOREINFO), yara's raw file. vmsight on the raw file, where it has
    # no VMCOREINFO and must find the kernel by scanning, is shown too.
    vms_on = [("vmsight (raw)", raw), ("vmsight (ELF)", elf),
              ("vmsight (drgn's ELF)", elfp)]
    skip1 = lambda o: count_lines(o, 1)  # noqa: E731 (a table header)
    tasks = []
    for task, args, counter, want, drgn_script, crash_cmd in (
            ("ps", ["ps"], skip1, want_ps, "ps", "ps -G"),
            ("lsmod", ["lsmod"], skip1, want_mods, "lsmod", "mod"),
            ("dmesg", ["dmesg"], count_lines, want_log, "dmesg", "log"),
            ("syscall table", ["check", "--only", "syscall_table"], None,
             None, None, "sys -c")):
        for tool, dump in vms_on:
            tasks.append((task, tool, [vms] + args + [dump], None, counter,
                          want, None))
        if drgn_script:
            # The scripts print no header.
            tasks.append((task, "drgn", drgn + [scripts[drgn_script]],
                          None, count_lines, want,
                          "vmsight (drgn's ELF)"))
        tasks.append((task, "crash", crash, crash_cmd + "\nq\n",
                      counter, want,
                      "vmsight (ELF)"))
    tasks += [
        ("yara", "vmsight (raw)",
         [vms, "check", "--only", "yara", "--yara", yar, raw], None, None,
         None, None),
        ("yara", "yara (raw file)", ["yara", "-w", yar, raw], None, None,
         None, "vmsight (raw)"),
    ]
    rows = []
    for task, tool, cmd, stdin, counter, want, base in tasks:
        log("%s: %s" % (task, tool))
        r = run_many(cmd, a.runs, stdin)
        found = counter(r["out"]) if counter and r["rc"] in (0, 3) else None
        if r["rc"] not in (0, 3):
            note = "failed (exit %d): %s" % (
                r["rc"], (r["err"].strip().splitlines() or
                          ["no message on stderr"])[-1][:120])
        elif found is not None and want is not None and found < want:
            note = "wrong: %d of %d" % (found, want)
        elif found is not None:
            note = "%d found" % found
        else:
            note = ""
        rows.append((task, tool, r, note, base))
    shutil.rmtree(tmp, ignore_errors=True)

    mem_rows = []
    for fmt in ("raw", "elf"):
        log("memory: " + fmt)
        # The page cache holds the dump first, so that the first pass
        # measures what vmsight does, mapping the file's pages, not the
        # disk. It is dropped and read again in 8 MiB reads, always the
        # same state: pages cached piecemeal before (by QEMU writing the
        # dump, or the other tasks' runs) sit in small folios, which the
        # host's kernel maps a page at a time on a fault, and that made
        # the first pass anything from 50 to 85% of memcpy between runs;
        # read in order, the cache holds 2 MiB folios, each mapped whole.
        with open(dumps[fmt], "rb", buffering=0) as f:
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            while f.read(8 << 20):
                pass
        p = subprocess.run([a.bench_mem, dumps[fmt], "5"],
                           capture_output=True, text=True, check=True)
        recs = [json.loads(x) for x in p.stdout.splitlines()]
        best = {}
        for r in recs:
            key = r["what"]
            rate = (r["bytes"] if "bytes" in r else r["pages"]) / \
                r["seconds"]
            best.setdefault(key, []).append(rate)
        mem_rows.append((fmt, {k: (v[0], max(v)) for k, v in
                               best.items()}))

    write(a, g, dumps, rows, mem_rows, vmlinux)


def targets(a, dumps, rows, mem_rows):
    """The issue's targets, each with what this run measured."""
    out = []
    by = {(t, tool): (r, note, b) for t, tool, r, note, b in rows}
    for peer in ("drgn", "crash"):
        r, note, b = by[("ps", peer)]
        mine = by[("ps", b)][0]
        raw = by[("ps", "vmsight (raw)")][0]
        ratio = r["seconds"] / mine["seconds"]
        if note.startswith("failed"):
            out.append("| cold `ps` at least 20× faster than %s | %s "
                       "cannot read this guest's dump (%s) | n/a on this "
                       "guest: see the other run |" % (peer, peer, note))
            continue
        # Speed is the target; a wrong answer is reported beside it.
        ok = ratio >= 20
        out.append("| cold `ps` at least 20× faster than %s | %.1f× on the "
                   "same file, %.1f× with vmsight on the raw file (%s) | "
                   "%s |" % (peer, ratio, r["seconds"] / raw["seconds"],
                             note or "answered", "yes" if ok else "no"))
    for fmt, m in mem_rows:
        frac = m["read_phys"][1] / m["memcpy"][1]
        first = m["read_phys"][0] / m["memcpy"][1]
        out.append("| physical reads at 70%% of memcpy (%s) | %.0f%% once "
                   "mapped; %.0f%% on the first pass, which maps the "
                   "file's pages (from the page cache) | %s |"
                   % (fmt, 100 * frac, 100 * first,
                      "yes" if first >= 0.7 else
                      "yes, once mapped" if frac >= 0.7 else "no"))
    for fmt, m in mem_rows:
        rate = m["translate"][1]
        out.append("| cached translations at 20 million/s (%s) | %.1f M/s "
                   "| %s |" % (fmt, rate / 1e6,
                               "yes" if rate >= 20e6 else "no"))
    size = os.path.getsize(dumps["raw"]) / 2**20
    for tool in ("vmsight (raw)", "vmsight (ELF)"):
        rss = by[("ps", tool)][0]["rss_mib"]
        out.append("| peak memory of `ps` well under the dump (a quarter), "
                   "%s | %.0f MiB of %.0f MiB (mapped file pages count) | "
                   "%s |" % (tool.split(" ", 1)[1], rss, size,
                             "yes" if rss < size / 4 else "no"))
    out.append("| `ps` linear in processes, independent of RAM size | "
               "run with `--procs` and `--mem` and compare | see "
               "bench/README.md |")
    return out


def write(a, g, dumps, rows, mem_rows, vmlinux):
    lines = ["# Benchmark results", "",
             "Written by `bench/run.py` (%s)." % time.strftime(
                 "%Y-%m-%d"), "",
             "- Machine: %s, %d GiB RAM, Linux %s" % (
                 machine(), ram_gib(), platform.release()),
             "- Guest: %s (lab), %s of RAM, %d extra processes; dumps "
             "%.0f MiB" % (g["name"], a.mem, a.procs,
                            os.path.getsize(dumps["raw"]) / 2**20),
             "- Tools: vmsight (%s), %s, %s, %s" % (
                 version([a.vmsight, "--version"]),
                 version(["drgn", "--version"]),
                 version(["crash", "--version"]),
                 "yara " + version(["yara", "--version"])),
             "- Each command run %d times cold (a new process each time); "
             "the median wall time. drgn reads the ELF core with virtual "
             "mappings (paging=true), crash the physical one; both with "
             "%s's DWARF." % (a.runs, os.path.basename(vmlinux)), "",
             "| task | tool | median (s) | peer / vmsight (on) | peak RSS (MiB) "
             "| answer |", "|---|---|---:|---:|---:|---|"]
    secs = {(t, tool): r["seconds"] for t, tool, r, _, _ in rows}
    for task, tool, r, note, base in rows:
        # A peer that failed has no speed to compare.
        ratio = "" if not base else "cannot" if note.startswith(
            "failed") else "%.1f× %s" % (
            r["seconds"] / secs[(task, base)], base.split(" ", 1)[1])
        lines.append("| %s | %s | %.3f | %s | %.0f | %s |" % (
            task, tool, r["seconds"], ratio, r["rss_mib"], note))
    lines += ["", "| dump | memcpy (GB/s) | vms_read_phys (GB/s, first / "
              "best pass) | of memcpy | translations per second (first / "
              "best pass) |", "|---|---:|---:|---:|---:|"]
    for fmt, m in mem_rows:
        lines.append("| %s | %.1f | %.1f / %.1f | %.0f%% | %.1f M / %.1f M |"
                     % (fmt, m["memcpy"][1] / 1e9, m["read_phys"][0] / 1e9,
                        m["read_phys"][1] / 1e9,
                        100 * m["read_phys"][1] / m["memcpy"][1],
                        m["translate"][0] / 1e6, m["translate"][1] / 1e6))
    lines += ["", "## Targets (issue 7)", "",
              "| target | measured | met |", "|---|---|---|"]
    lines += targets(a, dumps, rows, mem_rows)
    lines += ["", "Why a target is not met yet, and what is planned: "
              "`bench/README.md`."]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(a.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
