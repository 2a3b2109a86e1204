import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MomentoTokenRotatorStack } from '../lib';
import { ContextError, readDeployContext } from './context';

const app = new App();

let props: ReturnType<typeof readDeployContext> | undefined;
try {
  props = readDeployContext(app.node);
} catch (error) {
  if (!(error instanceof ContextError)) throw error;
  // The CLI shows this line; a stack trace would bury it.
  console.error(`momento-token-rotator: ${error.message}`);
  process.exitCode = 1;
}

if (props !== undefined) {
  new MomentoTokenRotatorStack(app, 'MomentoTokenRotator', {
    ...props,
    description:
      'Keeps Momento API keys in Secrets Manager fresh: scheduled rotation, least privilege, alarms',
  });
  // Synthesis stops on any AwsSolutions finding that is not acknowledged with a reason.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
}
