#!/usr/bin/env python3
"""Integration test on a real lab guest: vmsight against the guest's own
view of itself (the VMS-TRUTH lines its init printed before the dump).

For one guest (kernel x paging mode), for every dump format QEMU wrote
plus the formats tests/tools/mkdump derives from the raw copy (LiME,
plain kdump with zstd/lzo/snappy, flattened kdump with lzo), checks:

  - ps equals the guest's process list: pids, comms, ppids, uids, gids,
    thread counts, and states;
  - every format gives byte-identical ps output;
  - info reports the _text address and KASLR slide the guest's
    /proc/kallsyms implies, and the paging mode the guest ran;
  - symbols reproduces the guest's /proc/kallsyms (core part) exactly:
    same count, same md5;
  - VMCOREINFO is used when the dump has it, and not needed otherwise.

The narrow exceptions, and why:
  - kworker kernel threads: the workqueue code creates and retires them
    on its own between the truth print and the dump. They may appear on
    one side only; where on both, /proc shows the comm with the current
    work item appended ("kworker/0:1-events"), so the guest's name must
    start with vmsight's.
  - pid 1's state: init was running (R) while it printed the truth, and
    sleeps in read(2) when dumped.

Then the views of issue 3, each compared with the guest's truth and
required to be identical across formats: psaux (command lines and
environments, byte for byte), threads (every thread id of every user
process), creds (real/effective/saved/fs ids and the five capability
sets), lsmod (each /proc/modules line, in order), dmesg (the guest's
dmesg output must be a prefix of vmsight's: the kernel may log after the
truth was printed; the same for dmesg -r, with levels and facilities),
pstree (every process once, under its parent),
mounts, lsof and maps (a program run from a file deleted since, and a
deleted file held open, both with " (deleted)"), dump, netstat (both network namespaces, owners, and
no owner for the socket only an in-flight message holds) and cat (each
file the guest summed, holes, --out, "..", and its errors). Finally,
every intrusion-detection check must run and find nothing on these clean
guests (check_test.py covers the rootkit guests).

Output is TAP.
"""
import argparse, hashlib, json, os, re, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_LINK = 0xffffffff81000000

results = []


def check(ok, desc, detail=""):
    results.append(ok)
    print("%s %d - %s" % ("ok" if ok else "not ok", len(results), desc))
    if not ok and detail:
        for line in str(detail).splitlines()[:40]:
            print("#   " + line)
    sys.stdout.flush()


def parse_truth(path):
    t = {"ps": {}, "sym": {}}
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")  # log lines keep their spaces
            i = line.find("VMS-TRUTH ")
            if i < 0:
                continue
            rest = line[i + len("VMS-TRUTH "):]
            kind, _, body = rest.partition(" ")
            if kind == "ps":
                uid, gid, thr, stat = body.split(" ", 3)
                lp, rp = stat.index("("), stat.rindex(")")
                pid = int(stat[:lp])
                fields = stat[rp + 2:].split()
                t["ps"][pid] = {
                    "pid": pid, "comm": stat[lp + 1:rp], "state": fields[0],
                    "ppid": int(fields[1]), "uid": int(uid), "gid": int(gid),
                    "threads": int(thr)}
            elif kind == "sym":
                addr, typ, name = body.split()
                t["sym"][name] = int(addr, 16)
            elif kind == "kallsyms":
                count, md5 = body.split()[:2]
                t["kallsyms"] = (int(count), md5)
            elif kind == "version":
                t["version"] = body
            elif kind in ("cmdline", "environ"):
                pid, _, hexdata = body.partition(" ")
                t.setdefault(kind, {})[int(pid)] = bytes.fromhex(hexdata)
            elif kind == "cred":
                f = body.split()
                t.setdefault("cred", {})[int(f[0])] = (
                    [int(x) for x in f[1:9]] + [int(x, 16) for x in f[9:14]])
            elif kind == "thread":
                pid, tid = body.split()
                t.setdefault("thread", set()).add((int(pid), int(tid)))
            elif kind == "module":
                t.setdefault("module", []).append(body)
            elif kind in ("dmesg", "dmesg-raw"):
                t.setdefault(kind, []).append(body)
            elif kind == "fd":
                pid, fd, target = (body.split(" ", 2) + [""])[:3]
                t.setdefault("fd", set()).add((int(pid), int(fd), target))
            elif kind == "maps":
                pid, _, line = body.partition(" ")
                t.setdefault("maps", {}).setdefault(int(pid), []).append(
                    line.split())
            elif kind in ("net", "netns-net"):
                ns = None
                if kind == "netns-net":
                    ns, _, body = body.partition(" ")
                    ns = int(ns)
                proto, _, line = body.partition(" ")
                f = line.split()
                if not f or f[0] in ("sl", "Num"):
                    continue
                t.setdefault("net", []).append((ns, proto, f))
            elif kind == "netns":
                pid, link = body.split()
                t.setdefault("netns", {})[int(pid)] = int(link[5:-1])
            elif kind == "mount":
                t.setdefault("mount", []).append(body.split()[:4])
            elif kind == "file":
                path, size, md5 = body.split()[:3]
                t.setdefault("file", {})[path] = (int(size), md5)
            elif kind in ("hostname", "cmdline-kernel"):
                t[kind] = body
            elif kind == "uptime":
                t["uptime"] = float(body.split()[0])
            elif kind == "btime":
                t["btime"] = int(body)
    return t


def run(args, timeout=600):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def is_kworker(p):
    return p["comm"].startswith("kworker/")


def compare_ps(truth, got):
    problems = []
    mine = {p["pid"]: p for p in got}
    for pid, t in sorted(truth.items()):
        m = mine.get(pid)
        if m is None:
            if not is_kworker(t):
                problems.append("pid %d (%s) missing" % (pid, t["comm"]))
            continue
        if is_kworker(t):
            if not t["comm"].startswith(m["comm"]):
                problems.append("pid %d comm %r, guest says %r"
                                % (pid, m["comm"], t["comm"]))
            continue
        for key in ("comm", "ppid", "uid", "gid", "threads", "state"):
            if key == "state" and pid == 1:
                continue
            # A kernel thread that ran while init read /proc (rcu_preempt
            # waking, say) was R for that instant only: the state read
            # later may differ, on a running guest above all.
            if key == "state" and m["kthread"] and "R" in (m[key], t[key]):
                continue
            if m[key] != t[key]:
                problems.append("pid %d %s: vmsight %r, guest %r"
                                % (pid, key, m[key], t[key]))
    for pid, m in sorted(mine.items()):
        if pid not in truth and not (m["kthread"] and
                                     m["comm"].startswith("kworker/")):
            problems.append("pid %d (%s) not in the guest's view"
                            % (pid, m["comm"]))
    return problems


