#!/usr/bin/env python3
"""vmsight check on the lab's rootkit guests: a real module
(tests/lab/rootkit) has hidden a process from the task list (another
holds a pidfd of it), unhashed a busy one from the task list and the pid
table (only its run queue still holds it), pointed
sys_call_table[140] and IDT gate 0x80 at its own code, written a jump
over the start of __x64_sys_vhangup, and unlinked itself from the module
list and /sys/module, after registering a netfilter hook, an ftrace
callback and a kprobe; a helper runs injected code (an RWX anonymous area, an ELF header
in anonymous memory); and the guest printed what it did (VMS-TRUTH rootkit ...) along
with its own /proc view. Every format of the dump must give exactly the
findings the rootkit implies, no more, with the right exit status. The
clean guests' "no finding" is checked by lab_test.py.

Output is TAP.
"""
import argparse, json, os, pty, re, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lab_test import (check, parse_truth, pick_guest, results,  # noqa
                      run)


def helper_net(truth):
    """The pid of the helper started with "net" (its command line)."""
    for pid, data in truth.get("cmdline", {}).items():
        args = data.split(b"\0")
        if b"net" in args and b"vmsight-lab-helper" in args[0]:
            return pid
    return -1


def run_on_tty(args, timeout=600):
    """Run with stderr on a pseudo-terminal: (exit, stdout, stderr)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            b = os.read(master, 65536)
        except OSError:  # EIO: every writer closed the terminal
            break
        if not b:
            break
        chunks.append(b)
    out = p.stdout.read()
    rc = p.wait(timeout=timeout)
    os.close(master)
    # The terminal turns "\n" into "\r\n".
    return rc, out.decode(), b"".join(chunks).decode(
        errors="replace").replace("\r\n", "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmsight", required=True)
    ap.add_argument("--guest", required=True, help="SERIES-MODE")
    ap.add_argument("--manifest")
    a = ap.parse_args()
    g = pick_guest(a, rootkit=True)
    if not g:
        return 1
    name = g["name"]
    rk, inj = {}, None
    with open(g["console"], errors="replace") as f:
        for line in f:
            i = line.find("VMS-TRUTH rootkit ")
            if i >= 0:
                k, _, v = line[i + 18:].strip().partition(" ")
                rk[k] = v
            i = line.find("VMS-TRUTH injected ")
            if i >= 0:
                pid, _, rwx, _, elf = line[i + 19:].split()[:5]
                inj = (int(pid), int(rwx, 16), int(elf, 16))
    truth = parse_truth(g["console"])
    check(rk.get("loaded") == "vmsight_rk" and "hidden-pid" in rk,
          "%s: the guest loaded the rootkit" % name, repr(rk))
    hidden = int(rk.get("hidden-pid", "-1"))
    watcher = int(rk.get("pidfd-holder", "-1"))
    spinner = int(rk.get("unhashed-pid", "-1"))
    nr = int(rk.get("syscall", "-1"))
    check(hidden in truth["ps"],
          "%s: /proc still lists the hidden pid %d" % (name, hidden))

    outs = {}
    for fmt, path in sorted(g["dumps"].items()):
        rc, out, err = run([a.vmsight, "check", "--json", path])
        outs[fmt] = (rc, out)
        check(rc == 3, "%s %s: check exits 3 (findings)" % (name, fmt),
              "exit %d: %s" % (rc, err))
    rc, out = outs["raw"]
    same = [f for f, o in outs.items() if o == outs["raw"]]
    check(len(same) == len(outs), "%s: check identical on all %d formats"
          % (name, len(outs)), "differing: %s" % sorted(set(outs) -
                                                        set(same)))
    rows = [json.loads(l) for l in out.splitlines()]
    # Inventory entries (info) are listed, but are not findings.
    found = [r for r in rows if r["severity"] != "info"]
    by = {}
    for f in found:
        by.setdefault(f["check"], []).append(f)

    sc = by.get("syscall_table", [])
    check(len(sc) == 1 and sc[0]["object"].startswith(
        "sys_call_table[%d] " % nr) and sc[0]["owner"] == "vmsight_rk" and
          "not on the module list" in sc[0]["evidence"] and
          sc[0]["severity"] == "critical",
          "%s: syscall_table finds entry %d pointing into the hidden "
          "module" % (name, nr), json.dumps(sc, indent=1))
    # The sleep unlinked from the task list: the pid table and the
    # watcher's pidfd still hold it. The spinner unhashed from the task
    # list and every pid link: only its run queue still does.
    ht = {f["object"]: f for f in by.get("hidden_tasks", [])}
    sleep = ht.get("pid %d (sleep)" % hidden, {})
    check(len(ht) == 2 and sleep.get("evidence") ==
          "in the pid table (what /proc lists) and referenced by an open "
          "file of pid %d (a pidfd) but not on the task list" % watcher,
          "%s: hidden_tasks finds pid %d in the pid table and through "
          "pid %d's pidfd" % (name, hidden, watcher),
          json.dumps(list(ht.values()), indent=1))
    spin = ht.get("pid %d (vmsight-lab-hel)" % spinner, {})
    check(spinner not in truth["ps"] and re.fullmatch(
        r"(running on|queued to run on) CPU \d+ but not on the task list "
        r"nor in the pid table", spin.get("evidence", "")),
          "%s: hidden_tasks finds the unhashed pid %d on a run queue only"
          % (name, spinner), json.dumps(list(ht.values()), indent=1))
    hm = by.get("hidden_modules", [])
    check(len(hm) == 1 and hm[0]["object"] == "module vmsight_rk" and
          hm[0]["evidence"] == "in module memory (its struct module) but "
          "not on the module list nor in /sys/module (module_kset)" and
          hm[0]["owner"] == "vmsight_rk",
          "%s: hidden_modules finds vmsight_rk only by carving module "
          "memory" % name, json.dumps(hm, indent=1))
    fn = rk.get("inline", "?")
    ih = by.get("inline_hooks", [])
    check(len(ih) == 1 and ih[0]["object"] == fn and
          ih[0]["evidence"].startswith("jmp 0x") and
          "module vmsight_rk (not on the module list)" in
          ih[0]["evidence"] and ih[0]["owner"] == "vmsight_rk" and
          ih[0]["severity"] == "critical",
          "%s: inline_hooks finds the jump over the start of %s into the "
          "hidden module" % (name, fn), json.dumps(ih, indent=1))
    nf = by.get("netfilter_hooks", [])
    check(len(nf) == 1 and nf[0]["object"].startswith(
        "netfilter ipv4 PRE_ROUTING hook ") and
          nf[0]["owner"] == "vmsight_rk" and nf[0]["severity"] == "high",
          "%s: netfilter_hooks finds the hook into the hidden module"
          % name, json.dumps(nf, indent=1))
    ft = by.get("ftrace_hooks", [])
    check(len(ft) == 1 and ft[0]["owner"] == "vmsight_rk" and
          "not on the module list" in ft[0]["evidence"],
          "%s: ftrace_hooks finds the callback in the hidden module" % name,
          json.dumps(ft, indent=1))
    kp = by.get("kprobes", [])
    check(len(kp) == 1 and "version_proc_show" in kp[0]["object"] and
          kp[0]["owner"] == "vmsight_rk",
          "%s: kprobes finds the probe on version_proc_show with its "
          "handler in the hidden module" % name, json.dumps(kp, indent=1))
    # The other hooks are inventory in kernel text: AppArmor's netfilter
    # hooks, and the kprobe's own ftrace_ops (kprobes on ftrace). (The
    # network check's info rows are the listeners, checked below.)
    inv = [r for r in rows if r["severity"] == "info" and
           r["check"] != "network"]
    check(inv and all(r["check"] in ("netfilter_hooks", "ftrace_hooks")
                      and "kernel text" in r["evidence"] for r in inv),
          "%s: the other hooks (%d) are inventory entries in kernel text"
          % (name, len(inv)), json.dumps(inv, indent=1))
    vec = int(rk.get("idt-vector", "-1"))
    it = by.get("idt", [])
    check(len(it) == 1 and it[0]["object"] == "idt vector %#x" % vec and
          it[0]["owner"] == "vmsight_rk" and
          "not on the module list" in it[0]["evidence"] and
          it[0]["severity"] == "critical",
          "%s: idt finds gate %#x leading into the hidden module"
          % (name, vec), json.dumps(it, indent=1))
    ic = by.get("injected_code", [])
    got = sorted((f["object"], int(f["target"], 16),
                  "writable and executable" in f["evidence"],
                  "ELF header" in f["evidence"]) for f in ic)
    want = sorted([("pid %d (vmsight-lab-hel)" % inj[0], inj[1], True,
                    False),
                   ("pid %d (vmsight-lab-hel)" % inj[0], inj[2], False,
                    True)]) if inj else None
    check(inj and got == want and all("first bytes" in f["evidence"]
                                      for f in ic),
          "%s: injected_code finds the helper's RWX area and the ELF "
          "header in anonymous memory, nothing else" % name,
          "vmsight %s\nwant %s" % (got, want))
    # Credentials: one child of the uid-1000 family helper holds
    # init_cred itself, the other a copy; the sniffer runs as root from
    # /tmp.
    share, copy = int(rk.get("cred-share", "-1")), int(rk.get("cred-copy",
                                                              "-1"))
    sniffer = int(rk.get("sniffer", "-1"))
    cr = by.get("credentials", [])
    got = sorted((f["object"], f["evidence"]) for f in cr)
    want_objs = sorted(["pid %d (vmsight-lab-hel)" % share,
                        "pid %d (vmsight-lab-hel)" % copy,
                        "pid %d (.x)" % sniffer])
    ev = {f["object"]: f["evidence"] for f in cr}
    check([o for o, _ in got] == want_objs and
          "init_cred" in ev.get("pid %d (vmsight-lab-hel)" % share, "") and
          "root came from the kernel" in ev.get(
              "pid %d (vmsight-lab-hel)" % copy, "") and
          "has uid 1000" in ev.get("pid %d (vmsight-lab-hel)" % copy, "") and
          "/tmp/.x, in a world-writable directory" in ev.get(
              "pid %d (.x)" % sniffer, ""),
          "%s: credentials finds init_cred shared with pid %d, root "
          "copied to pid %d under a uid-1000 parent, and root running "
          "/tmp/.x (pid %d)" % (name, share, copy, sniffer),
          json.dumps(cr, indent=1))
    # Network: the sniffer's packet socket and promiscuous lo, the net
    # helper's raw sockets (no policy allows them here), and the hidden
    # spinner's packet socket: only the packet socket list shows the
    # socket, and only the run queue view the process that holds it.
    nw = by.get("network", [])
    got = sorted((f["object"], f["evidence"].split(" (")[0])
                 for f in nw)
    spin_ev = [f["evidence"] for f in nw
               if f["object"] == "pid %d (vmsight-lab-hel)" % spinner]
    want = sorted([
        ("pid %d (.x)" % sniffer, "holds a packet socket"),
        ("pid %d (vmsight-lab-hel)" % spinner, "holds a packet socket"),
        ("interface lo", "in promiscuous mode"),
        ("pid %d (vmsight-lab-hel)" % helper_net(truth),
         "holds a raw socket for IP protocol 1"),
        ("pid %d (vmsight-lab-hel)" % helper_net(truth),
         "holds a raw6 socket for IP protocol 58")])
    check(got == want and len(spin_ev) == 1 and spin_ev[0].endswith(
        "; the process is hidden from the task list"),
          "%s: network finds the sniffer's packet socket, the hidden "
          "process's (named as hidden), lo in promiscuous mode, and the "
          "raw sockets" % name,
          "vmsight %s\nwant %s\n%s" % (got, want, spin_ev))
    listeners = {r["object"]: r for r in rows
                 if r["check"] == "network" and r["severity"] == "info"}
    l31337 = listeners.get("tcp 0.0.0.0:31337", {})
    check(l31337.get("owner") == ".x",
          "%s: network lists the backdoor listener on port 31337 with its "
          "process" % name, json.dumps(sorted(listeners), indent=1))

    extra = set(by) - {"syscall_table", "inline_hooks", "hidden_tasks",
                       "hidden_modules",
                       "injected_code", "idt", "netfilter_hooks",
                       "ftrace_hooks", "kprobes", "credentials", "network"}
    check(not extra, "%s: no other findings" % name, repr(extra))

    # The baseline's hook set names the rootkit's hooks by symbols and
    # offsets into its module, which another boot of the same module
    # gives too; the same guest measured from another dump format has
    # not changed.
    rc, out, err = run([a.vmsight, "baseline", g["dumps"]["raw"]])
    ms = [json.loads(l) for l in out.splitlines()]
    rkhooks = sorted(m["object"] for m in ms if m["kind"] == "hook" and
                     "vmsight_rk" in m["object"])
    pats = [r"ftrace_ops: module vmsight_rk\+0x[0-9a-f]+",
            r"kprobe at version_proc_show(\+0x[0-9a-f]+)?: pre module "
            r"vmsight_rk\+0x[0-9a-f]+, post none",
            r"netfilter ipv4 PRE_ROUTING netns \d+: module "
            r"vmsight_rk\+0x[0-9a-f]+"]
    check(rc == 0 and len(rkhooks) == 3 and
          all(re.fullmatch(p, o) for p, o in zip(pats, rkhooks)),
          "%s: the baseline's hook set names the rootkit's netfilter hook, "
          "ftrace_ops and kprobe by module offsets" % name,
          "exit %d %s\n%s" % (rc, err, json.dumps(rkhooks, indent=1)))
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "base.json")
        with open(base, "w") as f:
            f.write(out)
        rc, dout, err = run([a.vmsight, "diff", "--json", base,
                             g["dumps"]["elf"]])
        check(rc == 0 and not dout,
              "%s: diff of the rootkit guest against its own baseline is "
              "empty" % name, "exit %d %s\n%s" % (rc, err, dout))

    # The lab's policy: what the clean guests run is allowed, so what is
    # left is the rootkit's work, the sniffer's listener and process, and
    # the module nobody allowed.
    policy = os.path.join(HERE, "..", "lab", "lab.policy")
    rc, out, err = run([a.vmsight, "check", "--json", "--policy", policy,
                        g["dumps"]["raw"]])
    prow = [json.loads(l) for l in out.splitlines()]
    pby = {}
    for f in prow:
        if f["severity"] != "info":
            pby.setdefault(f["check"], []).append(f)
    got = sorted((f["check"], f["object"]) for c in
                 ("network", "unexpected_modules", "unexpected_processes",
                  "yara")
                 for f in pby.get(c, []))
    want = sorted([("network", "pid %d (.x)" % sniffer),
                   ("network", "pid %d (vmsight-lab-hel)" % spinner),
                   ("network", "interface lo"),
                   ("network", "tcp 0.0.0.0:31337"),
                   ("unexpected_modules", "module vmsight_rk"),
                   ("unexpected_processes", "pid %d (.x)" % sniffer),
                   ("yara", "module vmsight_rk (not on the module list)")])
    check(rc == 3 and got == want and
          len(pby.get("credentials", [])) == 3 and
          len(pby.get("syscall_table", [])) == 1,
          "%s: with lab.policy, the sniffer, its listener, its process, "
          "the rootkit module and (lab.yar) its code are the policy "
          "findings" % name,
          "exit %d %s\nvmsight %s\nwant %s" % (rc, err, got, want))
    # lab.yar's rule names the rootkit's string: found in the hidden
    # module's own memory, and in no process or the kernel image.
    yr = pby.get("yara", [])
    check(len(yr) == 1 and yr[0]["owner"] == "vmsight_rk" and
          yr[0]["evidence"].startswith(
              "rule vmsight_lab_rootkit matches: 1 string match; $gate at ")
          and '"vmsight_rk: gate"' in yr[0]["evidence"],
          "%s: yara (lab.yar) finds the rootkit's code in the hidden "
          "module's memory, and nowhere else" % name,
          json.dumps(yr, indent=1))
    # On a terminal, stderr shows progress (each check, then each object
    # yara scans), erased before the findings and at the end; the
    # findings on stdout are the same as without a terminal.
    rc, out, err = run_on_tty([a.vmsight, "check", "--json", "--only",
                               "syscall_table,yara", "--yara",
                               os.path.join(HERE, "..", "lab", "lab.yar"),
                               g["dumps"]["raw"]])
    # Redraws are throttled, so only the first step after each erase
    # and the last are sure to be drawn.
    steps = [x for x in err.split("\r\x1b[K") if x]
    last = re.fullmatch(r"vmsight: yara: done \[(\d+)/(\d+)\]",
                        steps[-1] if steps else "")
    check(rc == 3 and len(out.splitlines()) == 2 and
          err.endswith("\r\x1b[K") and
          steps[:2] == ["vmsight: syscall_table [0/2]", "vmsight: yara [1/2]"]
          and last and last.group(1) == last.group(2) and
          int(last.group(2)) > 3 and
          all(re.fullmatch(r"vmsight: (syscall_table|yara)(: .+)? "
                           r"\[\d+/\d+\]", x) for x in steps),
          "%s: on a terminal, check shows its progress on stderr (checks, "
          "then what yara scans) and erases it" % name,
          "exit %d\n%r\n%s" % (rc, err[:2000], out))

    # A policy's fail-on and run set, and a bad policy's line number.
    with tempfile.TemporaryDirectory() as tmp:
        pol = os.path.join(tmp, "p")
        with open(pol, "w") as f:
            f.write("run hidden_modules network\nfail-on critical\n"
                    "severity network critical\nallow raw vmsight-lab-hel\n"
                    "ignore network interface lo\n")
        rc, out, err = run([a.vmsight, "check", "--json", "--policy", pol,
                            g["dumps"]["raw"]])
        prow = [json.loads(l) for l in out.splitlines()]
        sev = sorted((r["check"], r["severity"], r["object"])
                     for r in prow if r["severity"] != "info")
        want = sorted([("hidden_modules", "high", "module vmsight_rk"),
                       ("network", "critical", "pid %d (.x)" % sniffer),
                       ("network", "critical",
                        "pid %d (vmsight-lab-hel)" % spinner)])
        check(rc == 3 and sev == want,
              "%s: a policy's run set, severity and ignore rules shape the "
              "findings" % name, "exit %d %s\n%s" % (rc, err, sev))
        with open(pol, "w") as f:
            f.write("run hidden_modules\nfail-on critical\n")
        rc, _, err = run([a.vmsight, "check", "--policy", pol,
                          g["dumps"]["raw"]])
        check(rc == 0, "%s: the policy's fail-on critical passes a high "
              "finding" % name, "exit %d %s" % (rc, err))
        with open(pol, "w") as f:
            f.write("# ok\nrun hidden_modules\n\nallow listener tcp\n")
        rc, out, err = run([a.vmsight, "check", "--policy", pol,
                            g["dumps"]["raw"]])
        check(rc == 2 and not out and err.strip() == (
            "vmsight check: bad policy: %s:4: usage: allow listener PROTO "
            "ADDRESS:PORT [PROCESS]" % pol),
              "%s: a bad policy is rejected with its line number" % name,
              "exit %d\n%s" % (rc, err))

    # The process list no longer shows it: that is what was hidden.
    rc, out, _ = run([a.vmsight, "ps", "--json", g["dumps"]["raw"]])
    pids = {json.loads(l)["pid"] for l in out.splitlines()}
    check(rc == 0 and hidden not in pids,
          "%s: ps (the task list) does not show pid %d" % (name, hidden))

    # Exit status by severity: the hidden module is "high", so failing
    # only on "critical" passes when the syscall check is left out.
    rc, _, err = run([a.vmsight, "check", "--only", "hidden_modules",
                      "--fail-on", "critical", g["dumps"]["raw"]])
    check(rc == 0, "%s: --only hidden_modules --fail-on critical exits 0"
          % name, "exit %d: %s" % (rc, err))
    rc, _, _ = run([a.vmsight, "check", "--only", "syscall_table",
                    "--fail-on", "critical", g["dumps"]["raw"]])
    check(rc == 3, "%s: --only syscall_table --fail-on critical exits 3"
          % name)
    rc, _, err = run([a.vmsight, "check", "--only", "nope",
                      g["dumps"]["raw"]])
    check(rc == 2 and "no check called 'nope'" in err,
          "%s: an unknown check name is a usage error" % name, err)

    failed = sum(1 for ok in results if not ok)
    print("1..%d" % len(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
