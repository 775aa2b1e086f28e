#!/bin/sh
# /init of the lab guest. Starts known processes, then prints the guest's
# own view of itself to the serial console (the ground truth that the
# tests compare vmsight with), then prints a ready line and blocks without
# creating any further process, so that the state dumped afterwards is the
# state described; a live test may then send it commands on the console.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp && mount -t tmpfs tmpfs /tmp
echo "vmsight lab marker 7f3a9c" > /tmp/marker
# A mount inside a mount, so that paths cross mount points.
mkdir -p /tmp/inner/deeper && mount -t tmpfs -o size=1m inner /tmp/inner/deeper
# Files for cat: one past a mount point, one with 20 pages of holes, and
# symbolic links, relative (/bin/sh) and absolute.
head -c 300000 /bin/busybox > /tmp/inner/deeper/part
dd if=/tmp/marker of=/tmp/sparse bs=4096 seek=20 2>/dev/null
ln -s /tmp/inner/deeper/part /tmp/link
hostname vmsight-lab

# Modules: /mod holds dummy and tcp_bic on every guest, and qemu_fw_cfg
# (which feeds QEMU's vmcoreinfo device) on the VMCOREINFO guests.
for m in /mod/*.ko; do insmod "$m"; done

ip link set lo up
sleep 86400 &
sleep 86401 &
nc -l -p 4444 >/dev/null 2>&1 &
sleep 86402 | cat &
/vmsight-lab-helper 4 1000 1001 &
/vmsight-lab-helper 1 0 0 net &
# A program whose file is deleted while it runs, and a deleted file held
# open: /proc names both with " (deleted)". It drops to uid 1000: a root
# process running from /tmp is what the credentials check reports.
cp /vmsight-lab-helper /tmp/gone
/tmp/gone 1 1000 1001 &
echo gone > /tmp/gone-file
sleep 86403 3</tmp/gone-file &
# A listener in a network namespace of its own.
unshare -n nc -l -p 6000 >/dev/null 2>&1 &
nspid=$!
# Let the kernel settle (deferred kthreads, the helpers' setuid) before the
# snapshot of /proc below.
sleep 3
rm /tmp/gone /tmp/gone-file

# Rootkit guests (booted with vmsight.rootkit=1): tests/lab/rootkit hides
# a sleep from the task list (a helper holds a pidfd of it), unhashes a
# busy helper from the task list and the pid table, points sys_call_table[140] (getpriority)
# and IDT gate 0x80 (int 0x80, which no lab program uses) at its own
# code, writes a jump over the start of __x64_sys_vhangup (vhangup(2),
# which nothing here calls), plants a netfilter hook, an ftrace callback
# (on cmdline_proc_show) and a kprobe (on version_proc_show), and unlinks
# itself from the module list and /sys/module; it also gives two uid-1000 processes root
# credentials. Addresses come from the guest's own /proc/kallsyms. A
# helper runs injected code; another, run as root from /tmp, sniffs.
case " $(cat /proc/cmdline) " in
*" vmsight.rootkit=1 "*)
	sleep 86404 &
	hidden=$!
	# A process that holds a pidfd of the hidden one, and one that
	# always runs, which the rootkit unhashes from the task list and
	# the pid table: only the run queues still know it (and only the
	# packet socket list its packet socket).
	/vmsight-lab-helper 1 0 0 watch=$hidden &
	watcher=$!
	/vmsight-lab-helper 1 0 0 spin &
	spinner=$!
	# Credentials: a uid-1000 helper forks two children; the rootkit
	# gives one of them init's own credentials and the other a copy.
	/vmsight-lab-helper 1 1000 1001 family &
	family=$!
	# A sniffer run as root from /tmp: a packet socket that puts lo in
	# promiscuous mode, and a listener on port 31337.
	cp /vmsight-lab-helper /tmp/.x
	/tmp/.x 1 0 0 sniff &
	sniffer=$!
	sleep 2
	share= copy=
	for d in /proc/[0-9]*; do
		read -r pid comm state ppid rest < "$d/stat" 2>/dev/null || continue
		[ "$ppid" = "$family" ] || continue
		if [ -z "$share" ]; then share=$pid; else copy=$pid; fi
	done
	echo "VMS-TRUTH rootkit cred-share $share"
	echo "VMS-TRUTH rootkit cred-copy $copy"
	echo "VMS-TRUTH rootkit sniffer $sniffer"
	sct=$(grep ' sys_call_table$' /proc/kallsyms | cut -d' ' -f1)
	tl=$(grep ' tasklist_lock$' /proc/kallsyms | cut -d' ' -f1)
	idt=$(grep ' idt_table$' /proc/kallsyms | cut -d' ' -f1)
	ihook=$(grep ' __x64_sys_vhangup$' /proc/kallsyms | cut -d' ' -f1)
	echo "VMS-TRUTH rootkit pidfd-holder $watcher"
	echo "VMS-TRUTH rootkit unhashed-pid $spinner"
	insmod /rootkit/vmsight_rk.ko hide_pid=$hidden unhash=$spinner \
		tl=0x$tl sct=0x$sct \
		nr=140 idt=0x$idt vec=128 ihook=0x$ihook hide=1 hide_sysfs=1 \
		nf=1 ft=1 kp=1 cred_share=$share cred_copy=$copy &&
		echo "VMS-TRUTH rootkit loaded vmsight_rk" ||
		echo "VMS-TRUTH rootkit failed"
	echo "VMS-TRUTH rootkit hidden-pid $hidden"
	# Injected code in a process: an RWX anonymous area and an ELF
	# header in anonymous memory (the helper prints where).
	/vmsight-lab-helper 1 0 0 inject &
	sleep 1
	echo "VMS-TRUTH rootkit syscall 140"
	echo "VMS-TRUTH rootkit idt-vector 128"
	echo "VMS-TRUTH rootkit inline __x64_sys_vhangup"
	;;
esac

echo "VMS-TRUTH version $(cat /proc/version)"
while read -r addr type name rest; do
	case "$name" in
	_text|_stext|_etext|_end|linux_banner|init_task|init_top_pgt|page_offset_base)
		echo "VMS-TRUTH sym $addr $type $name" ;;
	esac
done < /proc/kallsyms
echo "VMS-TRUTH kallsyms $(grep -vc '\[' /proc/kallsyms) $(grep -v '\[' /proc/kallsyms | md5sum)"
while IFS= read -r line; do echo "VMS-TRUTH module $line"; done < /proc/modules
while IFS= read -r line; do echo "VMS-TRUTH mount $line"; done < /proc/mounts
for t in tcp tcp6 udp udp6 raw raw6 unix; do
	while IFS= read -r line; do echo "VMS-TRUTH net $t $line"; done < /proc/net/$t
	while IFS= read -r line; do
		echo "VMS-TRUTH netns-net $nspid $t $line"
	done < /proc/$nspid/net/$t
done
echo "VMS-TRUTH netns 1 $(readlink /proc/1/ns/net)"
echo "VMS-TRUTH netns $nspid $(readlink /proc/$nspid/ns/net)"
for f in /tmp/marker /tmp/sparse /tmp/inner/deeper/part /tmp/link /bin/sh; do
	echo "VMS-TRUTH file $f $(wc -c < $f) $(md5sum < $f)"
done
echo "VMS-TRUTH hostname $(cat /proc/sys/kernel/hostname)"
echo "VMS-TRUTH cmdline-kernel $(cat /proc/cmdline)"
echo "VMS-TRUTH uptime $(cat /proc/uptime)"
echo "VMS-TRUTH $(grep btime /proc/stat)"
dmesg | while IFS= read -r line; do echo "VMS-TRUTH dmesg $line"; done
dmesg -r | while IFS= read -r line; do echo "VMS-TRUTH dmesg-raw $line"; done
# Command lines and environments, as hex (they hold NULs).
for d in /proc/[0-9]*; do
	c=$(xxd -p "$d/cmdline" | tr -d '\n')
	[ -n "$c" ] || continue
	echo "VMS-TRUTH cmdline ${d#/proc/} $c"
	echo "VMS-TRUTH environ ${d#/proc/} $(xxd -p "$d/environ" | tr -d '\n')"
	for f in "$d"/fd/*; do
		echo "VMS-TRUTH fd ${d#/proc/} ${f##*/} $(readlink "$f")"
	done
	while IFS= read -r line; do
		echo "VMS-TRUTH maps ${d#/proc/} $line"
	done < "$d/maps"
