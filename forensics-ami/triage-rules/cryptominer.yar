// Starter rules for ir-triage: cryptocurrency miners, the most common payload on a compromised EC2 instance.
rule cryptominer_stratum_pool
{
    meta:
        description = "Mining pool URL (stratum protocol): a cryptocurrency miner or its configuration"
        severity = "high"
    strings:
        $tcp = "stratum+tcp://" ascii wide nocase
        $ssl = "stratum+ssl://" ascii wide nocase
        $tls = "stratum+tls://" ascii wide nocase
        $s2 = "stratum2+tcp://" ascii wide nocase
    condition:
        any of them
}

rule cryptominer_xmrig
{
    meta:
        description = "XMRig Monero miner (binary, renamed copy or its JSON configuration)"
        severity = "high"
    strings:
        $name = "xmrig" ascii wide nocase
        $donate = "donate-level" ascii wide
        $randomx = "randomx" ascii wide nocase
        $config = "\"coin\": \"monero\"" ascii nocase
        $pool = "\"pools\"" ascii
    condition:
        $name or ($donate and ($randomx or $pool)) or $config
}
