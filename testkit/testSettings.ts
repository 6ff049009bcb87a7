/** The required handler settings, for unit tests that need a parsed Settings without a stack. */
export const TEST_ENV: Record<string, string> = {
  RESPONDER_ACCOUNT_ID: "111122223333",
  AWS_REGION: "eu-central-1",
  INCIDENT_TABLE: "incidents",
  EVIDENCE_BUCKET: "evidence",
  NOTIFICATION_TOPIC_ARN: "arn:aws:sns:eu-central-1:111122223333:ir",
  FORENSIC_AMI_ID: "ami-0123456789abcdef0",
  FORENSIC_INSTANCE_PROFILE_ARN: "arn:aws:iam::111122223333:instance-profile/ir-forensic",
  QUARANTINE_INSTANCE_PROFILE_ARN: "arn:aws:iam::111122223333:instance-profile/ir-quarantine",
  STATE_MACHINE_ARN: "arn:aws:states:eu-central-1:111122223333:stateMachine:ir-response",
};
