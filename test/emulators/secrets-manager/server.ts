import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { internalServiceError, ServiceError, throttling } from './errors';
import { type FaultInjector, OPERATIONS, type Operation } from './faults';
import type { JsonObject } from './input';
import type { SecretStore } from './store';

/** One HTTP call as the emulator saw it. No secret values: only ids, tokens and outcomes. */
export interface RequestRecord {
  operation: string;
  secretId?: string;
  clientRequestToken?: string;
  rotationToken?: string;
  versionStages?: string[];
  /** HTTP status sent, or 0 when the connection was dropped. */
  status: number;
  errorType?: string;
  fault?: 'throttle' | 'serverError' | 'commitThenDrop';
  latencyMs?: number;
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'secretsmanager.';

function handlers(store: SecretStore): Record<Operation, (input: JsonObject) => JsonObject> {
  return {
    BatchGetSecretValue: (input) => store.batchGetSecretValue(input),
    CancelRotateSecret: (input) => store.cancelRotateSecret(input),
    CreateSecret: (input) => store.createSecret(input),
    DescribeSecret: (input) => store.describeSecret(input),
    GetSecretValue: (input) => store.getSecretValue(input),
    ListSecrets: (input) => store.listSecrets(input),
    ListSecretVersionIds: (input) => store.listSecretVersionIds(input),
    PutSecretValue: (input) => store.putSecretValue(input),
    RotateSecret: (input) => store.rotateSecret(input),
    UpdateSecretVersionStage: (input) => store.updateSecretVersionStage(input),
  };
}

function isOperation(name: string): name is Operation {
  return (OPERATIONS as readonly string[]).includes(name);
}

function send(res: ServerResponse, status: number, body: JsonObject, errorType?: string): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
    ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
  });
  res.end(payload);
}

function sendError(res: ServerResponse, error: ServiceError): void {
  send(res, error.status, { __type: error.code, Message: error.message }, error.code);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function summary(operation: string, input: JsonObject): RequestRecord {
  const text = (key: string) => (typeof input[key] === 'string' ? (input[key] as string) : undefined);
  const stages = input.VersionStages;
  return {
    operation,
    status: 0,
    ...(text('SecretId') === undefined ? {} : { secretId: text('SecretId') }),
    ...(text('ClientRequestToken') === undefined ? {} : { clientRequestToken: text('ClientRequestToken') }),
    ...(text('RotationToken') === undefined ? {} : { rotationToken: text('RotationToken') }),
    ...(Array.isArray(stages)
      ? { versionStages: stages.filter((s): s is string => typeof s === 'string') }
      : {}),
  };
}

/**
 * The AWS JSON 1.1 front: `POST /` with `X-Amz-Target: secretsmanager.<Operation>`, JSON in and out,
 * errors as `x-amzn-ErrorType` plus `{"__type", "Message"}`. Signatures are not checked, so any
 * credentials work.
 */
export async function startHttpServer(deps: {
  store: SecretStore;
  faults: FaultInjector;
  requestLog: RequestRecord[];
  requestLogLimit: number;
  host: string;
  port: number;
}): Promise<{ server: Server; endpoint: string; whenIdle: () => Promise<void> }> {
  const ops = handlers(deps.store);
  // Trimmed in batches so that a long chaos run does not pay a shift of the whole log per call.
  const slack = Math.max(100, Math.ceil(deps.requestLogLimit / 10));
  const record = (entry: RequestRecord) => {
    deps.requestLog.push(entry);
    if (deps.requestLog.length > deps.requestLogLimit + slack) {
      deps.requestLog.splice(0, deps.requestLog.length - deps.requestLogLimit);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    let input: JsonObject;
    try {
      const parsed: unknown = body.trim() === '' ? {} : JSON.parse(body);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      input = parsed as JsonObject;
    } catch {
      const entry = { operation, status: 400, errorType: 'SerializationException' };
      record(entry);
      sendError(res, new ServiceError('SerializationException', 'The request body is not a JSON object.'));
      return;
    }
    const entry = summary(operation, input);
    record(entry);
    if (req.method !== 'POST' || !isOperation(operation)) {
      entry.status = 400;
      entry.errorType = 'UnknownOperationException';
      sendError(
        res,
        new ServiceError('UnknownOperationException', `Unknown operation ${target || '(none)'}.`),
      );
      return;
    }

    const decision = deps.faults.decide(operation);
    if (decision.delayMs > 0) {
      entry.latencyMs = decision.delayMs;
      // The call is processed after the delay even if the client gave up meanwhile, as a server would.
      await new Promise((resolve) => setTimeout(resolve, decision.delayMs));
    }
    if (decision.reject) {
      const error = decision.reject === 'throttle' ? throttling() : internalServiceError();
      entry.fault = decision.reject;
      entry.status = error.status;
      entry.errorType = error.code;
      sendError(res, error);
      return;
    }

    let status = 200;
    let output: JsonObject | undefined;
    let failure: ServiceError | undefined;
    try {
      output = ops[operation](input);
    } catch (error) {
      failure =
        error instanceof ServiceError
          ? error
          : internalServiceError(`emulator bug: ${error instanceof Error ? error.message : String(error)}`);
      status = failure.status;
    }
    if (decision.drop) {
      entry.fault = 'commitThenDrop';
      if (decision.drop === 'reset') {
        entry.status = 0;
        req.socket.destroy();
        return;
      }
      const lost = internalServiceError();
      entry.status = lost.status;
      entry.errorType = lost.code;
      sendError(res, lost);
      return;
    }
    entry.status = status;
    if (failure) {
      entry.errorType = failure.code;
      sendError(res, failure);
    } else {
      send(res, status, output ?? {});
    }
  };

  // Requests still being handled, a delayed one included even after its client gave up.
  const inFlight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const handled = handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, internalServiceError(`emulator bug: ${String(error)}`));
      else res.destroy();
    });
    inFlight.add(handled);
    void handled.finally(() => inFlight.delete(handled));
  });
  const whenIdle = async () => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port, deps.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return { server, endpoint: `http://${deps.host}:${port}`, whenIdle };
}