def jsonl(out):
    return [json.loads(l) for l in out.splitlines()]


def image_scan_began_right(a, g, fmt, path, info):
    """With no VMCOREINFO, the kallsyms scan must begin at the image that
    page tables map: the vCPUs' where QEMU's CPU notes are (ELF, kdump),
    else the real-mode trampoline's, below 1 MiB, first time. It must
    start past the image's text, at .rodata, where the kernel's own page
    tables stop mapping it executable."""
    rc, _, err = run([a.vmsight, "info", "-v", path])
    text = int(info["text_paddr"], 16)
    found = re.findall(r"(a vCPU|the page table at physical (0x[0-9a-f]+))"
                       r" maps a kernel image at physical (0x[0-9a-f]+): "
                       r"scanning it first, from physical (0x[0-9a-f]+)",
                       err)
    if fmt in ("elf", "kdump-zlib"):
        check(rc == 0 and len(found) >= 1 and found[0][0] == "a vCPU" and
              int(found[0][2], 16) == text,
              "%s %s: the scan began at the image the vCPUs map "
              "(physical %s)" % (g["name"], fmt, info["text_paddr"]),
              err[-2000:])
    else:
        check(rc == 0 and len(found) == 1 and found[0][1] and
              int(found[0][1], 16) < 1 << 20 and
              int(found[0][2], 16) == text,
              "%s %s: the scan began at the image that a page "
              "table below 1 MiB maps (physical %s)"
              % (g["name"], fmt, info["text_paddr"]), err[-2000:])
    rc, out, _ = run([a.vmsight, "symbols", path])
    sym = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[2] in ("_text", "__start_rodata"):
            sym.setdefault(f[2], int(f[0], 16))
    check(rc == 0 and len(sym) == 2 and found and
          int(found[0][3], 16) - text == sym["__start_rodata"] - sym["_text"],
          "%s %s: the image scan started past the text, at .rodata "
          "(%s)" % (g["name"], fmt, found[0][3] if found else "not logged"),
          "symbols %r" % sym)


def views_match_truth(a, g, truth, dumps):
    """The issue-3 views against the guest's own /proc, on every format,
    and identical across formats."""
    name = g["name"]
    kworker = {p for p, t in truth["ps"].items() if is_kworker(t)}
    views = {
        "psaux": ["psaux", "--json", "--env"], "threads": ["threads",
        "--json"], "creds": ["creds", "--json"], "lsmod": ["lsmod",
        "--json"], "dmesg": ["dmesg"], "dmesg-raw": ["dmesg", "--raw"],
        "pstree": ["pstree", "--json"],
        "mounts": ["mounts", "--json"], "lsof": ["lsof", "--json"],
        "netstat": ["netstat", "--json"]}
    for view, args in views.items():
        outs = {}
        for fmt, path in sorted(dumps.items()):
            rc, out, err = run([a.vmsight] + args + [path])
            if rc:
                check(False, "%s %s: %s exits 0" % (name, fmt, view), err)
                continue
            outs[fmt] = out
        raw = outs.get("raw")
        check(raw is not None and all(o == raw for o in outs.values())
              and len(outs) == len(dumps),
              "%s: %s identical on all %d formats" % (name, view,
                                                      len(dumps)),
              "differing: %s" % sorted(f for f, o in outs.items()
                                       if o != raw))
        if raw is None:
            continue
        problems = []
        if view == "psaux":
            mine = {r["pid"]: r for r in jsonl(raw)}
            for kind, key in (("cmdline", "argv"), ("environ", "env")):
                for pid, want in truth[kind].items():
                    r = mine.get(pid)
                    got = (b"".join(x.encode() + b"\0" for x in r[key])
                           if r else None)
                    if got != want or not r[key + "_complete"]:
                        problems.append("pid %d %s: %r, guest %r"
                                        % (pid, kind, got, want))
            ok_desc = "%d command lines and environments" % len(
                truth["cmdline"])
        elif view == "threads":
            mine = {(r["pid"], r["tid"]) for r in jsonl(raw)
                    if r["pid"] not in kworker}
            want = {x for x in truth["thread"] if x[0] not in kworker}
            mine = {x for x in mine if x[0] in truth["ps"]}
            if mine != want:
                problems.append("missing %s, extra %s" % (
                    sorted(want - mine), sorted(mine - want)))
            ok_desc = "%d threads" % len(want)
        elif view == "creds":
            keys = ("uid", "euid", "suid", "fsuid", "gid", "egid", "sgid",
                    "fsgid", "cap_inheritable", "cap_permitted",
                    "cap_effective", "cap_bounding", "cap_ambient")
            mine = {r["pid"]: r for r in jsonl(raw)}
            for pid, want in truth["cred"].items():
                r = mine.get(pid)
                if r is None:
                    if pid not in kworker:
                        problems.append("pid %d missing" % pid)
                    continue
                got = [int(r[k], 16) if k.startswith("cap") else r[k]
                       for k in keys]
                if got != want:
                    problems.append("pid %d: %s, guest %s" % (pid, got,
                                                              want))
            ok_desc = "%d processes" % len(truth["cred"])
        elif view == "lsmod":
            got = ["%s %d %d %s %s %s%s" % (
                r["name"], r["size"], r["refcount"], r["users"], r["state"],
                "0x%016x" % int(r["base"], 16),
                " " + r["taints"] if r["taints"] else "")
                for r in jsonl(raw)]
            if got != truth["module"]:
                problems.append("vmsight %s\nguest   %s" % (
                    got, truth["module"]))
            ok_desc = "%d modules, line for line" % len(got)
        elif view in ("dmesg", "dmesg-raw"):
            # dmesg-raw: busybox dmesg -r, the "<facility*8+level>"
            # prefix of every line.
            got = raw.splitlines()
            want = truth[view]
            if got[:len(want)] != want:
                diff = next(i for i in range(len(want))
                            if i >= len(got) or got[i] != want[i])
                problems.append("line %d: vmsight %r, guest %r" % (
                    diff, got[diff] if diff < len(got) else None,
                    want[diff]))
            ok_desc = "%d lines" % len(want)
        elif view == "lsof":
            # pid 1 is left out: it printed the truth through shell
            # redirections and sits in "read < /tmp/block" at dump time,
            # so its descriptors legitimately differ.
            got = {(r["pid"], r["fd"], r["path"]) for r in jsonl(raw)
                   if r["pid"] != 1}
            want = {x for x in truth["fd"] if x[0] != 1}
            if got != want:
                problems.append("missing %s\nextra %s" % (
                    sorted(want - got), sorted(got - want)))
            ok_desc = "%d descriptors: sockets, pipes, anon inodes, files" \
                % len(want)
        elif view == "netstat":
            got = set()
            owned = {}
            for r in jsonl(raw):
                if r["proto"] == "unix":
                    got.add(("unix", r["local"], "", r["inode"],
                             r["netns"]))
                elif r["proto"] in ("tcp", "tcp6", "udp", "udp6", "raw",
                                    "raw6"):
                    got.add((r["proto"], r["local"], r["remote"],
                             r["state"], r["inode"], r["netns"]))
                owned[r["inode"]] = r["owners"]
            want = net_truth(truth)
            if got != want:
                problems.append("missing %s\nextra %s" % (
                    sorted(want - got), sorted(got - want)))
            # Each socket's owners: every process holding it in its fds.
            holders = {}
            for pid, fd, target in truth["fd"]:
                if target.startswith("socket:[") and pid != 1:
                    holders.setdefault(int(target[8:-1]), set()).add(pid)
            for inode, pids in holders.items():
                mine = {int(o.split("/")[0]) for o in owned.get(inode, [])}
                if mine - {1} != pids:
                    problems.append("socket %d: owners %s, guest %s" % (
                        inode, sorted(mine), sorted(pids)))
            # Sockets no process holds (the helper's listener in flight
            # in an unread SCM_RIGHTS message) must have no owner.
            unowned = [i for i, o in owned.items()
                       if i not in holders and
                       [x for x in o if not x.startswith("1/")]]
            if unowned:
                problems.append("owners for unheld sockets %s" % unowned)
            if not any(o == [] for o in owned.values()):
                problems.append("no unowned socket found")
            ok_desc = "%d sockets in %d namespaces, with their owners" % (
                len(want), len({x[-1] for x in want}))
        elif view == "mounts":
            got = [[r["device"], r["path"], r["fstype"], r["options"]]
                   for r in jsonl(raw)]
            # The generic options; filesystem-specific ones (size=,
            # mode=, inode64) are not decoded.
            generic = {"ro", "rw", "sync", "dirsync", "mand", "lazytime",
                       "nosuid", "nodev", "noexec", "noatime",
                       "nodiratime", "relatime", "nosymfollow"}
            want = [[d, p, t, ",".join(x for x in o.split(",")
                                       if x in generic)]
                    for d, p, t, o in truth["mount"]]
            if got != want:
                problems.append("vmsight %s\nguest   %s" % (got, want))
            ok_desc = "%d mounts: device, mount point, type, generic " \
                "options" % len(got)
        elif view == "pstree":
            rows = jsonl(raw)
            pids = [r["pid"] for r in rows]
            if len(pids) != len(set(pids)) or set(pids) != {
                    p for p in truth["ps"]} | set(pids) - set(truth["ps"]):
                problems.append("pids listed more than once")
            stack = []
            for r in rows:
                del stack[r["depth"]:]
                if r["depth"] and stack[-1] != r["ppid"]:
                    problems.append("pid %d under %d, parent %d" % (
                        r["pid"], stack[-1], r["ppid"]))
                stack.append(r["pid"])
            missing = set(truth["ps"]) - set(pids) - kworker
            if missing:
                problems.append("missing %s" % sorted(missing))
            ok_desc = "%d processes under their parents" % len(rows)
        check(not problems, "%s: %s matches the guest (%s)" % (
            name, view, ok_desc), "\n".join(problems))


