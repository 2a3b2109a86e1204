import {
  InternalServiceError,
  InvalidRequestException,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';

/** Secrets Manager's answers to a client over its rate, as the SDK surfaces them. */
export function throttled(): SecretsManagerServiceException {
  return new SecretsManagerServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    message: 'Rate exceeded',
    $metadata: {},
  });
}

/** RotateSecret's refusal while AWSPENDING sits on a version that is not AWSCURRENT. */
export function rotationInProgress(): InvalidRequestException {
  return new InvalidRequestException({
    message: "A previous rotation isn't complete. That rotation will be reattempted.",
    $metadata: {},
  });
}

/** A 5xx from Secrets Manager. */
export function serviceError(): InternalServiceError {
  return new InternalServiceError({ message: 'internal failure', $metadata: {} });
}
