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
  - kernel threads whose name fills task_struct.comm (15 characters):
    since v6.1 (d6986ce24fc0) /proc shows the kthread's full name, kept
    outside task_struct; the guest's name must start with vmsight's.

Output is TAP.
"""
import argparse, hashlib, json, os, subprocess, sys, tempfile

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
            line = line.strip()
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
            if (key == "comm" and m["kthread"] and len(m["comm"]) == 15
                    and t["comm"].startswith(m["comm"])):
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


def expect_error(a, args, code, needle, desc):
    rc, out, err = run([a.vmsight] + args)
    lines = err.strip().splitlines()
    check(rc == code and len(lines) == 1 and needle in err and not out,
          desc + ": exit %d and one line naming %r" % (code, needle),
          "exit %d, stdout %r, stderr %r" % (rc, out[:200], err[:400]))


def broken_inputs(a, g, raw, tmp):
    """Real memory with the kernel's BTF, or its kallsyms, wiped; a
    non-Linux image; usage errors. Each gets one clear line."""
    import mmap, shutil
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
    rc, out, _ = run([a.vmsight, "ps", "--help"])
    check(rc == 0 and "usage: vmsight ps" in out, "ps --help")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmsight", required=True)
    ap.add_argument("--mkdump", required=True)
    ap.add_argument("--guest", required=True,
                    help="SERIES-MODE, e.g. 6.1-la57 or 6.12-4level")
    ap.add_argument("--manifest")
    a = ap.parse_args()

    manifest = a.manifest or os.environ.get("VMSIGHT_LAB_MANIFEST")
    if not manifest:
        out = subprocess.run([sys.executable, os.path.join(
            HERE, "..", "lab", "lab.py")], check=True, capture_output=True,
            text=True).stdout
        manifest = out.strip().splitlines()[-1]
    with open(manifest) as f:
        guests = json.load(f)
    series, mode = a.guest.split("-")
    g = [x for x in guests if x["paging"] == mode and
         x["kernel"].startswith("linux-image-" + series + ".")]
    if len(g) != 1:
        print("Bail out! no lab guest %s in %s" % (a.guest, manifest))
        return 1
    g = g[0]
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
            check(info["paging_levels"] == (5 if mode == "la57" else 4),
                  "%s %s: %d-level paging" % (g["name"], fmt,
                                              info["paging_levels"]))
            check(truth["version"].startswith(info["banner"]),
                  "%s %s: banner equals /proc/version" % (g["name"], fmt),
                  "%r vs %r" % (info["banner"], truth["version"]))
            has_vmci = fmt in ("elf", "kdump-zlib") and g["vmcoreinfo"]
            check(info["vmcoreinfo"] == has_vmci and
                  info["kallsyms_source"] == ("vmcoreinfo" if has_vmci
                                              else "memory-scan"),
                  "%s %s: VMCOREINFO %s and kallsyms found by %s"
                  % (g["name"], fmt, info["vmcoreinfo"],
                     info["kallsyms_source"]))

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

        broken_inputs(a, g, dumps["raw"], tmp)
    finally:
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