TCP_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV",
              4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT", 7: "CLOSE",
              8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING"}


def proc_net_addr(hexaddr):
    """/proc/net/tcp's "0100007F:1389" (32-bit words in host order)."""
    import ipaddress, struct
    addr, port = hexaddr.split(":")
    raw = b"".join(struct.pack("<I", int(addr[i:i + 8], 16))
                   for i in range(0, len(addr), 8))
    ip = ipaddress.ip_address(raw)
    port = int(port, 16)
    if ip.version == 6:
        return "[%s]:%d" % (ip.compressed, port)
    return "%s:%d" % (ip, port)


def net_truth(truth):
    """The guest's sockets as vmsight names them, each with the inode of
    its network namespace: /proc/net/* of init's namespace, and
    /proc/PID/net/* of the process the guest started in a namespace of
    its own."""
    want = set()
    for pid, proto, f in truth.get("net", []):
        ns = truth["netns"][pid or 1]
        if proto == "unix":
            inode = int(f[6])
            path = f[7] if len(f) > 7 else ""
            want.add(("unix", path, "", inode, ns))
            continue
        st = int(f[3], 16)
        state = TCP_STATES.get(st, str(st)) if proto.startswith("tcp") \
            else ("ESTABLISHED" if st == 1 else "")
        want.add((proto, proc_net_addr(f[1]), proc_net_addr(f[2]),
                  state, int(f[9]), ns))
    return want


def maps_match_truth(a, g, truth, dumps):
    """maps for every user process but init (whose shell heap and stack
    move on after it prints), field for field, on every format."""
    name = g["name"]
    for pid, want in sorted(truth.get("maps", {}).items()):
        if pid == 1:
            continue
        outs = {}
        for fmt, path in sorted(dumps.items()):
            rc, out, err = run([a.vmsight, "maps", str(pid), path])
            outs[fmt] = out if rc == 0 else "exit %d: %s" % (rc, err)
        raw = outs["raw"]
        got = [l.split() for l in raw.splitlines()]
        same = all(o == raw for o in outs.values())
        check(got == want and same,
              "%s: maps %d matches /proc/%d/maps (%d areas) on all %d "
              "formats" % (name, pid, pid, len(want), len(dumps)),
              "vmsight:\n%s\nguest:\n%s\ndiffering formats: %s" % (
                  raw, "\n".join(" ".join(x) for x in want),
                  sorted(f for f, o in outs.items() if o != raw)))


