#!/usr/bin/env python3
"""vmsight on a running guest: "qemu:QMP_SOCKET", with the guest's RAM
in a memory-backend-file (--ram file: vmsight maps the file) or in
QEMU's own memory (--ram process: a bare -m, read with
process_vm_readv).

Boots one of the lab's clean guests again under QEMU (TCG) with 3 GiB of
RAM, so that q35 puts 1 GiB of it above 4 GiB and the layout has to come
from QEMU's memory map. Once the guest has printed its /proc view and
loaded its late module, it blocks and changes no more; every view of the
running guest must then match what the guest said, as the dumps' views
do. The guest is killed and its files removed however the test ends.

Output is TAP.
"""
import argparse, json, mmap, os, re, shutil, signal, socket, struct, \
    subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lab"))
from lab_test import (check, compare_ps, jsonl, parse_truth,  # noqa
                      pick_guest, results, run, views_match_truth)
import lab  # noqa: the lab's kernel cache (fetch_kernel reuses it)

RAM = "3G"
BOOT_TIMEOUT = 300


def wait_for(proc, console, line, timeout, since=0):
    """Wait for @line on the console, past its first @since bytes."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError("QEMU exited with %d" % proc.returncode)
        try:
            with open(console, "rb") as f:
                f.seek(since)
                if line.encode() in f.read():
                    return
        except FileNotFoundError:
            pass
        time.sleep(0.5)
    raise RuntimeError("no %r on the console in %d s" % (line, timeout))


def running(mon):
    return mon.cmd("query-status")["running"]


def wait_running(mon, want, timeout=60):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if running(mon) == want:
            return True
        time.sleep(0.1)
    return False


def pause_tests(a, g, truth, src, mon):
    """--pause: the guest is stopped while vmsight reads and runs again
    after, also when vmsight dies of a signal while the guest is stopped;
    a guest its owner stopped stays stopped."""
    name = g["name"]
    rc, out, err = run([a.vmsight, "ps", "--json", "--pause", src])
    problems = compare_ps(truth["ps"], jsonl(out)) if rc == 0 else [err]
    check(not problems and re.fullmatch(
        r"vmsight: the guest was paused for \d+\.\d ms\n", err) and
        running(mon), "%s live: ps --pause matches the guest, reports the "
        "pause and lets the guest run again" % name,
        "%s\n%s" % (err, "\n".join(problems[:20])))

    # symbols --json writes megabytes: with nobody reading its stdout it
    # blocks while the guest is stopped. Then a signal kills it.
    for sig, how in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT,
                                                    "SIGINT"),
                     (signal.SIGPIPE, "a closed pipe")):
        p = subprocess.Popen([a.vmsight, "symbols", "--json", "--pause",
                              src], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        stopped = wait_running(mon, False)
        if sig == signal.SIGPIPE:
            p.stdout.close()  # the blocked write fails: SIGPIPE
            rc = p.wait(timeout=60)
        else:
            # The pipe stays open until vmsight is dead: closing it
            # first would race the signal with a SIGPIPE.
            p.send_signal(sig)
            rc = p.wait(timeout=60)
            p.stdout.close()
        check(stopped and rc == -sig and wait_running(mon, True, 10),
              "%s live: vmsight killed by %s while the guest is paused "
              "lets it run again" % (name, how),
              "stopped %s, exit %s, running %s" % (stopped, rc,
                                                   running(mon)))

    # A guest that its owner stopped is read, and left stopped.
    mon.cmd("stop")
    rc, out, err = run([a.vmsight, "lsmod", "--pause", src])
    check(rc == 0 and "tcp_vegas" in out and not err and
          not running(mon), "%s live: --pause leaves a guest its owner "
          "stopped as it was" % name, "exit %d %s" % (rc, err))
    mon.cmd("cont")

    rc, out, err = run([a.vmsight, "ps", "--pause", g["dumps"]["raw"]])
    check(rc == 2 and not out and "--pause is for live sources" in err,
          "--pause on a dump is a usage error", "exit %d %s" % (rc, err))


def regs_snapshot_tests(a, name, truth, src, mon, tmp):
    """regs of the running guest; snapshot into an ELF core that the
    offline commands read as the guest; the core's registers are the
    ones the live guest showed when both were taken while stopped."""
    rc, out, err = run([a.vmsight, "regs", "--json", "--pause", src])
    cpus = jsonl(out) if rc == 0 else []
    bad = [c for c in cpus if c["mode"] not in ("kernel", "user") or
           (c["mode"] == "kernel" and not c["symbol"]) or
           int(c["cr3"], 16) == 0]
    check(rc == 0 and [c["cpu"] for c in cpus] == [0, 1] and not bad,
          "%s: regs shows both vCPUs, kernel RIPs by symbol" % name,
          "exit %d %s\n%s" % (rc, err, out))

    core = os.path.join(tmp, "snap.elf")
    rc, out, err = run([a.vmsight, "snapshot", "--json", "--out", core,
                        src])
    rec = jsonl(out)[0] if rc == 0 and out else {}
    mode = os.stat(core).st_mode & 0o777 if os.path.exists(core) else 0
    check(rc == 0 and rec.get("cpus") == 2 and mode == 0o600 and
          "the guest was paused for" in err and running(mon),
          "%s: snapshot pauses the guest, writes a 0600 core and lets "
          "the guest run" % name, "exit %d %s %s mode %o" % (rc, out, err,
                                                           mode))
    rc, out, err = run([a.vmsight, "ps", "--json", core])
    problems = compare_ps(truth["ps"], jsonl(out)) if rc == 0 else [err]
    check(not problems, "%s: ps of the snapshot matches the guest's "
          "/proc" % name, "\n".join(problems[:20]))
    rc, out, err = run([a.vmsight, "lsmod", core])
    check(rc == 0 and all(m.split()[0] in out for m in truth["module"]),
          "%s: lsmod of the snapshot lists the late modules" % name,
          out + err)

    # Stopped by its owner: the live registers and the core's agree
    # (EFER is not in QEMU's ELF notes, KernelGSbase not in its monitor).
    mon.cmd("stop")
    try:
        rc1, live, err1 = run([a.vmsight, "regs", "--json", src])
        rc2, out, err2 = run([a.vmsight, "snapshot", "--out", core, src])
        rc3, back, err3 = run([a.vmsight, "regs", "--json", core])
        strip = [dict(c, efer=None, kernel_gs_base=None)
                 for c in jsonl(live)] if rc1 == 0 else None
        again = [dict(c, efer=None, kernel_gs_base=None)
                 for c in jsonl(back)] if rc3 == 0 else []
        check(rc2 == 0 and strip == again and "paused" not in err2 and
              not running(mon), "%s: the snapshot's registers are the "
              "stopped guest's, and it stays stopped" % name,
              "%s %s %s\n%s\n%s" % (err1, err2, err3, live, back))
    finally:
        mon.cmd("cont")
        os.unlink(core)


PROBES = ("begin_new_exec", "do_exit", "do_init_module")


def probe_bytes(a, src, mon, tmp):
    """The first 16 bytes at each probe's kernel address, as QEMU's own
    memory holds them (pmemsave at the physical address)."""
    rc, out, _ = run([a.vmsight, "info", "--json", src])
    info = jsonl(out)[0] if rc == 0 else {}
    rc, out, _ = run([a.vmsight, "symbols", src])
    va = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 3 and f[2] in PROBES:
            va[f[2]] = int(f[0], 16)
    got = {}
    for sym, v in va.items():
        pa = v - int(info["text_vaddr"], 16) + int(info["text_paddr"], 16)
        path = os.path.join(tmp, "probe.bin")
        mon.cmd("pmemsave", val=pa, size=16, filename=path)
        with open(path, "rb") as f:
            got[sym] = f.read()
        os.unlink(path)
    return got


def loop_pids(vm, want, timeout=60):
    """The pids the guest's loop printed, once they include @want (the
    serial console lags the guest's programs) or after @timeout s."""
    t0 = time.time()
    while True:
        with open(vm.console, errors="replace") as f:
            con = f.read()
        got = set(int(x) for x in re.findall(r"VMS-LOOP (\d+)\r?\n", con))
        if (want <= got and "VMS-MOD" in con) or \
                time.time() - t0 > timeout:
            return got
        time.sleep(0.5)


