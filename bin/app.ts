import { App } from 'aws-cdk-lib';
import { defineApp } from './define-app';

const app = new App();
const defined = defineApp(app, process.env);
if ('error' in defined) {
  console.error(defined.error);
  process.exitCode = 1;
} else {
  app.synth();
}