def dump_matches_truth(a, g, truth, dumps, tmp):
    """dump PID --out DIR for each helper process: an index entry and a
    file of the right size per area of maps, the ELF header at the start
    of the executable, the guest's own argv and environment bytes in the
    dumped stack, and byte-identical output from raw and kdump dumps."""
    import filecmp, shutil
    name = g["name"]
    for pid, cmd in sorted(truth["cmdline"].items()):
        if b"vmsight-lab-helper" not in cmd:
            continue
        outs = {}
        for fmt in ("raw", "kdump-zlib"):
            d = os.path.join(tmp, "dump-%d-%s" % (pid, fmt))
            rc, out, err = run([a.vmsight, "dump", str(pid), "--out", d,
                                dumps[fmt]])
            outs[fmt] = d if rc == 0 else None
            if rc:
                check(False, "%s: dump %d from %s" % (name, pid, fmt), err)
        d = outs["raw"]
        if not d:
            continue
        with open(os.path.join(d, "index.json")) as f:
            index = json.load(f)
        problems = []
        areas = [l for l in truth["maps"][pid] if l[-1] != "[vsyscall]"]
        if len(index) != len(areas):
            problems.append("%d index entries for %d areas" % (
                len(index), len(areas)))
        for e in index:
            size = int(e["end"], 16) - int(e["start"], 16)
            path = os.path.join(d, e["file"])
            if os.path.getsize(path) != size:
                problems.append("%s: %d bytes, area %d" % (
                    e["file"], os.path.getsize(path), size))
        with open(os.path.join(d, index[0]["file"]), "rb") as f:
            if f.read(4) != b"\x7fELF":
                problems.append("no ELF header at the executable's start")
        stack = [e for e in index if e["name"] == "[stack]"]
        with open(os.path.join(d, stack[0]["file"]), "rb") as f:
            data = f.read()
        for kind in ("cmdline", "environ"):
            if truth[kind][pid] not in data:
                problems.append("the guest's %s is not in the stack" % kind)
        if outs["kdump-zlib"]:
            cmp = filecmp.dircmp(d, outs["kdump-zlib"])
            if cmp.diff_files or cmp.left_only or cmp.right_only:
                problems.append("raw and kdump dumps differ: %s" % (
                    cmp.diff_files + cmp.left_only + cmp.right_only))
        check(not problems, "%s: dump %d writes %d areas, argv and "
              "environment found in its stack, same from raw and kdump"
              % (name, pid, len(index)), "\n".join(problems))
        for x in outs.values():
            if x:
                shutil.rmtree(x)


def cat_matches_truth(a, g, truth, dumps, tmp):
    """cat PATH for each file the guest summed (on tmpfs, across a mount
    point, sparse, behind relative and absolute symbolic links, and the
    rootfs's busybox): the guest's size and md5, on every format. Then
    the page map of the sparse file (holes exactly where the content is
    zero pages, resident elsewhere), --out keeping holes, a path that
    climbs back across a mount with "..", and the errors."""
    name = g["name"]
    for path, (size, md5) in sorted(truth["file"].items()):
        bad = []
        for fmt, dump in sorted(dumps.items()):
            p = subprocess.run([a.vmsight, "cat", path, dump],
                               capture_output=True, timeout=600)
            got = hashlib.md5(p.stdout).hexdigest()
            if p.returncode or len(p.stdout) != size or got != md5:
                bad.append("%s: exit %d, %d bytes, md5 %s: %s" % (
                    fmt, p.returncode, len(p.stdout), got,
                    p.stderr.decode(errors="replace").strip()))
        check(not bad, "%s: cat %s gives the guest's %d bytes (md5 %s) on "
              "all %d formats" % (name, path, size, md5, len(dumps)),
              "\n".join(bad))

    raw = dumps["raw"]
    p = subprocess.run([a.vmsight, "cat", "/tmp/sparse", raw],
                       capture_output=True, timeout=600)
    data = p.stdout
    rc, out, err = run([a.vmsight, "cat", "--json", "/tmp/sparse", raw])
    ext = jsonl(out) if rc == 0 else []
    problems = [] if rc == 0 else [err]
    pos = 0
    for e in ext:
        if e["offset"] != pos:
            problems.append("extent at %d, expected %d" % (e["offset"], pos))
        chunk = data[e["offset"]:e["offset"] + e["length"]]
        if e["state"] == "hole" and chunk.strip(b"\0"):
            problems.append("a hole at %d holds data" % e["offset"])
        if e["state"] not in ("hole", "resident"):
            problems.append("state %s at %d" % (e["state"], e["offset"]))
        pos += e["length"]
    if pos != len(data) or not any(e["state"] == "hole" for e in ext):
        problems.append("extents cover %d of %d bytes; holes: %s" % (
            pos, len(data), [e for e in ext if e["state"] == "hole"]))
    check(not problems, "%s: cat --json maps /tmp/sparse as %d extents, "
          "holes where it reads zeros" % (name, len(ext)),
          "\n".join(problems))

    outf = os.path.join(tmp, "sparse.out")
    rc, out, err = run([a.vmsight, "cat", "/tmp/sparse", "--out", outf, raw])
    st = os.stat(outf) if rc == 0 else None
    with open(outf, "rb") as f:
        same = f.read() == data
    check(rc == 0 and same and st.st_blocks * 512 < st.st_size,
          "%s: cat --out writes /tmp/sparse with its holes (%s blocks)" % (
              name, st.st_blocks if st else "-"), err)
    os.unlink(outf)

    size, md5 = truth["file"]["/tmp/marker"]
    p = subprocess.run([a.vmsight, "cat", "/tmp/inner/deeper/../.././marker",
                        raw], capture_output=True, timeout=600)
    check(p.returncode == 0 and hashlib.md5(p.stdout).hexdigest() == md5,
          "%s: cat climbs back across a mount point with .." % name,
          p.stderr.decode(errors="replace"))
    expect_error(a, ["cat", "/tmp/no-such-file", raw], 1,
                 "not in the guest's dentry cache", "%s: cat of a missing "
                 "file" % name)
    expect_error(a, ["cat", "/tmp/inner", raw], 1, "is a directory",
                 "%s: cat of a directory" % name)
    expect_error(a, ["cat", "/tmp/marker/x", raw], 1, "not a directory",
                 "%s: cat through a file" % name)
    expect_error(a, ["cat", "tmp/marker", raw], 1, "must be absolute",
                 "%s: cat of a relative path" % name)
    expect_error(a, ["cat", raw], 2, "usage", "%s: cat without a path" % name)


