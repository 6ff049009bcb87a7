// IAM and resource policies as data: the document types, role trust, and the small policies of the instance
// profiles, the evidence bucket and the dead-letter queue. The responder's and the workflow's role policies have
// their own modules (responderPolicy.ts, workflowPolicy.ts). Pure functions of resolved ARNs, so tests can check
// them table-driven.
export interface PolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  /** Absent only in trust policies. */
  Resource?: string[];
  Principal?: Record<string, string | string[]>;
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export const policyDocument = (...statements: PolicyStatement[]): PolicyDocument => ({
  Version: "2012-10-17",
  Statement: statements,
});

/** A role's trust policy: the AWS service may assume it, under the condition when one is given. */
export function assumeRolePolicy(
  service: "lambda.amazonaws.com" | "ec2.amazonaws.com" | "states.amazonaws.com",
  condition?: PolicyStatement["Condition"],
  sid = "Assume",
): PolicyDocument {
  return policyDocument({
    Sid: sid,
    Effect: "Allow",
    Principal: { Service: service },
    Action: ["sts:AssumeRole"],
    ...(condition === undefined ? {} : { Condition: condition }),
  });
}

/** An AWS managed policy's ARN in the deployment's partition. */
export function awsManagedPolicyArn(partition: string, name: string): string {
  return `arn:${partition}:iam::aws:policy/${name}`;
}

/** Forensic workstation: reads evidence; SSM Session Manager comes from the AmazonSSMManagedInstanceCore policy. */
export function forensicReadPolicy(evidenceBucketArn: string, evidenceKmsKeyArn?: string): PolicyDocument {
  const statements: PolicyStatement[] = [
    { Sid: "ListEvidence", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [evidenceBucketArn] },
    { Sid: "ReadEvidence", Effect: "Allow", Action: ["s3:GetObject"], Resource: [`${evidenceBucketArn}/*`] },
  ];
  if (evidenceKmsKeyArn) {
    statements.push({
      Sid: "DecryptEvidence",
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: [evidenceKmsKeyArn],
    });
  }
  return policyDocument(...statements);
}

/** Attached to the quarantine profile that replaces a compromised instance's own: its credentials can do nothing. */
export function denyEverythingPolicy(): PolicyDocument {
  return policyDocument({ Sid: "DenyEverything", Effect: "Deny", Action: ["*"], Resource: ["*"] });
}

export function evidenceBucketPolicy(bucketArn: string, retainEvidence: boolean): PolicyDocument {
  const statements: PolicyStatement[] = [
    {
      Sid: "TlsOnly",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: ["s3:*"],
      Resource: [bucketArn, `${bucketArn}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
  ];
  if (retainEvidence) {
    statements.push({
      Sid: "EvidenceVersionsAreNeverDeleted",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: ["s3:DeleteObjectVersion"],
      Resource: [`${bucketArn}/*`],
    });
  }
  return policyDocument(...statements);
}

/** EventBridge may put undeliverable events on the dead-letter queue, for the stack's rules only. */
export function deadLetterQueuePolicy(queueArn: string, ruleArns: string[]): PolicyDocument {
  return policyDocument({
    Sid: "EventBridgeDeadLetters",
    Effect: "Allow",
    Principal: { Service: "events.amazonaws.com" },
    Action: ["sqs:SendMessage"],
    Resource: [queueArn],
    Condition: { ArnEquals: { "aws:SourceArn": ruleArns } },
  });
}
