/**
 * A Secrets Manager error as the AWS JSON 1.1 protocol carries it: the code goes to the
 * `x-amzn-ErrorType` header and to `__type` in the body, the status decides client (4xx) or server (5xx)
 * fault. The SDK builds its modelled exception class from the code.
 */
export class ServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

export const resourceNotFound = (message = "Secrets Manager can't find the specified secret.") =>
  new ServiceError('ResourceNotFoundException', message);

export const invalidParameter = (message: string) => new ServiceError('InvalidParameterException', message);

export const invalidRequest = (message: string) => new ServiceError('InvalidRequestException', message);

export const resourceExists = (message: string) => new ServiceError('ResourceExistsException', message);

export const limitExceeded = (message: string) => new ServiceError('LimitExceededException', message);

export const invalidNextToken = () =>
  new ServiceError('InvalidNextTokenException', 'The NextToken value is invalid.');

/** Not modelled by Secrets Manager; the SDK classifies it by name as throttling and retries it. */
export const throttling = () => new ServiceError('ThrottlingException', 'Rate exceeded', 400);

/** Modelled as a server fault; the SDK retries it because of the 500 status. */
export const internalServiceError = (message = 'An error occurred on the server side.') =>
  new ServiceError('InternalServiceError', message, 500);