def marker_mappings(truth):
    """pid -> start of its /tmp/marker mapping, from the guest's maps."""
    out = {}
    for pid, lines in truth.get("maps", {}).items():
        for f in lines:
            if len(f) >= 6 and f[5] == "/tmp/marker":
                out[pid] = int(f[0].split("-")[0], 16)
    return out


def yara_rules(truth):
    """Rules built from the guest's own truth: its marker file, and its
    banner (/proc/version up to the release), plus one that matches
    nothing in the guest."""
    release = truth["version"].split()[2]
    return ("rule lab_marker { strings: $m = \"vmsight lab marker 7f3a9c\" "
            "condition: $m }\n"
            "rule banner { strings: $b = \"Linux version %s \" "
            "condition: $b }\n"
            "rule absent { strings: $x = \"vmsight lab marker 000000\" "
            "$h = { 7f 3a 9c 00 11 22 33 44 55 66 } condition: any of them }"
            "\n" % release)


def yara_matches_truth(a, g, truth, dumps, tmp):
    """YARA over process and kernel memory: the lab marker is in every
    process that maps /tmp/marker, at the mapping's start; the banner is
    in the kernel image at linux_banner; the absent rule never matches.
    The same through a policy's yara directive; bad rules and a yara
    check without rules are usage errors."""
    rules = os.path.join(tmp, "lab-test.yar")
    with open(rules, "w") as f:
        f.write(yara_rules(truth))
    marker = marker_mappings(truth)
    banner = truth["sym"]["linux_banner"]
    want = sorted((pid, start, "/tmp/marker")
                  for pid, start in marker.items())
    results_by_fmt = {}
    for fmt, path in sorted(dumps.items()):
        rc, out, err = run([a.vmsight, "check", "--json", "--only", "yara",
                            "--yara", rules, path])
        rows = [json.loads(l) for l in out.splitlines()]
        got = sorted((int(r["object"].split()[1]), int(r["target"], 16),
                      r["owner"]) for r in rows
                     if r["evidence"].startswith("rule lab_marker ") and
                     r["object"].startswith("pid "))
        text = [r for r in rows
                if r["evidence"].startswith("rule lab_marker ") and
                '$m at %#x "vmsight lab marker 7f3a9c"' % marker.get(
                    int(r["object"].split()[1]), -1) in r["evidence"]]
        kern = [r for r in rows if r["object"] == "kernel" and
                r["evidence"].startswith("rule banner ") and
                "$b at %#x " % banner in r["evidence"]]
        other = [r for r in rows if not r["object"].startswith("pid ") and
                 r["evidence"].startswith("rule lab_marker ")] + [
            r for r in rows if r["object"] != "kernel" and
            not r["evidence"].startswith(("rule lab_marker ",
                                          "rule banner "))]
        absent = [r for r in rows if "rule absent" in r["evidence"]]
        check(rc == 3 and err == "" and got == want and
              len(text) == len(want) and len(kern) == 1 and not other and
              not absent,
              "%s %s: yara finds the marker in the %d processes that map "
              "/tmp/marker, at the mapping, and the banner at linux_banner "
              "%#x" % (g["name"], fmt, len(want), banner),
              "exit %d %s\nvmsight %s\nwant %s\nother %s" % (
                  rc, err, got, want, json.dumps(other + absent, indent=1)))
        results_by_fmt[fmt] = out
    first = results_by_fmt.get("raw")
    same = [f for f, o in results_by_fmt.items() if o == first]
    check(len(same) == len(results_by_fmt),
          "%s: yara gives identical findings on all %d formats"
          % (g["name"], len(results_by_fmt)),
          "differing: %s" % sorted(set(results_by_fmt) - set(same)))

    # A rule that matches in many processes: they are scanned in
    # parallel (one scanner per CPU), and their findings must come out
    # in task-list order, the order ps lists them.
    bb = os.path.join(tmp, "busybox.yar")
    with open(bb, "w") as f:
        f.write('rule busybox { strings: $a = "BusyBox v1." '
                'condition: $a }\n')
    rc, out, err = run([a.vmsight, "check", "--json", "--only", "yara",
                        "--yara", bb, dumps["raw"]])
    pids = [int(json.loads(l)["object"].split()[1])
            for l in out.splitlines()]
    _, psout, _ = run([a.vmsight, "ps", "--json", dumps["raw"]])
    order = [json.loads(l)["pid"] for l in psout.splitlines()]
    # (Which applets have the page with the banner mapped is up to
    # them: the count is not asserted beyond "many".)
    check(rc == 3 and len(pids) >= 4 and len(set(pids)) == len(pids) and
          pids == [p for p in order if p in set(pids)],
          "%s: busybox found in %d processes, in task-list order"
          % (g["name"], len(pids)),
          "exit %d %s\nvmsight %s\nps %s" % (rc, err, pids, order))

    # The policy's yara directive, relative to the policy file.
    pol = os.path.join(tmp, "yara.policy")
    with open(pol, "w") as f:
        f.write("run yara\nyara lab-test.yar\n")
    rc, out, err = run([a.vmsight, "check", "--json", "--policy", pol,
                        dumps["raw"]])
    check(rc == 3 and out == first,
          "%s: a policy's yara directive (relative to the policy) scans "
          "with its rules" % g["name"], "exit %d %s" % (rc, err))

    bad = os.path.join(tmp, "bad.yar")
    with open(bad, "w") as f:
        f.write("rule ok { condition: true }\nrule b { strings: $a = \"x\" "
                "condition: $b }\n")
    expect_error(a, ["check", "--yara", bad, dumps["raw"]], 2,
                 "vmsight check: bad YARA rules: %s:2: " % bad,
                 "%s: rules that do not compile are rejected with their "
                 "line" % g["name"])
    expect_error(a, ["check", "--only", "yara", dumps["raw"]], 2,
                 "vmsight check: the yara check needs rules",
                 "%s: the yara check without rules is a usage error"
                 % g["name"])
    expect_error(a, ["check", "--only", "idt", "--yara", rules,
                     dumps["raw"]], 2,
                 "vmsight check: --yara given, but the yara check does "
                 "not run",
                 "%s: --yara without the yara check is a usage error"
                 % g["name"])


def kernel_threads(truth):
    """kthreadd (pid 2) and its children, from the guest's ps."""
    return {p for p, e in truth["ps"].items() if p == 2 or e["ppid"] == 2}


