// Starter rules for ir-triage: user-space rootkits loaded through /etc/ld.so.preload (libprocesshider, Azazel,
// Jynx, bdvl...). They hide processes and files by wrapping readdir() and look up the real one with dlsym().
rule ld_preload_rootkit
{
    meta:
        description = "ELF shared object that hooks readdir through dlsym and names ld.so.preload (LD_PRELOAD rootkit)"
        severity = "high"
    strings:
        $preload = "ld.so.preload" ascii
        $readdir = "readdir" ascii
        $dlsym = "dlsym" ascii
        $proc = "/proc/" ascii
    condition:
        uint32(0) == 0x464c457f and uint16(16) == 3 and filesize < 2MB and $preload and $readdir and $dlsym and $proc
}

rule ld_preload_process_hider
{
    meta:
        description = "libprocesshider-style object: wraps readdir and filters /proc entries by process name"
        severity = "high"
    strings:
        $a = "process_to_filter" ascii
        $b = "get_process_name" ascii
        $c = "/proc/self/fd/%d" ascii
        $d = "readdir64" ascii
    condition:
        uint32(0) == 0x464c457f and (($a and $d) or ($b and $c and $d))
}
