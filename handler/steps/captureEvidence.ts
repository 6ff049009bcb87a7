import { createHash } from "crypto";

import { awsErrorCode, describeError } from "../errors";
import type { EvidenceObject } from "../incidentRecord";
import { describeInstance } from "../instanceDescription";
import type { ResponseContext } from "../responseContext";
import { done, failed, type StepResult } from "./stepResult";

export function evidencePrefix(incidentId: string): string {
  return `incidents/${incidentId}/`;
}

/** Console output and screenshots are not available on every instance type: those answers are not failures. */
const NOT_SUPPORTED = ["UnsupportedOperation", "InvalidParameterValue", "UnsupportedInstanceType"];

interface EvidenceSource {
  readonly kind: string;
  readonly name: string;
  readonly contentType: string;
  /** The bytes to store, or undefined when the source does not exist for this instance. */
  readonly read: () => Promise<Uint8Array | undefined>;
}

/** Writes one object to the evidence bucket with its SHA-256 (S3 verifies it on receipt). */
export async function putEvidenceObject(
  context: ResponseContext,
  kind: string,
  key: string,
  body: Uint8Array,
  contentType: string,
): Promise<EvidenceObject> {
  const digest = createHash("sha256").update(body);
  const sha256 = digest.copy().digest("hex");
  await context.aws.s3.putObject({
    Bucket: context.settings.evidenceBucket,
    Key: key,
    Body: body,
    ContentType: contentType,
    ChecksumSHA256: digest.digest("base64"),
  });
  return { kind, key, sha256, bytes: body.byteLength };
}

/**
 * Step 4a: the volatile metadata. The finding, the instance as found (described beside the first network
 * change) and as it is now, its console output and (where the instance type supports it) a screenshot, each
 * in the evidence bucket with its SHA-256 in the record. Best effort per object: a missing screenshot must
 * not cost the console output.
 */
export async function captureEvidence(context: ResponseContext): Promise<StepResult> {
  const { record, aws } = context;
  const InstanceId = record.instanceId;
  const text = (value: string) => new TextEncoder().encode(value);
  const sources: EvidenceSource[] = [
    {
      kind: "finding",
      name: "finding.json",
      contentType: "application/json",
      read: () => Promise.resolve(text(record.rawFinding)),
    },
    {
      kind: "instance-as-found",
      name: "instance-as-found.json",
      contentType: "application/json",
      // Taken by isolateNetwork beside the first network change (see IncidentRecord.rawInstance).
      read: () => Promise.resolve(record.rawInstance === undefined ? undefined : text(record.rawInstance)),
    },
    {
      kind: "instance-description",
      name: "instance-description.json",
      contentType: "application/json",
      read: async () => {
        const instance = await describeInstance(aws, InstanceId);
        return instance === undefined ? undefined : text(JSON.stringify(instance, null, 2));
      },
    },
    {
      kind: "console-output",
      name: "console-output.txt",
      contentType: "text/plain",
      read: async () => {
        const answer = await aws.ec2
          .getConsoleOutput({ InstanceId, Latest: true })
          .catch(async (error: unknown) => {
            // Latest=true is Nitro-only; older types answer with the buffered output instead.
            if (!NOT_SUPPORTED.includes(awsErrorCode(error) ?? "")) throw error;
            return aws.ec2.getConsoleOutput({ InstanceId });
          });
        return answer.Output === undefined ? undefined : Buffer.from(answer.Output, "base64");
      },
    },
    {
      kind: "screenshot",
      name: "screenshot.jpg",
      contentType: "image/jpeg",
      read: async () => {
        try {
          const answer = await aws.ec2.getConsoleScreenshot({ InstanceId, WakeUp: false });
          return answer.ImageData === undefined ? undefined : Buffer.from(answer.ImageData, "base64");
        } catch (error) {
          if (NOT_SUPPORTED.includes(awsErrorCode(error) ?? "")) return undefined;
          throw error;
        }
      },
    },
  ];

  const stored: EvidenceObject[] = [...(record.facts.evidence ?? [])];
  const problems: Record<string, string> = {};
  const unavailable: string[] = [];
  await Promise.all(
    sources
      .filter((source) => !stored.some((object) => object.kind === source.kind))
      .map(async (source) => {
        try {
          const body = await source.read();
          if (body === undefined) {
            unavailable.push(source.kind);
            return;
          }
          const key = `${evidencePrefix(record.incidentId)}evidence/${source.name}`;
          stored.push(await putEvidenceObject(context, source.kind, key, body, source.contentType));
        } catch (error) {
          problems[source.kind] = describeError(error);
        }
      }),
  );
  record.facts.evidence = stored;
  const detail = { stored: stored.map((object) => object.kind), unavailable, problems };
  const failures = Object.keys(problems);
  if (failures.length > 0 && stored.length === 0)
    return failed(`no evidence stored: ${failures.join(", ")} failed`, detail);
  const summary = `${stored.length} evidence object${stored.length === 1 ? "" : "s"} stored with SHA-256`;
  return failures.length > 0
    ? failed(`${summary}; ${failures.join(", ")} failed`, detail)
    : done(summary, detail);
}
