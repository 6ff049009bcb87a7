// The Query protocols: EC2's ec2Query and the awsQuery of Auto Scaling, ELBv2, IAM and SNS. A service is a
// table of operations (SDK operation schema + handler); this file parses the form body, validates required
// parameters, runs the handler and renders its SDK-shaped result or error as the service's XML.
import { AwsError } from "../errors";
import type { Answer, IncomingCall, PreparedCall, ServiceEndpoint } from "./http";
import {
  decodeQuery,
  encodeMembers,
  escapeXml,
  inputSchemaOf,
  outputSchemaOf,
  queryMemberKey,
  requiredMembers,
  type QueryFlavor,
  type StaticOperationSchema,
} from "./schemaCodec";

export interface CallContext {
  requestId: string;
  /** DryRun=true was requested: the handler validates, then calls dryRunGate() before changing anything. */
  readonly dryRun: boolean;
  dryRunGate: () => void;
}

export interface QueryOperation {
  schema: StaticOperationSchema;
  mutating: boolean;
  handle(input: Record<string, unknown>, ctx: CallContext): unknown;
}

/**
 * Declare an operation with the SDK's own input and output types (e.g. DescribeInstancesRequest ->
 * DescribeInstancesResult), so a handler that returns a misnamed field does not compile.
 */
export function defineOperation<Input extends object, Output extends object | void>(
  schema: StaticOperationSchema,
  options: { mutating: boolean },
  handle: (input: Input, ctx: CallContext) => Output,
): QueryOperation {
  return {
    schema,
    mutating: options.mutating,
    handle: (input, ctx) => handle(input as Input, ctx),
  };
}

export interface QueryServiceConfig {
  signingName: string;
  flavor: QueryFlavor;
  xmlNamespace: string;
  operations: Record<string, QueryOperation>;
  /** The service's answer to a missing required parameter. */
  missingParameter(memberName: string, wireName: string): AwsError;
  throttlingError(): AwsError;
}

/** How Auto Scaling, ELBv2 and IAM answer a missing required member (Smithy/Coral validation). */
function memberMustNotBeNull(memberName: string): AwsError {
  const wireName = `${memberName.charAt(0).toLowerCase()}${memberName.slice(1)}`;
  return new AwsError(
    "ValidationError",
    `1 validation error detected: Value null at '${wireName}' failed to satisfy constraint: Member must not be null`,
  );
}

/** The awsQuery services' throttling answer. */
export const rateExceeded = (): AwsError => new AwsError("Throttling", "Rate exceeded", 400);

/** An awsQuery service that answers as Auto Scaling, ELBv2 and IAM do (memberMustNotBeNull, rateExceeded). */
export function awsQueryEndpoint(
  signingName: string,
  xmlNamespace: string,
  operations: Record<string, QueryOperation>,
): QueryEndpoint {
  return new QueryEndpoint({
    signingName,
    flavor: "query",
    xmlNamespace,
    missingParameter: memberMustNotBeNull,
    throttlingError: rateExceeded,
    operations,
  });
}

class DryRunSucceeded extends AwsError {
  constructor() {
    super("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412);
  }
}

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

export class QueryEndpoint implements ServiceEndpoint {
  readonly signingName: string;

  constructor(private readonly config: QueryServiceConfig) {
    this.signingName = config.signingName;
  }

  prepare(call: IncomingCall): PreparedCall {
    const params = new Map<string, string>(call.query);
    const contentType = String(call.headers["content-type"] ?? "");
    if (call.body.length > 0 && (contentType === "" || contentType.includes("x-www-form-urlencoded"))) {
      for (const [k, v] of new URLSearchParams(call.body.toString("utf8"))) params.set(k, v);
    }
    const action = params.get("Action") ?? "";
    params.delete("Action");
    params.delete("Version");
    const operation = Object.hasOwn(this.config.operations, action)
      ? this.config.operations[action]
      : undefined;
    if (!operation) {
      return {
        action: action || "(none)",
        params: Object.fromEntries(params),
        execute: () => {
          throw action
            ? new AwsError("InvalidAction", `The action ${action} is not valid for this web service.`)
            : new AwsError("MissingAction", "The request must contain the parameter Action.");
        },
      };
    }
    const inputSchema = inputSchemaOf(operation.schema);
    const input = decodeQuery(inputSchema, params, this.config.flavor);
    const filteredOrPaginated =
      input.Filters !== undefined || input.MaxResults !== undefined || input.NextToken !== undefined;
    const resourceCount =
      typeof input.MaxCount === "number"
        ? input.MaxCount
        : Array.isArray(input.InstanceIds)
          ? input.InstanceIds.length
          : 1;
    return {
      action,
      params: input,
      filteredOrPaginated,
      resourceCount,
      execute: () => this.execute(action, operation, input, call.requestId),
    };
  }

  private execute(
    action: string,
    operation: QueryOperation,
    input: Record<string, unknown>,
    requestId: string,
  ): Answer {
    const inputSchema = inputSchemaOf(operation.schema);
    for (const memberName of requiredMembers(inputSchema)) {
      if (input[memberName] === undefined) {
        const member = inputSchema.getMemberSchema(memberName);
        throw this.config.missingParameter(
          memberName,
          queryMemberKey(memberName, member, this.config.flavor),
        );
      }
    }
    const dryRun = input.DryRun === true;
    let gated = false;
    const ctx: CallContext = {
      requestId,
      dryRun,
      dryRunGate: () => {
        gated = true;
        if (dryRun) throw new DryRunSucceeded();
      },
    };
    const output = operation.handle(input, ctx);
    if (dryRun) {
      // A mutating handler must have reached its gate (and thrown) before changing state.
      if (operation.mutating && !gated) throw new Error(`${action}: DryRun not gated`);
      throw new DryRunSucceeded();
    }
    return {
      status: 200,
      headers: { "content-type": "text/xml;charset=UTF-8" },
      body: this.render(action, operation, output, requestId),
    };
  }

  private render(action: string, operation: QueryOperation, output: unknown, requestId: string): string {
    const outputSchema = outputSchemaOf(operation.schema);
    // EC2 answers actions without output members (CreateTags, ...) with <return>true</return>.
    const members = outputSchema.isStructSchema()
      ? encodeMembers(outputSchema, output)
      : this.config.flavor === "ec2"
        ? "<return>true</return>"
        : "";
    const ns = this.config.xmlNamespace;
    if (this.config.flavor === "ec2") {
      return `${XML_DECLARATION}<${action}Response xmlns="${ns}"><requestId>${requestId}</requestId>${members}</${action}Response>`;
    }
    const result = outputSchema.isStructSchema() ? `<${action}Result>${members}</${action}Result>` : "";
    return `${XML_DECLARATION}<${action}Response xmlns="${ns}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
  }

  errorAnswer(error: AwsError, requestId: string): Answer {
    const code = escapeXml(error.code);
    const message = escapeXml(error.message);
    const body =
      this.config.flavor === "ec2"
        ? `${XML_DECLARATION}<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
        : `${XML_DECLARATION}<ErrorResponse xmlns="${this.config.xmlNamespace}"><Error><Type>${error.fault}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
    return { status: error.httpStatus, headers: { "content-type": "text/xml;charset=UTF-8" }, body };
  }

  throttlingError(): AwsError {
    return this.config.throttlingError();
  }
}
