#!/usr/bin/env python3
"""Write the fuzz targets' seed corpora into fuzz/corpus/NAME.

  python3 fuzz/seeds.py --mkdump build/tests/vmsight-mkdump \
      [--vmsight build/vmsight] [--build build] [--manifest M]

dump:     a small synthetic memory image (text, zero pages, a page of
          every byte value) in every format vmsight-mkdump writes, and
          the first 64 KiB of the lab's real dumps of a 6.12 guest (raw,
          QEMU's ELF core and kdump-zlib; a dump cut short is input too),
          when a lab manifest is given or in $VMSIGHT_LAB_MANIFEST.
paging:   page tables laid out as a kernel's: 4- and 5-level, with 4 KiB,
          2 MiB and 1 GiB pages, then the same with a table pointing at
          itself; each followed by addresses to translate.
gdb:      stop replies of QEMU's gdbstub and "info registers -a" text.
qmp:      a conversation with the machine's QEMU, recorded (and two
          variants of it).
kernel:   a fake kernel's data area (fuzz-seed-kernel, with --build).
views:    another, for mounts, fds, areas, run queues and the pid table
          (fuzz-seed-views, with --build).
kallsyms: generated kallsyms tables (fuzz-seed-kallsyms, with --build).
btf:      cuts of the lab's 6.1 and 6.12 kernels' BTF, and the host's,
          holding what src/ asks for (fuzz-seed-btf, with --build).
locate:   a kernel image that loads, around the 6.12 BTF cut, with and
          without __start_BTF, and with a vCPU or a trampoline page
          table (fuzz-seed-locate, with --build).
policy:   the lab's policy and a policy using every directive.
baseline: the first lines of a baseline of a lab dump, when the lab is
          there.

The corpora are committed; run this again when a format changes. The
largest seed is the locate image, 224 KiB; the others are under 100 KiB.
"""
import argparse, json, os, struct, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
CUT = 65536


def put(name, seed, data):
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, seed), "wb") as f:
        f.write(data)


def image():
    """64 KiB of memory: text, a zero page, every byte value, a pattern."""
    pages = [b"vmsight fuzz seed page 0\n".ljust(4096, b"\0"), bytes(4096),
             bytes(range(256)) * 16]
    pages += [struct.pack("<Q", 0x1000 * i + 0xffff888000000000) * 512
              for i in range(13)]
    return b"".join(pages)


def dump_seeds(mkdump, manifest):
    formats = ["lime", "elf", "vmcore"]
    for c in ("none", "zlib", "lzo", "snappy", "zstd"):
        formats += ["kdump-" + c, "flat-kdump-" + c]
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "raw.mem")
        with open(raw, "wb") as f:
            f.write(image())
        put("dump", "raw", image()[:8192])
        for fmt in formats:
            out = os.path.join(tmp, fmt)
            # A hole in the middle: dumps that leave pages out.
            subprocess.run([mkdump, fmt, raw, out, "--hole", "8192:8192"],
                           check=True)
            with open(out, "rb") as f:
                put("dump", fmt, f.read())
    if not manifest:
        return None
    with open(manifest) as f:
        guests = json.load(f)
    g = [g for g in guests if g["name"].startswith("6.12") and
         not g["rootkit"]][0]
    for kind, path in sorted(g["dumps"].items()):
        with open(path, "rb") as f:
            put("dump", "lab-" + kind + "-head", f.read(CUT))
    return g


QMP_COMMANDS = [
    {"execute": "qmp_capabilities"}, {"execute": "query-status"},
    {"execute": "human-monitor-command",
     "arguments": {"command-line": "info registers -a"}},
    {"execute": "no-such-command"}, {"execute": "system_reset"},
    {"execute": "quit"}]


