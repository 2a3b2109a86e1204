import { Annotations, type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MomentoTokenRotatorStack } from '../lib';
import { ContextError, type DeployOptions, readDeployContext } from './context';

/**
 * The whole CDK app: the deploy options read once from the context, the stack built from them, and the
 * AwsSolutions checks that stop synthesis on any finding not acknowledged with a reason. A bad option gives
 * its message (no stack trace: the CLI shows this line); `bin/app.ts` prints it and fails.
 */
export function defineApp(
  app: App,
  environment: Readonly<Record<string, string | undefined>>,
): { stack: MomentoTokenRotatorStack } | { error: string } {
  let options: DeployOptions;
  try {
    options = readDeployContext(app.node, {
      account: environment.CDK_DEFAULT_ACCOUNT,
      region: environment.CDK_DEFAULT_REGION,
    });
  } catch (error) {
    if (error instanceof ContextError) return { error: `momento-token-rotator: ${error.message}` };
    throw error;
  }
  // The stack name is the stack's id: `cdk deploy <stackName>` and `cdk diff <stackName>` find it by that name.
  const stack = new MomentoTokenRotatorStack(app, options.stackName, {
    ...options.props,
    description:
      'Keeps Momento API keys in Secrets Manager fresh: scheduled rotation, least privilege, alarms',
  });
  for (const key of options.overridden) {
    Annotations.of(stack).addWarningV2(
      'momento-token-rotator:option-overridden',
      `-c ${key} overrides the options file's ${key} for this run`,
    );
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { stack };
}
