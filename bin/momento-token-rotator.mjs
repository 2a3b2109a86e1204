#!/usr/bin/env node
// The operator CLI is TypeScript, run through tsx: it works from a checkout right after `npm ci`, with no build
// step and no install script, and from an installed package alike.
import { register } from 'tsx/esm/api';

// On Node 20 the AWS SDK prints a nine-line notice about its 2027 releases before the first call; the CLI's
// output is one line per fact or error, read by people and scripts. An explicit setting is respected.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('../src/cli/main.ts');