def qmp_seeds():
    """What QEMU says to the commands fuzz_qmp.c sends, in its order,
    recorded from the machine's QEMU (not started: -S), then the RESET
    and SHUTDOWN events of a system_reset and a quit. Variants: events
    between a command and its reply, and a conversation cut short."""
    import shutil, socket, time
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        print("seeds.py: no qemu-system-x86_64; qmp seeds kept as they are")
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "qmp")
        p = subprocess.Popen([qemu, "-S", "-nodefaults", "-display", "none",
                              "-accel", "tcg", "-m", "64", "-no-shutdown",
                              "-qmp", "unix:%s,server=on,wait=off" % path],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        for _ in range(100):
            if os.path.exists(path):
                break
            time.sleep(0.1)
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        f = s.makefile("rb")
        greeting, replies, events = f.readline(), [], []
        for cmd in QMP_COMMANDS:
            s.sendall(json.dumps(cmd).encode() + b"\n")
            while True:
                line = f.readline()
                if not line.startswith(b'{"timestamp"'):
                    replies.append(line)
                    break
                events.append(line)
        try:
            events += [l for l in f.readlines() if b'"event"' in l]
        except ConnectionResetError:
            pass
        p.wait()
    talk = [greeting] + replies[:4]
    put("qmp", "qemu-7.2", b"".join(talk + events))
    put("qmp", "qemu-7.2-events-first",
        b"".join(talk[:2] + events + talk[2:] + events))
    put("qmp", "qemu-7.2-cut", b"".join(talk)[:-40])


def btf_names():
    """The structs, enum values and functions src/ asks BTF for, read off
    its calls: the layout tables' { "type", { "member" } } rows,
    vms_btf_*(x, "type", ...) calls, enum values in quotes, and the
    functions whose parameters the watch looks up."""
    import glob, re
    names = set()
    for path in glob.glob(os.path.join(HERE, "..", "src", "*", "*.c")):
        text = open(path).read()
        names |= set(re.findall(r'\{ "(\w+)", \{', text))
        names |= set(re.findall(r'vms_btf_\w+\([^,]+,\s*"(\w+)"', text))
        names |= set(re.findall(r'"([A-Z][A-Z0-9_]+|maple_\w+)"', text))
        names |= set(re.findall(
            r'vms_btf_func_param\([^,]+,[^,]+,\s*"(\w+)"', text))
        for fns in re.findall(r'_fns\[\] = \{([^}]*)\}', text):
            names |= set(re.findall(r'"(\w+)"', fns))
    return sorted(names)


def btf_seeds(build, vmsight, manifest):
    """Cuts of real kernels' BTF holding what src/ asks for: the 6.1 and
    6.12 lab guests' (read out of their raw dumps where `vmsight info`
    places them), and the host's, when there."""
    cutter = os.path.join(build, "fuzz", "fuzz-seed-btf")
    with tempfile.TemporaryDirectory() as tmp:
        srcs = []
        if os.path.exists("/sys/kernel/btf/vmlinux"):
            srcs.append(("host", "/sys/kernel/btf/vmlinux"))
        if manifest and vmsight:
            for g in json.load(open(manifest)):
                if g["rootkit"] or "4level" not in g["name"]:
                    continue
                raw = g["dumps"]["raw"]
                info = json.loads(subprocess.run(
                    [vmsight, "info", "--json", raw], check=True,
                    capture_output=True).stdout)
                va, pa = (int(info["text_vaddr"], 16),
                          int(info["text_paddr"], 16))
                at, size = int(info["btf_vaddr"], 16), info["btf_bytes"]
                out = os.path.join(tmp, g["name"])
                with open(raw, "rb") as f, open(out, "wb") as o:
                    f.seek(at - va + pa)  # the image is contiguous
                    o.write(f.read(size))
                srcs.append(("linux-" + g["name"].split("-")[0], out))
        for name, path in srcs:
            subprocess.run([cutter, path, os.path.join(CORPUS, "btf", name)]
                           + btf_names(), check=True)


def tables(levels, self_loop=False):
    """Physical memory with page tables at 0x1000..., mapping kernel-like
    addresses, preceded by the header word; then the addresses."""
    mem = bytearray(0x10000)
    nxt = [0x2000]

    def table():
        t = nxt[0]
        nxt[0] += 0x1000
        return t

    root = 0x1000
    maps = [(0xffffffff81000000, 0x8000, 12), (0xffff888000000000, 0, 21),
            (0xffff888040000000, 0, 30), (0x400000, 0x9000, 12)]
    for va, pa, stop in maps:
        t, shift = root, 12 + 9 * (levels - 1)
        while shift > stop:
            i = (va >> shift) & 511
            e = struct.unpack_from("<Q", mem, t + 8 * i)[0]
            if not e & 1:
                e = table() | 3
                struct.pack_into("<Q", mem, t + 8 * i, e)
            t = e & 0x000ffffffffff000
            shift -= 9
        i = (va >> shift) & 511
        struct.pack_into("<Q", mem, t + 8 * i,
                         pa | 3 | (0x80 if stop > 12 else 0) | 1 << 63)
    if self_loop:
        struct.pack_into("<Q", mem, root + 8 * 300, root | 3)
    struct.pack_into("<Q", mem, 0, root | (1 if levels == 5 else 0))
    addrs = [va + off for va, _, _ in maps for off in (0, 0xff8, 0x1000)]
    addrs += [0xffff958000000000, 0xffffffffffffffff, 0x7fffffffffff,
              0x800000000000]
    for i, a in enumerate(addrs):
        struct.pack_into("<Q", mem, 8 + 8 * i, a & (1 << 64) - 1)
    return bytes(mem)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mkdump", required=True)
    ap.add_argument("--vmsight", default=None)
    ap.add_argument("--build", default=None,
                    help="a build directory holding fuzz/fuzz-seed-*")
    ap.add_argument("--manifest", default=os.environ.get(
        "VMSIGHT_LAB_MANIFEST"))
    a = ap.parse_args()
    g = dump_seeds(a.mkdump, a.manifest)

    qmp_seeds()
    if a.build:
        os.makedirs(os.path.join(CORPUS, "btf"), exist_ok=True)
        btf_seeds(a.build, a.vmsight, a.manifest)
        for name in ("kernel", "views", "kallsyms"):
            d = os.path.join(CORPUS, name)
            os.makedirs(d, exist_ok=True)
            subprocess.run([os.path.join(a.build, "fuzz",
                                         "fuzz-seed-" + name), d],
                           check=True)
        # A whole kernel image, around the 6.12 guest's BTF cut.
        import glob
        cuts = sorted(glob.glob(os.path.join(CORPUS, "btf", "linux-6.12*")))
        if cuts:
            d = os.path.join(CORPUS, "locate")
            os.makedirs(d, exist_ok=True)
            subprocess.run([os.path.join(a.build, "fuzz",
                                         "fuzz-seed-locate"), cuts[0], d],
                           check=True)
    put("paging", "4level", tables(4))
    put("paging", "5level", tables(5))
    put("paging", "4level-loop", tables(4, True))
    put("paging", "5level-loop", tables(5, True))

    stops = ["T05thread:01;", "T05thread:p1.2;06:0000000000000000;",
             "T02thread:02;", "S05", "W00", "X09", "T0506:1;07:2;thread:3;",
             "T05watch:ffffffff81000000;thread:01;", "O48656c6c6f"]
    for i, s in enumerate(stops):
        put("gdb", "stop-%d" % i, b"\0" + s.encode())
    regs = open(os.path.join(HERE, "..", "tests", "unit",
                             "test_qemu.c")).read()
    text = regs[regs.index("static const char regs_text[] ="):]
    text = text[:text.index(";\n")]
    body = "".join(json.loads(part) for part in
                   __import__("re").findall(r'"(?:[^"\\]|\\.)*"', text))
    put("gdb", "registers", b"\1" + body.encode())

    with open(os.path.join(HERE, "..", "tests", "lab", "lab.policy"),
              "rb") as f:
        put("policy", "lab", f.read())
    put("policy", "every-directive", b"""# a site policy
skip kprobes   # noisy here
run idt syscall_table
severity network low
fail-on high
allow module dummy tcp_*
allow process sshd\tcron
allow listener tcp *:22
allow listener udp6 [::1]:5004 vmsight-lab-hel
allow raw ping
allow packet dhclient
allow promisc br*
ignore injected_code pid * (java)
yara rules.yar
""")
    if g and a.vmsight:
        out = subprocess.run([a.vmsight, "baseline", g["dumps"]["raw"]],
                             capture_output=True, check=True).stdout
        lines = out.splitlines(True)
        # The format line names the dump's path on this machine.
        lines[0] = json.dumps(dict(json.loads(lines[0]), detail="raw.mem"),
                              separators=(",", ":")).encode() + b"\n"
        put("baseline", "lab-head", b"".join(lines[:40]))
        put("baseline", "lab-tail", b"".join(lines[:2] + lines[-20:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
