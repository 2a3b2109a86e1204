/**
 * A local Lambda and CloudWatch Logs, as much of them as the operator CLI reads: one HTTP server on 127.0.0.1
 * (port 0) that the real `@aws-sdk/client-lambda` and `@aws-sdk/client-cloudwatch-logs` reach through
 * `AWS_ENDPOINT_URL_LAMBDA` and `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`.
 *
 * - Lambda `GetFunctionConfiguration` (REST: `GET /2015-03-31/functions/{name or ARN}/configuration`): the
 *   functions added with `addFunction`; any other answers 404 `ResourceNotFoundException`.
 * - Logs `FilterLogEvents` (JSON 1.1, `X-Amz-Target: Logs_20140328.FilterLogEvents`): the events `logEvents`
 *   returns for the group, from `startTime`, matching a JSON filter pattern of `$.field = "value"` terms joined by
 *   `&&` (the only form the CLI sends); one page.
 * Anything else answers 400 `UnknownOperationException`. Not emulated: signatures, other operations, pagination.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LogEvent {
  /** Epoch ms. */
  readonly timestamp: number;
  readonly message: string;
}

export interface FunctionDefinition {
  readonly functionName: string;
  readonly environment: Readonly<Record<string, string>>;
  /** @default `/aws/lambda/<functionName>` (Lambda's default; the configuration then names no group) */
  readonly logGroup?: string;
}

export interface LambdaEmulatorOptions {
  readonly region?: string;
  readonly accountId?: string;
  /** The events of a log group, oldest first. */
  readonly logEvents?: (logGroup: string) => readonly LogEvent[];
}

export interface LambdaEmulator {
  readonly endpoint: string;
  /** Adds (or replaces) a function; returns its ARN. */
  addFunction(definition: FunctionDefinition): string;
  /** Calls received, by operation. */
  readonly calls: Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

/** `{ $.a = "b" && $.c = "d" }` → [['a','b'], ['c','d']]; undefined for any other pattern. */
function jsonTerms(pattern: string): Array<[string, string]> | undefined {
  const body = pattern.trim().match(/^\{(.*)\}$/)?.[1];
  if (body === undefined) return undefined;
  const terms: Array<[string, string]> = [];
  for (const term of body.split('&&')) {
    const match = term.trim().match(/^\$\.(\w+)\s*=\s*"([^"]*)"$/);
    if (match === null) return undefined;
    terms.push([match[1] as string, match[2] as string]);
  }
  return terms;
}

function matches(message: string, terms: ReadonlyArray<[string, string]>): boolean {
  try {
    const record = JSON.parse(message) as Record<string, unknown>;
    return terms.every(([field, value]) => record[field] === value);
  } catch {
    return false;
  }
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startLambdaEmulator(options: LambdaEmulatorOptions = {}): Promise<LambdaEmulator> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const functions = new Map<string, FunctionDefinition>();
  const calls: Record<string, number> = {};
  const arnOf = (name: string) => `arn:aws:lambda:${region}:${accountId}:function:${name}`;

  const getFunctionConfiguration = (response: ServerResponse, nameOrArn: string): void => {
    const name = nameOrArn.startsWith('arn:') ? (nameOrArn.split(':')[6] ?? '') : nameOrArn;
    const fn = functions.get(name);
    if (fn === undefined) {
      send(
        response,
        404,
        { Type: 'User', Message: `Function not found: ${arnOf(name)}` },
        {
          'x-amzn-errortype': 'ResourceNotFoundException',
        },
      );
      return;
    }
    send(response, 200, {
      FunctionName: fn.functionName,
      FunctionArn: arnOf(fn.functionName),
      Runtime: 'nodejs24.x',
      Environment: { Variables: fn.environment },
      ...(fn.logGroup === undefined ? {} : { LoggingConfig: { LogFormat: 'JSON', LogGroup: fn.logGroup } }),
    });
  };

  const filterLogEvents = (response: ServerResponse, input: Record<string, unknown>): void => {
    const group = String(input.logGroupName ?? '');
    const startTime = typeof input.startTime === 'number' ? input.startTime : 0;
    const pattern = typeof input.filterPattern === 'string' ? input.filterPattern : undefined;
    const terms = pattern === undefined ? [] : jsonTerms(pattern);
    if (terms === undefined) {
      send(response, 400, { __type: 'InvalidParameterException', message: 'filter pattern not emulated' });
      return;
    }
    const events = (options.logEvents?.(group) ?? [])
      .map((event, index) => ({ ...event, index }))
      .filter((event) => event.timestamp >= startTime && matches(event.message, terms))
      .map((event) => ({
        logStreamName: 'emulated',
        timestamp: event.timestamp,
        ingestionTime: event.timestamp,
        message: event.message,
        eventId: String(event.index),
      }));
    send(response, 200, { events, searchedLogStreams: [] }, { 'content-type': 'application/x-amz-json-1.1' });
  };

  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const configuration = url.pathname.match(/^\/2015-03-31\/functions\/([^/]+)\/configuration$/);
      if (request.method === 'GET' && configuration !== null) {
        calls.GetFunctionConfiguration = (calls.GetFunctionConfiguration ?? 0) + 1;
        getFunctionConfiguration(response, decodeURIComponent(configuration[1] as string));
        return;
      }
      const target = request.headers['x-amz-target'];
      const body = await bodyOf(request);
      if (request.method === 'POST' && target === 'Logs_20140328.FilterLogEvents') {
        calls.FilterLogEvents = (calls.FilterLogEvents ?? 0) + 1;
        filterLogEvents(response, JSON.parse(body || '{}') as Record<string, unknown>);
        return;
      }
      send(response, 400, {
        __type: 'UnknownOperationException',
        message: `${request.method} ${url.pathname} ${target ?? ''}`,
      });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    addFunction(definition) {
      functions.set(definition.functionName, definition);
      return arnOf(definition.functionName);
    },
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
