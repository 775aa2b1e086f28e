// The lab's signatures (named by tests/lab/lab.policy): code that a clean
// lab guest must not hold anywhere the yara check scans.
rule vmsight_lab_rootkit
{
    meta:
        description = "the lab rootkit's gate handler (tests/lab/rootkit)"
    strings:
        $gate = "vmsight_rk: gate"
    condition:
        $gate
}
