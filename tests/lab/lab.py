#!/usr/bin/env python3
"""Build the vmsight lab: real Debian kernels booted under QEMU TCG, and
dumps of their stopped state in every format QEMU writes.

Usage: lab.py                       build the lab, print guests.json's path
       lab.py --dump 6.1-la57 elf   the same, then print one dump's path

Everything is cached under $VMSIGHT_LAB_CACHE (default ~/.cache/vmsight),
keyed by the kernel package and by the contents of the lab's own files, so
a second run in a fresh clone reuses it. Prints the path of the manifest
(guests.json) on its last line.

For each guest it writes:
  console.log      the serial console; VMS-TRUTH lines are the guest's own view
  raw.mem          a copy of the RAM file taken while the guest was stopped
  elf.core         dump-guest-memory, ELF
  kdump-zlib.dump, kdump-lzo.dump, kdump-snappy.dump   (flattened kdump)
"""
import fcntl, glob, gzip, hashlib, json, os, shutil, signal, socket
import subprocess
import sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get("VMSIGHT_LAB_CACHE",
                       os.path.expanduser("~/.cache/vmsight"))
RAM = "512M"
BOOT_TIMEOUT = 300

# (series meta-package, paging mode, with VMCOREINFO, rootkit loaded)
GUESTS = [
    ("linux-image-amd64", "la57", False, False),
    ("linux-image-amd64", "4level", True, False),
    ("linux-image-6.12-amd64", "la57", True, False),
    ("linux-image-6.12-amd64", "4level", False, False),
    # The same guests with tests/lab/rootkit loaded, for the
    # intrusion-detection checks (the clean guests must give none).
    ("linux-image-amd64", "4level", False, True),
    ("linux-image-6.12-amd64", "la57", False, True),
]
DUMP_FORMATS = ["kdump-zlib", "kdump-lzo", "kdump-snappy"]
# Modules from the image package: the first two load on every guest
# (dependency-free, signed by Debian), the last only with VMCOREINFO.
MODULES = ["drivers/net/dummy.ko", "net/ipv4/tcp_bic.ko",
           "drivers/firmware/qemu_fw_cfg.ko"]
# Loaded by the clean guests after their first dump (/late), before a
# second one (raw-late.mem): baseline and diff compare the two.
LATE_MODULES = ["net/ipv4/tcp_vegas.ko"]
LATE_TIMEOUT = 300


