/** An error the simulator answers with, as AWS would: code, message, HTTP status, and who is at fault. */
export class AwsError extends Error {
  override readonly name = "AwsError";

  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
  }

  get fault(): "Sender" | "Receiver" {
    return this.httpStatus >= 500 ? "Receiver" : "Sender";
  }
}

export const notFound = (code: string, what: string, id: string): AwsError =>
  new AwsError(code, `The ${what} '${id}' does not exist`);

export const missingParameter = (name: string): AwsError =>
  new AwsError("MissingParameter", `The request must contain the parameter ${name}`);

export const invalidParameterValue = (message: string): AwsError =>
  new AwsError("InvalidParameterValue", message);