def state(mon):
    return mon.cmd("query-status")["status"]


def owner_stop(mon):
    """The owner's QMP stop, as a careful owner gives it: QEMU ignores a
    stop that arrives while the guest is already stopped, at a watch's
    breakpoint ("debug": vm_stop() acts only on a running guest), and the
    watch then lets it run on, unaware. So the state is checked, and the
    stop given again until it holds (a few times at most)."""
    for _ in range(10):
        mon.cmd("stop")
        time.sleep(0.5)
        if state(mon) == "paused":
            return


def interrupt(w, timeout):
    """End the watch @w as Ctrl-C does; its stderr (killed if it takes
    more than @timeout s)."""
    w.send_signal(signal.SIGINT)
    try:
        _, err = w.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        w.kill()
        _, err = w.communicate()
    return err


def split_modules(events):
    """The module events among @events as (name, base) pairs: those from
    the module list (listed, with no task), those from a load (by
    insmod), and any other."""
    listed, loaded, others = [], [], []
    for e in events:
        if e["event"] != "module":
            continue
        m = (e["module"], e["module_base"])
        if e.get("listed") and e["pid"] == -1 and e["comm"] == "":
            listed.append(m)
        elif not e.get("listed") and e["comm"] == "insmod":
            loaded.append(m)
        else:
            others.append(e)
    return listed, loaded, others


