// The value of ir:responder-made on a forensic workstation (handler/steps/forensicWorkspace.ts writes it): ir close
// stops or terminates only an instance carrying it, and the operator policy (infra/operatorPolicy.ts) allows no other.
export const FORENSIC_WORKSTATION_ROLE = "forensic";
