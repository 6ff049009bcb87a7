// Starter rules for ir-triage: web shells dropped under a web root.
rule webshell_php_eval_request
{
    meta:
        description = "PHP web shell: code or commands taken from the HTTP request (eval/system on $_GET/$_POST/$_REQUEST)"
        severity = "high"
    strings:
        $php = "<?" ascii
        $eval = /(eval|assert|system|passthru|shell_exec|exec|popen|proc_open)\s*\(\s*(base64_decode\s*\(\s*|gzinflate\s*\(\s*|str_rot13\s*\(\s*)*\$_(GET|POST|REQUEST|COOKIE|SERVER)\s*\[/ ascii nocase
        $preg = /preg_replace\s*\(\s*['"][^'"]*\/e['"]/ ascii
    condition:
        $php and ($eval or $preg)
}

rule webshell_known_kits
{
    meta:
        description = "Markers of well-known web shell kits (c99, r57, WSO, b374k, China Chopper)"
        severity = "high"
    strings:
        $c99 = "c99shell" ascii nocase
        $r57 = "r57shell" ascii nocase
        $wso = "WSO " ascii
        $wso2 = "wso_version" ascii nocase
        $b374k = "b374k" ascii nocase
        $chopper = /<%@\s*Page\s+Language\s*=\s*"Jscript"\s*%>\s*<%\s*eval\s*\(\s*Request/ ascii nocase
    condition:
        any of ($c99, $r57, $wso2, $b374k, $chopper) or ($wso and $wso2)
}

rule webshell_jsp_exec
{
    meta:
        description = "JSP web shell: Runtime.exec of a request parameter"
        severity = "high"
    strings:
        $exec = /Runtime\.getRuntime\(\)\.exec\(\s*request\.getParameter/ ascii
    condition:
        $exec
}