def module_truth(truth):
    """The guest's modules as (name, base) pairs, from its /proc/modules
    lines."""
    return [(m.split()[0], m.split()[-1]) for m in truth["module"]
            if len(m.split()) >= 6]


def wait_event(path, kind, timeout):
    """Whether a watch wrote an event of @kind to @path within @timeout
    seconds."""
    t0 = time.time()
    while True:
        try:
            if any(e["event"] == kind for e in read_events(path)):
                return True
        except (OSError, ValueError):
            pass  # not written yet, or a line half written
        if time.time() - t0 >= timeout:
            return False
        time.sleep(0.2)


def read_events(path):
    """The JSON lines a watch wrote to @path."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def watch_tests(a, name, src, mon, vm):
    """watch: the exec and exit of a program the guest runs every second
    and the load of a module, with the pids, names and addresses the
    guest prints; then every way a watch ends: SIGINT and SIGTERM leave
    the guest running with no breakpoint, SIGKILL leaves breakpoints that
    stop the guest at the next hit, and the next watch removes them."""
    tmp = vm.tmp
    before = probe_bytes(a, src, mon, tmp)
    check(len(before) == len(PROBES), "%s: the probes are in kallsyms"
          % name, str(before))
    # The guest's loop prints the pid of each /bin/true it starts. Each
    # console command runs in its own shell: the loop's pid is kept in a
    # file for the command that stops it.
    vm.send('(while :; do /bin/true & echo "VMS-LOOP $!"; wait; '
            'sleep 1; done) & echo $! > /tmp/vms-loop.pid')
    time.sleep(3)
    out_path = os.path.join(tmp, "events.json")
    w = subprocess.Popen([a.vmsight, "watch", "--json", "--out", out_path,
                          src], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(8)
    vm.send("rmmod tcp_vegas; insmod /late/tcp_vegas.ko && "
            "grep tcp_vegas /proc/modules | sed 's/^/VMS-MOD /'")
    time.sleep(8)
    err = interrupt(w, 30)
    events = read_events(out_path)
    execs = [e for e in events if e["event"] == "exec" and
             e["path"] == "/bin/true"]
    loop = loop_pids(vm, set(e["pid"] for e in execs))
    with open(vm.console, errors="replace") as f:
        mod = re.findall(r"VMS-MOD tcp_vegas \d+ \d+ \S+ \S+ "
                         r"(0x[0-9a-f]+)", f.read())
    exits = {e["pid"]: e for e in events if e["event"] == "exit"}
    good = [e for e in execs if e["pid"] in loop and e["comm"] == "true"
            and e["argv"] == ["/bin/true"] and e["tid"] == e["pid"]]
    ended = [e for e in good if e["pid"] in exits and
             exits[e["pid"]]["comm"] == "true" and
             exits[e["pid"]]["status"] == 0 and
             exits[e["pid"]]["code"] == 0]
    check(w.returncode == 0 and len(execs) >= 5 and
          len(good) == len(execs) and len(ended) >= len(good) - 1,
          "%s: watch reports each exec of /bin/true with the pid the "
          "guest printed, and its exit with status 0 (%d execs, %d "
          "matched, %d exits)" % (name, len(execs), len(good), len(ended)),
          "exit %d: %s\n%s" % (w.returncode, err, events[:6]))
    mods = [e for e in events if e["event"] == "module"]
    check(len(mods) == 1 and mod and mods[0]["module"] == "tcp_vegas" and
          mods[0]["comm"] == "insmod" and
          mods[0]["module_base"] == mod[-1],
          "%s: watch reports the module load with the address the guest "
          "shows" % name, "%s %s" % (mods, mod))
    time.sleep(3)
    check(state(mon) == "running" and
          probe_bytes(a, src, mon, tmp) == before,
          "%s: after SIGINT the guest runs on, no breakpoint stops it, and "
          "the probes' bytes are the original ones" % name, state(mon))

    # Syscalls of one program, the kernel log, and the checks every 2 s.
    rc, out, _ = run([a.vmsight, "check", "--json", src])
    static = set((f["check"], f["object"], f["evidence"])
                 for f in jsonl(out)) if rc in (0, 3) else set()
    out_path = os.path.join(tmp, "more.json")
    w = subprocess.Popen([a.vmsight, "watch", "--json", "--events",
                          "syscall", "--comm", "true", "--dmesg",
                          "--checks", "2", "--duration", "20", "--out",
                          out_path, src], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    vm.send("echo vmsight-kmsg-mark > /dev/kmsg")
    _, err = w.communicate(timeout=120)
    events = read_events(out_path)
    calls = [e for e in events if e["event"] == "syscall"]
    ends = [e for e in calls if e["name"] == "exit_group"]
    loop = loop_pids(vm, set(e["pid"] for e in calls))
    check(w.returncode == 0 and calls and
          all(e["comm"] == "true" and e["pid"] in loop for e in calls) and
          ends and all(e["args"][0] == "0x0" for e in ends),
          "%s: watch traces the system calls of /bin/true only, ending in "
          "exit_group(0) (%d calls)" % (name, len(calls)),
          "exit %d: %s\n%s" % (w.returncode, err, calls[:4]))
    logs = [e for e in events if e["event"] == "dmesg"]
    check(any("vmsight-kmsg-mark" in e["text"] for e in logs) and
          not any("VMS-TRUTH" in e["text"] for e in logs),
          "%s: watch --dmesg reports the line the guest logged, and no "
          "older one" % name, str(logs[:5]))
    found = [(e["check"], e["object"], e["evidence"]) for e in events
             if e["event"] == "finding"]
    check(len(found) == len(set(found)) and static <= set(found),
          "%s: watch --checks reports each finding of check once (%d)"
          % (name, len(found)), "%s\n%s" % (found, static))

    w = subprocess.Popen([a.vmsight, "watch", src], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(5)
    w.send_signal(signal.SIGTERM)
    out, err = w.communicate(timeout=30)
    time.sleep(3)
    check(w.returncode == 0 and "exec" in out and
          "breakpoints removed" in err and state(mon) == "running" and
          probe_bytes(a, src, mon, tmp) == before,
          "%s: after SIGTERM the guest runs on unchanged" % name,
          "exit %d: %s" % (w.returncode, err))

    # The owner stops the guest mid-watch: the watch waits, and goes on
    # when the owner lets it run; a watch that ends while the owner has
    # the guest stopped leaves it stopped, with no breakpoint.
    out_path = os.path.join(tmp, "owner.json")
    w = subprocess.Popen([a.vmsight, "watch", "--json", "--out", out_path,
                          src], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(5)
    owner_stop(mon)
    time.sleep(3)
    during = state(mon)
    with open(out_path) as f:
        n_stopped = len(f.readlines())
    mon.cmd("cont")
    time.sleep(5)
    with open(out_path) as f:
        n_resumed = len(f.readlines())
    owner_stop(mon)
    time.sleep(1)
    err = interrupt(w, 30)
    after = state(mon)
    same = probe_bytes(a, src, mon, tmp) == before
    mon.cmd("cont")
    time.sleep(3)
    check(w.returncode == 0 and during == "paused" and
          n_resumed > n_stopped and after == "paused" and same and
          state(mon) == "running",
          "%s: a guest its owner stops mid-watch stays stopped, the watch "
          "goes on when the owner lets it run, and a watch that ends "
          "meanwhile leaves it stopped and unchanged" % name,
          "exit %d, %s, %d then %d events, %s: %s"
          % (w.returncode, during, n_stopped, n_resumed, after, err))

    # SIGKILL cannot clean up: the breakpoints stay in QEMU's gdbstub and
    # the next hit stops the guest; the next watch removes them.
    w = subprocess.Popen([a.vmsight, "watch", src], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    time.sleep(5)
    w.kill()
    w.communicate()
    t0 = time.time()
    while state(mon) == "running" and time.time() - t0 < 20:
        time.sleep(0.2)
    left = state(mon)
    check(left == "debug" and probe_bytes(a, src, mon, tmp) == before,
          "%s: after SIGKILL the guest stops at the next hit, memory "
          "unchanged (TCG breakpoints are not in guest memory)" % name,
          left)
    rc, out, err = run([a.vmsight, "watch", "--duration", "4", src])
    time.sleep(3)
    check(rc == 0 and "an earlier watch left" in err and "exec" in out
          and state(mon) == "running",
          "%s: the next watch removes what a killed one left, and the "
          "guest runs on" % name, "exit %d: %s" % (rc, err))
    vm.send("kill $(cat /tmp/vms-loop.pid)")
    time.sleep(3)
    n = len(loop_pids(vm, set(), 0))
    time.sleep(4)
    check(len(loop_pids(vm, set(), 0)) == n, "%s: the guest's loop is "
          "stopped" % name, "%d pids, then more" % n)


def reboot_tests(a, g, name, src, mon, vm):
    """A guest that reboots while watched: the watch reports the reset,
    then the new boot's kernel at the _text address that boot prints
    (KASLR places each boot anew), then the new boot's events: its log
    from the first record, the loads of its late modules at the
    addresses its /proc/modules shows, the execs of a program with the
    pids it prints. Afterwards every view reads the new kernel, not the
    earlier boot's image that stays in RAM."""
    mark = os.path.getsize(vm.console)
    out_path = os.path.join(vm.tmp, "reboot.json")
    w = subprocess.Popen([a.vmsight, "watch", "--json", "--dmesg", "--out",
                          out_path, src], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(5)
    vm.send("reboot -f")
    # While the new boot prints its /proc view, no client on the console
    # socket: one that reads too slowly has QEMU drop and double
    # characters of the log file (seen with QEMU 7.2); with none, QEMU
    # logs every character.
    time.sleep(2)
    vm.hangup()
    try:
        truth = vm.wait_ready(since=mark)
        ready = os.path.getsize(vm.console)
        wait_event(out_path, "kernel", 180)
        # A module loaded again is seen at its load, by the breakpoint.
        vm.send("rmmod tcp_vegas; insmod /late/tcp_vegas.ko && "
                "grep tcp_vegas /proc/modules | sed 's/^/VMS-MOD /'")
        vm.send('for i in 1 2 3; do /bin/true & echo "VMS-LOOP $!"; wait; '
                'sleep 1; done')
        time.sleep(8)
    finally:
        err = interrupt(w, 60)
    events = read_events(out_path)
    kinds = [e["event"] for e in events]
    resets = [i for i, k in enumerate(kinds) if k == "reset"]
    kernels = [i for i, k in enumerate(kinds) if k == "kernel"]
    text = truth["sym"].get("_text", -1)
    ok = w.returncode == 0 and len(resets) == 1 and len(kernels) == 1 and \
        resets[0] < kernels[0]
    kev = events[kernels[0]] if ok else {}
    check(ok and kev["release"] in truth.get("version", "") and
          int(kev["text_vaddr"], 16) == text,
          "%s: watch reports the reboot, then the new kernel at the _text "
          "the new boot prints (%#x)" % (name, text),
          "exit %d: %s\n%s" % (w.returncode, err,
                                [e for e in events if e["event"] in
                                 ("reset", "kernel")]))
    after = events[kernels[0] + 1:] if ok else []
    logs = [e for e in after if e["event"] == "dmesg"]
    # Each module of the new boot once: from its module list (listed, no
    # task) if it was loaded before the watch found the kernel, else
    # from its load, by insmod; then tcp_vegas loaded again, from its
    # load (often at the same address).
    listed, loaded, others = split_modules(after)
    late = module_truth(truth)
    with open(vm.console, "rb") as f:
        f.seek(ready)
        con = f.read().decode(errors="replace")
    again = re.findall(r"VMS-MOD (tcp_vegas \d+ \d+ \S+ \S+ "
                       r"0x[0-9a-f]+)", con)
    if again:
        # The views below compare with the module as it is now.
        truth["module"] = [again[-1] if m.split()[0] == "tcp_vegas"
                           else m for m in truth["module"]]
    vegas = ("tcp_vegas", again[-1].split()[-1] if again else "")
    mods_ok = late and not others and loaded and loaded[-1] == vegas and \
        sorted(listed + loaded) == sorted(late + [vegas])
    loop = set(int(x) for x in re.findall(r"VMS-LOOP (\d+)\r?\n", con))
    execs = [e for e in after if e["event"] == "exec" and
             e["path"] == "/bin/true"]
    init = [e for e in after if e["event"] == "exec" and e["pid"] == 1]
    check(logs and logs[0]["seq"] == 0 and
          truth.get("version", "?") in logs[0]["text"] and
          mods_ok and len(loop) == 3 and
          set(e["pid"] for e in execs) == loop and
          all(e["comm"] == "true" for e in execs),
          "%s: after the reboot, watch reports the new boot's log from its "
          "first record, each of its %d modules once at the address it "
          "shows (%d from its module list), a module loaded again (at its "
          "load), and the execs of /bin/true with the pids it prints"
          % (name, len(late), len(listed)),
          "%s %s %s %s\n%s %s\n%s %s\n%s" % (late, listed, loaded, others,
                                              again, loop, execs, logs[:2],
                                              init))
    check(state(mon) == "running", "%s: the guest runs on after the "
          "watch" % name, state(mon))

    rc, out, err = run([a.vmsight, "ps", "--json", src])
    problems = compare_ps(truth["ps"], jsonl(out)) if rc == 0 else [err]
    check(not problems, "%s: after the reboot, ps reads the new kernel "
          "and matches the guest's /proc" % name, "\n".join(problems[:20]))
    views_match_truth(a, dict(g, name=name + " after reboot"), truth,
                      {"raw": src})


def find_task(ram, pid, comm, parent):
    """Where in the guest's RAM file the task_struct of @pid (named
    @comm, child of the task at @parent) keeps its real_parent pointer:
    no layout is assumed, only what every kernel since v2.6 has: a
    16-byte comm, the adjacent pid and tgid (equal for a process), and
    the adjacent real_parent and parent (equal unless traced), the last
    two within 4 KiB before comm. None unless exactly one task matches
    (a freed copy of another process would differ in pid or parent)."""
    name = comm.encode()[:15]
    name += b"\0" * (16 - len(name))
    ids, parents = struct.pack("<ii", pid, pid), struct.pack("<QQ", parent,
                                                              parent)
    hits = []
    with open(ram, "rb") as f, \
            mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:
        at = m.find(name)
        while at >= 0 and len(hits) < 2:
            win = m[max(0, at - 4096):at]
            base = max(0, at - 4096)
            if ids in win and win.count(parents) == 1:
                hits.append(base + win.find(parents))
            at = m.find(name, at + 1)
    return hits[0] if len(hits) == 1 else None


def torn_tests(a, name, truth, src, vm):
    """A task that changes while a running guest is read, made so: the
    guest's RAM file is written under it (a `sleep` of init's, asleep
    for a day, never reads its real_parent), and put back at once.
    Without --pause, ps leaves the task out with a warning naming it,
    lists every other process as the guest printed them, and succeeds;
    with --pause the same damage is an error, as on a dump."""
    rc, out, err = run([a.vmsight, "ps", "--json", src])
    procs = jsonl(out) if rc == 0 else []
    init = [p for p in procs if p["pid"] == 1]
    victim = [p for p in procs if p["comm"] == "sleep" and p["ppid"] == 1]
    at = find_task(vm.ramfile, victim[0]["pid"], "sleep",
                   int(init[0]["task"], 16)) if init and victim else None
    if at is None:
        check(False, "%s: a task of the guest is found in its RAM file"
              % name, "%d processes, %d sleeps" % (len(procs), len(victim)))
        return
    pid, task = victim[0]["pid"], int(victim[0]["task"], 16)
    garbage = 0x6b6b6b6b6b6b6b6b  # what freed slab memory holds
    with open(vm.ramfile, "r+b") as f:
        f.seek(at)
        saved = f.read(8)
        f.seek(at)
        f.write(struct.pack("<Q", garbage))
        f.flush()
        try:
            rc, out, err = run([a.vmsight, "ps", "--json", src])
            prc, pout, perr = run([a.vmsight, "ps", "--pause", src])
        finally:
            f.seek(at)
            f.write(saved)
            f.flush()
    got = jsonl(out) if rc == 0 else []
    rest = dict((p, t) for p, t in truth["ps"].items() if p != pid)
    problems = compare_ps(rest, got) if rc == 0 else [err]
    check(not problems and pid not in [p["pid"] for p in got] and
          ("task %#x changed while it was read and is left out" % task)
          in err and "%#x" % garbage in err and
          "1 object changed while it was read and is left out" in err,
          "%s: without --pause, a task torn under the read is left out "
          "with a warning, and the rest matches the guest" % name,
          "exit %d: %s\n%s" % (rc, err, "\n".join(problems[:10])))
    check(prc == 1 and "%#x" % garbage in perr and "left out" not in perr,
          "%s: with --pause, the same task is an error" % name,
          "exit %d: %s" % (prc, perr))
    rc, out, err = run([a.vmsight, "ps", "--json", src])
    problems = compare_ps(truth["ps"], jsonl(out)) if rc == 0 else [err]
    check(not problems and "left out" not in err, "%s: put back, the task "
          "is listed again" % name, "\n".join(problems[:10]))


def tests(a, g, name, vm):
    tmp, qmp, qmp2, console = vm.tmp, vm.qmp, vm.qmp2, vm.console
    truth = vm.wait_ready()
    late = truth["module"]
    src = "qemu:" + qmp
    check(len(truth["ps"]) > 20 and late,
          "%s: the guest printed its ground truth" % name)

    rc, out, err = run([a.vmsight, "info", "-v", src])
    ranges = re.findall(r"0x([0-9a-f]{16})-0x([0-9a-f]{16})", out)
    how = ("reading QEMU's memory" in err) == (a.ram == "process")
    check(rc == 0 and how and "format:          qemu" in out and
          any(int(s, 16) >= 1 << 32 for s, _ in ranges) and
          "banner:          %s" % truth.get("version", "?") in out,
          "%s: info reads the running guest, RAM above 4 GiB "
          "included (%d ranges from QEMU's memory map)"
          % (name, len(ranges)), out + err)

    rc, out, err = run([a.vmsight, "ps", "--json", src])
    problems = compare_ps(truth["ps"], jsonl(out)) if rc == 0 else [err]
    check(not problems, "%s: ps matches the guest's /proc" % name,
          "\n".join(problems[:20]))
    views_match_truth(a, dict(g, name=name), truth, {"raw": src})

    mon = lab.Qmp(qmp2)  # one client: QEMU serves one per monitor
    regs_snapshot_tests(a, name, truth, src, mon, tmp)

    if a.ram == "process":
        rc, out, err = run([a.vmsight, "ps", "--json", "--pause", src])
        problems = (compare_ps(truth["ps"], jsonl(out)) if rc == 0
                    else [err])
        check(not problems and "the guest was paused" in err,
              "%s: ps --pause matches the guest's /proc" % name,
              "\n".join(problems[:20]))
    else:
        pause_tests(a, g, truth, src, mon)
        torn_tests(a, name, truth, src, vm)

        # Errors: no socket, and a socket that is not QEMU's.
        rc, out, err = run([a.vmsight, "ps", "qemu:" + tmp + "/none"])
        check(rc == 1 and not out and "cannot connect to QEMU's QMP "
              "socket" in err, "live: a missing QMP socket is a "
              "one-line error", "exit %d: %s" % (rc, err))
        rc, out, err = run([a.vmsight, "ps", "qemu:" + console])
        check(rc == 1 and not out and err.count("\n") == 1,
              "live: a path that is no socket is a one-line error",
              "exit %d: %s" % (rc, err))

    watch_tests(a, name, src, mon, vm)
    reboot_tests(a, g, name, src, mon, vm)
    shutdown_tests(a, name, src, mon, vm)


def shutdown_tests(a, name, src, mon, vm):
    """The guest powers off while watched, in a QEMU that keeps it
    (-no-shutdown): the watch reports the shutdown with QEMU's reason and
    waits; its owner resets it and lets it run: the watch follows the
    new boot as after a reboot; its owner tells QEMU to quit: a second
    shutdown, and the watch ends by itself, successfully. The guest is
    gone afterwards: this comes last."""
    out_path = os.path.join(vm.tmp, "shutdown.json")
    w = subprocess.Popen([a.vmsight, "watch", "--json", "--out", out_path,
                          src], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)

    def kinds():
        try:
            return [e["event"] for e in read_events(out_path)
                    if e["event"] in ("shutdown", "reset", "kernel")]
        except (OSError, ValueError):
            return []

    def wait_kinds(want, timeout):
        t0 = time.time()
        while kinds() != want and time.time() - t0 < timeout:
            time.sleep(0.5)
        return kinds() == want

    time.sleep(5)
    vm.send("poweroff -f")
    off = wait_kinds(["shutdown"], 60)
    st = state(mon)
    check(off and st == "shutdown" and w.poll() is None,
          "%s: watch reports the guest's power-off and waits" % name,
          "%s, QEMU %s, watch %s" % (kinds(), st, w.poll()))
    # The watch is held (SIGSTOP, as on a host too busy to run it) from
    # before the owner's reset until the new boot has loaded its
    # modules. With the guest off it has nothing planted, so holding it
    # cannot stop the guest; no breakpoint sees those loads, and once it
    # runs again they must come from the module list, each once.
    mark = os.path.getsize(vm.console)
    vm.hangup()  # see reboot_tests
    w.send_signal(signal.SIGSTOP)
    try:
        mon.cmd("system_reset")
        mon.cmd("cont")
        truth = vm.wait_ready(since=mark)
    finally:
        w.send_signal(signal.SIGCONT)
    back = wait_kinds(["shutdown", "reset", "kernel"], 180)
    time.sleep(2)  # the listed modules follow the kernel event
    try:
        mon.cmd("quit")
    except RuntimeError:
        pass  # QEMU may close the monitor before its reply
    try:
        _, err = w.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        err = interrupt(w, 30) + " (did not end by itself)"
    events = [e for e in read_events(out_path)
              if e["event"] in ("shutdown", "reset", "kernel")]
    reasons = [e.get("reason") for e in events if e["event"] == "shutdown"]
    check(back and w.returncode == 0 and
          [e["event"] for e in events] ==
          ["shutdown", "reset", "kernel", "shutdown"] and
          reasons == ["guest-shutdown", "host-qmp-quit"] and
          "the guest powered off and QEMU quit; the watch ends" in err,
          "%s: after a power-off, watch follows the owner's reset into "
          "the next boot, and ends by itself when QEMU quits" % name,
          "exit %s: %s\n%s" % (w.returncode, err, events))
    kinds_all = [e["event"] for e in read_events(out_path)]
    after = read_events(out_path)[kinds_all.index("kernel") + 1:] \
        if "kernel" in kinds_all else []
    listed, loaded, others = split_modules(after)
    late = module_truth(truth)
    check(late and sorted(listed) == sorted(late) and not loaded and
          not others,
          "%s: the %d modules a boot loaded while the watch was held come "
          "from its module list, each once, at the addresses it shows"
          % (name, len(late)), "%s\n%s %s %s" % (late, listed, loaded,
                                                 others))


class Guest:
    """A lab guest booted again under QEMU (TCG) with RAM GiB of RAM, its
    RAM in a file in /dev/shm (ram="file") or QEMU's own (ram="process"),
    and two QMP sockets: .qmp for vmsight, .qmp2 for the caller's own
    monitor. Used as a context manager, it kills QEMU and removes its
    files however the block ends."""

    def __init__(self, g, ram, mem=RAM, extra=()):
        self.g, self.ram, self.mem, self.extra = g, ram, mem, list(extra)
        self.tmp = tempfile.mkdtemp(prefix="vmsight-live-")
        self.ramfile = "/dev/shm/vmsight-live-%d.ram" % os.getpid()
        self.qmp = os.path.join(self.tmp, "qmp.sock")
        self.qmp2 = os.path.join(self.tmp, "qmp2.sock")
        self.console = os.path.join(self.tmp, "console.log")
        self.consock = os.path.join(self.tmp, "console.sock")
        self.con = None
        self.proc = None

    def __enter__(self):
        g, kdir = self.g, lab.fetch_kernel(self.g["kernel"])
        cpu = "max" if g["paging"] == "la57" else "max,la57=off"
        if self.ram == "file":
            mem = ["-object", "memory-backend-file,id=ram,size=%s,"
                   "mem-path=%s,share=on" % (self.mem, self.ramfile),
                   "-machine", "q35,memory-backend=ram"]
        else:
            mem = ["-machine", "q35"]  # QEMU's default pc.ram backend
        # One TCG thread for both vCPUs: with a thread each (MTTCG),
        # QEMU 7.2 was seen to keep running a stale translation of code
        # the kernel had patched (text_poke_bp() turning a static key's
        # int3 back into a NOP in hrtimer_start_range_ns): both vCPUs
        # then trapped on an int3 that memory no longer held, for good,
        # and the guest hung mid-boot.
        cmd = ["qemu-system-x86_64", "-accel", "tcg,thread=single", "-cpu",
               cpu, "-smp", "2", "-m", self.mem] + mem + [
               "-kernel", os.path.join(kdir, "vmlinuz"),
               "-initrd", os.path.join(g["dir"], "initrd.gz"),
               "-append", "console=ttyS0 panic=-1",
               # The console: logged to a file, and a socket on which
               # send() types commands for init's command loop.
               "-chardev", "socket,id=con,path=%s,server=on,wait=off,"
               "logfile=%s" % (self.consock, self.console),
               "-serial", "chardev:con", "-display", "none",
               # No -no-reboot: a test reboots the guest.
               "-monitor", "none", "-nic", "none",
               "-qmp", "unix:%s,server=on,wait=off" % self.qmp,
               "-qmp", "unix:%s,server=on,wait=off" % self.qmp2] + self.extra
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
        return self

    def wait_ready(self, since=0):
        """Wait until init blocks for good: the guest's state is then
        what it printed, with the late module loaded. Its truth: that of
        the boot whose console starts past the first @since bytes."""
        wait_for(self.proc, self.console, "VMS-TRUTH late ready",
                 BOOT_TIMEOUT, since)
        path = self.console
        if since:
            path = os.path.join(self.tmp, "console-%d.log" % since)
            with open(self.console, "rb") as f, open(path, "wb") as o:
                f.seek(since)
                o.write(f.read())
        truth = parse_truth(path)
        late = []
        with open(path, errors="replace") as f:
            for line in f:
                i = line.find("VMS-TRUTH late modules ")
                if i >= 0:
                    late.append(line[i + 23:].rstrip("\r\n"))
        truth["module"] = late
        return truth

    def send(self, line):
        """Type @line on the guest's console: init runs it. The
        connection stays open: QEMU drops what the guest has not read
        when its client goes."""
        if not self.con:
            self.con = socket.socket(socket.AF_UNIX)
            self.con.connect(self.consock)
            # QEMU writes the console to its client too, and stalls the
            # guest's serial port when nobody reads it: read and drop
            # (the log file has it all).
            threading.Thread(target=self._drain, args=(self.con,),
                             daemon=True).start()
        self.con.sendall(line.encode() + b"\n")

    def hangup(self):
        """Close the console connection (send() opens another)."""
        if self.con:
            self.con.close()
            self.con = None

    @staticmethod
    def _drain(con):
        try:
            while con.recv(65536):
                pass
        except OSError:
            pass

    def __exit__(self, *exc):
        if self.con:
            self.con.close()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        if not all(results) and os.path.exists(self.console):
            # The guest's side of a failure.
            keep = os.path.join(tempfile.gettempdir(),
                                "vmsight-live-console-%d.log" % os.getpid())
            shutil.copy(self.console, keep)
            print("# the guest's console is kept in %s" % keep)
        for p in (self.ramfile, self.qmp, self.qmp2, self.console,
                  self.consock):
            if os.path.exists(p):
                os.unlink(p)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmsight", required=True)
    ap.add_argument("--guest", required=True, help="SERIES-MODE")
    ap.add_argument("--manifest")
    ap.add_argument("--ram", choices=("file", "process"), default="file")
    a = ap.parse_args()
    g = pick_guest(a, rootkit=False, vmcoreinfo=False)
    if not g:
        return 1
    name = "%s live (%s)" % (g["name"], a.ram)
    # -no-shutdown: QEMU keeps a guest that powers off (shutdown_tests).
    with Guest(g, a.ram, extra=["-no-shutdown"]) as vm:
        try:
            tests(a, g, name, vm)
        except RuntimeError as e:
            check(False, "%s: the guest boots" % name, str(e))
    failed = sum(1 for ok in results if not ok)
    print("1..%d" % len(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