def log(msg):
    print("lab: " + msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def resolve_image(meta):
    """The current image package behind a meta-package; never hard-coded,
    because the ABI number changes with every security update."""
    out = subprocess.run(["apt-cache", "depends", meta], check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Depends: linux-image-"):
            return line.split()[1]
    raise SystemExit("lab: cannot resolve %s (run apt-get update)" % meta)


def fetch_kernel(image):
    """Download <image>-unsigned and unpack vmlinuz and qemu_fw_cfg.ko."""
    kdir = os.path.join(CACHE, "kernels", image + "-v3")
    done = os.path.join(kdir, ".done")
    if os.path.exists(done):
        return kdir
    debs = os.path.join(CACHE, "debs")
    os.makedirs(debs, exist_ok=True)
    pkg = image + "-unsigned"
    if not glob.glob(os.path.join(debs, pkg + "_*.deb")):
        log("downloading " + pkg)
        run(["apt-get", "download", pkg], cwd=debs,
            stdout=subprocess.DEVNULL)
    deb = glob.glob(os.path.join(debs, pkg + "_*.deb"))[0]
    tmp = kdir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    run(["dpkg-deb", "-x", deb, tmp])
    out = kdir + ".new"
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    shutil.copy(glob.glob(os.path.join(tmp, "boot/vmlinuz-*"))[0],
                os.path.join(out, "vmlinuz"))
    for rel in MODULES + LATE_MODULES:
        ko = glob.glob(os.path.join(tmp, "lib/modules/*/kernel", rel + "*"))[0]
        dst = os.path.join(out, os.path.basename(rel))
        if ko.endswith(".xz"):
            with open(dst, "wb") as f:
                run(["xz", "-dc", ko], stdout=f)
        else:
            shutil.copy(ko, dst)
    shutil.rmtree(tmp)
    shutil.rmtree(kdir, ignore_errors=True)
    os.rename(out, kdir)
    open(done, "w").close()
    return kdir


def fetch_headers(image):
    """Unpack the linux-headers packages of @image's ABI (and the kbuild
    package they need) into the cache, so that lab modules build without
    installing anything; the headers' Makefile names its -common sibling
    by absolute path, which is pointed into the cache."""
    ver = image.replace("linux-image-", "")
    hdir = os.path.join(CACHE, "headers", ver)
    done = os.path.join(hdir, ".done")
    tree = os.path.join(hdir, "usr/src/linux-headers-" + ver)
    if os.path.exists(done):
        return tree
    pkg = "linux-headers-" + ver
    out = subprocess.run(["apt-cache", "depends", pkg], check=True,
                         capture_output=True, text=True).stdout
    pkgs = [pkg] + [l.split()[1] for l in out.splitlines()
                    if l.strip().startswith("Depends: linux-")
                    and ("-common" in l or "linux-kbuild" in l)]
    debs = os.path.join(CACHE, "debs")
    os.makedirs(debs, exist_ok=True)
    tmp = hdir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for p in pkgs:
        if not glob.glob(os.path.join(debs, p + "_*.deb")):
            log("downloading " + p)
            run(["apt-get", "download", p], cwd=debs,
                stdout=subprocess.DEVNULL)
        run(["dpkg-deb", "-x", glob.glob(os.path.join(debs, p + "_*.deb"))[0],
             tmp])
    mk = os.path.join(tmp, "usr/src/linux-headers-" + ver, "Makefile")
    with open(mk) as f:
        text = f.read()
    with open(mk, "w") as f:
        f.write(text.replace("include /usr/src/",
                             "include %s/usr/src/" % hdir))
    shutil.rmtree(hdir, ignore_errors=True)
    os.rename(tmp, hdir)
    open(done, "w").close()
    return tree


def build_rootkit(image, dest):
    """Build tests/lab/rootkit against @image's headers into @dest."""
    tree = fetch_headers(image)
    work = tempfile.mkdtemp(prefix="vmsight-rootkit-")
    try:
        for f in ("vmsight_rk.c", "Kbuild"):
            shutil.copy(os.path.join(HERE, "rootkit", f), work)
        run(["make", "-s", "-C", tree, "M=" + work, "modules"],
            stdout=subprocess.DEVNULL)
        shutil.copy(os.path.join(work, "vmsight_rk.ko"), dest)
    finally:
        shutil.rmtree(work)


def build_initramfs(dest, modules, rootkit=None, late=()):
    root = tempfile.mkdtemp(prefix="vmsight-initramfs-")
    try:
        for d in ("bin", "proc", "sys", "dev", "tmp", "mod", "rootkit",
                  "late"):
            os.makedirs(os.path.join(root, d))
        shutil.copy("/bin/busybox", os.path.join(root, "bin/busybox"))
        os.symlink("busybox", os.path.join(root, "bin/sh"))
        shutil.copy(os.path.join(HERE, "init.sh"), os.path.join(root, "init"))
        run(["gcc", "-static", "-O2", "-pthread", "-o",
             os.path.join(root, "vmsight-lab-helper"),
             os.path.join(HERE, "helper.c")])
        for m in modules:
            shutil.copy(m, os.path.join(root, "mod", os.path.basename(m)))
        for m in late:
            shutil.copy(m, os.path.join(root, "late", os.path.basename(m)))
        if rootkit:
            shutil.copy(rootkit, os.path.join(root, "rootkit"))
        files = subprocess.run("find . | sort", shell=True, cwd=root,
                               check=True, capture_output=True).stdout
        cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"],
                              cwd=root, input=files, check=True,
                              capture_output=True).stdout
        with gzip.open(dest, "wb") as f:
            f.write(cpio)
    finally:
        shutil.rmtree(root)


class Qmp:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        for _ in range(200):
            try:
                self.s.connect(path)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("QMP socket %s never appeared" % path)
        self.f = self.s.makefile("rw")
        json.loads(self.f.readline())  # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg) + "\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise RuntimeError("QMP closed during " + name)
            reply = json.loads(line)
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise RuntimeError("QMP %s: %s" % (name, reply["error"]))


def make_guest(name, image, kdir, mode, vmcoreinfo, rootkit, gdir):
    os.makedirs(gdir, exist_ok=True)
    initrd = os.path.join(gdir, "initrd.gz")
    mods = MODULES if vmcoreinfo else MODULES[:-1]
    rk = None
    if rootkit:
        rk = os.path.join(gdir, "vmsight_rk.ko")
        build_rootkit(image, rk)
    late = [] if rootkit else [os.path.join(kdir, os.path.basename(m))
                               for m in LATE_MODULES]
    build_initramfs(initrd, [os.path.join(kdir, os.path.basename(m))
                             for m in mods], rk, late)
    ramfile = "/dev/shm/vmsight-lab-%s-%d.ram" % (name, os.getpid())
    qmp_path = os.path.join(tempfile.gettempdir(),
                            "vmsight-lab-%s-%d.qmp" % (name, os.getpid()))
    console = os.path.join(gdir, "console.log")
    cpu = "max" if mode == "la57" else "max,la57=off"
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", cpu, "-smp", "2",
           "-m", RAM, "-object",
           "memory-backend-file,id=ram,size=%s,mem-path=%s,share=on"
           % (RAM, ramfile),
           "-machine", "q35,memory-backend=ram",
           "-kernel", os.path.join(kdir, "vmlinuz"), "-initrd", initrd,
           "-append", "console=ttyS0 panic=-1" +
           (" vmsight.rootkit=1" if rootkit else ""),
           "-serial", "file:" + console, "-display", "none",
           "-monitor", "none", "-no-reboot", "-nic", "none",
           "-qmp", "unix:%s,server=on,wait=off" % qmp_path]
    if vmcoreinfo:
        cmd += ["-device", "vmcoreinfo"]
    log("booting %s (%s)" % (name, " ".join(cmd[1:6])))
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)

    def wait_for(line, timeout):
        t0 = time.time()
        while True:
            if proc.poll() is not None:
                raise RuntimeError("QEMU exited with %d" % proc.returncode)
            if time.time() - t0 > timeout:
                raise RuntimeError("guest %s: no %r in %ds"
                                   % (name, line, timeout))
            try:
                with open(console, errors="replace") as f:
                    if line in f.read():
                        break
            except FileNotFoundError:
                pass
            time.sleep(0.5)
        log("%s: %s after %.1fs" % (name, line, time.time() - t0))

    try:
        wait_for("VMS-TRUTH ready", BOOT_TIMEOUT)
        q = Qmp(qmp_path)
        q.cmd("stop")
        shutil.copyfile(ramfile, os.path.join(gdir, "raw.mem"))
        q.cmd("dump-guest-memory", paging=False,
              protocol="file:" + os.path.join(gdir, "elf.core"))
        # Debian's QEMU is built without some compressors (lzo): take every
        # kdump flavour it offers; the others are covered by mkdump.
        caps = q.cmd("query-dump-guest-memory-capability")["formats"]
        for fmt in DUMP_FORMATS:
            if fmt not in caps:
                continue
            q.cmd("dump-guest-memory", paging=False, format=fmt,
                  protocol="file:" + os.path.join(gdir, fmt + ".dump"))
        if late:
            # The same boot again, after init loads /late's modules.
            q.cmd("cont")
            wait_for("VMS-TRUTH late ready", LATE_TIMEOUT)
            q.cmd("stop")
            shutil.copyfile(ramfile, os.path.join(gdir, "raw-late.mem"))
        q.cmd("quit")
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        for p in (ramfile, qmp_path):
            if os.path.exists(p):
                os.unlink(p)