def baseline_matches_truth(a, g, truth, dumps, tmp):
    """baseline records the guest's modules, user processes, kernel text
    and rodata page by page; diff of the same dump in every other format
    is empty; diff of the same boot after init loaded tcp_vegas reports
    exactly that module."""
    base = os.path.join(tmp, "base.json")
    rc, out, err = run([a.vmsight, "baseline", dumps["raw"]])
    with open(base, "w") as f:
        f.write(out)
    rows = [json.loads(l) for l in out.splitlines()] if rc == 0 else []
    kinds = {}
    for r in rows[1:]:
        kinds.setdefault(r["kind"], []).append(r)
    mods = sorted(r["object"] for r in kinds.get("module", []))
    want_mods = sorted(m.split()[0] for m in truth.get("module", []))
    kt = kernel_threads(truth)
    procs = sorted(r["object"] for r in kinds.get("process", []))
    want_procs = sorted("pid %d (%s)" % (p, e["comm"])
                        for p, e in truth["ps"].items() if p not in kt)
    text_pages = (truth["sym"]["_etext"] - truth["sym"]["_text"] +
                  4095) // 4096
    check(rc == 0 and rows and rows[0]["object"] == "vmsight-baseline" and
          mods == want_mods and procs == want_procs and
          len(kinds.get("text", [])) == text_pages and
          all(len(r["sha256"]) == 64 for r in kinds.get("text", [])) and
          len(kinds.get("rodata", [])) > 0 and
          len(kinds.get("syscall_table", [])) == 1 and
          len(kinds.get("idt", [])) == 1 and
          len(kinds.get("listener", [])) > 0,
          "%s: baseline holds %d text pages, the guest's %d modules and "
          "%d user processes" % (g["name"], text_pages, len(want_mods),
                                 len(want_procs)),
          "exit %d %s\nmodules %s / %s\nprocesses %s / %s" % (
              rc, err, mods, want_mods, procs, want_procs))
    for fmt, path in sorted(dumps.items()):
        if fmt == "raw":
            continue
        rc, out, err = run([a.vmsight, "diff", "--json", base, path])
        check(rc == 0 and out == "" and err == "",
              "%s %s: diff against the raw dump's baseline is empty"
              % (g["name"], fmt), "exit %d\n%s%s" % (rc, out[:3000], err))
    late = g.get("late")
    rc, out, err = run([a.vmsight, "diff", "--json", base, late or "-"])
    rows = [json.loads(l) for l in out.splitlines()] if rc == 3 else []
    got = sorted((r["change"], r["kind"], r["object"]) for r in rows)
    check(late and rc == 3 and got == [("added", "module", "tcp_vegas")],
          "%s: the same boot after loading tcp_vegas differs from the "
          "baseline by that module only" % g["name"],
          "exit %d %s\n%s" % (rc, err, "\n".join(map(str, got))))
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        f.write('{"kind":"text"}\n')
    expect_error(a, ["diff", bad, dumps["raw"]], 2,
                 "vmsight diff: bad baseline: %s:1: not a baseline entry"
                 % bad, "%s: diff rejects a file that is not a baseline"
                 % g["name"])


def expect_error(a, args, code, needle, desc):
    rc, out, err = run([a.vmsight] + args)
    lines = err.strip().splitlines()
    check(rc == code and len(lines) == 1 and needle in err and not out,
          desc + ": exit %d and one line naming %r" % (code, needle),
          "exit %d, stdout %r, stderr %r" % (rc, out[:200], err[:400]))


def forged_tables(a, g, raw, copy, info):
    """Five forged top-level page tables below the trampoline's, each
    mapping 4 MiB without kallsyms at the bottom of the kernel image
    map: the first four images are scanned and rejected, the fifth is
    past the cap, and the whole scan still finds the kernel."""
    import mmap, shutil, struct
    rc, _, err = run([a.vmsight, "info", "-v", raw])
    tramp = re.findall(r"the page table at physical (0x[0-9a-f]+) maps",
                       err)
    check(rc == 0 and len(tramp) == 1 and int(tramp[0], 16) >= 0x20000,
          "%s: the trampoline's page table lies above the forged ones "
          "(%s)" % (g["name"], tramp), err[-1000:])
    if rc or len(tramp) != 1 or int(tramp[0], 16) < 0x20000:
        return
    # Images of 4 MiB whose 128 MiB scans miss the real kallsyms.
    tok = int(info["kallsyms_paddr"], 16)
    size = info["memory_bytes"]
    first = ((tok >> 21) + 2) << 21
    if first + (5 * 2 + 2 << 21) > size:
        first = 2 << 21
    check(first > tok or first + (148 << 20) <= tok,
          "%s: forged images miss kallsyms" % g["name"])
    shutil.copyfile(raw, copy)
    with open(copy, "r+b") as f:
        m = mmap.mmap(f.fileno(), 0)
        for i in range(5):
            pgd = 0x10000 + i * 0x3000
            pud, pmd = pgd + 0x1000, pgd + 0x2000
            img = first + (i * 2 << 21)
            m[pgd:pgd + 0x3000] = bytes(0x3000)
            m[pgd + 0xff8:pgd + 0x1000] = struct.pack("<Q", pud | 0x63)
            m[pud + 510 * 8:pud + 511 * 8] = struct.pack("<Q", pmd | 0x63)
            for j in (100, 101):
                e = (img + ((j - 100) << 21)) | 0xe3
                m[pmd + j * 8:pmd + j * 8 + 8] = struct.pack("<Q", e)
        m.close()
    rc, out, err = run([a.vmsight, "info", "-v", "--json", copy])
    scanned = re.findall(r"the page table at physical (0x[0-9a-f]+) maps",
                         err)
    got = json.loads(out) if rc == 0 else {}
    check(rc == 0 and scanned == ["0x%x" % (0x10000 + i * 0x3000)
                                  for i in range(4)] and
          got.get("text_paddr") == info["text_paddr"],
          "%s: five forged page tables below 1 MiB: four images scanned, "
          "then the whole scan finds the kernel at %s"
          % (g["name"], info["text_paddr"]),
          "exit %d, scanned %s, %s" % (rc, scanned, err[-1500:]))
    rc1, out1, _ = run([a.vmsight, "ps", raw])
    rc2, out2, err2 = run([a.vmsight, "ps", copy])
    check(rc1 == rc2 == 0 and out1 == out2,
          "%s: ps with the forged page tables equals ps without"
          % g["name"], err2[-500:])