done

# The process list, read with shell builtins only: no process is created
# between the glob below and the ready line.
for d in /proc/[0-9]*; do
	pid=${d#/proc/}
	uid=- gid=- thr=- uids=- gids=- caps=
	while read -r k v rest; do
		case "$k" in
		Uid:) uid=$v uids="$v $rest" ;;
		Gid:) gid=$v gids="$v $rest" ;;
		Threads:) thr=$v ;;
		CapInh:|CapPrm:|CapEff:|CapBnd:|CapAmb:) caps="$caps $v" ;;
		esac
	done < "$d/status" 2>/dev/null
	read -r stat < "$d/stat" 2>/dev/null || continue
	echo "VMS-TRUTH ps $uid $gid $thr $stat"
	echo "VMS-TRUTH cred ${d#/proc/} $uids $gids$caps"
	for t in "$d"/task/[0-9]*; do
		echo "VMS-TRUTH thread ${d#/proc/} ${t##*/}"
	done
done
echo "VMS-TRUTH ready"
# Clean guests: lab.py dumps the state above, then lets the guest run on.
# After 20 s (a shell builtin timeout: no new process appears before the
# first dump) init loads /late's modules, and lab.py dumps the same boot
# again, for baseline and diff.
set -- /late/*.ko
if [ -e "$1" ]; then
	read -r -t 20 x
	for m in "$@"; do
		insmod "$m" && echo "VMS-TRUTH late module ${m##*/}"
	done
	while IFS= read -r line; do
		echo "VMS-TRUTH late modules $line"
	done < /proc/modules
	echo "VMS-TRUTH late ready"
fi
# From here on the console is a command channel for the live tests
# (tests/integration/live_test.py): each line that arrives is run as a
# shell command, so a test can start a known program, load a module or
# reboot while vmsight watches. The lab's own boots give the console no
# input: init then waits in a shell builtin and creates no process, and
# the dumps show the state printed above. Each command runs in its own
# shell, so that a bad one cannot end init; a console that reaches its
# end leaves init blocked on a FIFO: init must never exit.
while IFS= read -r cmd; do
	sh -c "$cmd" </dev/null
done
mkfifo /tmp/block
read -r x < /tmp/block
