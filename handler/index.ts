import type { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";

import { createAwsClients } from "./awsClients";
import { IncidentStore } from "./incidentStore";
import { handleEvent, type InvocationOutcome, type LambdaContext } from "./invocation";
import { parseSettings } from "./settings";

export type { InvocationOutcome, LambdaContext } from "./invocation";

/**
 * The responder Lambda's factory: Pulumi's CallbackFunction serializes this function (callbackFactory), and
 * Lambda runs it once per cold start. Everything with native state — SDK clients, the logger — is made here,
 * never captured from module scope (README.md here, "Closure serialization"). A bad setting throws here, naming the variable.
 */
export function createResponder(): (event: unknown, context: LambdaContext) => Promise<InvocationOutcome> {
  const settings = parseSettings(process.env);
  const aws = createAwsClients(settings.region);
  const powertools =
    require("@aws-lambda-powertools/logger") as typeof import("@aws-lambda-powertools/logger");
  const logger: PowertoolsLogger = new powertools.Logger({
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "ec2-incident-response",
  });
  logger.appendPersistentKeys({ dryRun: settings.dryRun });
  const store = new IncidentStore(aws.documents, settings.incidentTable);
  return (event, context) => handleEvent(event, context, { settings, aws, logger, store });
}
