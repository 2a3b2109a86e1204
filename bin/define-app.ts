import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MomentoTokenRotatorStack } from '../lib';
import { ContextError, readDeployContext } from './context';

export const STACK_ID = 'MomentoTokenRotator';

/**
 * The whole CDK app: the deploy options read once from the context, the stack built from them, and the
 * AwsSolutions checks that stop synthesis on any finding not acknowledged with a reason. A bad option gives
 * its message (no stack trace: the CLI shows this line); `bin/app.ts` prints it and fails.
 */
export function defineApp(
  app: App,
  environment: Readonly<Record<string, string | undefined>>,
): { stack: MomentoTokenRotatorStack } | { error: string } {
  let props: ReturnType<typeof readDeployContext>;
  try {
    props = readDeployContext(app.node, {
      account: environment.CDK_DEFAULT_ACCOUNT,
      region: environment.CDK_DEFAULT_REGION,
    });
  } catch (error) {
    if (error instanceof ContextError) return { error: `momento-token-rotator: ${error.message}` };
    throw error;
  }
  const stack = new MomentoTokenRotatorStack(app, STACK_ID, {
    ...props,
    description:
      'Keeps Momento API keys in Secrets Manager fresh: scheduled rotation, least privilege, alarms',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { stack };
}
