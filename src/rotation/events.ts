import * as z from 'zod/mini';
import { UnknownEventError } from '../errors';

/** Secrets Manager's own limits: a SecretId (name or ARN) is at most 2,048 characters, a ClientRequestToken 64. */
const secretId = z.string().check(z.minLength(1), z.maxLength(2048));
const clientRequestToken = z.string().check(z.minLength(1), z.maxLength(64));

const rotationEvent = z.object({
  Step: z.enum(['createSecret', 'setSecret', 'testSecret', 'finishSecret']),
  SecretId: secretId,
  ClientRequestToken: clientRequestToken,
  RotationToken: z.optional(z.string().check(z.minLength(1), z.maxLength(8192))),
});

const scheduledEvent = z.looseObject({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
});

const rotateCommand = z.strictObject({
  action: z.literal('rotate'),
  force: z.optional(z.boolean()),
  secretId: z.optional(secretId),
});

const statusCommand = z.strictObject({
  action: z.literal('status'),
  secretId: z.optional(secretId),
});

export type RotationEvent = z.infer<typeof rotationEvent>;
export type RotateCommand = z.infer<typeof rotateCommand>;
export type StatusCommand = z.infer<typeof statusCommand>;

export type Door =
  | { readonly door: 'rotation-step'; readonly event: RotationEvent }
  | { readonly door: 'schedule' }
  | { readonly door: 'rotate'; readonly command: RotateCommand }
  | { readonly door: 'status'; readonly command: StatusCommand };

export const ACCEPTED_SHAPES = [
  '{"Step":"createSecret|setSecret|testSecret|finishSecret","SecretId":"...","ClientRequestToken":"...","RotationToken"?:"..."} (Secrets Manager rotation)',
  '{"source":"aws.events","detail-type":"Scheduled Event",...} (EventBridge schedule)',
  '{"action":"rotate","force"?:true,"secretId"?:"..."} (manual rotation)',
  '{"action":"status","secretId"?:"..."} (expiry facts)',
];

/** Recognises the door by the event's shape; anything else is refused before any call is made. */
export function recogniseDoor(event: unknown): Door {
  const step = rotationEvent.safeParse(event);
  if (step.success) return { door: 'rotation-step', event: step.data };
  if (scheduledEvent.safeParse(event).success) return { door: 'schedule' };
  const rotate = rotateCommand.safeParse(event);
  if (rotate.success) return { door: 'rotate', command: rotate.data };
  const status = statusCommand.safeParse(event);
  if (status.success) return { door: 'status', command: status.data };
  throw new UnknownEventError(`unrecognised event; accepted shapes: ${ACCEPTED_SHAPES.join(' | ')}`);
}