def lab_hash():
    h = hashlib.sha256()
    for f in ("lab.py", "init.sh", "helper.c", "rootkit/vmsight_rk.c",
              "rootkit/Kbuild"):
        with open(os.path.join(HERE, f), "rb") as fh:
            h.update(fh.read())
    h.update(RAM.encode())
    return h.hexdigest()[:16]


def main():
    # --dump SERIES-MODE FORMAT: print one dump's path instead (for the
    # README's demo), e.g. --dump 6.1-la57 elf
    want = sys.argv[2:4] if len(sys.argv) >= 4 and sys.argv[1] == "--dump" \
        else None
    key = lab_hash()
    # One builder at a time: a second lab.py (a test, the README's demo)
    # waits here instead of booting the same guest into the same files.
    os.makedirs(CACHE, exist_ok=True)
    lock = open(os.path.join(CACHE, "lab.lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    manifest = []
    for meta, mode, vmci, rootkit in GUESTS:
        image = resolve_image(meta)
        kdir = fetch_kernel(image)
        name = "%s-%s%s%s" % (image.replace("linux-image-", ""), mode,
                              "-vmcoreinfo" if vmci else "",
                              "-rootkit" if rootkit else "")
        gdir = os.path.join(CACHE, "lab", key, name)
        if not os.path.exists(os.path.join(gdir, ".done")):
            shutil.rmtree(gdir, ignore_errors=True)
            make_guest(name, image, kdir, mode, vmci, rootkit, gdir)
            open(os.path.join(gdir, ".done"), "w").close()
        dumps = {"raw": "raw.mem", "elf": "elf.core"}
        dumps.update({f: f + ".dump" for f in DUMP_FORMATS
                      if os.path.exists(os.path.join(gdir, f + ".dump"))})
        manifest.append({
            "name": name, "kernel": image, "paging": mode,
            "vmcoreinfo": vmci, "rootkit": rootkit, "dir": gdir,
            "console": os.path.join(gdir, "console.log"),
            "dumps": {k: os.path.join(gdir, v) for k, v in dumps.items()},
            "late": (os.path.join(gdir, "raw-late.mem") if os.path.exists(
                os.path.join(gdir, "raw-late.mem")) else None),
        })
    out = os.path.join(CACHE, "lab", key, "guests.json")
    with open(out, "w") as f:
        json.dump(manifest, f, indent=1)
    # Older lab generations are no longer used.
    for old in glob.glob(os.path.join(CACHE, "lab", "*")):
        if os.path.basename(old) != key:
            shutil.rmtree(old, ignore_errors=True)
    if want:
        series, mode = want[0].split("-")
        for g in manifest:
            if g["paging"] == mode and not g["rootkit"] and \
                    g["kernel"].startswith(
                    "linux-image-" + series + "."):
                print(g["dumps"][want[1]])
                return
        raise SystemExit("lab: no guest %s with a %s dump" % tuple(want))
    print(out)


if __name__ == "__main__":
    main()