def broken_inputs(a, g, dumps, tmp):
    """Real memory with the kernel's BTF, or its kallsyms, wiped; a
    non-Linux image; the dumps QEMU wrote, cut short; usage errors. Each
    gets one clear line."""
    import mmap, shutil
    raw = dumps["raw"]
    # Cut inside the ELF header, the program headers, the flattened
    # kdump's header and first record, and 1 MiB in. (The unit tests cut
    # synthetic dumps at every 8th byte of their headers.)
    cut = os.path.join(tmp, "cut")
    for fmt in ("elf", "kdump-zlib"):
        with open(dumps[fmt], "rb") as f:
            head = f.read(1 << 20)
        for at in (32, 100, 4096 + 8, 1 << 20):
            with open(cut, "wb") as f:
                f.write(head[:at])
            expect_error(a, ["ps", cut], 1, "truncated",
                         "%s %s cut at %d bytes" % (g["name"], fmt, at))
    os.unlink(cut)
    rc, out, _ = run([a.vmsight, "info", "--json", raw])
    info = json.loads(out)
    text_va = int(info["text_vaddr"], 16)
    text_pa = int(info["text_paddr"], 16)
    btf_pa = text_pa + int(info["btf_vaddr"], 16) - text_va
    tok_pa = int(info["kallsyms_paddr"], 16)
    copy = os.path.join(tmp, "wiped.mem")
    for what, pa, length, needle in (
            ("BTF", btf_pa, 24, "no BTF"),
            ("kallsyms", tok_pa, 4096, "no Linux kernel found")):
        shutil.copyfile(raw, copy)
        with open(copy, "r+b") as f:
            m = mmap.mmap(f.fileno(), 0)
            m[pa:pa + length] = bytes(length)
            m.close()
        expect_error(a, ["ps", copy], 1, needle,
                     "%s: raw dump with its %s wiped" % (g["name"], what))
    forged_tables(a, g, raw, copy, info)
    os.unlink(copy)
    zero = os.path.join(tmp, "zero.mem")
    with open(zero, "wb") as f:
        f.truncate(4 << 20)
    expect_error(a, ["info", zero], 1, "no Linux kernel found",
                 "4 MiB of zeros")
    expect_error(a, ["ps", os.path.join(tmp, "missing")], 1, "cannot open",
                 "a missing file")
    expect_error(a, ["ps", tmp], 1, "directory", "a directory")
    expect_error(a, ["frobnicate", raw], 2, "unknown command",
                 "an unknown command")
    expect_error(a, ["ps"], 2, "expected one dump", "ps without a dump")
    # Resource caps: the kernel's BTF (4 to 5 MiB) is the largest buffer
    # its data sizes; a 1 MiB cap refuses it, by name, and 8 MiB is room.
    expect_error(a, ["ps", "--max-memory", "1", raw], 1,
                 "over the cap of 1 MiB",
                 "%s: ps --max-memory 1" % g["name"])
    rc, out, err = run([a.vmsight, "ps", "--max-memory", "8", "--max-time",
                        "60", raw])
    check(rc == 0 and len(out.splitlines()) > 10 and not err,
          "%s: ps --max-memory 8 --max-time 60" % g["name"],
          "exit %d, stderr %r" % (rc, err[:300]))
    for bad in (["--max-memory", "0"], ["--max-memory", "-1"],
                ["--max-time", "x"], ["--max-time", "-5"]):
        expect_error(a, ["ps"] + bad + [raw], 2, bad[0],
                     "ps %s is a usage error" % " ".join(bad))
    rc, out, _ = run([a.vmsight, "ps", "--help"])
    check(rc == 0 and "usage: vmsight ps" in out, "ps --help")


def load_guests(manifest=None):
    """The lab's guests: from --manifest, $VMSIGHT_LAB_MANIFEST, or by
    building (or reusing) the lab."""
    manifest = manifest or os.environ.get("VMSIGHT_LAB_MANIFEST")
    if not manifest:
        out = subprocess.run([sys.executable, os.path.join(
            HERE, "..", "lab", "lab.py")], check=True, capture_output=True,
            text=True).stdout
        manifest = out.strip().splitlines()[-1]
    with open(manifest) as f:
        return json.load(f), manifest


