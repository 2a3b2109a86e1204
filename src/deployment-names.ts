/**
 * How a deployment's physical names derive from its name, shared by the stack that creates them (lib/) and the
 * tools that find a deployment again (the operator CLI). No AWS or CDK import: the CLI loads this at run time.
 */

/** The stack name `cdk deploy` uses when no `stackName` option is given: the name every earlier release used. */
export const DEFAULT_DEPLOYMENT_NAME = 'MomentoTokenRotator';

/** CloudWatch namespace of the function's metrics; deployments are told apart by the `service` dimension. */
export const METRICS_NAMESPACE = 'MomentoTokenRotator';

const FUNCTION_SUFFIX = '-rotator';

/** Lambda allows 64 characters in a function name, and the name carries FUNCTION_SUFFIX. */
export const MAX_DEPLOYMENT_NAME_LENGTH = 64 - FUNCTION_SUFFIX.length;

/**
 * What a deployment name may hold: a CloudFormation stack name (a letter, then letters, digits and hyphens) short
 * enough for the function name built from it.
 */
export const DEPLOYMENT_NAME = new RegExp(`^[A-Za-z][A-Za-z0-9-]{0,${MAX_DEPLOYMENT_NAME_LENGTH - 1}}$`);

/** The rotation function of the deployment named `deploymentName`. */
export function rotatorFunctionName(deploymentName: string): string {
  return `${deploymentName}${FUNCTION_SUFFIX}`;
}
