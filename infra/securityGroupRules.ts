// Security-group rules as data: built by pure functions, checked table-driven by the tests, wired by infra/isolation.ts.

/** One security-group rule as the stack writes it: plain values, which infra/isolation.ts hands to the provider. */
export interface SecurityGroupRule {
  protocol: string;
  fromPort: number;
  toPort: number;
  cidrBlocks?: string[];
  ipv6CidrBlocks?: string[];
  description?: string;
}

export interface GroupRules {
  description: string;
  ingress: SecurityGroupRule[];
  egress: SecurityGroupRule[];
}

const EVERYWHERE_V4 = "0.0.0.0/0";
const EVERYWHERE_V6 = "::/0";

/**
 * The "untrack" group: an ENI moved here has its tracked TCP/UDP connections turned into untracked flows, which the
 * next security-group change (to the isolation group) cuts at once. EC2 leaves a flow untracked only when rules allow
 * all TCP/UDP traffic from and to 0.0.0.0/0 and ::/0 in both directions; anything narrower keeps the attacker's
 * established sessions alive after isolation. ICMP is always tracked, so it is not listed. The ENI stays here for one
 * API call (a fraction of a second); no resource of the stack ever attaches this group to an instance.
 */
export function untrackRules(): GroupRules {
  const allTcpUdp = (direction: "in" | "out") =>
    (["tcp", "udp"] as const).map((protocol) => ({
      protocol,
      fromPort: 0,
      toPort: 65535,
      cidrBlocks: [EVERYWHERE_V4],
      ipv6CidrBlocks: [EVERYWHERE_V6],
      description: `untrack existing flows (${direction}), held for one API call during isolation`,
    }));
  return {
    description: "IR untrack hop: turns tracked connections of a compromised ENI into untracked ones",
    ingress: allTcpUdp("in"),
    egress: allTcpUdp("out"),
  };
}

/**
 * The isolation group: nothing out, and in only from the forensic sources on the forensic ports.
 * An empty egress list makes the provider remove EC2's default allow-all egress rule.
 */
export function isolationRules(forensicSourceCidrs: string[], forensicIngressPorts: number[]): GroupRules {
  const v4 = forensicSourceCidrs.filter((c) => !c.includes(":"));
  const v6 = forensicSourceCidrs.filter((c) => c.includes(":"));
  const ingress =
    forensicSourceCidrs.length === 0
      ? []
      : forensicIngressPorts.map((port) => ({
          protocol: "tcp",
          fromPort: port,
          toPort: port,
          cidrBlocks: v4,
          ipv6CidrBlocks: v6,
          description: `forensic access on ${port}`,
        }));
  return { description: "IR isolation: no egress; ingress only from forensic sources", ingress, egress: [] };
}

/**
 * The forensic workstation's group: no ingress (operators use SSM Session Manager), HTTPS out only, for the SSM
 * and S3 endpoints. Narrow forensicEgressCidrs to your VPC endpoints' ranges where you have them.
 */
export function forensicWorkstationRules(egressCidrs: string[]): GroupRules {
  const v4 = egressCidrs.filter((c) => !c.includes(":"));
  const v6 = egressCidrs.filter((c) => c.includes(":"));
  return {
    description: "IR forensic workstation: no ingress, HTTPS egress for SSM and S3",
    ingress: [],
    egress: [
      {
        protocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrBlocks: v4,
        ipv6CidrBlocks: v6,
        description: "SSM and S3 endpoints",
      },
    ],
  };
}