def pick_guest(a, rootkit, vmcoreinfo=None):
    """The one guest of the lab that --guest SERIES-MODE names, with or
    without the rootkit (and, unless None, with or without VMCOREINFO);
    None, after a TAP bail-out line, unless there is exactly one."""
    guests, manifest = load_guests(a.manifest)
    series, mode = a.guest.split("-")
    g = [x for x in guests if x["paging"] == mode and
         bool(x.get("rootkit")) == rootkit and
         (vmcoreinfo is None or bool(x.get("vmcoreinfo")) == vmcoreinfo) and
         x["kernel"].startswith("linux-image-" + series + ".")]
    if len(g) != 1:
        print("Bail out! no %s guest %s in %s"
              % ("rootkit" if rootkit else "lab", a.guest, manifest))
        return None
    return g[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmsight", required=True)
    ap.add_argument("--mkdump", required=True)
    ap.add_argument("--guest", required=True,
                    help="SERIES-MODE, e.g. 6.1-la57 or 6.12-4level")
    ap.add_argument("--manifest")
    a = ap.parse_args()

    g = pick_guest(a, rootkit=False)
    if not g:
        return 1
    truth = parse_truth(g["console"])
    check(len(truth["ps"]) > 20 and "_text" in truth["sym"] and
          "kallsyms" in truth, "the guest printed its ground truth")

    dumps = dict(g["dumps"])
    tmp = tempfile.mkdtemp(prefix="vmsight-lab-")
    try:
        for fmt in ("lime", "vmcore", "kdump-zstd", "flat-kdump-lzo",
                    "flat-kdump-snappy", "kdump-none"):
            path = os.path.join(tmp, fmt)
            rc, _, err = run([a.mkdump, fmt, dumps["raw"], path])
            check(rc == 0, "mkdump %s from the raw dump" % fmt, err)
            dumps["derived-" + fmt] = path

        outputs = {}
        for fmt, path in sorted(dumps.items()):
            rc, out, err = run([a.vmsight, "ps", "--json", path])
            check(rc == 0, "%s %s: ps exits 0" % (g["name"], fmt), err)
            if rc:
                continue
            got = [json.loads(l) for l in out.splitlines()]
            problems = compare_ps(truth["ps"], got)
            check(not problems, "%s %s: ps matches the guest's /proc (%d "
                  "processes)" % (g["name"], fmt, len(got)),
                  "\n".join(problems))
            outputs[fmt] = out

            rc, out, err = run([a.vmsight, "info", "--json", path])
            check(rc == 0, "%s %s: info exits 0" % (g["name"], fmt), err)
            if rc:
                continue
            info = json.loads(out)
            text = truth["sym"]["_text"]
            check(int(info["text_vaddr"], 16) == text and
                  int(info["kaslr_slide"], 16) == text - DEFAULT_LINK,
                  "%s %s: _text %s and KASLR slide %s as the guest's "
                  "kallsyms implies (%#x)" % (g["name"], fmt,
                                              info["text_vaddr"],
                                              info["kaslr_slide"], text))
            levels = 5 if g["paging"] == "la57" else 4
            check(info["paging_levels"] == levels,
                  "%s %s: %d-level paging" % (g["name"], fmt,
                                              info["paging_levels"]))
            check(truth["version"].startswith(info["banner"]),
                  "%s %s: banner equals /proc/version" % (g["name"], fmt),
                  "%r vs %r" % (info["banner"], truth["version"]))
            up = info["uptime_ns"] / 1e9
            check(info["hostname"] == truth["hostname"] and
                  info["cmdline"] == truth["cmdline-kernel"] and
                  abs(info["boot_time"] - truth["btime"]) <= 1 and
                  truth["uptime"] - 0.1 <= up <= truth["uptime"] + 300,
                  "%s %s: hostname, kernel command line, boot time and "
                  "uptime (%.1f s; the guest said %.1f s before the dump)"
                  % (g["name"], fmt, up, truth["uptime"]),
                  "vmsight %r %r %d; guest %r %r %d" % (
                      info["hostname"], info["cmdline"], info["boot_time"],
                      truth["hostname"], truth["cmdline-kernel"],
                      truth["btime"]))
            has_vmci = fmt in ("elf", "kdump-zlib") and g["vmcoreinfo"]
            check(info["vmcoreinfo"] == has_vmci and
                  info["kallsyms_source"] == ("vmcoreinfo" if has_vmci
                                              else "memory-scan"),
                  "%s %s: VMCOREINFO %s and kallsyms found by %s"
                  % (g["name"], fmt, info["vmcoreinfo"],
                     info["kallsyms_source"]))
            if not has_vmci:
                image_scan_began_right(a, g, fmt, path, info)

        views_match_truth(a, g, truth, dumps)
        maps_match_truth(a, g, truth, dumps)
        dump_matches_truth(a, g, truth, dumps, tmp)
        cat_matches_truth(a, g, truth, dumps, tmp)
        yara_matches_truth(a, g, truth, dumps, tmp)
        baseline_matches_truth(a, g, truth, dumps, tmp)

        first = outputs.get("raw")
        same = [f for f, o in outputs.items() if o == first]
        check(first is not None and len(same) == len(dumps),
              "%s: all %d formats give identical ps output"
              % (g["name"], len(dumps)),
              "differing: %s" % sorted(set(outputs) - set(same)))

        rc, out, err = run([a.vmsight, "symbols", dumps["raw"]])
        count, md5 = truth["kallsyms"]
        lines = out.splitlines()
        check(rc == 0 and len(lines) == count and
              hashlib.md5(out.encode()).hexdigest() == md5,
              "%s: symbols reproduces /proc/kallsyms (%d symbols)"
              % (g["name"], count),
              "vmsight gave %d lines, md5 %s; guest %d, %s" % (
                  len(lines), hashlib.md5(out.encode()).hexdigest(),
                  count, md5))
        # A compressed dump is read through a copied window around the
        # token table, a small one first (locate.c, decode_at()).
        rc2, out2, err2 = run([a.vmsight, "symbols",
                               dumps["derived-kdump-zstd"]])
        check(rc2 == 0 and out2 == out,
              "%s: symbols of the zstd kdump equal the raw dump's"
              % g["name"], err2[-500:])

        # A clean guest: every check runs and finds nothing beyond what
        # the lab's policy (tests/lab/lab.policy) expects. The rule:
        # inventory entries (severity info, such as the netfilter hooks
        # that AppArmor registers from kernel text) are not findings.
        # Without the policy, the only findings are the raw sockets that
        # the net helper holds for netstat's ground truth (no policy
        # allows them), and the listeners are inventory.
        policy = os.path.join(HERE, "..", "lab", "lab.policy")
        for fmt, path in sorted(dumps.items()):
            rc, out, err = run([a.vmsight, "check", "--json", "--policy",
                                policy, path])
            rows = [json.loads(l) for l in out.splitlines()]
            bad = [r for r in rows if r["severity"] != "info"]
            check(rc == 0 and err == "" and not bad,
                  "%s %s: check --policy lab.policy finds nothing on the "
                  "clean guest (%d inventory entries)"
                  % (g["name"], fmt, len(rows)),
                  "exit %d\n%s%s" % (rc, out, err))
        rc, out, err = run([a.vmsight, "check", "--json", dumps["raw"]])
        rows = [json.loads(l) for l in out.splitlines()]
        bad = sorted((r["check"], r["owner"], r["evidence"].split(" (")[0])
                     for r in rows if r["severity"] != "info")
        want = [("network", "vmsight-lab-hel",
                 "holds a raw socket for IP protocol 1"),
                ("network", "vmsight-lab-hel",
                 "holds a raw6 socket for IP protocol 58")]
        listen = sorted(r["object"] for r in rows
                        if r["check"] == "network" and
                        r["severity"] == "info")
        want_listen = sorted(
            "%s %s" % (p, l) for p, l in (
                ("tcp", "127.0.0.1:5001"), ("tcp6", "[::1]:5002"),
                ("udp", "127.0.0.1:5003"), ("udp6", "[::1]:5004"),
                ("tcp", "127.0.0.1:5005"), ("tcp6", "[::]:4444"),
                ("tcp6", "[::]:6000")))
        check(rc == 3 and bad == want and listen == want_listen,
              "%s: without a policy, check reports the helper's raw "
              "sockets and lists the %d listeners" % (g["name"],
                                                      len(want_listen)),
              "exit %d\n%s\nlisteners %s" % (rc, "\n".join(map(str, bad)),
                                             listen))

        broken_inputs(a, g, dumps, tmp)
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
