import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import type { Services } from './services';

/** One record the rotation function logged about a rotation (its JSON log lines name the version id). */
export interface StepRecord {
  readonly level: string;
  readonly message: string;
  readonly step: string | undefined;
  readonly errorName: string | undefined;
  readonly errorMessage: string | undefined;
}

/**
 * What the rotation function logged about one rotation, read from its log group: Secrets Manager shows a
 * rotation's progress only as staging labels, and a failed step only in the function's logs (its ERROR record
 * names the step and the error). Each call returns the records not returned before.
 */
export class RotationLog {
  readonly #seen = new Set<string>();
  #logGroup: string | undefined;

  constructor(
    private readonly services: Services,
    private readonly functionArn: string,
    private readonly versionId: string,
    private readonly startTime: number,
  ) {}

  async newRecords(): Promise<StepRecord[]> {
    this.#logGroup ??= await this.#findLogGroup();
    const records: StepRecord[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.services.logs.send(
        new FilterLogEventsCommand({
          logGroupName: this.#logGroup,
          startTime: this.startTime,
          filterPattern: `{ $.versionId = "${this.versionId}" }`,
          nextToken,
        }),
      );
      for (const event of out.events ?? []) {
        const id = event.eventId ?? `${event.timestamp}:${event.message}`;
        if (this.#seen.has(id)) continue;
        this.#seen.add(id);
        const record = parseRecord(event.message);
        if (record !== undefined) records.push(record);
      }
      nextToken = out.nextToken;
    } while (nextToken);
    return records;
  }

  /** The function's log group: its own logging configuration, else Lambda's default name. */
  async #findLogGroup(): Promise<string> {
    const configuration = await this.services.lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: this.functionArn }),
    );
    return (
      configuration.LoggingConfig?.LogGroup ?? `/aws/lambda/${configuration.FunctionName ?? this.functionArn}`
    );
  }
}

function parseRecord(message: string | undefined): StepRecord | undefined {
  try {
    const record = JSON.parse(message ?? '') as Record<string, unknown>;
    const text = (field: string) =>
      typeof record[field] === 'string' ? (record[field] as string) : undefined;
    return {
      level: text('level') ?? 'INFO',
      message: text('message') ?? '',
      step: text('step'),
      errorName: text('errorName'),
      errorMessage: text('errorMessage'),
    };
  } catch {
    // Lambda's own lines (START, END, REPORT) are not the function's records.
    return undefined;
  }
}
